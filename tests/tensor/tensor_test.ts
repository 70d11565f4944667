import assert from "node:assert/strict";
import {
  arange,
  flatten,
  fromData,
  full,
  ones,
  reshape,
  Tensor,
  tensor,
  TensorError,
  zeros,
} from "../../mod.ts";

Deno.test("tensor: nested arrays give row-major data, shape and float32 by default", () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(x.shape, [2, 3]);
  assert.equal(x.dtype, "float32");
  assert.equal(x.size, 6);
  assert.deepEqual(Array.from(x.data), [1, 2, 3, 4, 5, 6]);
  assert.ok(Object.isFrozen(x.shape));
});

Deno.test("tensor: scalars, empty arrays and float64", () => {
  const s = tensor(2.5, { dtype: "float64" });
  assert.deepEqual(s.shape, []);
  assert.ok(s.data instanceof Float64Array);
  assert.equal(s.data[0], 2.5);
  assert.deepEqual(tensor([]).shape, [0]);
});

Deno.test("tensor: ragged input is rejected with the path of the offending row", () => {
  assert.throws(() => tensor([[1, 2], [3]]), (e: unknown) => {
    assert.ok(e instanceof TensorError);
    assert.equal(e.op, "tensor");
    assert.match(e.message, /ragged input: element \[1\] has length 1 where 2 was expected/);
    return true;
  });
  assert.throws(() => tensor([[1, 2], 3] as never), /element \[1\] has a number where 2/);
  assert.throws(() => tensor([1, [2]] as never), /element \[1\] is an array/);
});

Deno.test("constructors: zeros, ones, full, arange, fromData", () => {
  assert.deepEqual(Array.from(zeros([2, 2]).data), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(ones([3], { dtype: "float64" }).data), [1, 1, 1]);
  assert.deepEqual(Array.from(full([2], -7).data), [-7, -7]);
  assert.deepEqual(Array.from(arange(4).data), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(arange(1, 2, 0.25).data), [1, 1.25, 1.5, 1.75]);
  assert.deepEqual(Array.from(arange(3, 0, -1).data), [3, 2, 1]);
  assert.deepEqual(fromData([1, 2, 3, 4], [2, 2]).shape, [2, 2]);
  assert.throws(() => arange(0, 1, 0), /step non-zero/);
  assert.throws(() => zeros([2, -1]), /invalid extent -1/);
  assert.throws(
    () => fromData([1, 2, 3], [2, 2]),
    /data has 3 elements but shape \[2, 2\] needs 4/,
  );
});

Deno.test("fromData copies its input; new Tensor takes ownership", () => {
  const src = [1, 2];
  const x = fromData(src, [2]);
  src[0] = 9;
  assert.equal(x.data[0], 1);
  const buf = new Float64Array([1, 2]);
  assert.equal(new Tensor(buf, [2]).data, buf);
});

Deno.test("reshape and flatten share the buffer and infer -1", () => {
  const x = arange(24);
  const y = reshape(x, [2, -1, 4]);
  assert.deepEqual(y.shape, [2, 3, 4]);
  assert.equal(y.data, x.data);
  assert.deepEqual(flatten(reshape(x, [2, 3, 4])).shape, [2, 12]);
  assert.deepEqual(flatten(reshape(x, [2, 3, 4]), 0).shape, [24]);
  assert.throws(() => reshape(x, [5, -1]), /cannot reshape \[24\] \(24 elements\) to \[5, -1\]/);
  assert.throws(() => reshape(x, [-1, -1]), /more than one -1/);
  assert.throws(() => flatten(x, 3), /startAxis 3 is out of range for shape \[24\]/);
});

Deno.test("toString prints like NumPy: aligned decimals, shape and dtype", () => {
  assert.equal(
    tensor([[1, 2.5], [3, -4]]).toString(),
    "tensor([[ 1. ,  2.5],\n        [ 3. , -4. ]], shape=[2, 2], dtype=float32)",
  );
  assert.equal(
    tensor(1 / 3, { dtype: "float64" }).toString(),
    "tensor(0.3333, shape=[], dtype=float64)",
  );
  assert.equal(
    tensor([[[1, 2]], [[3, 4]]]).toString(),
    "tensor([[[1., 2.]],\n\n        [[3., 4.]]], shape=[2, 1, 2], dtype=float32)",
  );
});

Deno.test("toString elides the middle of big tensors", () => {
  const s = arange(2000).toString();
  assert.equal(
    s,
    "tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.], shape=[2000], dtype=float32)",
  );
  const m = reshape(arange(40 * 40), [40, 40]).toString();
  assert.equal(m.split("\n").length, 7);
  assert.match(m, /\.\.\./);
});
