/**
 * Shared test helpers (tests/autograd and tests/tensor): seeded float64 tensors, close-enough
 * assertions, and the one finite-difference check of a standalone backward function, built on
 * the public gradcheck.
 */

import assert from "node:assert/strict";
import { either as E } from "npm:fp-ts@2.16.11";
import {
  type Either,
  gradcheck,
  type GradcheckFailure,
  type GradcheckReport,
  prngKey,
  randomNormal,
  randomPermutation,
  randomUniform,
  type Shape,
  Tensor,
  tensor,
} from "../../mod.ts";
import { recordOp, untraced } from "../../src/tensor/trace.ts";

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

/** Seeded float64 values uniform in [-1, 1). */
export function rand(seed: number, shape: Shape): Tensor {
  return randomUniform(prngKey(seed), shape, { low: -1, high: 1, dtype: "float64" });
}

/** A snapshot of a tensor's data, to prove later that an op left its inputs untouched. */
export function snapshot(t: Tensor): number[] {
  return Array.from(t.data);
}

/**
 * The largest elementwise `|a - b| / max(|a|, |b|, 1)`: relative for entries of magnitude >= 1,
 * absolute below; NaN counts as a failure (Infinity).
 */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "compared arrays must have the same length");
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), Math.abs(b[i]), 1);
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

/**
 * Tolerances of {@link assertBackwardMatchesFd}: a point fails when both `|a - n| > 1e-9` and
 * `|a - n| > 5e-7 (|a| + |n|)`. Since `5e-7 (|a| + |n|) <= 1e-6 max(|a|, |n|)`, this is at least
 * as strict as the local helpers it replaced (`|a - n| <= 1e-6 max(|a|, |n|, 1e-3)` and
 * `<= 1e-6 max(|a|, |n|, 1)`).
 */
export const BACKWARD_FD_TOLERANCE = { atol: 1e-9, rtol: 5e-7 } as const;

/**
 * Proves a standalone backward function against central differences of its forward, through
 * the public gradcheck: `forward` is wrapped in an op whose recorded VJP is `backward`, so
 * gradcheck compares exactly what `backward` returns (for gradcheck's seeded random cotangent
 * `g`; every coordinate of every input) with differences of `forward`. `backward` gets `g`, the
 * inputs and the forward's output, and returns one gradient per input.
 */
export function assertBackwardMatchesFd(
  label: string,
  forward: (...xs: Tensor[]) => Tensor,
  backward: (g: Tensor, xs: Tensor[], y: Tensor) => readonly (Tensor | null)[],
  inputs: Tensor[],
  { seed = 0 }: { seed?: number } = {},
): GradcheckReport {
  const op = (...xs: Tensor[]): Tensor => {
    // The forward runs unseen by the engine; a fresh tensor object even if it returned an input.
    const y = untraced(() => forward(...xs));
    return recordOp(label, xs, new Tensor(y.data, y.shape), () => (g) => {
      const grads = backward(g, xs, y);
      grads.forEach((d, i) => {
        if (d === null) return;
        assert.deepEqual(
          d.shape,
          xs[i].shape,
          `${label}: gradient ${i} must have its input's shape`,
        );
        assert.equal(d.dtype, "float64", `${label}: gradient ${i} must be float64`);
      });
      return grads;
    });
  };
  return assertPasses(gradcheck(op, inputs, { label, seed, ...BACKWARD_FD_TOLERANCE }));
}
