import assert from "node:assert/strict";
import {
  conv2d,
  conv2dBackward,
  type Conv2dOptions,
  conv2dRelu,
  conv2dReluBackward,
  fromData,
  gradcheck,
  maxPool2d,
  mean,
  relu,
  reluBackward,
  type Tensor,
  tensor,
  valueAndGrad,
} from "../../mod.ts";
import { type Pullback, withRecorder } from "../../src/tensor/trace.ts";
import { assertBackwardMatchesFd, assertPasses, rand, snapshot } from "../autograd/helpers.ts";

const CASES: [number[], number[], Conv2dOptions][] = [
  [[2, 1, 8, 8], [3, 1, 5, 5], { padding: 2 }],
  [[2, 3, 6, 7], [4, 3, 3, 3], {}],
  [[1, 2, 7, 7], [3, 2, 3, 3], { stride: 2, padding: "same" }],
  [[1, 2, 8, 9], [2, 2, 3, 2], { dilation: [2, 1], padding: [1, 0, 2, 1] }],
];

Deno.test("conv2dRelu = relu(conv2d) exactly, forward and backward (float64)", () => {
  CASES.forEach(([xs, ws, opts], i) => {
    const x = rand(10 + i, xs), w = rand(20 + i, ws), b = rand(30 + i, [ws[0]]);
    const before = [snapshot(x), snapshot(w), snapshot(b)];
    const y = conv2dRelu(x, w, b, opts);
    const z = conv2d(x, w, b, opts);
    assert.deepEqual(Array.from(y.data), Array.from(relu(z).data), `case ${i} forward`);
    const delta = rand(40 + i, y.shape);
    const fused = conv2dReluBackward(delta, y, x, w, opts);
    const chained = conv2dBackward(reluBackward(delta, relu(z)), x, w, opts);
    for (const k of ["dx", "dw", "db"] as const) {
      assert.deepEqual(Array.from(fused[k].data), Array.from(chained[k].data), `case ${i} ${k}`);
    }
    assert.deepEqual([snapshot(x), snapshot(w), snapshot(b)], before, "inputs untouched");
  });
});

Deno.test("conv2dReluBackward matches central finite differences (float64)", () => {
  // Pre-activations away from 0 keep the ReLU's kink out of reach of the perturbation.
  CASES.forEach(([xs, ws, opts], i) => {
    const x = rand(51 + i, xs), w = rand(52 + i, ws), b = rand(53 + i, [ws[0]]);
    const z = conv2d(x, w, b, opts);
    assert.ok(Array.from(z.data).every((v) => Math.abs(v) > 1e-4), `case ${i}: no kink nearby`);
    assertBackwardMatchesFd(
      `conv2dReluBackward case ${i}`,
      (xx, ww, bb) => conv2dRelu(xx, ww, bb, opts),
      (g, [xx, ww], y) => {
        const { dx, dw, db } = conv2dReluBackward(g, y, xx, ww, opts);
        return [dx, dw, db];
      },
      [x, w, b],
      { seed: i },
    );
  });
});

Deno.test("conv2dRelu records its rule; the engine's needed flags skip dX; gradcheck passes", () => {
  const x = rand(61, [2, 1, 8, 8]), w = rand(62, [3, 1, 5, 5]), b = rand(63, [3]);
  let pullback: Pullback | undefined;
  const y = withRecorder(
    { record: (_n, _i, _y, p) => void (pullback = p) },
    () => conv2dRelu(x, w, b, { padding: 2 }),
  );
  const g = rand(64, y.shape);
  const all = pullback!(g);
  const some = pullback!(g, [false, true, true]);
  assert.equal(some[0], null, "dX skipped when not needed");
  assert.deepEqual(Array.from(some[1]!.data), Array.from(all[1]!.data));
  const loss = (w: Tensor, b: Tensor) =>
    mean(maxPool2d(conv2dRelu(x, w, b, { padding: 2 }), { kernel: 2 }));
  const [, grads] = valueAndGrad(loss, [0, 1])(w, b);
  const chained = valueAndGrad(
    (w: Tensor, b: Tensor) => mean(maxPool2d(relu(conv2d(x, w, b, { padding: 2 })), { kernel: 2 })),
    [0, 1],
  )(w, b)[1];
  assert.deepEqual(Array.from(grads[0].data), Array.from(chained[0].data));
  assert.deepEqual(Array.from(grads[1].data), Array.from(chained[1].data));
  assertPasses(gradcheck(loss, [w, b], { label: "conv2dRelu" }));
});

Deno.test("conv2dRelu: worked example, float32, validation names the op", () => {
  const x = tensor([[[[1, -2], [3, -4]]]]);
  const y = conv2dRelu(x, tensor([[[[1]]], [[[-1]]]]));
  assert.equal(y.dtype, "float32");
  assert.deepEqual(Array.from(y.data), [1, 0, 3, 0, 0, 2, 0, 4]);
  // A -0 bias plus a -0 product sums to -0; the ReLU gives +0 on every path.
  const negZero = conv2dRelu(tensor([[[[-0]]]]), tensor([[[[1]]]]), tensor([-0]));
  assert.ok(Object.is(negZero.data[0], 0), "relu(-0) is +0");
  assert.throws(() => conv2dRelu(x, tensor([[[1]]])), /conv2dRelu: weights must be OIHW/);
  assert.throws(
    () => conv2dReluBackward(tensor([[[[1]]]]), y, x, tensor([[[[1]]], [[[-1]]]])),
    /conv2dReluBackward: delta \[1, 1, 1, 1\] must have the forward output's shape/,
  );
  const f32 = fromData([0.5, -0.25, 2, 1], [1, 1, 2, 2]);
  assert.throws(
    () => conv2dRelu(f32, tensor([[[[1]]]], { dtype: "float64" })),
    /conv2dRelu: mixed dtypes/,
  );
});
