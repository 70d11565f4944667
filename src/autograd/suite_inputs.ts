/**
 * Building blocks of the gradient suite's op table (`suite_ops.ts`): fast-check arbitraries for
 * shapes, axes, broadcasting and window options, and seeded float64 input generators that keep
 * the margins the checks need (away from ties, kinks and poles).
 *
 * fast-check is passed in (`fc`) rather than imported, so that importing the library does not
 * load it: `runGradientSuite` loads it on first use.
 *
 * @module
 */

import type { Arbitrary, default as fcModule } from "npm:fast-check@4.3.0";
import { prngKey, randomNormal, randomPermutation, randomUniform } from "../tensor/random.ts";
import { type Shape, Tensor } from "../tensor/tensor.ts";

/** The fast-check namespace (its default export). */
export type FastCheck = typeof fcModule;

/** A fast-check arbitrary of `T`. */
export type Arb<T> = Arbitrary<T>;

/** Seeded standard normal float64 values (times `std`). */
export function normal(seed: number, shape: Shape, std = 1): Tensor {
  return randomNormal(prngKey(seed), shape, { dtype: "float64", std });
}

/** Seeded uniform float64 values in `[low, high)`. */
export function uniform(seed: number, shape: Shape, low: number, high: number): Tensor {
  return randomUniform(prngKey(seed), shape, { dtype: "float64", low, high });
}

/** Seeded values with `|v|` in `[0.5, 2)` and a random sign: away from 0 (poles, kinks). */
export function awayFromZero(seed: number, shape: Shape): Tensor {
  const mag = uniform(seed, shape, 0.5, 2).data, sign = uniform(seed + 1, shape, -1, 1).data;
  const out = new Float64Array(mag.length);
  for (let i = 0; i < out.length; i++) out[i] = sign[i] < 0 ? -mag[i] : mag[i];
  return new Tensor(out, shape);
}

/**
 * A shuffled grid `(k + 1/2) gap` for `k` in `-n/2 .. n/2`: values pairwise at least `gap`
 * apart and at least `gap / 2` from every multiple of `gap` (0 included). Max-pool windows and
 * max reductions then have a unique maximum, ReLU no input at its kink, and clamp bounds placed
 * on multiples of `gap` no input on them; a finite-difference step far below `gap / 2` never
 * crosses a tie or a kink.
 */
export function distinct(seed: number, shape: Shape, gap = 0.1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = randomPermutation(prngKey(seed), n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (perm[i] - Math.floor(n / 2) + 0.5) * gap;
  return new Tensor(out, shape);
}

/** Splits one {@link distinct} grid between tensors of `shapes`: no value repeats across them. */
export function distinctSplit(seed: number, shapes: readonly Shape[], gap = 0.1): Tensor[] {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const all = distinct(seed, [sizes.reduce((a, b) => a + b, 0)], gap).data;
  let at = 0;
  return shapes.map((s, i) => new Tensor(all.slice(at, at += sizes[i]), s));
}

/** An integer in `[min, max]`. */
export const int = (fc: FastCheck, min: number, max: number): Arb<number> =>
  fc.integer({ min, max });

/** `[a, b]`, each an integer in `[min, max]`. */
export const pair = (fc: FastCheck, min: number, max: number): Arb<[number, number]> =>
  fc.tuple(int(fc, min, max), int(fc, min, max));

/** A shape of rank `minRank..maxRank` with extents `1..maxExtent`. */
export const shapeArb = (
  fc: FastCheck,
  minRank: number,
  maxRank: number,
  maxExtent = 4,
): Arb<number[]> => fc.array(int(fc, 1, maxExtent), { minLength: minRank, maxLength: maxRank });

/**
 * A shape that broadcasts to `full`: some leading axes dropped (`drop`), some extents set to 1
 * (`ones[i]` for axis `i` of the result).
 */
export function broadcastFrom(full: Shape, drop: number, ones: readonly boolean[]): number[] {
  const lead = Math.min(drop, full.length);
  return full.slice(lead).map((d, i) => (ones[lead + i] ? 1 : d));
}

/** Parameters of a pair of operands that broadcast together: their result shape and masks. */
export interface BroadcastParams {
  /** The broadcast result shape. */
  shape: number[];
  /** Leading axes each operand lacks. */
  drop: [number, number];
  /** Per result axis, whether each operand has extent 1 there. */
  onesA: boolean[];
  onesB: boolean[];
}

/** Two operand shapes that broadcast to a random result of rank 0-4 (extents 1-4). */
export const broadcastArb = (fc: FastCheck): Arb<BroadcastParams> =>
  fc.record({
    shape: shapeArb(fc, 0, 4),
    drop: pair(fc, 0, 4),
    onesA: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    onesB: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  });

/** The two operand shapes of {@link BroadcastParams}. */
export function broadcastShapesOf(p: BroadcastParams): [number[], number[]] {
  return [broadcastFrom(p.shape, p.drop[0], p.onesA), broadcastFrom(p.shape, p.drop[1], p.onesB)];
}

/** A reduction's axis option: every axis, one axis (possibly negative) or a list of axes. */
export type AxisChoice = { kind: "all" } | { kind: "one"; pick: number; negative: boolean } | {
  kind: "some";
  mask: boolean[];
};

/** Any {@link AxisChoice}. */
export const axisArb = (fc: FastCheck): Arb<AxisChoice> =>
  fc.oneof(
    fc.constant({ kind: "all" as const }),
    fc.record({ kind: fc.constant("one" as const), pick: fc.nat(), negative: fc.boolean() }),
    fc.record({
      kind: fc.constant("some" as const),
      mask: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    }),
  );

/** The `axis` option an {@link AxisChoice} stands for on a tensor of `rank` (>= 1). */
export function axisOf(c: AxisChoice, rank: number): number | number[] | undefined {
  if (c.kind === "all") return undefined;
  if (c.kind === "one") return (c.pick % rank) - (c.negative ? rank : 0);
  const axes = c.mask.slice(0, rank).flatMap((m, i) => (m ? [i] : []));
  return axes.length > 0 ? axes : [0];
}

/** Output extent of a window op: `floor((n + pad - d(k-1) - 1) / s) + 1`. */
export function outSize(n: number, k: number, s: number, d: number, pad: number): number {
  return Math.floor((n + pad - d * (k - 1) - 1) / s) + 1;
}

/** Convolution padding, every mode: "valid", "same", "full", a number or four numbers. */
export type PaddingChoice =
  | "valid"
  | "same"
  | "full"
  | number
  | [number, number, number, number];

/** Any {@link PaddingChoice} with amounts 0-2. */
export const paddingArb = (fc: FastCheck): Arb<PaddingChoice> =>
  fc.oneof(
    fc.constantFrom("valid" as const, "same" as const, "full" as const),
    int(fc, 0, 2),
    fc.tuple(int(fc, 0, 2), int(fc, 0, 2), int(fc, 0, 2), int(fc, 0, 2)),
  );

/** Total padding `[rows, columns]` of an explicit or "valid" padding; null for "same"/"full". */
export function explicitTotals(p: PaddingChoice): [number, number] | null {
  if (p === "valid") return [0, 0];
  if (typeof p === "number") return [2 * p, 2 * p];
  if (Array.isArray(p)) return [p[0] + p[1], p[2] + p[3]];
  return null;
}
