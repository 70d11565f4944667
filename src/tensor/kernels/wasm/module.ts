/**
 * Assembles the kernel module of a flavour: every emitted kernel, one imported memory.
 *
 * @module
 */

import { emitConv } from "./conv_wasm.ts";
import { ModuleBuilder } from "./emit.ts";
import { emitGemm } from "./gemm_wasm.ts";
import { emitPool } from "./pool_wasm.ts";
import type { Flavor } from "./simd.ts";

/**
 * The module's bytes: GEMM, convolution, pooling and ReLU kernels, exported by name, with
 * memory imported as `env.memory`; a shared memory of at most `sharedMaxPages` pages when that
 * is not 0 (the import must declare the memory's maximum).
 */
export function buildModule(flavor: Flavor, sharedMaxPages = 0): Uint8Array<ArrayBuffer> {
  const shared = sharedMaxPages > 0;
  const mod = new ModuleBuilder({
    minPages: 1,
    maxPages: shared ? sharedMaxPages : undefined,
    shared,
  });
  emitGemm(mod, flavor);
  emitConv(mod, flavor);
  emitPool(mod, flavor);
  return mod.encode();
}
