/**
 * The three-way gradient suites: every row of the op table (src/autograd/suite_ops.ts), 100
 * seeded fast-check cases each, hand rule vs reference (<= 1e-10 (1 + |g|)) and each vs central
 * differences (rtol 1e-6, atol 1e-8). Plus the table's own guarantees: every differentiable op
 * that mod.ts exports has a row, each row's fast side runs the fast op (its hand rule) and its
 * reference side nothing but primitives. `deno task gradcheck` runs the same table with another
 * seed.
 */

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import * as mod from "../../mod.ts";
import { type Tensor, TensorError } from "../../mod.ts";
import { checkOp, selectOps, SUITE_TOLERANCES } from "../../src/autograd/suite.ts";
import { suiteOps } from "../../src/autograd/suite_ops.ts";
import { withRecorder } from "../../src/tensor/trace.ts";

/** Another seed than the CLI's default (1): CI runs 200 distinct cases per op. */
export const SUITE_SEED = 20240917;
const CASES = 100;

for (const op of suiteOps) {
  Deno.test(`three-way gradients: ${op.name} (${CASES} random cases)`, () => {
    const row = checkOp(fc, op, { seed: SUITE_SEED, cases: CASES, samples: 16 });
    assert.ok(row.passed, row.failure ?? "");
    assert.equal(row.cases, CASES);
    assert.ok(row.maxHandVsRef <= SUITE_TOLERANCES.handVsRef, `${row.maxHandVsRef}`);
    assert.ok(row.maxVsFd <= SUITE_TOLERANCES.rtol, `${row.maxVsFd}`);
  });
}

/**
 * Ops that have no `<op>Backward` of their own but are differentiable: they record another op's
 * rule (flatten is a reshape, permute a transpose, maxPool2dWithArgmax records maxPool2d).
 */
const DERIVED: Record<string, string> = {
  flatten: "reshape",
  permute: "transpose",
  maxPool2dWithArgmax: "maxPool2d",
};

Deno.test("the table has a row for every differentiable op exported from mod.ts, and no other", () => {
  const exports = mod as unknown as Record<string, unknown>;
  const isFn = (name: string) => typeof exports[name] === "function";
  // The convention: every differentiable op exports its hand rule as `<op>Backward`.
  const withRule = Object.keys(exports).filter((n) => isFn(n) && isFn(`${n}Backward`));
  for (const d of Object.keys(DERIVED)) assert.ok(isFn(d), `${d} is not exported any more`);
  const expected = [...withRule, ...Object.keys(DERIVED)].sort();
  const rows = suiteOps.map((o) => o.name);
  assert.equal(new Set(rows).size, rows.length, "duplicate rows");
  assert.deepEqual([...rows].sort(), expected);
  assert.deepEqual(mod.gradientSuiteOps, rows);
  // A sanity floor on the convention itself (it must keep finding the ops).
  assert.ok(withRule.length >= 38 && withRule.includes("conv2d") && withRule.includes("mse"));
});

Deno.test("each row's fast side runs the op's hand rule; its reference side only primitives", () => {
  const recorder = (names: string[]) => ({
    tracks: () => true,
    record: (name: string) => void names.push(name),
  });
  for (const op of suiteOps) {
    const recorded = DERIVED[op.name] ?? op.name;
    const samples = fc.sample(op.params(fc), { seed: SUITE_SEED, numRuns: 10 });
    let sawOp = false;
    for (const p of samples) {
      const c = op.build(p);
      const fast: string[] = [], reference: string[] = [];
      const y = withRecorder(recorder(fast), () => c.fast(...c.inputs));
      withRecorder(recorder(reference), () => c.ref(...c.inputs));
      const label = `${op.name} ${JSON.stringify(p)}`;
      assert.ok(!fast.some((n) => n.startsWith("prim.")), `${label}: fast side ran ${fast}`);
      assert.ok(reference.every((n) => n.startsWith("prim.")), `${label}: ref ran ${reference}`);
      // An op may hand back its input unchanged (e.g. transpose by the identity): nothing to record.
      assert.ok(fast.includes(recorded) || c.inputs.includes(y), `${label}: fast ran ${fast}`);
      sawOp ||= fast.includes(recorded);
    }
    assert.ok(sawOp, `${op.name}: no sampled case recorded ${recorded}`);
  }
});

Deno.test("the suite's cases are reproducible: the same seed gives the same parameters", () => {
  for (const op of suiteOps) {
    const a = fc.sample(op.params(fc), { seed: 3, numRuns: 5 });
    const b = fc.sample(op.params(fc), { seed: 3, numRuns: 5 });
    assert.deepEqual(a, b, op.name);
    const [c1, c2] = [op.build(a[0]), op.build(b[0])];
    assert.deepEqual(
      c1.inputs.map((t: Tensor) => Array.from(t.data)),
      c2.inputs.map((t: Tensor) => Array.from(t.data)),
    );
  }
});

Deno.test("unknown op names are an error listing the valid ones", () => {
  assert.throws(() => selectOps(["conv2d", "conv3d", "nope"]), (e: unknown) => {
    assert.ok(e instanceof TensorError);
    assert.match(e.message, /unknown ops "conv3d", "nope"; valid ops: conv2d, correlate2d, /);
    return true;
  });
  assert.deepEqual(selectOps(["relu", "conv2d"]).map((o) => o.name), ["conv2d", "relu"]);
});
