/**
 * The plain-TypeScript path of the convolution, pooling and ReLU kernels: what runs where
 * WebAssembly SIMD is missing (or when `GRADPROOF_KERNELS=js`), and for float64 data.
 * Same signatures and results as the wasm path (up to float32 rounding: these accumulate in
 * float64 JavaScript numbers).
 *
 * The convolutions are written "shift and accumulate": for each (output map, input map, tap)
 * the tap's weight times a shifted input row is added to an output row, so the innermost loop
 * walks two contiguous rows, and padding is handled by clipping the row ranges (no padded
 * copy).
 *
 * @module
 */

import type { TensorData } from "../../tensor.ts";
import { type Conv2dDims, convOutSize, type Pool2dDims } from "./dims.ts";

/** Valid output range [lo, hi) of index `o` with `o + t - pad` inside [0, size). */
function clip(t: number, pad: number, size: number, outSize: number): [number, number] {
  return [Math.max(0, pad - t), Math.min(outSize, size + pad - t)];
}

/** `y = relu?(x ⋆ weight + bias)`, NCHW x OIHW, stride 1. */
export function conv2dForwardJs(
  x: TensorData,
  weight: TensorData,
  bias: TensorData | null,
  y: TensorData,
  d: Conv2dDims,
  relu = false,
): void {
  const { n, c, h, w, o, kh, kw } = d;
  const ph = d.padH ?? 0, pw = d.padW ?? 0;
  const { oh, ow } = convOutSize(d);
  for (let b = 0; b < n; b++) {
    for (let q = 0; q < o; q++) {
      const yp = (b * o + q) * oh * ow;
      y.fill(bias ? bias[q] : 0, yp, yp + oh * ow);
      for (let ch = 0; ch < c; ch++) {
        const xp = (b * c + ch) * h * w;
        for (let i = 0; i < kh; i++) {
          const [r0, r1] = clip(i, ph, h, oh);
          for (let j = 0; j < kw; j++) {
            const wv = weight[((q * c + ch) * kh + i) * kw + j];
            const [c0, c1] = clip(j, pw, w, ow);
            for (let r = r0; r < r1; r++) {
              const yr = yp + r * ow, xr = xp + (r + i - ph) * w + j - pw;
              for (let s = c0; s < c1; s++) y[yr + s] += wv * x[xr + s];
            }
          }
        }
      }
      if (relu) { for (let k = yp; k < yp + oh * ow; k++) if (y[k] < 0) y[k] = 0; }
    }
  }
}

/** `dx = full_conv(dy, rot180(W))`: each tap scatters `w * dy` back onto the rows it read. */
export function conv2dBackwardInputJs(
  dy: TensorData,
  weight: TensorData,
  dx: TensorData,
  d: Conv2dDims,
): void {
  const { n, c, h, w, o, kh, kw } = d;
  const ph = d.padH ?? 0, pw = d.padW ?? 0;
  const { oh, ow } = convOutSize(d);
  dx.fill(0);
  for (let b = 0; b < n; b++) {
    for (let q = 0; q < o; q++) {
      const yp = (b * o + q) * oh * ow;
      for (let ch = 0; ch < c; ch++) {
        const xp = (b * c + ch) * h * w;
        for (let i = 0; i < kh; i++) {
          const [r0, r1] = clip(i, ph, h, oh);
          for (let j = 0; j < kw; j++) {
            const wv = weight[((q * c + ch) * kh + i) * kw + j];
            const [c0, c1] = clip(j, pw, w, ow);
            for (let r = r0; r < r1; r++) {
              const yr = yp + r * ow, xr = xp + (r + i - ph) * w + j - pw;
              for (let s = c0; s < c1; s++) dx[xr + s] += wv * dy[yr + s];
            }
          }
        }
      }
    }
  }
}

/** `dW[o][c][i][j] = sum_{n,p,q} dY[n][o][p][q] * X[n][c][p+i-padH][q+j-padW]`. */
export function conv2dBackwardFilterJs(
  x: TensorData,
  dy: TensorData,
  dw: TensorData,
  d: Conv2dDims,
): void {
  const { n, c, h, w, o, kh, kw } = d;
  const ph = d.padH ?? 0, pw = d.padW ?? 0;
  const { oh, ow } = convOutSize(d);
  for (let q = 0; q < o; q++) {
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < kh; i++) {
        const [r0, r1] = clip(i, ph, h, oh);
        for (let j = 0; j < kw; j++) {
          const [c0, c1] = clip(j, pw, w, ow);
          let acc = 0;
          for (let b = 0; b < n; b++) {
            const yp = (b * o + q) * oh * ow, xp = (b * c + ch) * h * w;
            for (let r = r0; r < r1; r++) {
              const yr = yp + r * ow, xr = xp + (r + i - ph) * w + j - pw;
              for (let s = c0; s < c1; s++) acc += dy[yr + s] * x[xr + s];
            }
          }
          dw[((q * c + ch) * kh + i) * kw + j] = acc;
        }
      }
    }
  }
}

/** `db[o] = sum over batch and space of dY[n][o]`. */
export function conv2dBackwardBiasJs(
  dy: TensorData,
  db: TensorData,
  n: number,
  o: number,
  hw: number,
): void {
  for (let q = 0; q < o; q++) {
    let acc = 0;
    for (let b = 0; b < n; b++) {
      const p = (b * o + q) * hw;
      for (let k = p; k < p + hw; k++) acc += dy[k];
    }
    db[q] = acc;
  }
}

/**
 * 2x2 stride-2 max-pool: `y` = window maxima, `argmax` = flat index into `x` of the first
 * maximum in row-major window order (strict `>`, so ties and a leading NaN keep the first).
 */
export function maxPool2x2ForwardJs(
  x: TensorData,
  y: TensorData,
  argmax: Int32Array,
  d: Pool2dDims,
): void {
  const { n, c, h, w } = d;
  const oh = h >> 1, ow = w >> 1;
  let k = 0;
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < oh; i++) {
      const r = p * h * w + 2 * i * w;
      for (let j = 0; j < ow; j++, k++) {
        let best = r + 2 * j, v = x[best];
        for (const t of [best + 1, best + w, best + w + 1]) {
          if (x[t] > v) {
            v = x[t];
            best = t;
          }
        }
        y[k] = v;
        argmax[k] = best;
      }
    }
  }
}

/**
 * Max-pool backward: `dx = 0; dx[argmax[i]] += dy[i]`. With `reluOut` (the pooled values of a
 * ReLU's output) the ReLU backward is fused: only positions with `reluOut[i] > 0` route.
 * Throws if an arg-max index is outside dx (after routing the others).
 */
export function maxPool2x2BackwardJs(
  dy: TensorData,
  argmax: Int32Array,
  dx: TensorData,
  reluOut: TensorData | null = null,
): void {
  dx.fill(0);
  let bad = 0;
  for (let i = 0; i < dy.length; i++) {
    const k = argmax[i];
    if (!(k >= 0 && k < dx.length)) bad++;
    else if (reluOut === null || reluOut[i] > 0) dx[k] += dy[i];
  }
  if (bad > 0) {
    throw new RangeError(`maxPool2x2Backward: ${bad} argmax indices outside dx of ${dx.length}`);
  }
}

/** `y = x < 0 ? 0 : x` (NaN stays NaN). `y` may be `x`. */
export function reluForwardJs(x: TensorData, y: TensorData): void {
  for (let i = 0; i < x.length; i++) y[i] = x[i] < 0 ? 0 : x[i];
}

/** `dx = x > 0 ? dy : 0`. `dx` may be `dy`. */
export function reluBackwardJs(x: TensorData, dy: TensorData, dx: TensorData): void {
  for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
}
