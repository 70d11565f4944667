/**
 * The demo and the report on a model this test trains itself (a short real training: the page's
 * own `deno task train` hint with `--limit 8000 --test-limit 1000`, two epochs, a few seconds),
 * in Debian's Chromium driven by playwright-core:
 *
 * - the demo (`deno task serve --checkpoint .../best.safetensors`): real MNIST test digits the
 *   model classifies right are drawn stroke by stroke; the page's prediction must equal the
 *   model's own prediction in Deno on the very 28x28 raster the page computed (and the label for
 *   most); the layer views must be painted and equal Deno's activations; the delta toggle (of the
 *   predicted label, then of a chosen one) must render deltas equal to Deno's; the page must run
 *   the WebAssembly kernels;
 * - the report of the same run: parsed as XML-style markup in Deno and as HTML in the browser,
 *   with every section and its SVG elements.
 *
 * Screenshots (printed): `runs/ci-artifacts/demo-trained.png`, `demo-trained-delta.png` and
 * `report-trained.png`; the run folder is `runs/ci-artifacts/trained-run/`.
 */

import assert from "node:assert/strict";
import { loadDemoModel, TRAIN_FOR_DEMO } from "../../src/cli/demo/model.ts";
import { correlation } from "../../src/cli/demo/preprocess.ts";
import { reportMain } from "../../src/cli/report.ts";
import { trainMain } from "../../src/cli/train.ts";
import { fromData } from "../../src/tensor/tensor.ts";
import type { SeenLayer, SeenView } from "./browser/protocol.ts";
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
import { MNIST, runMain } from "./helpers.ts";
import { type TestDigit, testDigits } from "./mnist_fixture.ts";
import { byTag, findAll, parse } from "./report/xml.ts";

const l2 = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
};

/** The page's layers equal `want` (names, shapes, norms within float32 noise). */
function assertLayers(seen: readonly SeenLayer[], want: readonly SeenLayer[], what: string) {
  assert.deepEqual(
    seen.map((l) => [l.name, l.shape, l.maps]),
    want.map((l) => [
      l.name,
      l.shape,
      l.maps,
    ]),
  );
  seen.forEach((l, k) => {
    const w = want[k].l2;
    assert.ok(
      Math.abs(l.l2 - w) <= 1e-3 * Math.max(w, 1e-6),
      `${what}: layer ${l.name} has norm ${l.l2} in the page, ${w} in Deno`,
    );
  });
}

/** Every layer view is on the page, each with at least one map that is not one flat color. */
function assertPainted(v: SeenView, what: string) {
  assert.deepEqual(
    v.canvases.map((c) => [c.layer, c.canvases]),
    v.state.layers.map((l) => [l.name, l.maps]),
  );
  for (const c of v.canvases) assert.ok(c.painted >= 1, `${what}: layer ${c.layer} is blank`);
  const painted = v.canvases.reduce((n, c) => n + c.painted, 0);
  const total = v.canvases.reduce((n, c) => n + c.canvases, 0);
  assert.ok(painted >= 0.75 * total, `${what}: only ${painted} of ${total} maps show anything`);
}

Deno.test("browser: a model trained by the test, drawn digits predicted in the page as in Deno; delta views; its report", async () => {
  await requireChromium();
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const runDir = `${ARTIFACTS}/trained-run`;
  await Deno.remove(runDir, { recursive: true }).catch(() => {});

  // The page's hint, with the output folder moved and the data capped to keep this to seconds.
  const hint = TRAIN_FOR_DEMO.train.split(/\s+/);
  assert.deepEqual(hint.slice(0, 3), ["deno", "task", "train"]);
  const flags = hint.slice(3);
  flags[flags.indexOf("--out") + 1] = runDir;
  const trained = await runMain(trainMain, [
    ...flags,
    ...["--limit", "8000", "--test-limit", "1000", "--seed", "1", "--data", MNIST, "--offline"],
  ]);
  assert.equal(trained.code, 0, trained.stderr);
  const checkpoint = `${runDir}/${TRAIN_FOR_DEMO.serve.split("/").pop()}`;
  const model = loadDemoModel(await Deno.readFile(checkpoint));
  assert.ok(model.deltas !== null, model.description);
  const deltas = model.deltas;

  // The report of the same run, checked as markup here and as HTML in the browser.
  const reportFile = `${ARTIFACTS}/report-trained.html`;
  const silent = { out: () => {}, err: (s: string) => console.error(s) };
  assert.equal(await reportMain(["--run", runDir, "--out", reportFile], silent), 0);
  const doc = parse(await Deno.readTextFile(reportFile));
  const data = JSON.parse(await Deno.readTextFile(`${runDir}/report.json`));
  const cls = (c: string) => (n: { attrs: Record<string, string> }) =>
    (n.attrs.class ?? "").split(/\s+/).includes(c);
  const layers = data.digits[0].layers as { shape: number[] }[];
  const mapsOf = (shape: readonly number[]) => (shape.length === 3 ? shape[0] : 1);
  const expected = {
    sections: ["curves", "confusion", "filters", "layers", "mistakes"],
    // train and test, loss and accuracy
    seriesPaths: 4,
    cells: 100,
    // conv filters (one map per input-output pair) + the digit + its feature and delta maps +
    // each confidently wrong digit
    mapImages:
      (data.filters as { shape: number[] }[]).reduce((n, f) => n + f.shape[0] * f.shape[1], 0) +
      1 + 2 * layers.reduce((n, l) => n + mapsOf(l.shape), 0) + data.wrong.length,
    digitCards: data.wrong.length + 1,
  };
  assert.deepEqual(byTag(doc, "section").map((s) => s.attrs.id), expected.sections);
  assert.equal(findAll(doc, (n) => n.tag === "path" && cls("series")(n)).length, 4);
  assert.equal(findAll(doc, (n) => n.tag === "rect" && cls("cell")(n)).length, 100);
  assert.equal(findAll(doc, (n) => n.tag === "image" && cls("map")(n)).length, expected.mapImages);
  assert.ok(data.wrong.length >= 1, "a 2-epoch model on 8,000 digits still makes mistakes");

  // Digits the model classifies right, with confidence, of different classes, from the test set.
  const pool = await testDigits(400);
  const x01 = (d: TestDigit) =>
    fromData(Float32Array.from(d.pixels, (v) => v / 255), [1, 1, 28, 28]);
  const picked: TestDigit[] = [];
  for (const d of pool) {
    if (picked.length === 6) break;
    if (picked.some((p) => p.label === d.label)) continue;
    const out = model.forward(x01(d));
    if (out.prediction === d.label && out.probabilities![d.label] > 0.95) picked.push(d);
  }
  assert.equal(picked.length, 6, "six confidently right digits among the first 400");
  const deltaLabel = (picked[picked.length - 1].label + 5) % 10;

  const server = await startServeTask(["--checkpoint", checkpoint]);
  let result;
  try {
    result = await runDriver([
      {
        kind: "demo",
        name: "demo-trained",
        url: server.url,
        digits: picked.map((d) => ({ label: d.label, pixels: Array.from(d.pixels) })),
        touch: false,
        deltaLabel,
        quickTrain: false,
      },
      { kind: "report", name: "report-trained", file: reportFile },
    ]);
  } finally {
    await server.stop();
  }

  const demo = demoResult(result.results[0]);
  assert.deepEqual(demo.pageErrors, [], "no script errors in the page");
  assert.deepEqual(demo.foreignRequests, [], "the page fetches nothing but its own server");
  assert.equal(demo.initial.model, model.name);
  assert.equal(demo.initial.error, null);
  assert.equal(demo.initial.deltasAvailable, true);
  assert.deepEqual(demo.deltaRadiosDisabled, [false, false, false]);
  assert.equal(demo.note, model.description);
  assert.equal(demo.quickTrainOffered, false, "no quick training offered with a checkpoint");
  assert.match(demo.initial.kernelPath, /^wasm-(relaxed|simd)$/, "the wasm kernels run");
  assert.equal(demo.kernelPathShown, demo.initial.kernelPath);

  // The model in Deno, on the raster the page computed from the strokes.
  const inDeno = (input: readonly number[]) => fromData(Float32Array.from(input), [1, 1, 28, 28]);
  const viewsOf = (
    ls: readonly { name: string; shape: readonly number[]; values: ArrayLike<number> }[],
  ) =>
    ls.map((l) => ({
      name: l.name,
      shape: l.shape.slice(),
      maps: mapsOf(l.shape),
      l2: l2(l.values),
    }));
  let rightLabels = 0;
  demo.drawn.forEach((s, k) => {
    const d = picked[k];
    const what = `digit #${d.index} (${d.label})`;
    assert.equal(s.error, null, what);
    const r = correlation(s.input, Array.from(d.pixels, (v) => v / 255));
    assert.ok(r > 0.8, `${what}: the page's 28x28 input correlates ${r.toFixed(3)}`);
    const out = model.forward(inDeno(s.input));
    assert.equal(s.prediction, out.prediction, `${what}: page and Deno predict alike`);
    s.probabilities!.forEach((p, j) =>
      assert.ok(Math.abs(p - out.probabilities![j]) < 1e-4, `${what}: p[${j}] ${p}`)
    );
    assertLayers(s.layers, viewsOf(out.layers), what);
    if (s.prediction === d.label) rightLabels++;
  });
  assert.ok(
    rightLabels >= picked.length - 1,
    `${rightLabels} of ${picked.length} drawn digits right`,
  );

  const last = demo.drawn[demo.drawn.length - 1];
  assert.equal(demo.activations.state.mode, "activations");
  assertPainted(demo.activations, "activations");
  const x = inDeno(last.input);
  const dp = demo.deltaPredicted!, dl = demo.deltaLabel!;
  assert.equal(dp.state.mode, "delta-predicted");
  assertLayers(dp.state.layers, viewsOf(deltas(x, last.prediction!)), "delta of the prediction");
  assertPainted(dp, "delta of the prediction");
  assert.equal(dl.state.mode, "delta-label");
  assertLayers(dl.state.layers, viewsOf(deltas(x, deltaLabel)), `delta of label ${deltaLabel}`);
  assertPainted(dl, `delta of label ${deltaLabel}`);

  const rep = reportResult(result.results[1]);
  assertReportPage(rep, expected, reportFile);

  await assertScreenshots([...demo.screenshots, ...rep.screenshots]);
});
