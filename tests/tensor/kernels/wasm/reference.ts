/**
 * Straightforward float64 reference loops for the kernel tests, written from the definitions
 * (one output element at a time, bounds tested per tap), plus the error bound they use.
 *
 * Each reference returns the exact-ish value and `mag`, the sum of the magnitudes of the terms
 * that were added. A float32 result computed by any summation order, with or without fused
 * multiply-adds, is within `(terms + 2) * 2^-23 * mag` of the float64 value (the classic
 * `gamma_n = n*u/(1-n*u)` bound for n terms with unit roundoff u = 2^-24, doubled to cover the
 * rounding of the products and of alpha/beta scaling), which is what `assertClose` checks.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Conv2dDims } from "../../../../src/tensor/kernels/wasm/dims.ts";

/** A seeded generator of float32-representable values in [-1, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.fround(((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1);
  };
}

/** A Float32Array of `n` values from `r`. */
export function randomF32(r: () => number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r();
  return a;
}

/** Reference values with the magnitude of what was summed for each. */
export interface Ref {
  value: Float64Array;
  mag: Float64Array;
  /** The number of terms summed per element (for the error bound). */
  terms: number;
}

/** Asserts `|got[i] - value[i]| <= (terms + 2) * 2^-23 * mag[i]` (or both NaN) everywhere. */
export function assertClose(got: ArrayLike<number>, want: Ref, what: string): void {
  assert.equal(got.length, want.value.length, `${what}: length`);
  const u = (want.terms + 2) * 2 ** -23;
  for (let i = 0; i < got.length; i++) {
    if (Number.isNaN(got[i]) && Number.isNaN(want.value[i])) continue;
    const err = Math.abs(got[i] - want.value[i]);
    if (!(err <= u * want.mag[i])) {
      assert.fail(
        `${what}: element ${i} is ${got[i]}, want ${want.value[i]} (error ${err} > ${
          u * want.mag[i]
        })`,
      );
    }
  }
}

/** `alpha * op(A) op(B) + beta * C` by the definition. */
export function gemmRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  c: ArrayLike<number>,
  g: {
    m: number;
    n: number;
    k: number;
    transA?: boolean;
    transB?: boolean;
    alpha?: number;
    beta?: number;
    offA?: number;
    offB?: number;
    offC?: number;
  },
): Ref {
  const { m, n, k } = g;
  const alpha = g.alpha ?? 1, beta = g.beta ?? 0;
  const oa = g.offA ?? 0, ob = g.offB ?? 0, oc = g.offC ?? 0;
  const value = new Float64Array(m * n), mag = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, sa = 0;
      for (let p = 0; p < k; p++) {
        const av = g.transA ? a[oa + p * m + i] : a[oa + i * k + p];
        const bv = g.transB ? b[ob + j * k + p] : b[ob + p * n + j];
        s += av * bv;
        sa += Math.abs(av * bv);
      }
      const cv = beta === 0 ? 0 : beta * c[oc + i * n + j];
      value[i * n + j] = alpha * s + cv;
      mag[i * n + j] = Math.abs(alpha) * sa + Math.abs(cv);
    }
  }
  return { value, mag, terms: k + 1 };
}

/**
 * Convolution geometry: the kernels' own shape type (only the type is shared; the reference
 * computes everything else itself, so it stays an independent oracle).
 */
export type ConvShape = Conv2dDims;

/** Output size of a stride-1 convolution (bottom/right padding default to top/left). */
export function outSize(d: ConvShape): [number, number] {
  const ph = d.padH ?? 0, pw = d.padW ?? 0;
  return [d.h + ph + (d.padBottom ?? ph) - d.kh + 1, d.w + pw + (d.padRight ?? pw) - d.kw + 1];
}

/** X[n][c][i][j] with zero outside the image (the padding). */
function xAt(x: ArrayLike<number>, d: ConvShape, n: number, c: number, i: number, j: number) {
  return i < 0 || i >= d.h || j < 0 || j >= d.w ? 0 : x[((n * d.c + c) * d.h + i) * d.w + j];
}

/** `y[n][o][p][q] = relu?(b[o] + sum_{c,i,j} W[o][c][i][j] X[n][c][p+i-ph][q+j-pw])`. */
export function convForwardRef(
  x: ArrayLike<number>,
  wt: ArrayLike<number>,
  bias: ArrayLike<number> | null,
  d: ConvShape,
  relu = false,
): Ref {
  const [oh, ow] = outSize(d);
  const ph = d.padH ?? 0, pw = d.padW ?? 0;
  const value = new Float64Array(d.n * d.o * oh * ow), mag = new Float64Array(value.length);
  for (let n = 0; n < d.n; n++) {
    for (let o = 0; o < d.o; o++) {
      for (let p = 0; p < oh; p++) {
        for (let q = 0; q < ow; q++) {
          let s = bias ? bias[o] : 0, sa = Math.abs(s);
          for (let c = 0; c < d.c; c++) {
            for (let i = 0; i < d.kh; i++) {
              for (let j = 0; j < d.kw; j++) {
                const t = wt[((o * d.c + c) * d.kh + i) * d.kw + j] *
                  xAt(x, d, n, c, p + i - ph, q + j - pw);
                s += t;
                sa += Math.abs(t);
              }
            }
          }
          const k = ((n * d.o + o) * oh + p) * ow + q;
          value[k] = relu && s < 0 ? 0 : s;
          mag[k] = sa;
        }
      }
    }
  }
  return { value, mag, terms: d.c * d.kh * d.kw + 1 };
}

/**
 * The gradients of `L = sum(dy * conv(x, W))` with respect to x, W and b, by the chain rule
 * on the forward definition: each tap's product `W * X` sends `dy * W` to X and `dy * X` to W.
 */
export function convBackwardRef(
  x: ArrayLike<number>,
  wt: ArrayLike<number>,
  dy: ArrayLike<number>,
  d: ConvShape,
): { dx: Ref; dw: Ref; db: Ref } {
  const [oh, ow] = outSize(d);
  const ph = d.padH ?? 0, pw = d.padW ?? 0;
  const dx = new Float64Array(d.n * d.c * d.h * d.w), dxm = new Float64Array(dx.length);
  const dw = new Float64Array(d.o * d.c * d.kh * d.kw), dwm = new Float64Array(dw.length);
  const db = new Float64Array(d.o), dbm = new Float64Array(d.o);
  for (let n = 0; n < d.n; n++) {
    for (let o = 0; o < d.o; o++) {
      for (let p = 0; p < oh; p++) {
        for (let q = 0; q < ow; q++) {
          const g = dy[((n * d.o + o) * oh + p) * ow + q];
          db[o] += g;
          dbm[o] += Math.abs(g);
          for (let c = 0; c < d.c; c++) {
            for (let i = 0; i < d.kh; i++) {
              for (let j = 0; j < d.kw; j++) {
                const xi = p + i - ph, xj = q + j - pw;
                if (xi < 0 || xi >= d.h || xj < 0 || xj >= d.w) continue;
                const kx = ((n * d.c + c) * d.h + xi) * d.w + xj;
                const kw = ((o * d.c + c) * d.kh + i) * d.kw + j;
                dx[kx] += g * wt[kw];
                dxm[kx] += Math.abs(g * wt[kw]);
                dw[kw] += g * x[kx];
                dwm[kw] += Math.abs(g * x[kx]);
              }
            }
          }
        }
      }
    }
  }
  return {
    dx: { value: dx, mag: dxm, terms: d.o * d.kh * d.kw },
    dw: { value: dw, mag: dwm, terms: d.n * oh * ow },
    db: { value: db, mag: dbm, terms: d.n * oh * ow },
  };
}

/** An exact reference (no rounding involved): tolerance zero. */
export function exact(values: ArrayLike<number>): Ref {
  const value = Float64Array.from(values);
  return { value, mag: new Float64Array(value.length), terms: 0 };
}
