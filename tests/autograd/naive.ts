/**
 * Direct-loop forward definitions the reference definitions are checked against: every output
 * element written from its formula with explicit bounds, nothing shared with src/.
 */

import { Tensor } from "../../mod.ts";

export type Pads = [top: number, bottom: number, left: number, right: number];

/** TensorFlow "same": total `max((ceil(n/s) - 1) s + (k-1) d + 1 - n, 0)`, extra at the end. */
export function samePads(n: number, k: number, s: number, d: number): [number, number] {
  const total = Math.max((Math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Output extent `floor((n + p - d(k-1) - 1) / s) + 1`. */
export const outSize = (n: number, k: number, s: number, d: number, p: number): number =>
  Math.floor((n + p - d * (k - 1) - 1) / s) + 1;

/** y[n,o,p,q] = b[o] + sum_{c,i,j} x[n, c, p sh + i dh - pt, q sw + j dw - pl] w[o,c,i,j]. */
export function conv2dNaive(
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  [sh, sw]: [number, number],
  [pt, pb, pl, pr]: Pads,
  [dh, dw]: [number, number],
): Tensor {
  const [N, C, H, W] = x.shape, [O, , KH, KW] = w.shape;
  const OH = outSize(H, KH, sh, dh, pt + pb), OW = outSize(W, KW, sw, dw, pl + pr);
  const out = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let p = 0; p < OH; p++) {
        for (let q = 0; q < OW; q++) {
          let s = b ? b.data[o] : 0;
          for (let c = 0; c < C; c++) {
            for (let i = 0; i < KH; i++) {
              for (let j = 0; j < KW; j++) {
                const r = p * sh + i * dh - pt, col = q * sw + j * dw - pl;
                if (r < 0 || r >= H || col < 0 || col >= W) continue;
                s += x.data[((n * C + c) * H + r) * W + col] *
                  w.data[((o * C + c) * KH + i) * KW + j];
              }
            }
          }
          out[((n * O + o) * OH + p) * OW + q] = s;
        }
      }
    }
  }
  return new Tensor(out, [N, O, OH, OW]);
}

/**
 * Pooling by direct loops; `kind` "max" keeps the first maximum in row-major window order
 * (padding never wins), "avg" divides the window sum by kh*kw. Returns the output and, for
 * max, the flat input index each output came from.
 */
export function poolNaive(
  kind: "max" | "avg",
  x: Tensor,
  [kh, kw]: [number, number],
  [sh, sw]: [number, number],
  [pt, pb, pl, pr]: Pads,
): { y: Tensor; arg: Int32Array } {
  const [N, C, H, W] = x.shape;
  const OH = outSize(H, kh, sh, 1, pt + pb), OW = outSize(W, kw, sw, 1, pl + pr);
  const out = new Float64Array(N * C * OH * OW);
  const arg = new Int32Array(out.length).fill(-1);
  for (let m = 0; m < N * C; m++) {
    for (let p = 0; p < OH; p++) {
      for (let q = 0; q < OW; q++) {
        let best = -Infinity, sum = 0;
        const o = (m * OH + p) * OW + q;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const r = p * sh + i - pt, c = q * sw + j - pl;
            if (r < 0 || r >= H || c < 0 || c >= W) continue;
            const at = (m * H + r) * W + c, v = x.data[at];
            sum += v;
            if (v > best) [best, arg[o]] = [v, at];
          }
        }
        out[o] = kind === "max" ? best : sum / (kh * kw);
      }
    }
  }
  return { y: new Tensor(out, [N, C, OH, OW]), arg };
}
