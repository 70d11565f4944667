import assert from "node:assert/strict";
import {
  conv2d,
  type Conv2dOptions,
  conv2dRelu,
  conv2dReluMaxPool,
  conv2dReluMaxPoolBackward,
  maxPool2d,
  mul,
  type Pool2dOptions,
  sum,
  type Tensor,
  tensor,
  valueAndGrad,
} from "../../mod.ts";
import { type Pullback, withRecorder } from "../../src/tensor/trace.ts";
import { assertBackwardMatchesFd, rand, snapshot } from "../autograd/helpers.ts";

const CASES: [number[], number[], Conv2dOptions, Pool2dOptions][] = [
  [[2, 1, 12, 12], [3, 1, 5, 5], { padding: 2 }, { kernel: 2 }], // LeNet conv1 (wasm path)
  [[2, 3, 9, 11], [4, 3, 3, 3], {}, { kernel: 2 }], // odd extents: floor
  [[1, 2, 9, 9], [3, 2, 3, 3], { stride: 2, padding: "same" }, { kernel: 2 }], // strided conv
  [[1, 2, 10, 9], [2, 2, 3, 2], { padding: 1 }, { kernel: 3, stride: 2, padding: 1 }],
];

Deno.test("conv2dReluMaxPool = maxPool2d(conv2dRelu(...)): values and gradients, bit for bit", () => {
  CASES.forEach(([xs, ws, co, po], i) => {
    const x = rand(10 + i, xs), w = rand(20 + i, ws), b = rand(30 + i, [ws[0]]);
    const before = [snapshot(x), snapshot(w), snapshot(b)];
    const chained = (x: Tensor, w: Tensor, b: Tensor) => maxPool2d(conv2dRelu(x, w, b, co), po);
    const fused = (x: Tensor, w: Tensor, b: Tensor) => conv2dReluMaxPool(x, w, b, co, po);
    const y = fused(x, w, b);
    assert.deepEqual(y.shape, chained(x, w, b).shape);
    assert.deepEqual(Array.from(y.data), Array.from(chained(x, w, b).data), `case ${i} forward`);
    const g = rand(40 + i, y.shape);
    const loss = (f: typeof fused) => (x: Tensor, w: Tensor, b: Tensor) => sum(mul(f(x, w, b), g));
    const [, got] = valueAndGrad(loss(fused), [0, 1, 2])(x, w, b);
    const [, want] = valueAndGrad(loss(chained), [0, 1, 2])(x, w, b);
    for (let k = 0; k < 3; k++) {
      assert.deepEqual(Array.from(got[k].data), Array.from(want[k].data), `case ${i} grad ${k}`);
    }
    const standalone = conv2dReluMaxPoolBackward(g, x, w, b, co, po);
    assert.deepEqual(Array.from(standalone.dw.data), Array.from(want[1].data));
    assert.deepEqual([snapshot(x), snapshot(w), snapshot(b)], before, "inputs untouched");
  });
});

Deno.test("conv2dReluMaxPoolBackward matches central differences (kinks out of reach)", () => {
  const [xs, ws, co, po] = CASES[1];
  const x = rand(51, xs), w = rand(52, ws), b = rand(53, [ws[0]]);
  const z = conv2d(x, w, b, co);
  assert.ok(Array.from(z.data).every((v) => Math.abs(v) > 1e-4), "no pre-activation near 0");
  assertBackwardMatchesFd(
    "conv2dReluMaxPoolBackward",
    (xx, ww, bb) => conv2dReluMaxPool(xx, ww, bb, co, po),
    (g, [xx, ww, bb]) => {
      const { dx, dw, db } = conv2dReluMaxPoolBackward(g, xx, ww, bb, co, po);
      return [dx, dw, db];
    },
    [x, w, b],
  );
});

Deno.test("conv2dReluMaxPool: worked example, no bias, needed flags skip dX", () => {
  const x = tensor([[[[1, -2, 3, 0], [4, -5, -6, 2]]]]);
  const y = conv2dReluMaxPool(x, tensor([[[[1]]], [[[-1]]]]), null, {}, { kernel: 2 });
  assert.deepEqual(y.shape, [1, 2, 1, 2]);
  assert.deepEqual(Array.from(y.data), [4, 3, 5, 6]);
  const { dx, dw, db } = conv2dReluMaxPoolBackward(
    tensor([[[[1, 1]]]]),
    x,
    tensor([[[[2]]]]),
    null,
    {},
    { kernel: 2 },
  );
  // z = 2x; window maxima 8 (x[4]) and 6 (x[2]) route 1 each: dx = 2 there, dw = 4 + 3.
  assert.deepEqual(Array.from(dx.data), [0, 0, 2, 0, 2, 0, 0, 0]);
  assert.deepEqual([dw.data[0], db.data[0]], [7, 2]);
  let pullback: Pullback | undefined;
  withRecorder(
    { record: (_n, _i, _y, p) => void (pullback = p) },
    () => conv2dReluMaxPool(x, tensor([[[[2]]]]), tensor([0.5]), {}, { kernel: 2 }),
  );
  const grads = pullback!(tensor([[[[1, 1]]]]), [false, true, true]);
  assert.equal(grads[0], null, "dX skipped when not needed");
  assert.deepEqual(Array.from(grads[1]!.data), [7]);
});

Deno.test("conv2dReluMaxPool validates both stages and names the op", () => {
  const x = tensor([[[[1, 2], [3, 4]]]]), w = tensor([[[[1]]]]);
  assert.throws(
    () => conv2dReluMaxPool(x, w, tensor([1, 2]), {}, { kernel: 2 }),
    /conv2dReluMaxPool: bias b \[2\] must be \[1\]/,
  );
  assert.throws(
    () => conv2dReluMaxPool(x, w, null, {}, { kernel: 3 }),
    /conv2dReluMaxPool: window larger than padded input/,
  );
  assert.throws(
    () => conv2dReluMaxPoolBackward(tensor([[[[1, 1]]]]), x, w, null, {}, { kernel: 2 }),
    /conv2dReluMaxPoolBackward: delta \[1, 1, 1, 2\] must have the block's output shape \[1, 1, 1, 1\]/,
  );
});
