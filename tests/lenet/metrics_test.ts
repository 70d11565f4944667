import assert from "node:assert/strict";
import { classStats, metricsLine, truncateMetrics } from "../../src/lenet/metrics.ts";

Deno.test("metrics: one JSON line per epoch with the contract's keys first, in order", () => {
  const line = metricsLine({
    epoch: 3,
    train_loss: 0.123456789,
    train_accuracy: 0.95,
    test_loss: 0.05,
    test_accuracy: 0.9876,
    examples_per_s: 1234.567,
    epoch_seconds: 48.12345,
    step: 2814,
    lr: 0.0005,
  });
  const o = JSON.parse(line);
  assert.deepEqual(Object.keys(o), [
    "epoch",
    "train_loss",
    "train_accuracy",
    "test_loss",
    "test_accuracy",
    "examples_per_s",
    "epoch_seconds",
    "step",
    "lr",
  ]);
  assert.equal(o.train_loss, 0.123457);
  assert.equal(o.examples_per_s, 1234.6);
  assert.ok(!line.includes("\n"));
});

Deno.test("metrics: per-class precision and recall from a confusion matrix", () => {
  // labels 0: 3 right, 1 called "1"; labels 1: 4 right, nothing called "0"
  const s = classStats(Int32Array.from([3, 1, 0, 4]), 2);
  assert.deepEqual(s[0], { digit: 0, precision: 1, recall: 0.75, support: 4 });
  assert.deepEqual(s[1], { digit: 1, precision: 0.8, recall: 1, support: 4 });
  assert.ok(Number.isNaN(classStats(new Int32Array(4), 2)[0].precision));
});

Deno.test("metrics: a resumed run drops the lines of epochs its checkpoint has not completed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/metrics.jsonl`;
    await Deno.writeTextFile(path, '{"epoch":1}\n{"epoch":2}\n{"epoch":3}\n{"epo');
    assert.equal((await truncateMetrics(path, 2)())._tag, "Right");
    assert.equal(await Deno.readTextFile(path), '{"epoch":1}\n{"epoch":2}\n');
    assert.equal((await truncateMetrics(`${dir}/new.jsonl`, 0)())._tag, "Right");
    assert.equal(await Deno.readTextFile(`${dir}/new.jsonl`), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
