import assert from "node:assert/strict";
import {
  add,
  div,
  maximum,
  maximumBackward,
  minimum,
  minimumBackward,
  mul,
  ones,
  sub,
  tensor,
  TensorError,
} from "../../mod.ts";

const vals = (t: { data: ArrayLike<number> }) => Array.from(t.data);

Deno.test("binary ops on equal shapes compute elementwise", () => {
  const a = tensor([[1, 2], [3, 4]]), b = tensor([[5, 6], [7, 8]]);
  assert.deepEqual(vals(add(a, b)), [6, 8, 10, 12]);
  assert.deepEqual(vals(sub(a, b)), [-4, -4, -4, -4]);
  assert.deepEqual(vals(mul(a, b)), [5, 12, 21, 32]);
  assert.deepEqual(vals(div(b, a)), [5, 3, 7 / 3, 2].map(Math.fround));
  assert.deepEqual(vals(maximum(a, tensor([[0, 9], [3, 1]]))), [1, 9, 3, 4]);
  assert.deepEqual(vals(minimum(a, tensor([[0, 9], [3, 1]]))), [0, 2, 3, 1]);
});

Deno.test("binary ops broadcast rows, columns and both at once", () => {
  const col = tensor([[10], [20]]); // [2, 1]
  const row = tensor([1, 2, 3]); // [3]
  const y = add(col, row);
  assert.deepEqual(y.shape, [2, 3]);
  assert.deepEqual(vals(y), [11, 12, 13, 21, 22, 23]);
  assert.deepEqual(vals(sub(row, col)), [-9, -8, -7, -19, -18, -17]);
  // Interior broadcast: [2, 1, 2] * [3, 1] -> [2, 3, 2].
  const a = tensor([[[1, 2]], [[3, 4]]]);
  const z = mul(a, tensor([[1], [10], [100]]));
  assert.deepEqual(z.shape, [2, 3, 2]);
  assert.deepEqual(vals(z), [1, 2, 10, 20, 100, 200, 3, 4, 30, 40, 300, 400]);
});

Deno.test("number operands on either side adopt the tensor's dtype", () => {
  const x32 = tensor([1, 2]);
  assert.deepEqual(vals(sub(10, x32)), [9, 8]);
  assert.deepEqual(vals(div(x32, 4)), [0.25, 0.5]);
  assert.deepEqual(vals(div(1, x32)), [1, 0.5]);
  // 0.1 is rounded to float32 before the float32 add: exactly fround(fround(0.1) + 1).
  assert.equal(add(tensor([1]), 0.1).data[0], Math.fround(1 + Math.fround(0.1)));
  const x64 = tensor([1], { dtype: "float64" });
  assert.equal(add(x64, 0.1).data[0], 1.1);
  assert.equal(add(0.1, x64).dtype, "float64");
  assert.throws(() => add(1 as never, 2 as never), /at least one must be a Tensor/);
  assert.throws(
    () => mul(tensor([1]), [2] as never),
    /mul: the second operand is an array; operands must be Tensors or numbers/,
  );
});

Deno.test("dtype is preserved and mixed dtypes are rejected", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const a = tensor([[1, 2]], { dtype }), b = tensor([3], { dtype });
    for (const op of [add, sub, mul, div, maximum, minimum]) assert.equal(op(a, b).dtype, dtype);
  }
  assert.throws(
    () => add(tensor([1]), tensor([1], { dtype: "float64" })),
    (e: unknown) =>
      e instanceof TensorError &&
      /add: operands have different dtypes: float32 \[1\] and float64 \[1\]/.test(e.message),
  );
});

Deno.test("maximum/minimum: ties route the gradient to the FIRST argument", () => {
  const a = tensor([1, 2, 3]), b = tensor([3, 2, 1]);
  const [da, db] = maximumBackward(ones([3]), a, b);
  assert.deepEqual(vals(da!), [0, 1, 1]); // 2 == 2 goes to a
  assert.deepEqual(vals(db!), [1, 0, 0]);
  const [ma, mb] = minimumBackward(ones([3]), a, b);
  assert.deepEqual(vals(ma!), [1, 1, 0]);
  assert.deepEqual(vals(mb!), [0, 0, 1]);
  // Broadcast second operand: its gradient sums over the copies it lost to a.
  const [, dScalarT] = maximumBackward(ones([4]), tensor([0, 1, 2, 3]), tensor([1.5]));
  assert.deepEqual(vals(dScalarT!), [2]);
  // A number operand is a constant: no gradient.
  assert.equal(maximumBackward(ones([2]), tensor([0, 2]), 1)[1], null);
  assert.deepEqual(vals(maximumBackward(ones([2]), tensor([0, 1]), 1)[0]!), [0, 1]);
});

Deno.test("maximum/minimum propagate NaN from either operand", () => {
  const y = maximum(tensor([NaN, 1]), tensor([0, NaN]));
  assert.ok(Number.isNaN(y.data[0]) && Number.isNaN(y.data[1]));
  const z = minimum(tensor([NaN, 1]), tensor([0, NaN]));
  assert.ok(Number.isNaN(z.data[0]) && Number.isNaN(z.data[1]));
});

Deno.test("empty tensors broadcast to empty results", () => {
  const y = add(tensor([[]]), tensor([5]));
  assert.deepEqual(y.shape, [1, 0]);
  assert.equal(y.size, 0);
});

Deno.test("maximum/minimum stay exact with infinities (the branch-free blend's edge)", () => {
  const a = tensor([Infinity, -Infinity, 1, -Infinity]), b = tensor([1, 1, Infinity, -Infinity]);
  assert.deepEqual(vals(maximum(a, b)), [Infinity, 1, Infinity, -Infinity]);
  assert.deepEqual(vals(minimum(a, b)), [1, -Infinity, 1, -Infinity]);
});
