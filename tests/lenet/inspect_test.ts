import assert from "node:assert/strict";
import { traceLayers } from "../../src/lenet/inspect.ts";
import { modern } from "../../src/lenet/model.ts";
import { crossEntropyBackward } from "../../src/tensor/losses.ts";
import { matmul } from "../../src/tensor/matmul.ts";
import { prngKey, randomNormal } from "../../src/tensor/random.ts";
import { type Tensor, tensor } from "../../src/tensor/tensor.ts";
import { valueAndGrad } from "../../src/autograd/engine.ts";
import { flattenParams } from "../../src/lenet/params.ts";
import {
  isSupported,
  KERNEL_PATHS,
  kernelPath,
  setKernelPath,
} from "../../src/tensor/kernels/wasm/runtime.ts";
import { transpose } from "../../src/tensor/transpose.ts";

Deno.test("stages: the separate ops give the fused forward's logits and gradients, bit for bit, on every kernel path", () => {
  const p = modern.init(prngKey(11));
  const x = randomNormal(prngKey(12), [3, 1, 28, 28]);
  const labels = [2, 9, 4];
  const names = modern.stages(p).map(([name]) => name);
  assert.deepEqual(names, ["c1", "s2", "c3", "s4", "c5", "f6", "out"]);
  const staged = (q: typeof p) => {
    let h = x;
    for (const [, apply] of modern.stages(q)) h = apply(h);
    return h;
  };
  const bytes = (t: Tensor) =>
    Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  const before = kernelPath();
  const paths = KERNEL_PATHS.filter(isSupported);
  assert.ok(paths.includes("js") && paths.length >= 2, `paths here: ${paths}`);
  try {
    for (const path of paths) {
      setKernelPath(path);
      assert.deepEqual(bytes(staged(p)), bytes(modern.forward(p, x)), path);
      const [l1, g1] = valueAndGrad(modern.loss)(p, x, labels);
      const [l2, g2] = valueAndGrad((q: typeof p) => modern.criterion(staged(q), labels))(p);
      assert.equal(l1.data[0], l2.data[0], path);
      const a = flattenParams(g1), b = flattenParams(g2);
      a.forEach(([name, t], i) => assert.deepEqual(bytes(t), bytes(b[i][1]), `${path}: ${name}`));
    }
  } finally {
    setKernelPath(before);
  }
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
