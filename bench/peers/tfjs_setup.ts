/**
 * Loads TensorFlow.js 4.22.0 under Deno for the peer benchmark: core, the cpu backend (the
 * reference the shim is checked against), the wasm backend (SIMD, one thread), and all gradient
 * configs. Bench-only; never imported by mod.ts or src/.
 *
 * Why each import:
 * - tfjs-core's Node bundle (what `npm:` resolves to) registers no gradients; tfjs-layers'
 *   Node bundle registers all of them into TF.js's global gradient registry on import. (The
 *   union package `@tensorflow/tfjs` would too, but also pulls in webgl, converter and data.)
 * - Under Deno, TF.js sees `process.versions.node` and takes its Node path: the wasm backend
 *   then reports no thread support (it never starts pthread workers in Node) and picks the SIMD
 *   binary, reading it with `fs` from the directory given to `setWasmPaths`.
 *
 * @module
 */

import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import "npm:@tensorflow/tfjs-backend-cpu@4.22.0";
import "npm:@tensorflow/tfjs-layers@4.22.0";
import { getThreadsCount, setWasmPaths } from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
import { fileURLToPath } from "node:url";
import { registerConv2DBackpropFilterShim } from "./conv2d_backprop_filter_shim.ts";

export { tf };

// PROD only silences TF.js's console advice (e.g. "install tfjs-node"); it changes no kernel.
tf.enableProdMode();

/** Directory of the wasm backend's .wasm files inside Deno's npm cache (needs read access). */
export function tfjsWasmDir(): string {
  const main = import.meta.resolve("npm:@tensorflow/tfjs-backend-wasm@4.22.0");
  return fileURLToPath(new URL(".", main));
}

let wasmReady: Promise<void> | undefined;

/**
 * Initializes the wasm backend once (SIMD, 1 thread, shim registered) and makes it current.
 * Throws if the SIMD binary or single-threaded mode could not be had, so a figure is never
 * silently measured on another configuration.
 */
export function useTfjsWasm(): Promise<void> {
  wasmReady ??= (async () => {
    setWasmPaths(tfjsWasmDir());
    registerConv2DBackpropFilterShim();
    const ok = await tf.setBackend("wasm");
    if (!ok) throw new Error("TF.js wasm backend failed to initialize (see the messages above)");
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    const threads = getThreadsCount();
    if (simd !== true || threads !== 1) {
      throw new Error(
        `TF.js wasm: expected SIMD and 1 thread, got simd=${simd} threads=${threads}`,
      );
    }
  })();
  return wasmReady.then(async () => {
    if (tf.getBackend() !== "wasm") await tf.setBackend("wasm");
  });
}

/** Makes the pure-JS cpu backend current (the shim's reference). */
export async function useTfjsCpu(): Promise<void> {
  await tf.setBackend("cpu");
}
