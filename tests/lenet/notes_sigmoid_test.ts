import assert from "node:assert/strict";
import {
  countParams,
  MNIST_MEAN,
  MNIST_STD,
  notesSigmoidCriterion,
  notesSigmoidForward,
  notesSigmoidInit,
  prngKey,
  randomNormal,
  sgd,
  tensor,
  unitPixels,
} from "../../mod.ts";
import { shortTrain } from "./short_train.ts";

Deno.test("notes-sigmoid: 3,898 parameters in the notes' shapes, Glorot init, zero biases", () => {
  const p = notesSigmoidInit(prngKey(0));
  assert.equal(countParams(p), 156 + 1_812 + 1_930);
  assert.deepEqual([p.c1.w.shape, p.c2.w.shape, p.out.w.shape], [[6, 1, 5, 5], [12, 6, 5, 5], [
    192,
    10,
  ]]);
  const limit = Math.sqrt(6 / (6 * 25 + 12 * 25)); // the toolbox's sqrt(6 / (fan_in + fan_out))
  assert.ok(p.c2.w.data.every((v) => Math.abs(v) <= limit));
  assert.ok(Math.max(...Array.from(p.c2.w.data, Math.abs)) > 0.9 * limit);
  assert.ok([p.c1.b, p.c2.b, p.out.b].every((b) => b.data.every((v) => v === 0)));
});

Deno.test("notes-sigmoid: outputs [N, 10] in (0, 1); the loss is 1/2 sum (t - y)^2 per example", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const y = notesSigmoidForward(
      notesSigmoidInit(prngKey(1), { dtype }),
      randomNormal(prngKey(2), [4, 1, 28, 28], { dtype }),
    );
    assert.deepEqual([y.shape, y.dtype], [[4, 10], dtype]);
    assert.ok(y.data.every((v) => v > 0 && v < 1));
  }
  const y = tensor([[0.9, 0.2], [0.4, 0.3]], { dtype: "float64" });
  // (1/2 (0.01 + 0.04) + 1/2 (0.16 + 0.49)) / 2
  assert.ok(Math.abs(notesSigmoidCriterion(y, [0, 1]).data[0] - 0.175) < 1e-15);
  assert.ok(Math.abs(unitPixels(tensor([-MNIST_MEAN / MNIST_STD])).data[0]) < 1e-7);
});

Deno.test("notes-sigmoid: plain SGD gets off the sigmoid plateau, well above chance", async () => {
  // Sigmoid units with the squared error sit on a plateau (every output near 0.1) for a few
  // hundred steps before the features form: 500 small steps, as the notes train, get past it.
  const r = await shortTrain(
    {
      params: notesSigmoidInit(prngKey(0)),
      forward: notesSigmoidForward,
      criterion: notesSigmoidCriterion,
    },
    sgd({ lr: 3 }),
    { train: 3000, steps: 500, batch: 10 },
  );
  assert.ok(r.before.accuracy < 0.25, `before ${r.before.accuracy}`);
  assert.ok(r.after.loss < 0.5 * r.before.loss, `loss ${r.before.loss} -> ${r.after.loss}`);
  assert.ok(r.after.accuracy > 0.5, `accuracy ${r.after.accuracy}`);
});
