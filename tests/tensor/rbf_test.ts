import assert from "node:assert/strict";
import {
  crossEntropy,
  prngKey,
  randomNormal,
  rbf,
  rbfBackward,
  rbfLoss,
  rbfLossBackward,
  Tensor,
  tensor,
  TensorError,
} from "../../mod.ts";
import { type Pullback, withRecorder } from "../../src/tensor/trace.ts";
import { assertBackwardMatchesFd } from "../autograd/helpers.ts";

const f64 = { dtype: "float64" } as const;
const normal = (seed: number, shape: number[], dtype: "float32" | "float64" = "float64") =>
  randomNormal(prngKey(seed), shape, { dtype });

function recorded(f: () => Tensor): Pullback {
  let pullback: Pullback | undefined;
  withRecorder({ record: (_n, _i, _o, p) => (pullback = p) }, f);
  return pullback!;
}

Deno.test("worked example: RBF penalties are squared distances to +-1 codes", () => {
  const x = tensor([[1, -1, 0.5], [0, 0, 0]], f64);
  const codes = tensor([[1, -1, 1], [-1, 1, 1]], f64);
  const y = rbf(x, codes);
  assert.deepEqual(Array.from(y.data), [0.25, 8.25, 3, 3]);
  // dx_n = 2 sum_k g_nk (x_n - w_k); dW_k = -2 sum_n g_nk (x_n - w_k)
  const g = tensor([[1, 0], [0, 2]], f64);
  const { dx, dcenters } = rbfBackward(g, x, codes);
  assert.deepEqual(Array.from(dx.data), [0, 0, -1, 4, -4, -4]);
  assert.deepEqual(Array.from(dcenters.data), [0, 0, 1, -4, 4, 4]);
});

Deno.test("rbf gradients match finite differences; the recorded pullback is rbfBackward", () => {
  const x = normal(1, [5, 7]), w = normal(2, [4, 7]);
  const g = normal(3, [5, 4]);
  const { dx, dcenters } = rbfBackward(g, x, w);
  assertBackwardMatchesFd("rbf", rbf, (g, [x, w]) => {
    const d = rbfBackward(g, x, w);
    return [d.dx, d.dcenters];
  }, [x, w]);
  const viaTrace = recorded(() => rbf(x, w))(g);
  assert.deepEqual(viaTrace.map((t) => Array.from(t!.data)), [
    Array.from(dx.data),
    Array.from(dcenters.data),
  ]);
});

Deno.test("rbfLoss is eq. 9, equals cross-entropy of [-y, -j], and its backward is the stated rule", () => {
  const y = tensor([[0.5, 3, 9], [4, 0.1, 2]], f64), labels = [0, 2], j = 1.5;
  const direct = [0, 1].map((n) => {
    const row = Array.from(y.data.subarray(n * 3, n * 3 + 3));
    return row[labels[n]] + Math.log(Math.exp(-j) + row.reduce((s, v) => s + Math.exp(-v), 0));
  });
  const loss = rbfLoss(y, labels, { j });
  assert.ok(Math.abs(loss.data[0] - (direct[0] + direct[1]) / 2) < 1e-15);
  const padded = new Tensor(Float64Array.from([-0.5, -3, -9, -j, -4, -0.1, -2, -j]), [2, 4]);
  assert.ok(Math.abs(loss.data[0] - crossEntropy(padded, labels).data[0]) < 1e-15);
  assert.ok(
    Math.abs(rbfLoss(y, labels, { j, reduction: "sum" }).data[0] - 2 * loss.data[0]) < 1e-14,
  );
  // dy_ni = [i = l_n] - e^-y_ni / (e^-j + sum_k e^-y_nk), times g / N
  const dy = rbfLossBackward(tensor(1, f64), y, labels, { j });
  for (let n = 0; n < 2; n++) {
    const row = Array.from(y.data.subarray(n * 3, n * 3 + 3));
    const z = Math.exp(-j) + row.reduce((s, v) => s + Math.exp(-v), 0);
    for (let i = 0; i < 3; i++) {
      const want = ((i === labels[n] ? 1 : 0) - Math.exp(-row[i]) / z) / 2;
      assert.ok(Math.abs(dy.data[n * 3 + i] - want) < 1e-15);
    }
  }
  const g = tensor(0.7, f64);
  for (const reduction of ["mean", "sum"] as const) {
    const back = rbfLossBackward(g, y, labels, { j, reduction });
    assertBackwardMatchesFd(
      `rbfLoss ${reduction}`,
      (y) => rbfLoss(y, labels, { j, reduction }),
      (g, [y]) => [rbfLossBackward(g, y, labels, { j, reduction })],
      [y],
    );
    assert.deepEqual(
      Array.from(recorded(() => rbfLoss(y, labels, { j, reduction }))(g)[0]!.data),
      Array.from(back.data),
    );
  }
  // labels as a tensor get no gradient
  assert.equal(recorded(() => rbfLoss(y, tensor([0, 2], f64), { j }))(g)[1], null);
});

Deno.test("rbfLoss is stable for penalties of thousands (no log(0), no NaN)", () => {
  const y = tensor([[3000, 2000, 5000]], f64);
  const loss = rbfLoss(y, [1], { j: 4000 });
  assert.equal(loss.data[0], 0); // 2000 + log(e^-2000 (1 + e^-1000 + ...)) = 2000 - 2000
  const far = rbfLoss(y, [1], { j: 1 });
  assert.ok(Math.abs(far.data[0] - (2000 - 1)) < 1e-12); // the rubbish class dominates: y_l - j
  const dy = rbfLossBackward(tensor(1, f64), y, [1], { j: 1 });
  assert.deepEqual(Array.from(dy.data, (v) => v + 0), [0, 1, 0]); // (-0 + 0 = 0)
  const f32 = rbfLoss(new Tensor(Float32Array.from([3000, 2000, 5000]), [1, 3]), [1], { j: 4000 });
  assert.equal(f32.dtype, "float32");
  assert.equal(f32.data[0], 0);
});

Deno.test("float32 in, float32 out; inputs never mutated", () => {
  const x = normal(4, [3, 5], "float32"), w = normal(5, [2, 5], "float32");
  const before = [x, w].map((t) => Array.from(t.data));
  const y = rbf(x, w);
  const g = rbfBackward(normal(6, [3, 2], "float32"), x, w);
  const l = rbfLoss(y, [0, 1, 1], { j: 1 });
  assert.deepEqual([y.dtype, g.dx.dtype, g.dcenters.dtype, l.dtype], [
    "float32",
    "float32",
    "float32",
    "float32",
  ]);
  assert.deepEqual([x, w].map((t) => Array.from(t.data)), before);
});

Deno.test("errors name the op, the shapes and the fix", () => {
  const is = (re: RegExp) => (e: unknown) => e instanceof TensorError && re.test(e.message);
  assert.throws(
    () => rbf(normal(1, [2, 3]), normal(2, [4, 5])),
    is(/rbf.*\[2, 3\].*\[4, 5\].*same D/),
  );
  assert.throws(
    () => rbfLoss(normal(1, [2, 3]), [0, 1], { j: 0 }),
    is(/j = 0 must be a positive number/),
  );
  assert.throws(() => rbfLoss(normal(1, [2, 3]), [0, 3], { j: 1 }), is(/label at index 1 is 3/));
  assert.throws(() => rbfLoss(normal(1, [2, 3]), [0], { j: 1 }), is(/1 labels for a batch of 2/));
  assert.throws(() => rbfLoss(normal(1, [6]), [0], { j: 1 }), is(/must be \[N, K\]/));
});
