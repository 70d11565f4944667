/**
 * Independent references for the conv2d suites: the padding rules restated from the spec and the
 * direct 7-loop definition of the forward, written for clarity, not speed.
 *
 * @module
 */

import fc from "npm:fast-check@4.3.0";
import type { Conv2dOptions, Conv2dPadding, Tensor } from "../../mod.ts";

/** `[a, b]` from a number or a pair. */
export function pair(v: number | readonly [number, number] | undefined): [number, number] {
  if (v === undefined) return [1, 1];
  return typeof v === "number" ? [v, v] : [v[0], v[1]];
}

/** Padding `[top, bottom, left, right]` as the spec defines each mode. */
export function refPadding(
  padding: Conv2dPadding | undefined,
  h: number,
  w: number,
  kh: number,
  kw: number,
  [sh, sw]: [number, number],
  [dh, dw]: [number, number],
): [number, number, number, number] {
  if (padding === undefined || padding === "valid") return [0, 0, 0, 0];
  if (padding === "full") return [(kh - 1) * dh, (kh - 1) * dh, (kw - 1) * dw, (kw - 1) * dw];
  if (padding === "same") {
    const total = (n: number, k: number, s: number, d: number) =>
      Math.max((Math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0);
    const th = total(h, kh, sh, dh), tw = total(w, kw, sw, dw);
    return [
      Math.floor(th / 2),
      th - Math.floor(th / 2),
      Math.floor(tw / 2),
      tw - Math.floor(tw / 2),
    ];
  }
  if (typeof padding === "number") return [padding, padding, padding, padding];
  return [padding[0], padding[1], padding[2], padding[3]];
}

/** The 7-loop definition of conv2d (cross-correlation), in float64 on plain arrays. */
export function refConv2d(
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  opts: Conv2dOptions,
): { shape: number[]; data: number[] } {
  const [N, C, H, W] = x.shape;
  const [O, , kh, kw] = w.shape;
  const s = pair(opts.stride), d = pair(opts.dilation);
  const [pt, pb, pl, pr] = refPadding(opts.padding, H, W, kh, kw, s, d);
  const Ho = Math.floor((H + pt + pb - d[0] * (kh - 1) - 1) / s[0]) + 1;
  const Wo = Math.floor((W + pl + pr - d[1] * (kw - 1) - 1) / s[1]) + 1;
  const out: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < Ho; i++) {
        for (let j = 0; j < Wo; j++) {
          let acc = b === null ? 0 : b.data[o];
          for (let c = 0; c < C; c++) {
            for (let p = 0; p < kh; p++) {
              for (let q = 0; q < kw; q++) {
                const u = i * s[0] + p * d[0] - pt, v = j * s[1] + q * d[1] - pl;
                if (u < 0 || u >= H || v < 0 || v >= W) continue;
                acc += x.data[((n * C + c) * H + u) * W + v] *
                  w.data[((o * C + c) * kh + p) * kw + q];
              }
            }
          }
          out.push(acc);
        }
      }
    }
  }
  return { shape: [N, O, Ho, Wo], data: out };
}

/** One random conv2d case: shapes, options and a data seed. */
export interface ConvCase {
  n: number;
  c: number;
  o: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  opts: Conv2dOptions;
  bias: boolean;
  seed: number;
}

const pairArb = (max: number) =>
  fc.oneof(
    fc.integer({ min: 1, max }),
    fc.tuple(fc.integer({ min: 1, max }), fc.integer({ min: 1, max })),
  );
const pad03 = fc.integer({ min: 0, max: 3 });
const paddingArb: fc.Arbitrary<Conv2dPadding> = fc.oneof(
  fc.constantFrom<Conv2dPadding>("valid", "same", "full"),
  pad03,
  fc.tuple(pad03, pad03, pad03, pad03),
);

/** Random cases with every option; extents up to the given bounds. */
export function convCaseArb(max: {
  batch: number;
  channels: number;
  spatial: number;
  kernel: number;
}): fc.Arbitrary<ConvCase> {
  const int = (lo: number, hi: number) => fc.integer({ min: lo, max: hi });
  return fc.record({
    n: int(1, max.batch),
    c: int(1, max.channels),
    o: int(1, max.channels),
    h: int(1, max.spatial),
    w: int(1, max.spatial),
    kh: int(1, max.kernel),
    kw: int(1, max.kernel),
    opts: fc.record({ stride: pairArb(3), dilation: pairArb(2), padding: paddingArb }),
    bias: fc.boolean(),
    seed: int(0, 2 ** 31 - 1),
  });
}

/** Whether the case's dilated kernel fits its padded input (else conv2d must throw). */
export function fits(k: ConvCase): boolean {
  const s = pair(k.opts.stride), d = pair(k.opts.dilation);
  const [pt, pb, pl, pr] = refPadding(k.opts.padding, k.h, k.w, k.kh, k.kw, s, d);
  return (k.kh - 1) * d[0] + 1 <= k.h + pt + pb && (k.kw - 1) * d[1] + 1 <= k.w + pl + pr;
}
