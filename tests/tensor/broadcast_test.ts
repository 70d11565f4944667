import assert from "node:assert/strict";
import {
  add,
  addBackward,
  broadcastShapes,
  broadcastTo,
  fromData,
  sumToShape,
  tensor,
  TensorError,
} from "../../mod.ts";
import { planStrided } from "../../src/tensor/kernels/strided.ts";

Deno.test("broadcastShapes follows NumPy: align right, 1 stretches, missing axes count as 1", () => {
  assert.deepEqual(broadcastShapes("add", [64, 1, 28], [6, 1]), [64, 6, 28]);
  assert.deepEqual(broadcastShapes("add", [], [2, 3]), [2, 3]);
  assert.deepEqual(broadcastShapes("add", [5, 4], [1]), [5, 4]);
  assert.deepEqual(broadcastShapes("add", [0, 1], [1, 3]), [0, 3]);
  assert.deepEqual(broadcastShapes("add", [2, 3], [2, 3]), [2, 3]);
});

Deno.test("broadcastShapes names the op, both shapes and the offending axis", () => {
  assert.throws(() => broadcastShapes("mul", [2, 3], [4]), (e: unknown) => {
    assert.ok(e instanceof TensorError);
    assert.equal(e.op, "mul");
    assert.equal(
      e.message,
      "mul: shapes [2, 3] and [4] cannot be broadcast together: axis -1 has extents 3 and 4; " +
        "aligned from the right, each pair of extents must be equal or one of them 1 " +
        "(reshape an operand, e.g. to add an axis of extent 1)",
    );
    return true;
  });
  assert.throws(
    () => add(tensor([[1, 2, 3]]), tensor([1, 2])),
    /add: shapes \[1, 3\] and \[2\] cannot be broadcast together: axis -1 has extents 3 and 2/,
  );
});

Deno.test("worked example: y = x + b with x [2, 3], b [3]; dy reduces to db = column sums", () => {
  // y_ij = x_ij + b_j, so dL/db_j = sum_i dL/dy_ij: the batch axis (absent in b) is summed.
  const dy = tensor([[1, 2, 3], [10, 20, 30]]);
  assert.deepEqual(Array.from(sumToShape(dy, [3]).data), [11, 22, 33]);
  // A kept axis of extent 1 sums too: b of shape [2, 1] broadcast along columns.
  assert.deepEqual(sumToShape(dy, [2, 1]).shape, [2, 1]);
  assert.deepEqual(Array.from(sumToShape(dy, [2, 1]).data), [6, 60]);
  // [1, 1] and [] collapse everything.
  assert.deepEqual(Array.from(sumToShape(dy, [1, 1]).data), [66]);
  assert.deepEqual(sumToShape(dy, []).shape, []);
  assert.equal(sumToShape(dy, []).data[0], 66);
  // The same reduction is what add's backward does for its broadcast operand.
  const [dx, db] = addBackward(dy, tensor([[0, 0, 0], [0, 0, 0]]), tensor([0, 0, 0]));
  assert.equal(dx, dy);
  assert.deepEqual(Array.from(db!.data), [11, 22, 33]);
  // Equal shapes: nothing to reduce, the same tensor comes back.
  assert.equal(sumToShape(dy, [2, 3]), dy);
});

Deno.test("sumToShape over interior and leading axes of a rank-4 gradient (bias of NCHW)", () => {
  // g[n, c, h, w] = 1000 n + 100 c + 10 h + w; a per-channel bias [1, C, 1, 1] receives
  // sum over n, h, w.
  const [N, C, H, W] = [2, 3, 2, 2];
  const vals: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) vals.push(1000 * n + 100 * c + 10 * h + w);
      }
    }
  }
  const g4 = fromData(vals, [N, C, H, W], { dtype: "float64" });
  assert.equal(sumToShape(g4, [1]).data[0], vals.reduce((a, b) => a + b, 0));
  const db = sumToShape(g4, [1, C, 1, 1]);
  assert.deepEqual(db.shape, [1, 3, 1, 1]);
  for (let c = 0; c < C; c++) {
    let want = 0;
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) want += 1000 * n + 100 * c + 10 * h + w;
      }
    }
    assert.equal(db.data[c], want);
  }
});

Deno.test("sumToShape and broadcastTo reject shapes that do not broadcast", () => {
  assert.throws(
    () => sumToShape(tensor([[1, 2, 3]]), [2]),
    /sumToShape: shape \[2\] does not broadcast to \[1, 3\]/,
  );
  assert.throws(
    () => broadcastTo(tensor([1, 2]), [3]),
    /broadcastTo: shape \[2\] does not broadcast to \[3\]/,
  );
  assert.throws(() => broadcastTo(tensor([1, 2]), [2, -1]), /invalid extent -1/);
});

Deno.test("broadcastTo copies along broadcast axes", () => {
  const x = tensor([[1], [2]]);
  const y = broadcastTo(x, [2, 2, 3]);
  assert.deepEqual(y.shape, [2, 2, 3]);
  assert.deepEqual(Array.from(y.data), [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]);
  assert.equal(broadcastTo(x, [2, 1]), x);
});

Deno.test("planStrided collapses axes that every operand walks contiguously", () => {
  // [64, 6, 28, 28] + [1, 6, 1, 1]: 384 rows of 784, bias stride 0 inside a row.
  const p = planStrided([64, 6, 28, 28], [[4704, 784, 28, 1], [0, 1, 0, 0]]);
  assert.equal(p.n, 784);
  assert.equal(p.rows, 384);
  assert.deepEqual(p.inner, [1, 0]);
  assert.deepEqual(Array.from(p.starts[1].slice(0, 8)), [0, 1, 2, 3, 4, 5, 0, 1]);
  assert.deepEqual(Array.from(p.starts[0].slice(0, 3)), [0, 784, 1568]);
  // Same layout for every operand: a single row.
  const q = planStrided([2, 3, 4], [[12, 4, 1], [12, 4, 1]]);
  assert.deepEqual([q.n, q.rows], [24, 1]);
  // Empty and rank-0 spaces.
  assert.deepEqual([planStrided([2, 0], [[0, 1]]).rows, planStrided([2, 0], [[0, 1]]).n], [0, 0]);
  assert.deepEqual([planStrided([], [[]]).rows, planStrided([], [[]]).n], [1, 1]);
});
