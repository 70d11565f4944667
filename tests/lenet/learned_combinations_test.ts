import assert from "node:assert/strict";
import {
  adam,
  combinationRegularizer,
  countParams,
  crossEntropy,
  formatCombinationTable,
  learnedCombinationsForward,
  learnedCombinationsInit,
  type LearnedCombinationsParams,
  learnedTable,
  LECUN_C3_TABLE,
  prngKey,
  randomNormal,
  Tensor,
} from "../../mod.ts";
import { shortTrain } from "./short_train.ts";

/** The parameters with C3's combination logits replaced by `c`. */
const withLogits = (p: LearnedCombinationsParams, c: number[]): LearnedCombinationsParams => ({
  ...p,
  c3: { ...p.c3, c: new Tensor(Float32Array.from(c), [6, 16]) },
});

Deno.test("learned-combinations: modern's 61,706 parameters + 96 combination logits", () => {
  const p = learnedCombinationsInit(prngKey(0));
  assert.equal(countParams(p), 61_706 + 96);
  assert.deepEqual([p.c3.k.shape, p.c3.c.shape], [[16, 6, 5, 5], [6, 16]]);
  assert.ok(p.c3.c.data.every((v) => v === 0), "every output starts reading all inputs equally");
  for (const dtype of ["float32", "float64"] as const) {
    const x = randomNormal(prngKey(1), [3, 1, 28, 28], { dtype });
    const z = learnedCombinationsForward(learnedCombinationsInit(prngKey(0), { dtype }), x);
    assert.deepEqual([z.shape, z.dtype], [[3, 10], dtype]);
  }
});

Deno.test("learned table: thresholded alpha, printed beside the paper's Table I", () => {
  const p = learnedCombinationsInit(prngKey(0));
  assert.deepEqual(learnedTable(p), Array(16).fill([0, 1, 2, 3, 4, 5]));
  // Logits that make output j read exactly the paper's inputs (alpha 1/|row| each).
  const c = new Array(96).fill(-30);
  LECUN_C3_TABLE.forEach((row, j) => row.forEach((i) => (c[i * 16 + j] = 0)));
  const paper = withLogits(p, c);
  assert.deepEqual(learnedTable(paper), LECUN_C3_TABLE);
  const text = formatCombinationTable(paper);
  assert.match(text, /inputs used per output: 3 3 3 3 3 3 4 4 4 4 4 4 4 4 4 6 \(60 of 96\)/);
  assert.match(text, /^ {2}0 +33\* +0 +0 +0 +33\* +33\* +25\*/m);
  assert.match(text, /^ {2}0 +X +\. +\. +\. +X +X +X/m);
});

Deno.test("penalties: entropy is lambda sum_j H_j; the notes' |alpha| is the constant lambda Cout", () => {
  const p = learnedCombinationsInit(prngKey(0));
  const entropy = combinationRegularizer("entropy", 0.01)(p)!.data[0];
  assert.ok(Math.abs(entropy - 0.01 * 16 * Math.log(6)) < 1e-6);
  const l1 = combinationRegularizer("l1", 0.01);
  const skewed = withLogits(p, Array.from({ length: 96 }, (_, t) => Math.sin(t) * 4));
  assert.ok(Math.abs(l1(p)!.data[0] - 0.16) < 1e-6 && Math.abs(l1(skewed)!.data[0] - 0.16) < 1e-6);
  assert.equal(combinationRegularizer("none", 1)(p), null);
  assert.equal(combinationRegularizer("entropy", 0)(p), null);
});

Deno.test("learned-combinations: a short training with the entropy penalty gets well above chance", async () => {
  const r = await shortTrain(
    {
      params: learnedCombinationsInit(prngKey(0)),
      forward: learnedCombinationsForward,
      criterion: (z, labels) => crossEntropy(z, labels),
      penalty: combinationRegularizer("entropy", 0.01),
    },
    adam({ lr: 3e-3 }),
  );
  assert.ok(r.before.accuracy < 0.25, `before ${r.before.accuracy}`);
  assert.ok(r.after.loss < 0.3 * r.before.loss, `loss ${r.before.loss} -> ${r.after.loss}`);
  assert.ok(r.after.accuracy > 0.7, `accuracy ${r.after.accuracy}`);
});
