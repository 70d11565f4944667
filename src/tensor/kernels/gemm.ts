/**
 * General matrix multiply on flat row-major arrays: `C = alpha * op(A) * op(B) + beta * C`,
 * where `op(X)` is `X` or its transpose. This is the plain-TypeScript GEMM that matmul, dense
 * and their backward rules share (float64 always; float32 on the `js` kernel path: see
 * `dispatch.ts`).
 *
 * op(A) is packed into row panels (`tiles.ts`, with `alpha` folded in) and multiplied by
 * register-tiled 4x4 micro kernels: each load feeds 4 multiply-adds, 4x faster than the plain
 * i-k-j loop it replaced on the LeNet-5 shapes. Every element is still summed in float64 in the
 * order p = 0, 1, ..., k-1 from its seed (0, C or beta * C), exactly as that loop did, so
 * float64 results are bit-for-bit those of the i-k-j loop; float32 results are rounded once
 * instead of after every addition.
 *
 * @module
 */

import type { TensorData } from "../tensor.ts";
import { gemmPacked, packPanels } from "./tiles.ts";

/** Shape and layout of one GEMM call. Offsets let batched matmul address slices of a buffer. */
export interface GemmArgs {
  /** Rows of op(A) and C. */
  m: number;
  /** Columns of op(B) and C. */
  n: number;
  /** Columns of op(A) = rows of op(B). */
  k: number;
  /** A is stored K x M (use its transpose) rather than M x K. */
  transA?: boolean;
  /** B is stored N x K (use its transpose) rather than K x N. */
  transB?: boolean;
  /** Scale of the product; default 1. */
  alpha?: number;
  /** Scale of the existing C; default 0 (C is overwritten, its old contents ignored). */
  beta?: number;
  /** Element offsets of A, B and C in their buffers; default 0. */
  offA?: number;
  offB?: number;
  offC?: number;
}

/** Copies the `rows x cols` matrix at `src[off..]` transposed into a fresh `cols x rows` array. */
function packTransposed(
  src: TensorData,
  off: number,
  rows: number,
  cols: number,
): TensorData {
  const out = src instanceof Float64Array
    ? new Float64Array(rows * cols)
    : new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = off + r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[base + c];
  }
  return out;
}

/**
 * `C[offC..] = alpha * op(A) op(B) + beta * C` for row-major A, B, C of the same dtype.
 * C must not alias A or B.
 */
export function gemm(a: TensorData, b: TensorData, c: TensorData, args: GemmArgs): void {
  const { m, n, k } = args;
  const alpha = args.alpha ?? 1;
  const beta = args.beta ?? 0;
  const offC = args.offC ?? 0;
  if (m === 0 || n === 0) return;
  // The seed of every element: 0, C itself, or beta * C (scaled in place, as the loop did).
  if (beta === 0) c.fill(0, offC, offC + m * n);
  else if (beta !== 1) { for (let i = offC; i < offC + m * n; i++) c[i] *= beta; }
  if (k === 0) return;
  const ap = packPanels(a, m, k, { off: args.offA ?? 0, trans: args.transA, alpha });
  // B as a row-major k x n matrix starting at 0.
  const offB = args.offB ?? 0;
  const B = args.transB ? packTransposed(b, offB, n, k) : offB === 0 ? b : b.subarray(offB);
  gemmPacked(ap, m, k, B, n, c, offC, null, true);
}
