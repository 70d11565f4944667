/**
 * A tiny central-finite-difference VJP checker for the tensor tests (the public gradcheck lives
 * in src/autograd). Everything runs in float64.
 *
 * For an op `y = f(x_1, ..., x_k)` and a fixed upstream gradient `g`, the scalar
 * `L(x) = sum(g * f(x))` has `dL/dx_i = VJP_i(g)`, so each input element's numeric derivative
 * `(L(x + h e_j) - L(x - h e_j)) / 2h` must match the hand-derived backward rule.
 */

import assert from "node:assert/strict";
import { Tensor } from "../../src/tensor/tensor.ts";

/** `sum(g * f(xs))`, accumulated in float64. */
function objective(f: (xs: Tensor[]) => Tensor, xs: Tensor[], g: Tensor): number {
  const y = f(xs);
  assert.deepEqual(y.shape, g.shape, "upstream gradient must have the output's shape");
  let s = 0;
  for (let i = 0; i < y.size; i++) s += g.data[i] * y.data[i];
  return s;
}

/** Numeric gradient of `sum(g * f(xs))` with respect to input `which`. */
export function numericGrad(
  f: (xs: Tensor[]) => Tensor,
  xs: Tensor[],
  g: Tensor,
  which: number,
  h = 1e-5,
): Float64Array {
  const x = xs[which];
  const out = new Float64Array(x.size);
  for (let j = 0; j < x.size; j++) {
    const probe = (delta: number): number => {
      const data = new Float64Array(x.data); // never perturb the caller's tensor
      data[j] += delta;
      const args = xs.slice();
      args[which] = new Tensor(data, x.shape);
      return objective(f, args, g);
    };
    out[j] = (probe(h) - probe(-h)) / (2 * h);
  }
  return out;
}

/**
 * Max relative error between analytic and numeric gradients, `|a - n| / max(|a|, |n|, floor)`;
 * the floor keeps entries that are (nearly) zero from dividing by (nearly) zero.
 */
export function maxRelError(
  analytic: ArrayLike<number>,
  numeric: ArrayLike<number>,
  floor = 1e-3,
): {
  err: number;
  at: number;
} {
  assert.equal(analytic.length, numeric.length);
  let err = 0, at = -1;
  for (let i = 0; i < analytic.length; i++) {
    const a = analytic[i], n = numeric[i];
    const e = Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n), floor);
    if (!(e <= err)) [err, at] = [e, i];
  }
  return { err, at };
}

/**
 * Asserts that `grads` (one per input, `null` = not differentiable, skipped) match central
 * differences of `f` at `xs` for upstream gradient `g`, with max relative error <= `tol`.
 */
export function assertVjpMatchesFd(
  name: string,
  f: (xs: Tensor[]) => Tensor,
  xs: Tensor[],
  g: Tensor,
  grads: readonly (Tensor | null)[],
  tol = 1e-6,
): void {
  assert.equal(grads.length, xs.length, `${name}: one gradient per input`);
  for (let i = 0; i < xs.length; i++) {
    const a = grads[i];
    if (a === null) continue;
    assert.deepEqual(a.shape, xs[i].shape, `${name}: gradient ${i} must have its input's shape`);
    const n = numericGrad(f, xs, g, i);
    const { err, at } = maxRelError(a.data, n);
    assert.ok(
      err <= tol,
      `${name}: input ${i} max rel error ${err} at ${at} (analytic ${a.data[at]}, numeric ${
        n[at]
      })`,
    );
  }
}
