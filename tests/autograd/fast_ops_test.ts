/**
 * The engine over the fast ops of src/tensor: their hand-derived rules are the VJPs (custom_vjp),
 * and a small network's gradients agree with the reference definitions' and with central
 * differences. (The full three-way property suites live beside this once every op has landed.)
 */

import assert from "node:assert/strict";
import {
  crossEntropy,
  dense,
  gradcheck,
  ref,
  relu,
  scaledTanh,
  type Tensor,
  valueAndGrad,
} from "../../mod.ts";
import { withRecorder } from "../../src/tensor/trace.ts";
import { assertClose, assertPasses, normal } from "./helpers.ts";

interface Params {
  l1: { w: Tensor; b: Tensor };
  l2: { w: Tensor; b: Tensor };
}

const params: Params = {
  l1: { w: normal(1, [5, 7], 0.5), b: normal(2, [7], 0.1) },
  l2: { w: normal(3, [7, 3], 0.5), b: normal(4, [3], 0.1) },
};
const x = normal(5, [4, 5]);
const labels = [2, 0, 1, 2];

const fastLoss = (p: Params, x: Tensor) =>
  crossEntropy(dense(scaledTanh(dense(x, p.l1.w, p.l1.b)), p.l2.w, p.l2.b), labels);
const refLoss = (p: Params, x: Tensor) =>
  ref.crossEntropy(
    ref.dense(ref.scaledTanh(ref.dense(x, p.l1.w, p.l1.b)), p.l2.w, p.l2.b),
    labels,
  );

Deno.test("fast ops: valueAndGrad uses their hand rules and agrees with the reference", () => {
  const names: string[] = [];
  const spy = { tracks: () => true, record: (name: string) => names.push(name) };
  const [loss, g] = withRecorder(spy, () => valueAndGrad(fastLoss, [0, 1])(params, x));
  assert.ok(names.includes("dense") && names.includes("crossEntropy"), names.join());
  assert.ok(!names.some((n) => n.startsWith("prim.") && n !== "prim.add"), names.join());
  const [refValue, refGrad] = valueAndGrad(refLoss, [0, 1])(params, x);
  assertClose(loss, refValue, { rtol: 1e-12, atol: 0 });
  for (
    const [a, b] of [
      [g[0].l1.w, refGrad[0].l1.w],
      [g[0].l1.b, refGrad[0].l1.b],
      [g[0].l2.w, refGrad[0].l2.w],
      [g[0].l2.b, refGrad[0].l2.b],
      [g[1], refGrad[1]],
    ]
  ) {
    const scale = Math.max(...Array.from(b.data, Math.abs));
    assertClose(a, b, { rtol: 1e-10, atol: 1e-10 * (1 + scale) });
  }
});

Deno.test("fast ops: the hand rules pass gradcheck through the engine (relu away from 0)", () => {
  const net = (p: Params, x: Tensor) =>
    crossEntropy(dense(relu(dense(x, p.l1.w, p.l1.b)), p.l2.w, p.l2.b), labels);
  const report = assertPasses(gradcheck(net, [params, x], { label: "mlp", names: ["p", "x"] }));
  assert.deepEqual(report.inputs.map((i) => i.name), ["p.l1.w", "p.l1.b", "p.l2.w", "p.l2.b", "x"]);
});
