/**
 * Row kernels of the binary elementwise ops: `out[io + i] = a[ia + i*sa] (op) b[ib + i*sb]`.
 *
 * One small function per op runs its own loop, so the op is chosen once per row rather than per
 * element. With equal shapes the whole tensor is one row with unit strides; a scalar or a
 * broadcast operand has stride 0.
 *
 * @module
 */

import type { TensorData } from "../tensor.ts";
import type { StridedPlan } from "./strided.ts";

/** One row of a binary op. */
export type RowKernel = (
  a: TensorData,
  ia: number,
  sa: number,
  b: TensorData,
  ib: number,
  sb: number,
  out: TensorData,
  io: number,
  n: number,
) => void;

/** The binary kernels by name. */
export const ROW_KERNELS = {
  add(a, ia, sa, b, ib, sb, out, io, n) {
    for (let i = 0; i < n; i++, ia += sa, ib += sb) out[io + i] = a[ia] + b[ib];
  },
  sub(a, ia, sa, b, ib, sb, out, io, n) {
    for (let i = 0; i < n; i++, ia += sa, ib += sb) out[io + i] = a[ia] - b[ib];
  },
  mul(a, ia, sa, b, ib, sb, out, io, n) {
    for (let i = 0; i < n; i++, ia += sa, ib += sb) out[io + i] = a[ia] * b[ib];
  },
  div(a, ia, sa, b, ib, sb, out, io, n) {
    for (let i = 0; i < n; i++, ia += sa, ib += sb) out[io + i] = a[ia] / b[ib];
  },
  // NaN in either operand gives NaN, as NumPy's maximum/minimum do. Branch-free blend
  // `x m + y (1 - m)` (a data-dependent select mispredicts half the time on random data);
  // infinities make it NaN (Infinity * 0), so a rarely taken branch redoes those exactly.
  maximum(a, ia, sa, b, ib, sb, out, io, n) {
    for (let i = 0; i < n; i++, ia += sa, ib += sb) {
      const x = a[ia], y = b[ib], m = +(x >= y), r = x * m + y * (1 - m);
      out[io + i] = r === r ? r : x >= y ? x : x !== x ? x : y;
    }
  },
  minimum(a, ia, sa, b, ib, sb, out, io, n) {
    for (let i = 0; i < n; i++, ia += sa, ib += sb) {
      const x = a[ia], y = b[ib], m = +(x <= y), r = x * m + y * (1 - m);
      out[io + i] = r === r ? r : x <= y ? x : x !== x ? x : y;
    }
  },
  /** Mask `a >= b` (1 or 0): where maximum routes its gradient to the first argument. */
  ge(a, ia, sa, b, ib, sb, out, io, n) {
    for (let i = 0; i < n; i++, ia += sa, ib += sb) out[io + i] = +(a[ia] >= b[ib]);
  },
  /** Mask `a <= b` (1 or 0): where minimum routes its gradient to the first argument. */
  le(a, ia, sa, b, ib, sb, out, io, n) {
    for (let i = 0; i < n; i++, ia += sa, ib += sb) out[io + i] = +(a[ia] <= b[ib]);
  },
} satisfies Record<string, RowKernel>;

/** Names of the binary kernels. */
export type BinaryKernel = keyof typeof ROW_KERNELS;

/** Runs `kernel` over a plan whose operands are 0 = out (contiguous), 1 = a, 2 = b. */
export function runBinary(
  kernel: RowKernel,
  a: TensorData,
  b: TensorData,
  out: TensorData,
  plan: StridedPlan,
): void {
  const { n, rows } = plan;
  const [os, as, bs] = plan.starts;
  const [, sa, sb] = plan.inner;
  for (let r = 0; r < rows; r++) kernel(a, as[r], sa, b, bs[r], sb, out, os[r], n);
}
