/**
 * Options, output sizes and validation for the convolutions: everything conv2d checks before it
 * touches any data. Kept apart from `conv.ts` so the ops read like the derivations.
 *
 * Output size along one axis (input `n`, kernel `k`, stride `s`, dilation `d`, padding
 * `p_total = p_before + p_after`): `o = floor((n + p_total - d*(k-1) - 1) / s) + 1`, which is the
 * familiar `o = (n + 2p - k)/s + 1` for symmetric padding and `d = 1`.
 *
 * @module
 */

import { fmtShape, TensorError } from "./errors.ts";
import type { Conv2dGeometry } from "./kernels/conv.ts";
import type { Shape, Tensor } from "./tensor.ts";

/**
 * A per-axis integer: one number for both axes, or `[height, width]`.
 *
 * @example
 * ```ts
 * import type { Pair } from "./mod.ts";
 * const stride: Pair = [2, 1]; // 2 along the height, 1 along the width
 * ```
 */
export type Pair = number | readonly [number, number];

/**
 * Zero padding of a convolution: `"valid"` (none), `"same"` (output `ceil(n/s)`, the total
 * `max((ceil(n/s)-1)*s + (k-1)*d + 1 - n, 0)` split with the extra cell at the bottom/right, as in
 * TensorFlow), `"full"` (`(k-1)*d` on every side), one number for every side, or
 * `[top, bottom, left, right]`.
 *
 * @example
 * ```ts
 * import { type Conv2dPadding, conv2dOutputShape } from "./mod.ts";
 * const padding: Conv2dPadding = [2, 2, 1, 1];
 * console.log(conv2dOutputShape([1, 1, 28, 28], [6, 1, 5, 5], { padding })); // [1, 6, 28, 26]
 * ```
 */
export type Conv2dPadding =
  | "valid"
  | "same"
  | "full"
  | number
  | readonly [number, number, number, number];

/**
 * Options of `conv2d`: stride, padding and dilation.
 *
 * @example
 * ```ts
 * import { type Conv2dOptions, conv2dOutputShape } from "./mod.ts";
 * const opts: Conv2dOptions = { stride: 2, padding: "same", dilation: 1 };
 * console.log(conv2dOutputShape([8, 3, 32, 32], [16, 3, 3, 3], opts)); // [8, 16, 16, 16]
 * ```
 */
export interface Conv2dOptions {
  /** Step between output cells, `s` or `[sh, sw]`; default 1. */
  stride?: Pair;
  /** Zero padding; default `"valid"`. */
  padding?: Conv2dPadding;
  /** Spacing between kernel taps, `d` or `[dh, dw]`; default 1 (a dense kernel). */
  dilation?: Pair;
}

/** Renders options for error messages, with the defaults filled in. */
export function fmtConvOptions(opts: Conv2dOptions): string {
  const show = (v: unknown): string => Array.isArray(v) ? `[${v.join(", ")}]` : JSON.stringify(v);
  return `{ stride: ${show(opts.stride ?? 1)}, padding: ${show(opts.padding ?? "valid")}, ` +
    `dilation: ${show(opts.dilation ?? 1)} }`;
}

/** Resolves a {@link Pair} to two positive integers, or throws naming `what`. */
export function resolvePair(op: string, what: string, v: Pair, context: string): [number, number] {
  const pair = typeof v === "number" ? [v, v] : v;
  if (
    !Array.isArray(pair) || pair.length !== 2 ||
    !pair.every((e) => Number.isInteger(e) && e >= 1)
  ) {
    throw new TensorError(
      op,
      `${what} ${JSON.stringify(v)} is invalid (${context}); ` +
        `pass a positive integer or [height, width] of positive integers`,
    );
  }
  return [pair[0], pair[1]];
}

/** Resolves explicit padding (a number or `[top, bottom, left, right]`) to four integers >= 0. */
export function resolveExplicitPadding(
  op: string,
  v: unknown,
  context: string,
  fix: string,
): [number, number, number, number] {
  const four = typeof v === "number" ? [v, v, v, v] : v;
  if (
    !Array.isArray(four) || four.length !== 4 ||
    !four.every((e) => Number.isInteger(e) && e >= 0)
  ) {
    throw new TensorError(op, `padding ${JSON.stringify(v)} is invalid (${context}); ${fix}`);
  }
  return [four[0], four[1], four[2], four[3]];
}

/** `[before, after]` padding of one axis for `"same"`: output `ceil(n/s)`, extra cell after. */
function samePadding(n: number, k: number, s: number, d: number): [number, number] {
  const total = Math.max((Math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** The resolved geometry of a conv2d plus its full padding `[top, bottom, left, right]`. */
export interface ResolvedConv2d {
  geometry: Conv2dGeometry;
  padding: [number, number, number, number];
}

/**
 * Validates conv2d's shapes and options and computes the geometry: `x` is `[N, C, H, W]`, `w` is
 * `[O, C, kh, kw]`. Throws a {@link TensorError} naming `op`, both shapes, the options and the fix.
 */
export function resolveConv2d(
  op: string,
  xShape: Shape,
  wShape: Shape,
  opts: Conv2dOptions,
): ResolvedConv2d {
  const ctx = `x ${fmtShape(xShape)}, w ${fmtShape(wShape)}, options ${fmtConvOptions(opts)}`;
  if (xShape.length !== 4) {
    throw new TensorError(
      op,
      `input must be NCHW [batch, channels, height, width] but has rank ${xShape.length} (${ctx}); ` +
        `reshape it, e.g. a single image [H, W] to [1, 1, H, W]`,
    );
  }
  if (wShape.length !== 4) {
    throw new TensorError(
      op,
      `weights must be OIHW [out channels, in channels, kh, kw] but have rank ${wShape.length} ` +
        `(${ctx}); reshape them, e.g. one [kh, kw] kernel to [1, 1, kh, kw]`,
    );
  }
  const [N, C, H, W] = xShape;
  const [O, Cw, kh, kw] = wShape;
  if (C !== Cw) {
    throw new TensorError(
      op,
      `channel mismatch: x ${fmtShape(xShape)} has ${C} channels (axis 1) but w ${
        fmtShape(wShape)
      } expects ${Cw} (axis 1 of OIHW) (options ${fmtConvOptions(opts)}); ` +
        `make w's second extent equal x's channel count, or transpose w if it is IOHW`,
    );
  }
  if (C < 1 || O < 1 || kh < 1 || kw < 1) {
    throw new TensorError(
      op,
      `channels and kernel extents must be >= 1 (${ctx}); pass non-empty weights`,
    );
  }
  const [sh, sw] = resolvePair(op, "stride", opts.stride ?? 1, ctx);
  const [dh, dw] = resolvePair(op, "dilation", opts.dilation ?? 1, ctx);
  const pad = opts.padding ?? "valid";
  let padding: [number, number, number, number];
  if (pad === "valid") padding = [0, 0, 0, 0];
  else if (pad === "same") padding = [...samePadding(H, kh, sh, dh), ...samePadding(W, kw, sw, dw)];
  else if (pad === "full") padding = [(kh - 1) * dh, (kh - 1) * dh, (kw - 1) * dw, (kw - 1) * dw];
  else {
    padding = resolveExplicitPadding(
      op,
      pad,
      ctx,
      `pass "valid", "same", "full", an integer >= 0 or [top, bottom, left, right]`,
    );
  }
  const [pt, pb, pl, pr] = padding;
  const effH = (kh - 1) * dh + 1; // extent of the dilated kernel
  const effW = (kw - 1) * dw + 1;
  if (effH > H + pt + pb || effW > W + pl + pr) {
    throw new TensorError(
      op,
      `kernel larger than padded input: the ${kh}x${kw} kernel (dilated extent ${effH}x${effW}) ` +
        `does not fit the ${H + pt + pb}x${W + pl + pr} padded input (${ctx}); ` +
        `use a smaller kernel or dilation, more padding, or padding "same"/"full"`,
    );
  }
  const geometry: Conv2dGeometry = {
    batch: N,
    inC: C,
    inH: H,
    inW: W,
    outC: O,
    kh,
    kw,
    outH: Math.floor((H + pt + pb - effH) / sh) + 1,
    outW: Math.floor((W + pl + pr - effW) / sw) + 1,
    strideH: sh,
    strideW: sw,
    dilationH: dh,
    dilationW: dw,
    padTop: pt,
    padLeft: pl,
  };
  return { geometry, padding };
}

/** Throws unless all tensors share one dtype (no silent promotion). */
export function checkSameDType(op: string, named: readonly [string, Tensor][]): void {
  const [, first] = named[0];
  for (const [name, t] of named) {
    if (t.dtype !== first.dtype) {
      throw new TensorError(
        op,
        `mixed dtypes: ${
          named.map(([n, u]) => `${n} ${fmtShape(u.shape)} is ${u.dtype}`).join(", ")
        }` +
          `; convert ${name} so all inputs share one dtype`,
      );
    }
  }
}
