/**
 * The two SIMD flavours our wasm kernels are emitted in, and the one instruction that differs
 * between them: the multiply-add at the heart of every kernel.
 *
 * @module
 */

import type { FuncBuilder, V128 } from "./emit.ts";

/**
 * `relaxed`: `f32x4.relaxed_madd`, a fused multiply-add on hosts with FMA (one rounding);
 * `simd`: `f32x4.mul` then `f32x4.add` (two roundings), SIMD128 only.
 */
export type Flavor = "relaxed" | "simd";

/**
 * With `[a, b]` (two f32x4) on the stack, emits `acc = a * b + acc`. Fused on `relaxed`, so the
 * two flavours may differ in the last bit of each product; tests allow for that.
 */
export function maddInto(f: FuncBuilder, flavor: Flavor, acc: V128): void {
  if (flavor === "relaxed") f.localGet(acc).f32x4RelaxedMadd();
  else f.f32x4Mul().localGet(acc).f32x4Add();
  f.localSet(acc);
}
