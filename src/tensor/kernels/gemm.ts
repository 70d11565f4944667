/**
 * General matrix multiply on flat row-major arrays: `C = alpha * op(A) * op(B) + beta * C`,
 * where `op(X)` is `X` or its transpose. This is the one hot loop that matmul, dense and the
 * im2col convolutions share; faster backends replace its body, never its contract.
 *
 * The loops are ordered i-k-j so the innermost loop walks rows of B and C contiguously, with
 * the transposed cases handled by packing the transposed operand once (a copy of K x N or
 * M x K floats, small next to the M*N*K multiply-adds).
 *
 * @module
 */

import type { TensorData } from "../tensor.ts";

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
  // Normalize to A: M x K at offA, B: K x N at offB, both row-major.
  let A = a, offA = args.offA ?? 0;
  if (args.transA) [A, offA] = [packTransposed(a, offA, k, m), 0];
  let B = b, offB = args.offB ?? 0;
  if (args.transB) [B, offB] = [packTransposed(b, offB, n, k), 0];

  for (let i = 0; i < m; i++) {
    const ci = offC + i * n;
    if (beta === 0) c.fill(0, ci, ci + n);
    else if (beta !== 1) { for (let j = 0; j < n; j++) c[ci + j] *= beta; }
    const ai = offA + i * k;
    for (let p = 0; p < k; p++) {
      const aip = alpha * A[ai + p];
      const bp = offB + p * n;
      for (let j = 0; j < n; j++) c[ci + j] += aip * B[bp + j];
    }
  }
}
