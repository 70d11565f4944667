/**
 * Pooling and upsampling kernels on flat arrays of `maps` row-major `H x W` maps (the leading
 * axes of an NCHW tensor flattened: `maps = N*C`).
 *
 * Contract (a WebAssembly backend implements the same functions): each kernel overwrites its
 * whole output and never writes to its inputs. Padding is never materialized: a window's range is
 * clipped to the map, which is what "padded cells are -Infinity" (max) and "padded cells are 0,
 * divisor still kh*kw" (average) amount to.
 *
 * @module
 */

import type { TensorData } from "../tensor.ts";

/**
 * Geometry of one 2-D pooling: window `kh x kw` moved by `(strideH, strideW)` over each map
 * padded by `padTop`/`padLeft` (bottom/right padding is implied by `outH`/`outW`). Window
 * `(i, j)` covers rows `i*strideH - padTop + [0, kh)` and columns `j*strideW - padLeft + [0, kw)`.
 */
export interface Pool2dGeometry {
  maps: number;
  inH: number;
  inW: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  outH: number;
  outW: number;
}

/**
 * Max pooling with arg-max: `y[m,i,j] = max` over the window's in-map cells, and
 * `argmax[m*outH*outW + i*outW + j]` = the flat index into `x` of the FIRST maximum in row-major
 * window order (a later cell must be strictly greater to win). Padded cells never win; the
 * geometry must give every window at least one in-map cell.
 */
export function maxPool2dKernel(
  x: TensorData,
  y: TensorData,
  argmax: Int32Array,
  g: Pool2dGeometry,
): void {
  const { inH: H, inW: W, kh, kw, strideH, strideW, outH, outW } = g;
  let t = 0;
  for (let m = 0; m < g.maps; m++) {
    const base = m * H * W;
    for (let i = 0; i < outH; i++) {
      const u = i * strideH - g.padTop;
      const r0 = u < 0 ? 0 : u, r1 = u + kh > H ? H : u + kh;
      for (let j = 0; j < outW; j++, t++) {
        const v = j * strideW - g.padLeft;
        const c0 = v < 0 ? 0 : v, c1 = v + kw > W ? W : v + kw;
        let best = base + r0 * W + c0;
        let bestVal = x[best];
        if (r1 - r0 === 2 && c1 - c0 === 2) {
          // A whole 2x2 window (LeNet's pools): unrolled, 1.4x faster than the loops below.
          const below = best + W;
          const v1 = x[best + 1], v2 = x[below], v3 = x[below + 1];
          const right = best + 1;
          if (v1 > bestVal) bestVal = v1, best = right;
          if (v2 > bestVal) bestVal = v2, best = below;
          if (v3 > bestVal) bestVal = v3, best = below + 1;
          y[t] = bestVal;
          argmax[t] = best;
          continue;
        }
        for (let r = r0; r < r1; r++) {
          const row = base + r * W;
          for (let c = c0; c < c1; c++) {
            const val = x[row + c];
            if (val > bestVal) {
              bestVal = val;
              best = row + c;
            }
          }
        }
        y[t] = bestVal;
        argmax[t] = best;
      }
    }
  }
}

/**
 * Max-pool backward: `dx` zeroed over `dxSize` cells, then `dx[argmax[t]] += delta[t]` for every
 * output cell `t` (overlapping windows that share a maximum accumulate). With `gate` (the pooled
 * values of a ReLU's output, i.e. `relu(x)[argmax[t]]`) only cells with `gate[t] > 0` route: the
 * ReLU's backward `[x > 0]` fused in, saving a pass over the (4x larger) input gradient.
 */
export function maxPool2dBackwardKernel(
  delta: TensorData,
  argmax: Int32Array,
  dx: TensorData,
  dxSize: number,
  gate: TensorData | null = null,
): void {
  dx.fill(0, 0, dxSize);
  if (gate === null) {
    for (let t = 0; t < argmax.length; t++) dx[argmax[t]] += delta[t];
  } else {
    for (let t = 0; t < argmax.length; t++) if (gate[t] > 0) dx[argmax[t]] += delta[t];
  }
}

/** Average pooling: `y[m,i,j] = (sum of the window's in-map cells) / (kh*kw)` (pad counts as 0). */
export function avgPool2dKernel(x: TensorData, y: TensorData, g: Pool2dGeometry): void {
  const { inH: H, inW: W, kh, kw, strideH, strideW, outH, outW } = g;
  const area = kh * kw;
  let t = 0;
  for (let m = 0; m < g.maps; m++) {
    const base = m * H * W;
    for (let i = 0; i < outH; i++) {
      const u = i * strideH - g.padTop;
      const r0 = u < 0 ? 0 : u, r1 = u + kh > H ? H : u + kh;
      for (let j = 0; j < outW; j++, t++) {
        const v = j * strideW - g.padLeft;
        const c0 = v < 0 ? 0 : v, c1 = v + kw > W ? W : v + kw;
        let s = 0;
        for (let r = r0; r < r1; r++) {
          const row = base + r * W;
          for (let c = c0; c < c1; c++) s += x[row + c];
        }
        y[t] = s / area; // divided, not scaled by 1/area: the mean correctly rounded
      }
    }
  }
}

/**
 * Average-pool backward: `dx` zeroed, then every output cell spreads `delta / (kh*kw)` to each
 * in-map cell of its window (Kronecker upsampling; overlapping windows accumulate).
 */
export function avgPool2dBackwardKernel(
  delta: TensorData,
  dx: TensorData,
  g: Pool2dGeometry,
): void {
  const { inH: H, inW: W, kh, kw, strideH, strideW, outH, outW } = g;
  const area = kh * kw;
  dx.fill(0, 0, g.maps * H * W);
  let t = 0;
  for (let m = 0; m < g.maps; m++) {
    const base = m * H * W;
    for (let i = 0; i < outH; i++) {
      const u = i * strideH - g.padTop;
      const r0 = u < 0 ? 0 : u, r1 = u + kh > H ? H : u + kh;
      for (let j = 0; j < outW; j++, t++) {
        const v = j * strideW - g.padLeft;
        const c0 = v < 0 ? 0 : v, c1 = v + kw > W ? W : v + kw;
        const share = delta[t] / area;
        for (let r = r0; r < r1; r++) {
          const row = base + r * W;
          for (let c = c0; c < c1; c++) dx[row + c] += share;
        }
      }
    }
  }
}

/**
 * Kronecker upsampling of `maps` maps of `h x w` by `kh x kw`:
 * `y[m, i*kh + a, j*kw + b] = x[m, i, j]` (each value fills a `kh x kw` block).
 */
export function upsampleKernel(
  x: TensorData,
  y: TensorData,
  maps: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
): void {
  const W = w * kw;
  let s = 0, d = 0;
  for (let m = 0; m < maps; m++) {
    for (let i = 0; i < h; i++, s += w) {
      // Build the first row of the block band, then copy it down kh-1 times.
      const row0 = d;
      for (let j = 0; j < w; j++) {
        const v = x[s + j];
        for (let b = 0; b < kw; b++) y[d++] = v;
      }
      for (let a = 1; a < kh; a++) y.copyWithin(d + (a - 1) * W, row0, row0 + W);
      d += (kh - 1) * W;
    }
  }
}

/** Upsample backward: `dx[m, i, j] = sum_{a<kh, b<kw} delta[m, i*kh + a, j*kw + b]` (block sums). */
export function upsampleBackwardKernel(
  delta: TensorData,
  dx: TensorData,
  maps: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
): void {
  const W = w * kw;
  for (let m = 0; m < maps; m++) {
    for (let i = 0; i < h; i++) {
      const out = (m * h + i) * w;
      const band = (m * h + i) * kh * W; // first row of this band of blocks
      for (let j = 0; j < w; j++) {
        let acc = 0;
        for (let a = 0; a < kh; a++) {
          const s = band + a * W + j * kw;
          for (let b = 0; b < kw; b++) acc += delta[s + b];
        }
        dx[out + j] = acc;
      }
    }
  }
}
