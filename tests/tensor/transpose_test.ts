import assert from "node:assert/strict";
import { arange, permute, reshape, transpose, transposeBackward } from "../../mod.ts";

const vals = (t: { data: ArrayLike<number> }) => Array.from(t.data);

Deno.test("transpose reverses axes by default and permutes by perm", () => {
  const m = reshape(arange(6), [2, 3]);
  assert.deepEqual(transpose(m).shape, [3, 2]);
  assert.deepEqual(vals(transpose(m)), [0, 3, 1, 4, 2, 5]);
  const x = reshape(arange(24), [2, 3, 4]); // x[i, j, k] = 12 i + 4 j + k
  const y = transpose(x, [2, 0, 1]); // y[k, i, j] = x[i, j, k]
  assert.deepEqual(y.shape, [4, 2, 3]);
  for (let k = 0; k < 4; k++) {
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) assert.equal(y.data[k * 6 + i * 3 + j], 12 * i + 4 * j + k);
    }
  }
  assert.deepEqual(vals(transpose(x)), vals(permute(x, [2, 1, 0])));
  assert.equal(transpose(x, [0, 1, 2]), x);
});

Deno.test("transposeBackward applies the inverse permutation", () => {
  const x = reshape(arange(24), [2, 3, 4]);
  const y = transpose(x, [1, 2, 0]);
  const back = transposeBackward(y, [1, 2, 0]);
  assert.deepEqual(back.shape, [2, 3, 4]);
  assert.deepEqual(vals(back), vals(x));
});

Deno.test("transpose rejects anything but a permutation of the axes", () => {
  const x = reshape(arange(6), [2, 3]);
  assert.throws(
    () => transpose(x, [0, 0]),
    /transpose: perm \[0, 0\] is not a permutation of the 2 axes of \[2, 3\]; list every axis 0..1 exactly once/,
  );
  assert.throws(() => transpose(x, [1]), /not a permutation/);
  assert.throws(() => permute(x, [0, 2]), /not a permutation/);
});
