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
 * memory imported as `env.memory` (shared when `shared`, which then needs a maximum size).
 */
export function buildModule(flavor: Flavor, shared = false): Uint8Array<ArrayBuffer> {
  const mod = new ModuleBuilder({ minPages: 1, maxPages: shared ? 65536 : undefined, shared });
  emitGemm(mod, flavor);
  emitConv(mod, flavor);
  emitPool(mod, flavor);
  return mod.encode();
}
