import assert from "node:assert/strict";
import {
  crossEntropy,
  crossEntropyBackward,
  logSoftmax,
  mse,
  mseBackward,
  oneHot,
  softmax,
  sub,
  tensor,
  TensorError,
} from "../../mod.ts";

const vals = (t: { data: ArrayLike<number> }) => Array.from(t.data);
const f64 = { dtype: "float64" } as const;
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-14) =>
  Array.from(b).forEach((v, i) => assert.ok(Math.abs(a[i] - v) <= tol, `at ${i}: ${a[i]} vs ${v}`));

Deno.test("oneHot rows, dtype, and label validation naming index and value", () => {
  const t = oneHot([2, 0, 1], 3);
  assert.deepEqual(t.shape, [3, 3]);
  assert.deepEqual(vals(t), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
  assert.equal(oneHot([0], 2, f64).dtype, "float64");
  assert.deepEqual(vals(oneHot(tensor([1, 0]), 2)), [0, 1, 1, 0]);
  assert.throws(() => oneHot([0, 3], 3), (e: unknown) => {
    assert.ok(e instanceof TensorError);
    assert.equal(
      e.message,
      "oneHot: label at index 1 is 3; labels must be integers in 0..2 (3 classes)",
    );
    return true;
  });
  assert.throws(() => oneHot([1.5], 3), /label at index 0 is 1.5/);
  assert.throws(() => oneHot([-1], 3), /label at index 0 is -1/);
  assert.throws(() => oneHot([NaN], 3), /label at index 0 is NaN/);
  assert.throws(() => oneHot([0], 0), /numClasses 0 must be an integer >= 1/);
});

Deno.test("mse = 1/2 sum (y - t)^2, mean divides by the batch size N, not the element count", () => {
  const y = tensor([[1, 2], [3, 4]]), t = tensor([[1, 0], [3, 3]]);
  // squares: 0 + 4 + 0 + 1 = 5; half: 2.5; batch N = 2 -> 1.25 (element mean would be 0.625)
  assert.deepEqual(mse(y, t).shape, []);
  assert.deepEqual(vals(mse(y, t)), [1.25]);
  assert.deepEqual(vals(mse(y, t, { reduction: "sum" })), [2.5]);
  const [dy, dt] = mseBackward(tensor(1), y, t);
  assert.deepEqual(vals(dy), [0, 1, 0, 0.5]); // (y - t) / N
  assert.deepEqual(vals(dt), [-0, -1, -0, -0.5]);
  const [dys] = mseBackward(tensor(2), y, t, { reduction: "sum" });
  assert.deepEqual(vals(dys), [0, 4, 0, 2]); // g (y - t)
});

Deno.test("mse validates shapes, dtypes and the reduction", () => {
  assert.throws(
    () => mse(tensor([[1, 2]]), tensor([1, 2])),
    /mse: prediction \[1, 2\] and target \[2\] differ in shape; they must match exactly/,
  );
  assert.throws(() => mse(tensor([1]), tensor([1], f64)), /different dtypes/);
  assert.throws(() => mse(tensor(1), tensor(1)), /reduction "mean" divides by the batch size/);
  assert.deepEqual(vals(mse(tensor(3), tensor(1), { reduction: "sum" })), [2]);
  assert.throws(
    () => mse(tensor([1]), tensor([1]), { reduction: "max" as never }),
    /reduction "max" is not one of/,
  );
  assert.throws(
    () => mseBackward(tensor([1]), tensor([1]), tensor([1])),
    /gradient float32 \[1\] does not match the forward output float32 \[\]/,
  );
});

Deno.test("crossEntropy equals -logSoftmax picked at the labels, averaged over the batch", () => {
  const z = tensor([[2, -1, 0.5], [0.1, 0.2, 0.3], [-3, 4, 1]], f64);
  const labels = [0, 2, 1];
  const l = logSoftmax(z);
  const want = -(l.data[0] + l.data[5] + l.data[7]);
  close(crossEntropy(z, labels).data, [want / 3]);
  close(crossEntropy(z, labels, { reduction: "sum" }).data, [want]);
  // Labels may be a rank-1 tensor too.
  close(crossEntropy(z, tensor(labels)).data, [want / 3]);
});

Deno.test("crossEntropy is stable for huge logits", () => {
  const z = tensor([[1000, -1000], [1000, -1000]]);
  assert.deepEqual(vals(crossEntropy(z, [0, 1], { reduction: "sum" })), [2000]);
  close(crossEntropy(tensor([[0, 0]], f64), [1]).data, [Math.LN2]);
  assert.equal(crossEntropy(z, [0, 0]).dtype, "float32");
  assert.deepEqual(vals(crossEntropy(z, [0, 0])), [0]);
});

Deno.test("crossEntropy backward is softmax(z) - onehot(t), scaled by 1/N for the mean", () => {
  const z = tensor([[2, -1, 0.5], [0.1, 0.2, 0.3]], f64);
  const labels = [0, 2];
  const want = sub(softmax(z), oneHot(labels, 3, f64));
  close(
    crossEntropyBackward(tensor(2, f64), z, labels, { reduction: "sum" }).data,
    vals(want).map((v) => 2 * v),
  );
  close(crossEntropyBackward(tensor(1, f64), z, labels).data, vals(want).map((v) => v / 2));
});

Deno.test("crossEntropy validates logits shape and labels", () => {
  assert.throws(
    () => crossEntropy(tensor([1, 2]), [0]),
    /crossEntropy: logits must be \[N, C\] with C >= 1, got \[2\]/,
  );
  assert.throws(() => crossEntropy(tensor([[1, 2]]), [0, 1]), /got 2 labels for a batch of 1 rows/);
  assert.throws(
    () => crossEntropy(tensor([[1, 2]]), [2]),
    /crossEntropy: label at index 0 is 2; labels must be integers in 0..1/,
  );
  assert.throws(
    () => crossEntropy(tensor([[1, 2]]), tensor([[0]])),
    /labels must be a rank-1 tensor, got \[1, 1\]/,
  );
});
