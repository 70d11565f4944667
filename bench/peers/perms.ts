/**
 * Prints the permission flags of the peer benchmark, scoped to what it reads: the MNIST folder
 * and the directory of TF.js's .wasm binaries inside Deno's npm cache (whose location differs
 * per machine, hence computed here). deno.json's `bench:peers*` tasks splice this output in:
 * `deno run $(deno run --allow-env=MNIST_DIR bench/peers/perms.ts) bench/peers/run.ts`.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { mnistDir } from "./data.ts";
// A tiny module of the package, imported so the package is in this module graph: only then does
// import.meta.resolve map the npm specifier to its file in the cache (that needs no permission;
// reading the .wasm files does).
import "npm:@tensorflow/tfjs-backend-wasm@4.22.0/dist/version.js";

const wasmDir = fileURLToPath(
  new URL(".", import.meta.resolve("npm:@tensorflow/tfjs-backend-wasm@4.22.0")),
);
console.log(`--allow-read=${mnistDir()},${wasmDir} --allow-env=MNIST_DIR --allow-sys=loadavg`);
