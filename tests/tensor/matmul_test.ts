import assert from "node:assert/strict";
import {
  dense,
  denseBackward,
  matmul,
  matmulBackward,
  ones,
  prngKey,
  randomNormal,
  type Tensor,
  tensor,
  TensorError,
} from "../../mod.ts";

const vals = (t: { data: ArrayLike<number> }) => Array.from(t.data);

/** Direct reference: C[b..., i, j] = sum_p A[ba..., i, p] B[bb..., p, j] with NumPy batch rules. */
function reference(a: Tensor, b: Tensor): { shape: number[]; data: number[] } {
  const [m, k] = a.shape.slice(-2), n = b.shape.at(-1)!;
  const ba = a.shape.slice(0, -2), bb = b.shape.slice(0, -2);
  const r = Math.max(ba.length, bb.length);
  const pa = [...Array(r - ba.length).fill(1), ...ba],
    pb = [...Array(r - bb.length).fill(1), ...bb];
  const batch = pa.map((d, i) => Math.max(d, pb[i]));
  const count = batch.reduce((x, y) => x * y, 1);
  const data: number[] = [];
  for (let t = 0; t < count; t++) {
    // multi-index of t in batch, then the operands' (broadcast) flat batch indices
    let rem = t, ia = 0, ib = 0, sa = 1, sb = 1;
    for (let ax = r - 1; ax >= 0; ax--) {
      const idx = rem % batch[ax];
      rem = Math.floor(rem / batch[ax]);
      ia += (pa[ax] === 1 ? 0 : idx) * sa;
      ib += (pb[ax] === 1 ? 0 : idx) * sb;
      sa *= pa[ax];
      sb *= pb[ax];
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          s += a.data[ia * m * k + i * k + p] * b.data[ib * k * n + p * n + j];
        }
        data.push(s);
      }
    }
  }
  return { shape: [...batch, m, n], data };
}

Deno.test("matmul 2-D: the hand-computed product", () => {
  const y = matmul(tensor([[1, 2, 3], [4, 5, 6]]), tensor([[7, 8], [9, 10], [11, 12]]));
  assert.deepEqual(y.shape, [2, 2]);
  assert.deepEqual(vals(y), [58, 64, 139, 154]);
});

Deno.test("matmul batched with NumPy batch broadcasting matches a direct loop", () => {
  const shapes: [number[], number[]][] = [
    [[2, 3, 4], [2, 4, 5]],
    [[2, 3, 4], [4, 5]],
    [[3, 4], [2, 4, 5]],
    [[2, 1, 3, 4], [3, 4, 2]],
    [[1, 3, 4], [2, 4, 2]],
    [[2, 2, 3], [1, 3, 1]],
  ];
  let seed = 7;
  for (const [sa, sb] of shapes) {
    const a = randomNormal(prngKey(seed++), sa, { dtype: "float64" });
    const b = randomNormal(prngKey(seed++), sb, { dtype: "float64" });
    const y = matmul(a, b), want = reference(a, b);
    assert.deepEqual(y.shape, want.shape, `${sa} @ ${sb}`);
    y.data.forEach((v, i) =>
      assert.ok(Math.abs(v - want.data[i]) < 1e-12, `${sa} @ ${sb} at ${i}`)
    );
  }
});

Deno.test("matmulBackward: dA = g B^T, dB = A^T g on a hand example", () => {
  const a = tensor([[1, 2], [3, 4]]), b = tensor([[5, 6], [7, 8]]);
  const g = tensor([[1, 0], [0, 1]]);
  const [da, db] = matmulBackward(g, a, b);
  assert.deepEqual(vals(da), [5, 7, 6, 8]); // B^T
  assert.deepEqual(vals(db), [1, 3, 2, 4]); // A^T
  // Shared B over a batch: dB sums A_i^T g_i over the batch.
  const ab = tensor([[[1, 0]], [[0, 2]]]); // [2, 1, 2]
  const [, dbShared] = matmulBackward(ones([2, 1, 2]), ab, b);
  assert.deepEqual(vals(dbShared), [1, 1, 2, 2]);
});

Deno.test("matmul shape errors say what to do", () => {
  assert.throws(() => matmul(tensor([1, 2]), tensor([[1], [2]])), (e: unknown) => {
    assert.ok(e instanceof TensorError);
    assert.equal(
      e.message,
      "matmul: operands must have rank >= 2, got [2] and [2, 1]; reshape a vector to a row " +
        "[1, n] or a column [n, 1] first",
    );
    return true;
  });
  assert.throws(
    () => matmul(tensor([[1, 2]]), tensor([[1, 2]])),
    /matmul: inner dimensions differ: \[1, 2\] @ \[1, 2\] multiplies 1x2 by 1x2/,
  );
  assert.throws(
    () => matmul(ones([2, 1, 1]), ones([3, 1, 1])),
    /matmul: batch axes \[2\] and \[3\] of \[2, 1, 1\] @ \[3, 1, 1\] cannot be broadcast/,
  );
  assert.throws(() => matmul(ones([1, 1]), ones([1, 1], { dtype: "float64" })), /different dtypes/);
});

Deno.test("dense = x W + b and its backward on a hand example", () => {
  const x = tensor([[1, 2], [3, 4]]), w = tensor([[1, 0, 1], [0, 1, 1]]), b = tensor([10, 20, 30]);
  const y = dense(x, w, b);
  assert.deepEqual(y.shape, [2, 3]);
  assert.deepEqual(vals(y), [11, 22, 33, 13, 24, 37]);
  const g = tensor([[1, 0, 0], [0, 0, 1]]);
  const [dx, dw, db] = denseBackward(g, x, w, b);
  assert.deepEqual(vals(dx), [1, 0, 1, 1]); // g W^T
  assert.deepEqual(vals(dw), [1, 0, 3, 2, 0, 4]); // x^T g
  assert.deepEqual(vals(db), [1, 0, 1]); // column sums of g
  assert.throws(
    () => dense(ones([2, 3]), ones([2, 3]), ones([3])),
    /dense: expected x \[N, in\], W \[in, out\], b \[out\], got x \[2, 3\], W \[2, 3\], b \[3\]/,
  );
  assert.throws(() => dense(ones([2, 2]), ones([2, 3]), ones([2])), /b \[2\]/);
});

Deno.test("matmul and dense keep the dtype", () => {
  for (const dtype of ["float32", "float64"] as const) {
    assert.equal(matmul(ones([2, 2], { dtype }), ones([2, 2], { dtype })).dtype, dtype);
    assert.equal(
      dense(ones([1, 2], { dtype }), ones([2, 2], { dtype }), ones([2], { dtype })).dtype,
      dtype,
    );
  }
});
