import assert from "node:assert/strict";
import { either as E } from "npm:fp-ts@2.16.11";
import { appendMetrics, metricsLine } from "../../src/lenet/metrics.ts";
import {
  METRICS_FILE,
  parseMetrics,
  REPORT_FORMAT,
  REPORT_VERSION,
} from "../../src/lenet/run_files.ts";
import {
  classify,
  confusionMatrix,
  digitRecord,
  filterBank,
  layerMaps,
  mostConfidentWrong,
  pixelBytes,
  reportJson,
  writeReportFile,
} from "../../src/lenet/run_summary.ts";
import { tensor, zeros } from "../../src/tensor/tensor.ts";
import { syntheticMetrics, syntheticReport } from "../cli/report/fixture.ts";

Deno.test("confusionMatrix counts (true, predicted) pairs and rejects bad classes", () => {
  assert.deepEqual(confusionMatrix([0, 1, 1, 2, 2, 2], [0, 1, 0, 2, 1, 2], 3), [
    [1, 0, 0],
    [1, 1, 0],
    [0, 1, 2],
  ]);
  assert.throws(() => confusionMatrix([0, 1], [0], 2), /2 labels but 1 predictions/);
  assert.throws(
    () => confusionMatrix([0, 3], [0, 1], 3),
    /labels\[1\] = 3 is not a class in 0\.\.2/,
  );
  assert.throws(() => confusionMatrix([0], [1.5], 3), /predictions\[0\] = 1.5/);
});

Deno.test("classify: softmax probabilities and first arg-max per row", () => {
  const { probabilities, predictions } = classify(
    tensor([[0, Math.log(3), 0], [5, 5, 1]], { dtype: "float64" }),
  );
  const p = Array.from(probabilities.data);
  [0.2, 0.6, 0.2].forEach((v, i) => assert.ok(Math.abs(p[i] - v) < 1e-12));
  assert.deepEqual(Array.from(predictions), [1, 0]);
  assert.throws(() => classify(zeros([3])), /logits must be \[N, K\], got \[3\]/);
});

Deno.test("mostConfidentWrong: only mistakes, most confident first, ties by index", () => {
  const probs = tensor([
    [0.9, 0.1], // 0: right (label 0)
    [0.3, 0.7], // 1: wrong, 0.7
    [0.05, 0.95], // 2: wrong, 0.95
    [0.7, 0.3], // 3: wrong, 0.7 (label 1), tie with 1
    [0.2, 0.8], // 4: right
  ]);
  const labels = [0, 0, 0, 1, 1];
  const images = new Float32Array(5 * 784).map((_, i) => (Math.floor(i / 784) + 1) / 10);
  const w = mostConfidentWrong({
    probabilities: probs,
    predictions: [0, 1, 1, 0, 1],
    labels,
    images,
    pixelMax: 1,
    count: 3,
  });
  assert.deepEqual(w.map((d) => d.index), [2, 1, 3]);
  assert.deepEqual(w.map((d) => [d.label, d.prediction]), [[0, 1], [0, 1], [1, 0]]);
  assert.deepEqual(w[0].probabilities, [0.05, 0.95]);
  assert.equal(w[0].pixels.length, 784);
  assert.equal(w[0].pixels[0], Math.round(0.3 * 255)); // image 2 is all 0.3
  assert.throws(
    () =>
      mostConfidentWrong({
        probabilities: probs,
        predictions: [0],
        labels,
        images,
        pixelMax: 1,
        count: 1,
      }),
    /must agree on N/,
  );
});

Deno.test("pixelBytes scales and clamps; digitRecord takes the first arg-max", () => {
  assert.deepEqual(pixelBytes([0, 0.5, 1, 1.2, -1], 1), [0, 128, 255, 255, 0]);
  assert.deepEqual(pixelBytes([0, 128, 255], 255), [0, 128, 255]);
  const d = digitRecord(42, 3, [0.1, 0.4, 0.4, 0.1], new Array(784).fill(255), 255);
  assert.equal(d.prediction, 1);
  assert.equal(d.index, 42);
});

Deno.test("layerMaps drops a batch axis of 1 and rounds to 6 significant digits", () => {
  const a = tensor([[[[1 / 3, 2], [3, 4]]]]); // [1, 1, 2, 2]
  const l = layerMaps("conv1", a, a);
  assert.deepEqual(l.shape, [1, 2, 2]);
  assert.deepEqual(l.activation, [0.333333, 2, 3, 4]);
  assert.deepEqual(layerMaps("fc", zeros([1, 84]), zeros([1, 84])).shape, [84]);
  assert.throws(() => layerMaps("x", zeros([1, 2]), zeros([2, 1])), /same shape/);
  assert.throws(() => layerMaps("x", zeros([2, 2, 2, 2]), zeros([2, 2, 2, 2])), /\[C, H, W\]/);
  assert.deepEqual(filterBank("conv1", zeros([6, 1, 5, 5])).shape, [6, 1, 5, 5]);
  assert.throws(() => filterBank("conv1", zeros([6, 25])), /OIHW/);
});

Deno.test("metricsLine and reportJson validate what they write", () => {
  const m = syntheticMetrics()[0];
  assert.equal(metricsLine(m), JSON.stringify(m));
  assert.throws(() => metricsLine({ ...m, test_accuracy: 98.2 }), /test_accuracy: 98.2 is above 1/);
  // Validated after rounding: a throughput that rounds to 0 would not read back.
  assert.throws(() => metricsLine({ ...m, examples_per_s: 0.04 }), /examples_per_s: 0 must be/);
  assert.throws(() => metricsLine({ ...m, train_loss: NaN }), /train_loss: expected a finite/);
  const r = syntheticReport();
  assert.equal(r.format, REPORT_FORMAT);
  assert.equal(r.version, REPORT_VERSION);
  assert.throws(() => reportJson({ ...r, test_examples: 999 }), /counts sum to 1000/);
});

Deno.test("the synthetic run's confusion and mistakes come out consistent", () => {
  const r = syntheticReport();
  let total = 0, diag = 0;
  r.confusion.forEach((row, i) => row.forEach((v, j) => ((total += v), i === j && (diag += v))));
  assert.equal(total, 1000);
  assert.ok(diag > 900 && diag < 1000, `mostly right: ${diag}`);
  assert.equal(r.wrong.length, 12);
  const conf = r.wrong.map((w) => w.probabilities[w.prediction]);
  for (let i = 1; i < conf.length; i++) assert.ok(conf[i - 1] >= conf[i]);
  for (const w of r.wrong) assert.ok(r.confusion[w.label][w.prediction] > 0);
});

Deno.test("appendMetrics and writeReportFile write files the reader accepts, atomically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/run`);
    const file = `${dir}/run/${METRICS_FILE}`;
    for (const m of syntheticMetrics(3)) assert.ok(E.isRight(await appendMetrics(file, m)()));
    const bad = await appendMetrics(file, { ...syntheticMetrics(4)[3], test_accuracy: 98.2 })();
    assert.ok(E.isLeft(bad));
    assert.equal(
      bad.left.message,
      `${file}: not written: metrics: test_accuracy: 98.2 is above 1`,
    );
    const text = await Deno.readTextFile(file);
    assert.equal(text.split("\n").length, 4, "three lines, nothing from the rejected record");
    const parsed = parseMetrics(text, "m");
    assert.ok(E.isRight(parsed));
    assert.equal(parsed.right.length, 3);
    await writeReportFile(`${dir}/run`, syntheticReport());
    const names = [...Deno.readDirSync(`${dir}/run`)].map((e) => e.name).sort();
    assert.deepEqual(names, ["metrics.jsonl", "report.json"], "no temporary file left");
    await assert.rejects(
      writeReportFile(`${dir}/run`, { ...syntheticReport(), num_classes: 1 }),
      /num_classes: 1 is below 2/,
    );
    assert.deepEqual([...Deno.readDirSync(`${dir}/run`)].map((e) => e.name).sort(), names);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
