import assert from "node:assert/strict";
import { grad, maxPool2d, sum, type Tensor, tensor } from "../../mod.ts";
import { willRecord, withRecorder } from "../../src/tensor/trace.ts";

Deno.test("willRecord: true exactly when some installed recorder traces the inputs", () => {
  const a = tensor([1]), b = tensor([2]);
  assert.equal(willRecord([a]), false, "no recorder");
  const onlyA = { tracks: (xs: readonly unknown[]) => xs.includes(a), record() {} };
  withRecorder(onlyA, () => {
    assert.equal(willRecord([a, b]), true);
    assert.equal(willRecord([b]), false);
    withRecorder({ record() {} }, () => assert.equal(willRecord([b]), true, "hears every op"));
  });
});

Deno.test("maxPool2d skips the arg-max untraced, and still routes gradients when traced", () => {
  const x = tensor([[[[1, 5, 2, 0], [3, 4, 8, 6]]]]);
  assert.deepEqual(Array.from(maxPool2d(x, { kernel: 2 }).data), [5, 8]);
  const g = grad((x: Tensor) => sum(maxPool2d(x, { kernel: 2 })))(x);
  assert.deepEqual(Array.from(g.data), [0, 1, 0, 0, 0, 0, 1, 0]);
});
