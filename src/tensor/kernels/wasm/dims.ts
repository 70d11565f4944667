/**
 * Shapes shared by every implementation of the convolution and pooling kernels.
 *
 * @module
 */

/**
 * A stride-1 2-D convolution of `x: [n, c, h, w]` (NCHW) with `weight: [o, c, kh, kw]` (OIHW),
 * zero padding `padH` rows above and `padBottom` (default `padH`) below, `padW` columns left and
 * `padRight` (default `padW`) right, giving `y: [n, o, oh, ow]` with
 * `oh = h + padH + padBottom - kh + 1`, `ow = w + padW + padRight - kw + 1`.
 */
export interface Conv2dDims {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  kh: number;
  kw: number;
  /** Zero rows added above (and below, unless `padBottom` says otherwise); default 0. */
  padH?: number;
  /** Zero columns added left (and right, unless `padRight` says otherwise); default 0. */
  padW?: number;
  /** Zero rows added below; default `padH`. */
  padBottom?: number;
  /** Zero columns added right; default `padW`. */
  padRight?: number;
}

/** The four paddings of `d`, defaults filled in: `[top, bottom, left, right]`. */
export function convPads(d: Conv2dDims): [number, number, number, number] {
  const top = d.padH ?? 0, left = d.padW ?? 0;
  return [top, d.padBottom ?? top, left, d.padRight ?? left];
}

/** Output height and width of a convolution. */
export function convOutSize(d: Conv2dDims): { oh: number; ow: number } {
  const [top, bottom, left, right] = convPads(d);
  return { oh: d.h + top + bottom - d.kh + 1, ow: d.w + left + right - d.kw + 1 };
}

/** Checks that the arrays handed to a convolution kernel have the sizes `d` implies. */
export function checkConv(
  op: string,
  d: Conv2dDims,
  sizes: {
    x?: number;
    weight?: number;
    y?: number;
    bias?: number;
    /** An input gradient (sized like x). */
    dxOut?: number;
    /** A weight gradient (sized like weight). */
    dwOut?: number;
  },
): void {
  const { oh, ow } = convOutSize(d);
  const dims = [d.n, d.c, d.h, d.w, d.o, d.kh, d.kw, ...convPads(d)];
  if (dims.some((v) => !Number.isInteger(v) || v < 0) || d.kh < 1 || d.kw < 1) {
    throw new RangeError(`${op}: dimensions must be non-negative integers, kernel >= 1x1`);
  }
  if (oh < 1 || ow < 1) {
    throw new RangeError(`${op}: kernel ${d.kh}x${d.kw} larger than the padded input`);
  }
  const want = {
    x: d.n * d.c * d.h * d.w,
    weight: d.o * d.c * d.kh * d.kw,
    y: d.n * d.o * oh * ow,
    bias: d.o,
    dxOut: d.n * d.c * d.h * d.w,
    dwOut: d.o * d.c * d.kh * d.kw,
  };
  for (const [k, v] of Object.entries(sizes)) {
    const w = want[k as keyof typeof want];
    if (v !== undefined && v !== w) {
      throw new RangeError(`${op}: ${k} has ${v} elements, expected ${w}`);
    }
  }
}

/** A 2x2, stride-2 max-pool of `x: [n, c, h, w]` to `[n, c, floor(h/2), floor(w/2)]`. */
export interface Pool2dDims {
  n: number;
  c: number;
  h: number;
  w: number;
}
