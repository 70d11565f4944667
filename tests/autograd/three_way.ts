/**
 * The three-way gradient check of one case, in float64:
 *
 * 1. hand rule vs reference: the fast op's value and VJP (its hand-derived rule, through the
 *    engine) against the reference definition's (the chain rule over the primitives) for a
 *    seeded random cotangent, elementwise `|hand - ref| <= 1e-10 (1 + |ref|)`;
 * 2. hand rule vs central differences and 3. reference vs central differences: `gradcheck`
 *    with its default tolerances (`rtol = 1e-6`, `atol = 1e-8`).
 */

import assert from "node:assert/strict";
import { gradcheck, prngKey, randomNormal, type Tensor, vjp } from "../../mod.ts";
import { assertPasses } from "./helpers.ts";

/** What one three-way check measured. */
export interface ThreeWay {
  /** Max over values and gradients of `|hand - ref| / (1 + |ref|)`. */
  handVsRef: number;
  /** gradcheck's max relative error, hand rule. */
  handVsFd: number;
  /** gradcheck's max relative error, reference. */
  refVsFd: number;
}

function maxScaledDiff(a: Tensor, b: Tensor, what: string): number {
  assert.deepEqual(a.shape, b.shape, `${what}: shapes differ`);
  let m = 0;
  for (let i = 0; i < a.size; i++) {
    const e = Math.abs(a.data[i] - b.data[i]) / (1 + Math.abs(b.data[i]));
    if (!(e <= m)) m = e; // NaN propagates as a failure
  }
  return m;
}

/**
 * Runs the three checks on `inputs` (float64), failing the test with the op, the input and the
 * error when one is out of tolerance. `samples` limits the coordinates per input that central
 * differences check (all by default).
 */
export function threeWay(
  label: string,
  inputs: Tensor[],
  fast: (...xs: Tensor[]) => Tensor,
  reference: (...xs: Tensor[]) => Tensor,
  { names, samples, seed = 0 }: { names?: readonly string[]; samples?: number; seed?: number } = {},
): ThreeWay {
  const [yHand, backHand] = vjp(fast, ...inputs);
  const [yRef, backRef] = vjp(reference, ...inputs);
  let handVsRef = maxScaledDiff(yHand, yRef, `${label}: value`);
  const u = randomNormal(prngKey(seed), yRef.shape, { dtype: "float64" });
  const gHand = backHand(u), gRef = backRef(u);
  gHand.forEach((g, i) => {
    handVsRef = Math.max(handVsRef, maxScaledDiff(g, gRef[i], `${label}: grad ${names?.[i] ?? i}`));
  });
  assert.ok(
    handVsRef <= 1e-10,
    `${label}: hand rule and reference differ by ${handVsRef} (> 1e-10 (1 + |ref|))`,
  );
  const opts = { names, samples, seed };
  const hand = assertPasses(gradcheck(fast, inputs, { ...opts, label: `${label} (hand rule)` }));
  const ref = assertPasses(
    gradcheck(reference, inputs, { ...opts, label: `${label} (reference)` }),
  );
  return { handVsRef, handVsFd: hand.maxRelError, refVsFd: ref.maxRelError };
}
