import assert from "node:assert/strict";
import {
  avgPool2d,
  full,
  ones,
  prngKey,
  randomNormal,
  subsample2d,
  subsample2dBackward,
  type Tensor,
  tensor,
  TensorError,
  upsample,
} from "../../mod.ts";
import { type Pullback, withRecorder } from "../../src/tensor/trace.ts";
import { assertBackwardMatchesFd } from "../autograd/helpers.ts";

const f64 = { dtype: "float64" } as const;
const normal = (seed: number, shape: number[], dtype: "float32" | "float64" = "float64") =>
  randomNormal(prngKey(seed), shape, { dtype });

Deno.test("worked example: two 4x4 maps, 2x2 blocks, per-map beta and bias", () => {
  const x = tensor([[
    [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]],
    [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 2, 2], [0, 0, 2, 2]],
  ]], f64);
  const y = subsample2d(x, tensor([0.5, -1], f64), tensor([1, 0.25], f64));
  // map 0 block sums 14, 22, 46, 54 -> 0.5 s + 1; map 1 block sums 4, 0, 0, 8 -> -s + 0.25
  assert.deepEqual(Array.from(y.data), [8, 12, 24, 28, -3.75, 0.25, 0.25, -7.75]);
  assert.deepEqual(y.shape, [1, 2, 2, 2]);
  const delta = tensor([[[[1, 0], [0, 2]], [[1, 1], [1, 1]]]], f64);
  const { dx, dbeta, dbias } = subsample2dBackward(
    delta,
    x,
    tensor([0.5, -1], f64),
    tensor([1, 0.25], f64),
  );
  // dX = upsample(delta * beta_c): each block of map 0 gets 0.5 delta, of map 1 -delta
  assert.deepEqual(Array.from(dx.data.subarray(0, 16)), [
    0.5,
    0.5,
    0,
    0,
    0.5,
    0.5,
    0,
    0,
    0,
    0,
    1,
    1,
    0,
    0,
    1,
    1,
  ]);
  assert.ok(dx.data.subarray(16).every((v) => v === -1));
  // dbeta_c = sum delta * sumpool(x); db_c = sum delta
  assert.deepEqual(Array.from(dbeta.data), [14 + 2 * 54, 4 + 8]);
  assert.deepEqual(Array.from(dbias.data), [3, 4]);
});

Deno.test("beta = 1/k^2, bias = 0 is average pooling; dX is Kronecker upsampling", () => {
  const x = normal(1, [2, 3, 6, 4]);
  const y = subsample2d(x, full([3], 1 / 4, f64), full([3], 0, f64));
  const avg = avgPool2d(x, { kernel: 2 });
  for (let i = 0; i < y.size; i++) assert.ok(Math.abs(y.data[i] - avg.data[i]) < 1e-15);
  const delta = normal(2, [2, 3, 3, 2]), beta = normal(3, [3]);
  const { dx } = subsample2dBackward(delta, x, beta, normal(4, [3]));
  const scaled = tensor(
    Array.from(
      { length: 2 },
      (_, n) =>
        Array.from(
          { length: 3 },
          (_, c) =>
            Array.from({ length: 3 }, (_, i) =>
              Array.from({ length: 2 }, (_, j) =>
                delta.data[((n * 3 + c) * 3 + i) * 2 + j] * beta.data[c])),
        ),
    ),
    f64,
  );
  assert.deepEqual(Array.from(dx.data), Array.from(upsample(scaled, 2).data));
});

Deno.test("unequal blocks [3, 1] and the recorded pullback is subsample2dBackward", () => {
  const x = normal(5, [2, 2, 6, 3]), beta = normal(6, [2]), bias = normal(7, [2]);
  const f = ([x, beta, bias]: Tensor[]) => subsample2d(x, beta, bias, [3, 1]);
  const y = f([x, beta, bias]);
  assert.deepEqual(y.shape, [2, 2, 2, 3]);
  const g = normal(8, [2, 2, 2, 3]);
  const { dx, dbeta, dbias } = subsample2dBackward(g, x, beta, bias, [3, 1]);
  assertBackwardMatchesFd(
    "subsample2d [3, 1]",
    (...xs) => f(xs),
    (g, [x, beta, bias]) => {
      const d = subsample2dBackward(g, x, beta, bias, [3, 1]);
      return [d.dx, d.dbeta, d.dbias];
    },
    [x, beta, bias],
  );
  let pullback: Pullback | undefined;
  withRecorder({ record: (_n, _i, _o, p) => (pullback = p) }, () => f([x, beta, bias]));
  const viaTrace = pullback!(g);
  assert.deepEqual(
    viaTrace.map((t) => Array.from(t!.data)),
    [dx, dbeta, dbias].map((t) => Array.from(t.data)),
  );
});

Deno.test("float32 in, float32 out; inputs never mutated", () => {
  const x = normal(9, [1, 2, 4, 4], "float32"), beta = normal(10, [2], "float32");
  const bias = normal(11, [2], "float32");
  const before = [x, beta, bias].map((t) => Array.from(t.data));
  const y = subsample2d(x, beta, bias);
  const g = subsample2dBackward(ones([1, 2, 2, 2]), x, beta, bias);
  assert.equal(y.dtype, "float32");
  for (const t of [g.dx, g.dbeta, g.dbias]) assert.equal(t.dtype, "float32");
  assert.deepEqual([x, beta, bias].map((t) => Array.from(t.data)), before);
});

Deno.test("errors name the op, the shapes and the fix", () => {
  const x = ones([1, 2, 5, 4]);
  assert.throws(() => subsample2d(x, ones([2]), ones([2])), (e: unknown) => {
    assert.ok(e instanceof TensorError);
    assert.match(
      e.message,
      /subsample2d.*5x4 maps are not a whole number of 2x2 blocks.*crop or pad/,
    );
    return true;
  });
  assert.throws(() => subsample2d(ones([1, 2, 4, 4]), ones([3]), ones([2])), /beta must be \[2\]/);
  assert.throws(() => subsample2d(ones([2, 4, 4]), ones([2]), ones([2])), /NCHW/);
  assert.throws(
    () => subsample2d(ones([1, 2, 4, 4]), ones([2], f64), ones([2])),
    /mixed dtypes/,
  );
  assert.throws(
    () => subsample2dBackward(ones([1, 2, 4, 4]), ones([1, 2, 4, 4]), ones([2]), ones([2])),
    /delta \[1, 2, 4, 4\] must have the forward output's shape \[1, 2, 2, 2\]/,
  );
});
