/**
 * End to end: LeCun 1998's LeNet-5 (trainable subsampling, Table I's C3, scaled tanh, RBF units
 * with the fixed codes and eq. 9), batch 2, float64. Every parameter's gradient from the fast
 * ops' hand rules (the `lecun1998` network as the trainer runs it) equals the reference
 * autograd's (the same network written with `ref.*`, the primitives' chain rule) to 1e-10
 * relative, and central differences agree on sampled coordinates of every parameter tensor.
 */

import assert from "node:assert/strict";
import {
  gradcheck,
  lecun1998Criterion,
  lecun1998Forward,
  lecun1998Init,
  type Lecun1998Params,
  LECUN_C3_TABLE,
  LECUN_CODES,
  LECUN_RBF_J,
  lecunInput,
  mapParams,
  prngKey,
  ref,
  Tensor,
  valueAndGrad,
} from "../../mod.ts";
import { withRecorder } from "../../src/tensor/trace.ts";
import { assertPasses, normal } from "./helpers.ts";

// The paper's initialization, with small random biases so that no bias gradient is trivial.
let seed = 100;
const params = mapParams(
  lecun1998Init(prngKey(1998), { dtype: "float64" }),
  (t, path) => path.endsWith(".b") ? normal(seed++, t.shape, 0.1) : t,
);
const images = normal(7, [2, 1, 28, 28]);
const labels = [4, 9];
const codes = new Tensor(Float64Array.from(LECUN_CODES.data), [10, 84]);

const fastLoss = (p: Lecun1998Params, x: Tensor): Tensor =>
  lecun1998Criterion("rbf")(lecun1998Forward(p, x), labels);

function refLoss(p: Lecun1998Params, x: Tensor): Tensor {
  let h = ref.scaledTanh(ref.conv2d(lecunInput(x), p.c1.w, p.c1.b));
  h = ref.scaledTanh(ref.subsample2d(h, p.s2.beta, p.s2.b));
  h = ref.scaledTanh(ref.connectedConv2d(h, p.c3.w, p.c3.b, LECUN_C3_TABLE));
  h = ref.scaledTanh(ref.subsample2d(h, p.s4.beta, p.s4.b));
  h = ref.scaledTanh(ref.dense(ref.flatten(h), p.c5.w, p.c5.b));
  h = ref.scaledTanh(ref.dense(h, p.f6.w, p.f6.b));
  return ref.rbfLoss(ref.rbf(h, codes), labels, { j: LECUN_RBF_J });
}

const leaves = (g: Lecun1998Params): [string, Tensor][] => [
  ["c1.w", g.c1.w],
  ["c1.b", g.c1.b],
  ["s2.beta", g.s2.beta],
  ["s2.b", g.s2.b],
  ["c3.w", g.c3.w],
  ["c3.b", g.c3.b],
  ["s4.beta", g.s4.beta],
  ["s4.b", g.s4.b],
  ["c5.w", g.c5.w],
  ["c5.b", g.c5.b],
  ["f6.w", g.f6.w],
  ["f6.b", g.f6.b],
];

Deno.test("LeNet-5 (1998) end to end: hand-rule gradients equal the reference autograd's", () => {
  const names: string[] = [];
  const spy = { tracks: () => true, record: (n: string) => void names.push(n) };
  const [loss, gp] = withRecorder(spy, () => valueAndGrad(fastLoss)(params, images));
  assert.deepEqual([...new Set(names.filter((n) => !n.startsWith("autograd.")))].sort(), [
    "connectedConv2d",
    "conv2d",
    "dense",
    "neg",
    "rbf",
    "rbfLoss",
    "reshape",
    "scaledTanh",
    "subsample2d",
  ]);
  const refNames: string[] = [];
  const refSpy = { tracks: () => true, record: (n: string) => void refNames.push(n) };
  const [refValue, rp] = withRecorder(refSpy, () => valueAndGrad(refLoss)(params, images));
  assert.ok(refNames.every((n) => n.startsWith("prim.") || n === "autograd.input"));
  assert.ok(Math.abs(loss.data[0] - refValue.data[0]) <= 1e-12 * refValue.data[0]);
  assert.ok(loss.data[0] > 10 && loss.data[0] < 200, `loss ${loss.data[0]}`);
  const ours = leaves(gp), theirs = leaves(rp);
  ours.forEach(([name, h], i) => {
    const r = theirs[i][1];
    assert.deepEqual(h.shape, r.shape, name);
    let scale = 0;
    for (let e = 0; e < h.size; e++) {
      scale = Math.max(scale, Math.abs(r.data[e]));
      assert.ok(Math.abs(h.data[e] - r.data[e]) <= 1e-10 * (1 + Math.abs(r.data[e])), name);
    }
    assert.ok(scale > 0, `${name}: an all-zero gradient proves nothing`);
  });
});

Deno.test("LeNet-5 (1998) end to end: central differences agree on sampled coordinates", () => {
  const report = assertPasses(
    gradcheck((p: Lecun1998Params) => fastLoss(p, images), [params], {
      names: ["params"],
      samples: 12,
      seed: 5,
      rtol: 1e-6,
      atol: 1e-8,
      label: "LeNet-5 (1998)",
    }),
  );
  assert.equal(report.inputs.length, 12);
  assert.ok(
    report.inputs.every((i) => i.checked === Math.min(12, i.shape.reduce((a, b) => a * b, 1))),
  );
});
