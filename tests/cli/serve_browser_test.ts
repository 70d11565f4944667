/**
 * End to end in Debian's Chromium (headless, driven by playwright-core): the demo served by the
 * real `deno task serve` command, real MNIST test digits drawn stroke by stroke with the mouse
 * (and one stroke by touch), then the page's "train a quick model" (in the page, on the server's
 * MNIST), and the report of a synthetic run folder opened offline. Screenshots land in
 * `runs/ci-artifacts/` (gitignored): `demo.png`, `demo-quick.png` and `report.png`.
 *
 * Chromium is required: CI installs it (`.ci/run`); a missing browser fails this test with the
 * command that installs it.
 */

import assert from "node:assert/strict";
import { noModelHint, TRAIN_FOR_DEMO } from "../../src/cli/demo/model.ts";
import { correlation } from "../../src/cli/demo/preprocess.ts";
import { QUICK_TRAIN_FILES, quickTrain } from "../../src/cli/demo/quick_train.ts";
import { fromData } from "../../src/tensor/tensor.ts";
import { reportMain } from "../../src/cli/report.ts";
import {
  ARTIFACTS,
  assertReportPage,
  assertScreenshots,
  demoResult,
  reportResult,
  requireChromium,
  runDriver,
  startServeTask,
} from "./browser/harness.ts";
import { mnistDir, testDigits } from "./mnist_fixture.ts";
import { writeSyntheticRun } from "./report/fixture.ts";

const sum = (a: readonly number[]) => a.reduce((s, v) => s + v, 0);

Deno.test("browser: draw MNIST digits in the demo, see the input and layer views; report offline", async () => {
  await requireChromium();
  // Test digits #3, #2, #1, #0 (0, 1, 2, 7): the 7 drawn last stays on the pad for the screenshot.
  const digits = (await testDigits(4)).reverse();
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const runDir = `${ARTIFACTS}/run`;
  await Deno.remove(runDir, { recursive: true }).catch(() => {});
  const allDigits = await testDigits(100); // every class, for the report's fixture
  await writeSyntheticRun(runDir, { digits: allDigits });
  const reportFile = `${ARTIFACTS}/report.html`;
  const silent = { out: () => {}, err: (s: string) => console.error(s) };
  assert.equal(await reportMain(["--run", runDir, "--out", reportFile], silent), 0);

  const server = await startServeTask(["--data", mnistDir()]);
  let result;
  try {
    result = await runDriver([
      {
        kind: "demo",
        name: "demo",
        url: server.url,
        digits: digits.map((d) => ({ label: d.label, pixels: Array.from(d.pixels) })),
        touch: true,
        deltaLabel: null,
        quickTrain: true,
      },
      { kind: "report", name: "report", file: reportFile },
    ]);
  } finally {
    await server.stop();
  }

  const demo = demoResult(result.results[0]);
  assert.deepEqual(demo.pageErrors, [], "no script errors in the page");
  assert.deepEqual(demo.foreignRequests, [], "the page fetches nothing but its own server");
  assert.equal(demo.initial.model, "fixed edge bank (no trained model)");
  assert.equal(demo.initial.error, null);
  assert.equal(demo.initial.deltasAvailable, false);
  assert.deepEqual(
    demo.deltaRadiosDisabled,
    [false, true, true],
    "delta toggle off without a model",
  );
  assert.match(demo.note, /No trained model is loaded/);
  // Without a checkpoint the page says exactly how to get one: the two commands, verbatim.
  assert.ok(demo.note.endsWith(noModelHint()), demo.note);
  assert.ok(demo.note.includes(TRAIN_FOR_DEMO.train) && demo.note.includes(TRAIN_FOR_DEMO.serve));
  // The CSP allows WebAssembly (not eval), so the page runs the wasm kernels, and says so.
  assert.match(demo.initial.kernelPath, /^wasm-(relaxed|simd)$/);
  assert.equal(demo.kernelPathShown, demo.initial.kernelPath);
  assert.equal(sum(demo.initial.input), 0, "an empty pad gives an empty input");

  demo.drawn.forEach((s, k) => {
    const d = digits[k];
    const r = correlation(s.input, Array.from(d.pixels, (v) => v / 255));
    assert.ok(
      r > 0.8,
      `digit #${d.index} (${d.label}): the 28x28 input correlates ${r.toFixed(3)}`,
    );
    assert.equal(s.error, null);
    assert.equal(s.prediction, null, "no prediction without a trained model");
    assert.deepEqual(s.layers.map((l) => [l.shape, l.maps]), [
      [[6, 28, 28], 6],
      [[6, 28, 28], 6],
      [[6, 14, 14], 6],
    ]);
    assert.equal(s.renderedMaps, 18);
  });
  assert.equal(demo.activations.canvases.reduce((n, c) => n + c.canvases, 0), 18);
  assert.equal(sum(demo.afterClear!.input), 0, "Clear empties the input");
  // The touch stroke is a vertical line: ink in the middle columns only, centred by mass.
  const touchInk = demo.touch!.input;
  assert.ok(sum(touchInk) > 10, "touch drawing reached the canvas");
  let cx = 0;
  touchInk.forEach((v, i) => (cx += v * (i % 28)));
  cx /= sum(touchInk);
  assert.ok(Math.abs(cx - 14) < 1.5, `touch stroke centred at column ${cx.toFixed(2)}`);

  const rep = reportResult(result.results[1]);
  assertReportPage(rep, {
    sections: ["curves", "confusion", "filters", "layers", "mistakes"],
    seriesPaths: 4,
    cells: 100,
    mapImages: 6 + 2 * (6 + 6 + 6 + 1 + 1) + 1 + 12,
    digitCards: 13,
  }, reportFile);

  // "Train a quick one": offered without a checkpoint; trains in the page on the server's MNIST;
  // the same training in Deno (same seed, data and kernels) predicts alike on the page's input.
  assert.equal(demo.quickTrainOffered, true);
  const q = demo.quick!;
  assert.equal(q.view.state.training, "done", q.note);
  assert.equal(q.view.state.error, null);
  assert.equal(
    q.view.state.model,
    'LeNet-5 "modern" (trained in this page on 6000 digits, 1 epoch)',
  );
  assert.equal(q.view.state.deltasAvailable, true);
  assert.deepEqual(q.radiosDisabled, [false, false, false], "delta toggle on after training");
  assert.match(q.note, /^A LeNet-5 trained just now in this page \(187 steps/);
  const last = demo.drawn[demo.drawn.length - 1];
  assert.deepEqual(q.view.state.input, last.input, "the drawing stays");
  const [images, labels] = await Promise.all(
    QUICK_TRAIN_FILES.map((f) => Deno.readFile(`${mnistDir()}/${f}.gz`)),
  );
  const inDeno = (await quickTrain(images, labels)).forward(
    fromData(Float32Array.from(last.input), [1, 1, 28, 28]),
  );
  assert.equal(q.view.state.prediction, inDeno.prediction);
  q.view.state.probabilities!.forEach((p, j) =>
    assert.ok(Math.abs(p - inDeno.probabilities![j]) < 1e-3, `p[${j}] ${p}`)
  );
  assert.equal(q.view.state.prediction, digits[digits.length - 1].label, "the drawn 7 is a 7");
  assert.deepEqual(q.view.state.layers.map((l) => l.name), [
    "c1",
    "s2",
    "c3",
    "s4",
    "c5",
    "f6",
    "out",
  ]);
  for (const c of q.view.canvases) assert.ok(c.painted >= 1, `layer ${c.layer} is blank`);

  await assertScreenshots([...demo.screenshots, ...rep.screenshots]);
});
