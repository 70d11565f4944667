/**
 * Test helpers for the convolution and pooling suites: central finite differences in float64,
 * an error measure, and seeded random tensors.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fromData, prngKey, randomPermutation, randomUniform, Tensor } from "../../mod.ts";

/**
 * The gradient of `L(inputs) = sum(g * f(inputs))` with respect to `inputs[which]`, by central
 * differences `(L(x + eps e_i) - L(x - eps e_i)) / (2 eps)`, one element at a time. The inputs
 * are never written to: each probe builds a perturbed copy.
 */
export function numericalGrad(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  g: Tensor,
  which: number,
  eps = 1e-6,
): Float64Array {
  const x = inputs[which];
  const out = new Float64Array(x.size);
  const loss = (data: Float64Array): number => {
    const args = inputs.slice();
    args[which] = new Tensor(data, x.shape);
    const y = f(...args);
    assert.deepEqual(y.shape, g.shape, "f's output must have g's shape");
    let s = 0;
    for (let i = 0; i < y.size; i++) s += y.data[i] * g.data[i];
    return s;
  };
  for (let i = 0; i < x.size; i++) {
    const plus = Float64Array.from(x.data);
    plus[i] += eps;
    const minus = Float64Array.from(x.data);
    minus[i] -= eps;
    out[i] = (loss(plus) - loss(minus)) / (2 * eps);
  }
  return out;
}

/**
 * The largest element-wise error `|a - b| / max(|a|, |b|, 1)`: relative for entries of
 * magnitude >= 1, absolute below (where a relative measure would amplify rounding noise in
 * gradients that cancel to nearly zero).
 */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "compared arrays must have the same length");
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), Math.abs(b[i]), 1);
    if (!(e <= worst)) worst = e; // NaN propagates as a failure
  }
  return worst;
}

/** Asserts a hand-derived gradient matches finite differences to `tol` (default 1e-6). */
export function assertGradMatches(
  analytic: Tensor,
  f: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  g: Tensor,
  which: number,
  label: string,
  tol = 1e-6,
): void {
  assert.deepEqual(analytic.shape, inputs[which].shape, `${label}: gradient shape`);
  assert.equal(analytic.dtype, "float64", `${label}: float64 gradient`);
  const err = maxRelError(analytic.data, numericalGrad(f, inputs, g, which));
  assert.ok(err <= tol, `${label}: max rel error ${err} > ${tol}`);
}

/** Seeded float64 uniform values in [-1, 1). */
export function rand(seed: number, shape: readonly number[]): Tensor {
  return randomUniform(prngKey(seed), shape, { low: -1, high: 1, dtype: "float64" });
}

/**
 * Seeded float64 values that are pairwise at least 0.01 apart (a shuffled ladder), so that max
 * pooling has no ties and no perturbation of 1e-6 can change an arg-max.
 */
export function distinct(seed: number, shape: readonly number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = randomPermutation(prngKey(seed), n);
  return fromData(Array.from(perm, (v) => v * 0.01 - n * 0.005), shape, { dtype: "float64" });
}

/** A snapshot of a tensor's data, to prove later that an op left its inputs untouched. */
export function snapshot(t: Tensor): number[] {
  return Array.from(t.data);
}
