/**
 * Reference definitions of `rot180` and the single-map `correlate2d` / `convolve2d`, composed
 * ONLY of the autograd's primitives: `rot180` reverses the last two axes with a gather of
 * reversed indices; the correlations are the reference `conv2d` on one batch item and one
 * channel (modes: "valid" none, "full" `k - 1` per side, "same" `floor((k-1)/2)` before and the
 * rest after), and convolution is correlation with the rotated kernel.
 *
 * @module
 */

import { fmtShape, TensorError } from "../tensor/errors.ts";
import type { Correlate2dMode } from "../tensor/correlate.ts";
import type { Tensor } from "../tensor/tensor.ts";
import * as P from "./primitives.ts";
import { conv2d } from "./reference.ts";

/** Reverses axis `axis` of `t` (a gather with indices `n-1, ..., 0`). */
function flip(t: Tensor, axis: number): Tensor {
  const n = t.shape[axis];
  return P.gather(t, axis, Array.from({ length: n }, (_, i) => n - 1 - i));
}

/**
 * Rotates every map (the last two axes) by 180 degrees: `y[..., i, j] = x[..., h-1-i, w-1-j]`.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.rot180(tensor([[1, 2], [3, 4]])).data); // [4, 3, 2, 1]
 * ```
 */
export function rot180(x: Tensor): Tensor {
  if (x.rank < 2) {
    throw new TensorError("ref.rot180", `input ${fmtShape(x.shape)} needs at least 2 axes`);
  }
  return flip(flip(x, x.rank - 2), x.rank - 1);
}

function correlate(op: string, a: Tensor, k: Tensor, mode: Correlate2dMode): Tensor {
  if (a.rank !== 2 || k.rank !== 2) {
    throw new TensorError(
      op,
      `a ${fmtShape(a.shape)} and k ${fmtShape(k.shape)} must both be [height, width]`,
    );
  }
  if (mode !== "valid" && mode !== "full" && mode !== "same") {
    throw new TensorError(op, `unknown mode ${JSON.stringify(mode)}; use "valid", "full", "same"`);
  }
  const [h, w] = a.shape, [kh, kw] = k.shape;
  // Per axis [before, after]: valid none; full k-1 each; same floor((k-1)/2), then the rest.
  const pads = (k: number): [number, number] =>
    mode === "valid"
      ? [0, 0]
      : mode === "full"
      ? [k - 1, k - 1]
      : [Math.floor((k - 1) / 2), k - 1 - Math.floor((k - 1) / 2)];
  const [pt, pb] = pads(kh), [pl, pr] = pads(kw);
  const y = conv2d(P.reshape(a, [1, 1, h, w]), P.reshape(k, [1, 1, kh, kw]), null, {
    padding: [pt, pb, pl, pr],
  });
  return P.reshape(y, y.shape.slice(2));
}

/**
 * 2-D cross-correlation of one map `a` `[H, W]` with a kernel `k` `[kh, kw]`:
 * `y[i, j] = sum_{p,q} a[i + p - pt, j + q - pl] k[p, q]` (zero outside `a`).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * const a = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), k = tensor([[1, 0], [0, -1]]);
 * console.log(ref.correlate2d(a, k).data); // [-4, -4, -4, -4]
 * ```
 */
export function correlate2d(a: Tensor, k: Tensor, mode: Correlate2dMode = "valid"): Tensor {
  return correlate("ref.correlate2d", a, k, mode);
}

/**
 * 2-D convolution of one map: the correlation with `rot180(k)`.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * const a = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), k = tensor([[1, 0], [0, -1]]);
 * console.log(ref.convolve2d(a, k).data); // [4, 4, 4, 4]
 * ```
 */
export function convolve2d(a: Tensor, k: Tensor, mode: Correlate2dMode = "valid"): Tensor {
  if (k.rank !== 2) {
    throw new TensorError("ref.convolve2d", `k ${fmtShape(k.shape)} must be [height, width]`);
  }
  return correlate("ref.convolve2d", a, rot180(k), mode);
}
