/**
 * Register-tiled matrix products for the convolution kernels (plain TypeScript).
 *
 * V8 does not vectorize typed-array loops, so speed comes from reuse in registers: each micro
 * kernel keeps a 4x4 or 3x4 tile of accumulators in local variables, and every value loaded
 * feeds 3-4 multiply-adds (an untiled loop does one load, sometimes a store, per multiply-add).
 * Accumulation happens in float64 (JS numbers) even for float32 data; results are rounded once
 * on store.
 *
 * Rows of the left operand are processed in panels of 4 (when the row count is a multiple of 4),
 * else of 3, else 4 with a 3-row or 1-row remainder: the 6 and 16 output channels of LeNet-5 then
 * run with no padding rows at all.
 *
 * @module
 */

import type { TensorData } from "../tensor.ts";

/** Heights of the row panels that cover `m` rows (4s, or 3s, with a 3 or 1s at the end). */
export function panelHeights(m: number): number[] {
  const hs: number[] = [];
  let left = m;
  const main = m % 4 === 0 || m % 3 !== 0 ? 4 : 3;
  while (left >= main) {
    hs.push(main);
    left -= main;
  }
  if (left === 3) hs.push(3);
  else for (; left > 0; left--) hs.push(1);
  return hs;
}

/**
 * Packs the row-major `m x k` matrix `a` into row panels (see {@link panelHeights}): the panel of
 * height `h` starting at row `r0` occupies `[r0*k, (r0+h)*k)` with element `(r0+r, kk)` at
 * `r0*k + kk*h + r`, so a micro kernel reads the panel's column `kk` contiguously.
 *
 * Options: `off` (where the matrix starts in `a`), `trans` (`a` holds the `k x m` transpose:
 * element `(r, kk)` is `a[off + kk*m + r]`) and `alpha` (each element is stored times alpha,
 * the product computed in float64 and rounded to `a`'s type once).
 */
export function packPanels(
  a: TensorData,
  m: number,
  k: number,
  { off = 0, trans = false, alpha = 1 }: { off?: number; trans?: boolean; alpha?: number } = {},
): TensorData {
  const out = a instanceof Float64Array ? new Float64Array(m * k) : new Float32Array(m * k);
  let r0 = 0;
  for (const h of panelHeights(m)) {
    for (let r = 0; r < h; r++) {
      const dst = r0 * k + r;
      if (trans) {
        for (let kk = 0, s = off + r0 + r; kk < k; kk++, s += m) out[dst + kk * h] = alpha * a[s];
      } else {
        const src = off + (r0 + r) * k;
        for (let kk = 0; kk < k; kk++) out[dst + kk * h] = alpha * a[src + kk];
      }
    }
    r0 += h;
  }
  return out;
}

/**
 * `C[cOff + r*n + j] = init[r] + sum_kk A[r, kk] * B[kk*n + j]` for the `m x k` matrix A packed by
 * {@link packPanels} and the row-major `k x n` matrix B; overwrites the `m x n` block of C.
 * `init` (a bias per row, or null for 0) seeds the accumulators, saving a pass over C; with
 * `seedFromC` each accumulator starts from C's own element instead (`C += A B`). The sum runs
 * in float64 in the order kk = 0, 1, ..., k-1 and is rounded to C's type once.
 */
export function gemmPacked(
  ap: TensorData,
  m: number,
  k: number,
  b: TensorData,
  n: number,
  c: TensorData,
  cOff: number,
  init: TensorData | null = null,
  seedFromC = false,
): void {
  const n4 = n - (n % 4);
  let r0 = 0;
  for (const h of panelHeights(m)) {
    const aOff = r0 * k;
    const rowOff = cOff + r0 * n;
    for (let j = 0; j < n4; j += 4) {
      if (h === 4) nn4x4(ap, aOff, b, n, j, k, c, rowOff, init, r0, seedFromC);
      else if (h === 3) nn3x4(ap, aOff, b, n, j, k, c, rowOff, init, r0, seedFromC);
      else nn1x4(ap, aOff, b, n, j, k, c, rowOff, init, r0, seedFromC);
    }
    for (let j = n4; j < n; j++) {
      for (let r = 0; r < h; r++) {
        const at = rowOff + r * n + j;
        let s = seedFromC ? c[at] : init === null ? 0 : init[r0 + r];
        for (let kk = 0; kk < k; kk++) s += ap[aOff + kk * h + r] * b[kk * n + j];
        c[at] = s;
      }
    }
    r0 += h;
  }
}

/** The accumulator seed of row `r` of a tile: C's element, the row's init, or 0. */
function seed(
  c: TensorData,
  at: number,
  seedFromC: boolean,
  init: TensorData | null,
  r: number,
): number {
  return seedFromC ? c[at] : init === null ? 0 : init[r];
}

function nn4x4(
  a: TensorData,
  ai: number,
  b: TensorData,
  n: number,
  j: number,
  k: number,
  c: TensorData,
  o: number,
  init: TensorData | null,
  r0: number,
  fromC: boolean,
): void {
  const p0 = o + j, p1 = p0 + n, p2 = p1 + n, p3 = p2 + n;
  let c00 = seed(c, p0, fromC, init, r0), c01 = fromC ? c[p0 + 1] : c00;
  let c02 = fromC ? c[p0 + 2] : c00, c03 = fromC ? c[p0 + 3] : c00;
  let c10 = seed(c, p1, fromC, init, r0 + 1), c11 = fromC ? c[p1 + 1] : c10;
  let c12 = fromC ? c[p1 + 2] : c10, c13 = fromC ? c[p1 + 3] : c10;
  let c20 = seed(c, p2, fromC, init, r0 + 2), c21 = fromC ? c[p2 + 1] : c20;
  let c22 = fromC ? c[p2 + 2] : c20, c23 = fromC ? c[p2 + 3] : c20;
  let c30 = seed(c, p3, fromC, init, r0 + 3), c31 = fromC ? c[p3 + 1] : c30;
  let c32 = fromC ? c[p3 + 2] : c30, c33 = fromC ? c[p3 + 3] : c30;
  for (let kk = 0, bi = j; kk < k; kk++, bi += n, ai += 4) {
    const b0 = b[bi], b1 = b[bi + 1], b2 = b[bi + 2], b3 = b[bi + 3];
    let v = a[ai];
    c00 += v * b0, c01 += v * b1, c02 += v * b2, c03 += v * b3;
    v = a[ai + 1];
    c10 += v * b0, c11 += v * b1, c12 += v * b2, c13 += v * b3;
    v = a[ai + 2];
    c20 += v * b0, c21 += v * b1, c22 += v * b2, c23 += v * b3;
    v = a[ai + 3];
    c30 += v * b0, c31 += v * b1, c32 += v * b2, c33 += v * b3;
  }
  o += j;
  c[o] = c00, c[o + 1] = c01, c[o + 2] = c02, c[o + 3] = c03;
  o += n;
  c[o] = c10, c[o + 1] = c11, c[o + 2] = c12, c[o + 3] = c13;
  o += n;
  c[o] = c20, c[o + 1] = c21, c[o + 2] = c22, c[o + 3] = c23;
  o += n;
  c[o] = c30, c[o + 1] = c31, c[o + 2] = c32, c[o + 3] = c33;
}

function nn3x4(
  a: TensorData,
  ai: number,
  b: TensorData,
  n: number,
  j: number,
  k: number,
  c: TensorData,
  o: number,
  init: TensorData | null,
  r0: number,
  fromC: boolean,
): void {
  const p0 = o + j, p1 = p0 + n, p2 = p1 + n;
  let c00 = seed(c, p0, fromC, init, r0), c01 = fromC ? c[p0 + 1] : c00;
  let c02 = fromC ? c[p0 + 2] : c00, c03 = fromC ? c[p0 + 3] : c00;
  let c10 = seed(c, p1, fromC, init, r0 + 1), c11 = fromC ? c[p1 + 1] : c10;
  let c12 = fromC ? c[p1 + 2] : c10, c13 = fromC ? c[p1 + 3] : c10;
  let c20 = seed(c, p2, fromC, init, r0 + 2), c21 = fromC ? c[p2 + 1] : c20;
  let c22 = fromC ? c[p2 + 2] : c20, c23 = fromC ? c[p2 + 3] : c20;
  for (let kk = 0, bi = j; kk < k; kk++, bi += n, ai += 3) {
    const b0 = b[bi], b1 = b[bi + 1], b2 = b[bi + 2], b3 = b[bi + 3];
    let v = a[ai];
    c00 += v * b0, c01 += v * b1, c02 += v * b2, c03 += v * b3;
    v = a[ai + 1];
    c10 += v * b0, c11 += v * b1, c12 += v * b2, c13 += v * b3;
    v = a[ai + 2];
    c20 += v * b0, c21 += v * b1, c22 += v * b2, c23 += v * b3;
  }
  o += j;
  c[o] = c00, c[o + 1] = c01, c[o + 2] = c02, c[o + 3] = c03;
  o += n;
  c[o] = c10, c[o + 1] = c11, c[o + 2] = c12, c[o + 3] = c13;
  o += n;
  c[o] = c20, c[o + 1] = c21, c[o + 2] = c22, c[o + 3] = c23;
}

function nn1x4(
  a: TensorData,
  ai: number,
  b: TensorData,
  n: number,
  j: number,
  k: number,
  c: TensorData,
  o: number,
  init: TensorData | null,
  r0: number,
  fromC: boolean,
): void {
  const p0 = o + j;
  let c00 = seed(c, p0, fromC, init, r0), c01 = fromC ? c[p0 + 1] : c00;
  let c02 = fromC ? c[p0 + 2] : c00, c03 = fromC ? c[p0 + 3] : c00;
  for (let kk = 0, bi = j; kk < k; kk++, bi += n, ai++) {
    const v = a[ai];
    c00 += v * b[bi], c01 += v * b[bi + 1], c02 += v * b[bi + 2], c03 += v * b[bi + 3];
  }
  o += j;
  c[o] = c00, c[o + 1] = c01, c[o + 2] = c02, c[o + 3] = c03;
}

/**
 * `out[r*k + kk] += sum_t D[dOff + r*p + t] * B[kk*p + t]` for the row-major `m x p` block D and
 * `k x p` matrix B: rows dotted against rows (`out += D * B^T`), accumulating into `out` (`m x k`).
 */
export function sumProductsNT(
  d: TensorData,
  dOff: number,
  m: number,
  b: TensorData,
  k: number,
  p: number,
  out: TensorData,
): void {
  const k4 = k - (k % 4);
  let r0 = 0;
  for (const h of panelHeights(m)) {
    const dr = dOff + r0 * p;
    for (let kk = 0; kk < k4; kk += 4) {
      if (h === 4) nt4x4(d, dr, b, kk * p, p, out, r0 * k + kk, k);
      else if (h === 3) nt3x4(d, dr, b, kk * p, p, out, r0 * k + kk, k);
      else nt1x4(d, dr, b, kk * p, p, out, r0 * k + kk);
    }
    for (let r = 0; r < h; r++) {
      for (let kk = k4; kk < k; kk++) {
        let s = 0;
        for (let t = 0; t < p; t++) s += d[dr + r * p + t] * b[kk * p + t];
        out[(r0 + r) * k + kk] += s;
      }
    }
    r0 += h;
  }
}

function nt4x4(
  d: TensorData,
  di: number,
  b: TensorData,
  bi: number,
  p: number,
  out: TensorData,
  o: number,
  k: number,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const d1 = di + p, d2 = d1 + p, d3 = d2 + p;
  const b1 = bi + p, b2 = b1 + p, b3 = b2 + p;
  for (let t = 0; t < p; t++) {
    const x0 = b[bi + t], x1 = b[b1 + t], x2 = b[b2 + t], x3 = b[b3 + t];
    let v = d[di + t];
    c00 += v * x0, c01 += v * x1, c02 += v * x2, c03 += v * x3;
    v = d[d1 + t];
    c10 += v * x0, c11 += v * x1, c12 += v * x2, c13 += v * x3;
    v = d[d2 + t];
    c20 += v * x0, c21 += v * x1, c22 += v * x2, c23 += v * x3;
    v = d[d3 + t];
    c30 += v * x0, c31 += v * x1, c32 += v * x2, c33 += v * x3;
  }
  out[o] += c00, out[o + 1] += c01, out[o + 2] += c02, out[o + 3] += c03;
  o += k;
  out[o] += c10, out[o + 1] += c11, out[o + 2] += c12, out[o + 3] += c13;
  o += k;
  out[o] += c20, out[o + 1] += c21, out[o + 2] += c22, out[o + 3] += c23;
  o += k;
  out[o] += c30, out[o + 1] += c31, out[o + 2] += c32, out[o + 3] += c33;
}

function nt3x4(
  d: TensorData,
  di: number,
  b: TensorData,
  bi: number,
  p: number,
  out: TensorData,
  o: number,
  k: number,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  const d1 = di + p, d2 = d1 + p;
  const b1 = bi + p, b2 = b1 + p, b3 = b2 + p;
  for (let t = 0; t < p; t++) {
    const x0 = b[bi + t], x1 = b[b1 + t], x2 = b[b2 + t], x3 = b[b3 + t];
    let v = d[di + t];
    c00 += v * x0, c01 += v * x1, c02 += v * x2, c03 += v * x3;
    v = d[d1 + t];
    c10 += v * x0, c11 += v * x1, c12 += v * x2, c13 += v * x3;
    v = d[d2 + t];
    c20 += v * x0, c21 += v * x1, c22 += v * x2, c23 += v * x3;
  }
  out[o] += c00, out[o + 1] += c01, out[o + 2] += c02, out[o + 3] += c03;
  o += k;
  out[o] += c10, out[o + 1] += c11, out[o + 2] += c12, out[o + 3] += c13;
  o += k;
  out[o] += c20, out[o + 1] += c21, out[o + 2] += c22, out[o + 3] += c23;
}

function nt1x4(
  d: TensorData,
  di: number,
  b: TensorData,
  bi: number,
  p: number,
  out: TensorData,
  o: number,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  const b1 = bi + p, b2 = b1 + p, b3 = b2 + p;
  for (let t = 0; t < p; t++) {
    const v = d[di + t];
    c00 += v * b[bi + t], c01 += v * b[b1 + t], c02 += v * b[b2 + t], c03 += v * b[b3 + t];
  }
  out[o] += c00, out[o + 1] += c01, out[o + 2] += c02, out[o + 3] += c03;
}
