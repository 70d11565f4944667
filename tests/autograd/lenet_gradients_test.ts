/**
 * End to end: a LeNet-5-shaped network (conv 6@5x5 pad 2 -> relu -> maxpool 2 -> conv 16@5x5
 * -> relu -> maxpool 2 -> dense 400->120 -> relu -> dense 120->84 -> relu -> dense 84->10 ->
 * cross-entropy), batch 2, float64. The gradient of every parameter from the fast ops' hand
 * rules (valueAndGrad) equals the reference autograd's (ref.* ops, the primitives' chain rule)
 * to 1e-10 relative, and central differences agree on 312 randomly sampled parameter
 * coordinates (rtol 1e-6, atol 1e-8). Built here: the trainer's model module is not on main.
 */

import assert from "node:assert/strict";
import {
  conv2d,
  crossEntropy,
  dense,
  flatten,
  gradcheck,
  maxPool2d,
  ref,
  relu,
  type Tensor,
  valueAndGrad,
} from "../../mod.ts";
import { withRecorder } from "../../src/tensor/trace.ts";
import { assertPasses, normal } from "./helpers.ts";

interface Layer {
  w: Tensor;
  b: Tensor;
}

interface LeNet {
  c1: Layer;
  c2: Layer;
  f1: Layer;
  f2: Layer;
  f3: Layer;
}

/** He-normal weights (std sqrt(2 / fan_in)) and small random biases, seeded. */
function layer(seed: number, shape: number[], fanIn: number, out: number): Layer {
  return { w: normal(seed, shape, Math.sqrt(2 / fanIn)), b: normal(seed + 1, [out], 0.1) };
}

const params: LeNet = {
  c1: layer(10, [6, 1, 5, 5], 25, 6),
  c2: layer(20, [16, 6, 5, 5], 150, 16),
  f1: layer(30, [400, 120], 400, 120),
  f2: layer(40, [120, 84], 120, 84),
  f3: layer(50, [84, 10], 84, 10),
};
const images = normal(60, [2, 1, 28, 28]);
const labels = [3, 7];

/** The network on the fast ops: their hand-derived rules are the VJPs. */
function fastLoss(p: LeNet, x: Tensor): Tensor {
  let h = maxPool2d(relu(conv2d(x, p.c1.w, p.c1.b, { padding: 2 })), { kernel: 2 }); // 6x14x14
  h = maxPool2d(relu(conv2d(h, p.c2.w, p.c2.b)), { kernel: 2 }); // 16x5x5
  h = relu(dense(flatten(h), p.f1.w, p.f1.b)); // 120
  h = relu(dense(h, p.f2.w, p.f2.b)); // 84
  return crossEntropy(dense(h, p.f3.w, p.f3.b), labels);
}

/** The same network on the reference definitions: gradients from the chain rule alone. */
function refLoss(p: LeNet, x: Tensor): Tensor {
  let h = ref.maxPool2d(ref.relu(ref.conv2d(x, p.c1.w, p.c1.b, { padding: 2 })), 2);
  h = ref.maxPool2d(ref.relu(ref.conv2d(h, p.c2.w, p.c2.b)), 2);
  h = ref.relu(ref.dense(ref.flatten(h), p.f1.w, p.f1.b));
  h = ref.relu(ref.dense(h, p.f2.w, p.f2.b));
  return ref.crossEntropy(ref.dense(h, p.f3.w, p.f3.b), labels);
}

const leaves = (g: LeNet): [string, Tensor][] =>
  (Object.keys(g) as (keyof LeNet)[]).flatMap((k) => [[`${k}.w`, g[k].w], [`${k}.b`, g[k].b]]);

Deno.test("LeNet-5 end to end: hand-rule gradients equal the reference autograd's (1e-10 rel)", () => {
  const names: string[] = [];
  const spy = { tracks: () => true, record: (n: string) => void names.push(n) };
  const [loss, [gp, gx]] = withRecorder(spy, () => valueAndGrad(fastLoss, [0, 1])(params, images));
  // The fast path ran the fast ops (custom VJPs), the reference path only primitives.
  assert.deepEqual([...new Set(names.filter((n) => !n.startsWith("autograd.")))].sort(), [
    "conv2d",
    "crossEntropy",
    "dense",
    "maxPool2d",
    "relu",
    "reshape",
  ]);
  const refNames: string[] = [];
  const refSpy = { tracks: () => true, record: (n: string) => void refNames.push(n) };
  const [refLossValue, [rp, rx]] = withRecorder(
    refSpy,
    () => valueAndGrad(refLoss, [0, 1])(params, images),
  );
  assert.ok(refNames.every((n) => n.startsWith("prim.") || n === "autograd.input"));
  assert.ok(Math.abs(loss.data[0] - refLossValue.data[0]) <= 1e-12 * refLossValue.data[0]);
  assert.ok(loss.data[0] > 0.5 && loss.data[0] < 20, `loss ${loss.data[0]}`);
  const pairs: [string, Tensor, Tensor][] = [
    ...leaves(gp).map(([n, t], i): [string, Tensor, Tensor] => [n, t, leaves(rp)[i][1]]),
    ["x", gx, rx],
  ];
  for (const [name, h, r] of pairs) {
    assert.deepEqual(h.shape, r.shape, name);
    let scale = 0, diff = 0;
    for (let i = 0; i < h.size; i++) {
      scale = Math.max(scale, Math.abs(r.data[i]));
      diff = Math.max(diff, Math.abs(h.data[i] - r.data[i]));
      // Elementwise, as in the op suites.
      assert.ok(Math.abs(h.data[i] - r.data[i]) <= 1e-10 * (1 + Math.abs(r.data[i])), name);
    }
    assert.ok(scale > 0, `${name}: an all-zero gradient proves nothing`);
    assert.ok(diff <= 1e-10 * scale, `${name}: max |hand - ref| ${diff} > 1e-10 * ${scale}`);
  }
});

Deno.test("LeNet-5 end to end: central differences agree on 312 sampled parameter coordinates", () => {
  // 40 random coordinates per parameter tensor (all 6 of c1.b, 16 of c2.b, 10 of f3.b): 312.
  const report = assertPasses(
    gradcheck((p: LeNet) => fastLoss(p, images), [params], {
      names: ["params"],
      samples: 40,
      seed: 3,
      rtol: 1e-6,
      atol: 1e-8,
      label: "LeNet-5",
    }),
  );
  const checked = report.inputs.reduce((n, i) => n + i.checked, 0);
  assert.equal(checked, 312);
  assert.deepEqual(report.inputs.map((i) => [i.name, i.checked]), [
    ["params.c1.w", 40],
    ["params.c1.b", 6],
    ["params.c2.w", 40],
    ["params.c2.b", 16],
    ["params.f1.w", 40],
    ["params.f1.b", 40],
    ["params.f2.w", 40],
    ["params.f2.b", 40],
    ["params.f3.w", 40],
    ["params.f3.b", 10],
  ]);
});
