/**
 * Convolution kernels on flat NCHW / OIHW arrays: forward, input gradient, weight gradient and
 * bias gradient of a 2-D cross-correlation with stride, dilation and zero padding.
 *
 * Contract (a WebAssembly backend implements the same four functions): every array is row-major,
 * all of one dtype; each kernel overwrites its whole output and never writes to its inputs.
 * Padding is never materialized: the patch gather treats out-of-range cells as zeros.
 *
 * Strategy, chosen by measurement on the LeNet-5 shapes (see bench/conv_bench.ts): gather the
 * patches one image at a time ("im2col", K x P with K = C*kh*kw taps and P output positions,
 * 60-80 KB so it stays in L2), then a register-tiled product (4x4 or 3x4 accumulators held in
 * locals, each load feeding 3-4 multiply-adds). In plain JS that ran 2x faster than im2col with
 * the untiled shared GEMM and 2x faster than direct loops (one load per multiply-add).
 *
 * @module
 */

import type { TensorData } from "../tensor.ts";
import { gemmPacked, packPanels, sumProductsNT } from "./tiles.ts";

/**
 * Geometry of one conv2d: input `[batch, inC, inH, inW]`, weights `[outC, inC, kh, kw]`, output
 * `[batch, outC, outH, outW]`. Output cell `(i, j)` with tap `(p, q)` reads input cell
 * `(i*strideH + p*dilationH - padTop, j*strideW + q*dilationW - padLeft)`, zero outside the input.
 * Bottom/right padding is implied by `outH`/`outW`.
 */
export interface Conv2dGeometry {
  batch: number;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  kh: number;
  kw: number;
  outH: number;
  outW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
}

/** Fresh scratch of the same element type as `like`. */
function scratch(like: TensorData, n: number): TensorData {
  return like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/**
 * Patch gather ("im2col") for image `n`: row `(c*kh + p)*kw + q` of `cols` (`K x P`) holds, for
 * each output cell `(i, j)`, `x[n, c, i*sh + p*dh - pt, j*sw + q*dw - pl]`, or 0 where that cell
 * lies in the padding (which is never materialized).
 */
export function gatherPatches(x: TensorData, n: number, g: Conv2dGeometry, cols: TensorData): void {
  const { inC, inH, inW, kh, kw, outH, outW, strideH, strideW, dilationH, dilationW } = g;
  const P = outH * outW;
  let row = 0;
  for (let c = 0; c < inC; c++) {
    const mapOff = (n * inC + c) * inH * inW;
    for (let p = 0; p < kh; p++) {
      for (let q = 0; q < kw; q++, row++) {
        const rowOff = row * P;
        // Output columns j in [j0, j1) read in-range input columns v0 + j*sw.
        const v0 = q * dilationW - g.padLeft;
        const j0 = v0 >= 0 ? 0 : Math.min(outW, Math.ceil(-v0 / strideW));
        const j1 = v0 >= inW ? j0 : Math.max(j0, Math.min(outW, Math.ceil((inW - v0) / strideW)));
        for (let i = 0; i < outH; i++) {
          const u = i * strideH + p * dilationH - g.padTop;
          const dst = rowOff + i * outW;
          if (u < 0 || u >= inH) {
            for (let j = 0; j < outW; j++) cols[dst + j] = 0;
            continue;
          }
          for (let j = 0; j < j0; j++) cols[dst + j] = 0;
          let s = mapOff + u * inW + v0 + j0 * strideW;
          for (let j = j0; j < j1; j++, s += strideW) cols[dst + j] = x[s];
          for (let j = j1; j < outW; j++) cols[dst + j] = 0;
        }
      }
    }
  }
}

/**
 * The adjoint of {@link gatherPatches} ("col2im"): adds each entry of `cols` (`K x P`) into the
 * input cell it was gathered from, `dx[n, c, i*sh + p*dh - pt, j*sw + q*dw - pl]`; entries that
 * map into the padding are dropped (the crop of the derivation). Overlapping windows accumulate.
 */
export function scatterPatches(
  cols: TensorData,
  g: Conv2dGeometry,
  dx: TensorData,
  n: number,
): void {
  const { inC, inH, inW, kh, kw, outH, outW, strideH, strideW, dilationH, dilationW } = g;
  const P = outH * outW;
  let row = 0;
  for (let c = 0; c < inC; c++) {
    const mapOff = (n * inC + c) * inH * inW;
    for (let p = 0; p < kh; p++) {
      for (let q = 0; q < kw; q++, row++) {
        const rowOff = row * P;
        const v0 = q * dilationW - g.padLeft;
        const j0 = v0 >= 0 ? 0 : Math.min(outW, Math.ceil(-v0 / strideW));
        const j1 = v0 >= inW ? j0 : Math.max(j0, Math.min(outW, Math.ceil((inW - v0) / strideW)));
        if (j1 === j0) continue;
        for (let i = 0; i < outH; i++) {
          const u = i * strideH + p * dilationH - g.padTop;
          if (u < 0 || u >= inH) continue;
          const src = rowOff + i * outW;
          let d = mapOff + u * inW + v0 + j0 * strideW;
          for (let j = j0; j < j1; j++, d += strideW) dx[d] += cols[src + j];
        }
      }
    }
  }
}

/**
 * Forward: `y[n,o,i,j] = b[o] + sum_{c,p,q} x[n,c, i*sh + p*dh - pt, j*sw + q*dw - pl] w[o,c,p,q]`.
 * Per image: `Y_n (O x P) = b 1^T + W (O x K) * cols(X_n) (K x P)`, the bias seeding the sums.
 * `b` may be null (no bias).
 */
export function conv2dForwardKernel(
  x: TensorData,
  w: TensorData,
  b: TensorData | null,
  y: TensorData,
  g: Conv2dGeometry,
): void {
  const K = g.inC * g.kh * g.kw;
  const P = g.outH * g.outW;
  const O = g.outC;
  const cols = scratch(x, K * P);
  const packed = packPanels(w, O, K);
  for (let n = 0; n < g.batch; n++) {
    gatherPatches(x, n, g, cols);
    gemmPacked(packed, O, K, cols, P, y, n * O * P, b);
  }
}

/**
 * Input gradient. The derivation states it as a gather over each input cell: `dX` is the full
 * correlation of the stride-dilated delta `D` with `rot180(W)` (kernel dilated by `d`), summed
 * over output maps, cropped by the padding:
 * `dx[n,c,a,b] = sum_{o,p',q'} D[n,o, a + p'*dh - (K_eh-1-pt), b + q'*dw - (K_ew-1-pl)]
 *               * W[o,c, kh-1-p', kw-1-q']`, with `K_e = (k-1)*d + 1`.
 * This kernel evaluates the same terms grouped by delta cell instead: substituting
 * `p = kh-1-p'`, the term for `(o,p,q)` and delta cell `(i,j)` lands on
 * `(a,b) = (i*sh + p*dh - pt, j*sw + q*dw - pl)`, so per image
 * `cols = W^T (K x O) * delta_n (O x P)` followed by the scatter back to those cells. The terms
 * where `D` holds an inserted or padded zero are skipped rather than multiplied, which measured
 * 2x faster on both LeNet-5 layers than multiplying them in the gather form.
 */
export function conv2dInputGradKernel(
  delta: TensorData,
  w: TensorData,
  dx: TensorData,
  g: Conv2dGeometry,
): void {
  const K = g.inC * g.kh * g.kw;
  const P = g.outH * g.outW;
  const O = g.outC;
  const wT = scratch(w, K * O);
  for (let o = 0; o < O; o++) {
    for (let r = 0; r < K; r++) wT[r * O + o] = w[o * K + r];
  }
  const packed = packPanels(wT, K, O);
  const cols = scratch(delta, K * P);
  dx.fill(0, 0, g.batch * g.inC * g.inH * g.inW);
  for (let n = 0; n < g.batch; n++) {
    gemmPacked(packed, K, O, delta.subarray(n * O * P, (n + 1) * O * P), P, cols, 0);
    scatterPatches(cols, g, dx, n);
  }
}

/**
 * Weight gradient, the valid correlation of the input with delta (stride-dilated, kernel taps
 * at multiples of the dilation):
 * `dw[o,c,p,q] = sum_{n,i,j} x[n,c, i*sh + p*dh - pt, j*sw + q*dw - pl] delta[n,o,i,j]`.
 * Per image: `dW += delta_n (O x P) * cols(X_n)^T (P x K)`, rows dotted against rows.
 */
export function conv2dWeightGradKernel(
  x: TensorData,
  delta: TensorData,
  dw: TensorData,
  g: Conv2dGeometry,
): void {
  const K = g.inC * g.kh * g.kw;
  const P = g.outH * g.outW;
  const O = g.outC;
  const cols = scratch(x, K * P);
  dw.fill(0, 0, O * K);
  for (let n = 0; n < g.batch; n++) {
    gatherPatches(x, n, g, cols);
    sumProductsNT(delta, n * O * P, O, cols, K, P, dw);
  }
}

/** Bias gradient: `db[o] = sum_{n,i,j} delta[n,o,i,j]`. */
export function conv2dBiasGradKernel(delta: TensorData, db: TensorData, g: Conv2dGeometry): void {
  const P = g.outH * g.outW;
  for (let o = 0; o < g.outC; o++) {
    let s = 0;
    for (let n = 0; n < g.batch; n++) {
      const base = (n * g.outC + o) * P;
      for (let t = 0; t < P; t++) s += delta[base + t];
    }
    db[o] = s;
  }
}
