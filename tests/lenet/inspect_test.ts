import assert from "node:assert/strict";
import { traceLayers } from "../../src/lenet/inspect.ts";
import { modern } from "../../src/lenet/model.ts";
import { crossEntropyBackward } from "../../src/tensor/losses.ts";
import { matmul } from "../../src/tensor/matmul.ts";
import { prngKey, randomNormal } from "../../src/tensor/random.ts";
import { tensor } from "../../src/tensor/tensor.ts";
import { transpose } from "../../src/tensor/transpose.ts";

Deno.test("stages: folding the named stages is the forward pass, bit for bit", () => {
  const p = modern.init(prngKey(11));
  const x = randomNormal(prngKey(12), [3, 1, 28, 28]);
  let h = x;
  for (const [, apply] of modern.stages(p)) h = apply(h);
  assert.deepEqual(Array.from(h.data), Array.from(modern.forward(p, x).data));
  assert.deepEqual(modern.stages(p).map(([name]) => name), [
    "c1",
    "s2",
    "c3",
    "s4",
    "c5",
    "f6",
    "out",
  ]);
});

Deno.test("traceLayers: feature maps per stage, and delta maps that obey the chain rule", () => {
  const p = modern.init(prngKey(13), { dtype: "float64" });
  const x = randomNormal(prngKey(14), [2, 1, 28, 28], { dtype: "float64" });
  const labels = [3, 5];
  const t = traceLayers(modern, p, x, labels);
  assert.deepEqual(Array.from(t.logits.data), Array.from(modern.forward(p, x).data));
  assert.equal(t.loss, modern.loss(p, x, labels).data[0]);
  const by = Object.fromEntries(t.layers.map((l) => [l.name, l]));
  assert.deepEqual(by.c1.activation.shape, [2, 6, 28, 28]);
  for (const l of t.layers) assert.deepEqual(l.delta.shape, l.activation.shape, l.name);
  // output delta: softmax(z) - onehot(t), over the batch mean
  const dOut = crossEntropyBackward(tensor(1, { dtype: "float64" }), t.logits, labels);
  assert.deepEqual(Array.from(by.out.delta.data), Array.from(dOut.data));
  // one layer back through out = f6 W + b: delta_f6 = delta_out W^T
  const dF6 = matmul(by.out.delta, transpose(p.out.w));
  by.f6.delta.data.forEach((v, i) => assert.ok(Math.abs(v - dF6.data[i]) < 1e-15));
  // the first conv's maps get a gradient (the backward pass reached them)
  assert.ok(by.c1.delta.data.some((v) => v !== 0));
});
