/**
 * One table, every differentiable op of the tensor core: each hand-derived `<op>Backward` is
 * checked against central finite differences in float64 through the public gradcheck (tolerances
 * in tests/autograd/helpers.ts), and the pullback that the op hands to `recordOp` is checked to
 * be that same rule.
 */

import assert from "node:assert/strict";
import { prngKey, randomNormal, type Tensor } from "../../mod.ts";
import { type Pullback, withRecorder } from "../../src/tensor/trace.ts";
import { assertBackwardMatchesFd } from "../autograd/helpers.ts";
import { opCases } from "./op_table.ts";

let seed = 1;
const upstream = (shape: readonly number[]): Tensor =>
  randomNormal(prngKey(seed++), [...shape], { dtype: "float64" });

for (const c of opCases("float64")) {
  Deno.test(`VJP matches finite differences: ${c.name}`, () => {
    const report = assertBackwardMatchesFd(
      c.name,
      (...xs) => c.f(xs),
      (g, xs, y) => c.back(g, xs, y),
      c.inputs(),
      { seed: seed++ },
    );
    assert.ok(report.inputs.every((i) => i.checked === i.shape.reduce((a, b) => a * b, 1)));
  });

  Deno.test(`op records its hand-derived rule: ${c.name}`, () => {
    const xs = c.inputs();
    const seen: { name: string; inputs: readonly Tensor[]; pullback: Pullback }[] = [];
    const y = withRecorder(
      { record: (name, inputs, _output, pullback) => seen.push({ name, inputs, pullback }) },
      () => c.f(xs),
    );
    const last = seen.at(-1);
    assert.ok(last, `${c.name}: nothing recorded`);
    assert.equal(last.name, c.recorded);
    assert.deepEqual(last.inputs, xs);
    const g = upstream(y.shape);
    const viaTrace = last.pullback(g);
    const direct = c.back(g, xs, y);
    assert.equal(viaTrace.length, direct.length);
    viaTrace.forEach((t, i) => assert.deepEqual(t?.data, direct[i]?.data));
  });
}
