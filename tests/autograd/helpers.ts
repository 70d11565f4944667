/** Shared helpers of the autograd tests: seeded float64 tensors and close-enough assertions. */

import assert from "node:assert/strict";
import { either as E } from "npm:fp-ts@2.16.11";
import {
  type Either,
  type GradcheckFailure,
  type GradcheckReport,
  prngKey,
  randomNormal,
  randomPermutation,
  type Shape,
  Tensor,
  tensor,
} from "../../mod.ts";

/** A float64 tensor from nested arrays. */
export const f64 = (v: Parameters<typeof tensor>[0]): Tensor => tensor(v, { dtype: "float64" });

/** Standard normal float64 samples from `seed`. */
export function normal(seed: number, shape: Shape, std = 1): Tensor {
  return randomNormal(prngKey(seed), shape, { dtype: "float64", std });
}

/**
 * Float64 values that are pairwise at least `gap` apart and at least `gap / 2` away from 0
 * (a shuffled grid): no ties for max-pooling, no kinks for ReLU.
 */
export function distinct(seed: number, shape: Shape, gap = 0.1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = randomPermutation(prngKey(seed), n);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = (perm[i] - Math.floor(n / 2) + 0.5) * gap;
  return new Tensor(data, shape);
}

/** Asserts `actual` is within `atol + rtol |expected|` of `expected` everywhere. */
export function assertClose(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
  { atol = 1e-12, rtol = 1e-12 }: { atol?: number; rtol?: number } = {},
): void {
  const a = actual instanceof Tensor ? actual.data : actual;
  const e = expected instanceof Tensor ? expected.data : expected;
  if (actual instanceof Tensor && expected instanceof Tensor) {
    assert.deepEqual(actual.shape, expected.shape, "shapes differ");
  }
  assert.equal(a.length, e.length, "lengths differ");
  for (let i = 0; i < a.length; i++) {
    const tol = atol + rtol * Math.abs(e[i]);
    if (!(Math.abs(a[i] - e[i]) <= tol)) {
      assert.fail(`element ${i}: ${a[i]} vs expected ${e[i]} (tolerance ${tol})`);
    }
  }
}

/** Unwraps a passing gradcheck, failing the test with the report's message otherwise. */
export function assertPasses(
  result: Either<GradcheckFailure, GradcheckReport>,
): GradcheckReport {
  if (E.isLeft(result)) assert.fail(result.left.message);
  return result.right;
}
