import assert from "node:assert/strict";
import { either as E } from "npm:fp-ts@2.16.11";
import { pickDigit, renderReport } from "../../../src/cli/report/render.ts";
import type { Run } from "../../../src/lenet/run_files.ts";
import { syntheticMetrics, syntheticReport } from "./fixture.ts";
import { byTag, findAll, parse, textOf } from "./xml.ts";

const report = syntheticReport();
const run: Run = { dir: "runs/<lenet>&1", metrics: syntheticMetrics(), report };

Deno.test("the full report: sections, curves, confusion cells, filters, layers, mistakes", () => {
  const html = renderReport(run, report.digits[0]);
  assert.ok(html.startsWith('<!doctype html>\n<html lang="en">'));
  const doc = parse(html);
  assert.deepEqual(byTag(doc, "section").map((s) => s.attrs.id), [
    "curves",
    "confusion",
    "filters",
    "layers",
    "mistakes",
  ]);
  // Curves: 2 charts x (train, test); 6 epochs -> 24 markers; an epoch table of 6 rows.
  assert.equal(byTag(doc, "svg", "chart").length, 2);
  assert.equal(byTag(doc, "path", "series").length, 4);
  assert.equal(byTag(doc, "circle", "marker").length, 24);
  assert.equal(byTag(byTag(doc, "tbody")[0], "tr").length, 6);
  const accTicks = byTag(byTag(doc, "svg", "chart")[1], "text", "tick").map(textOf);
  assert.ok(accTicks.some((t) => /^\d+(\.\d+)?%$/.test(t)), `accuracy ticks in %: ${accTicks}`);
  // Confusion: 10 x 10 cells whose values are the matrix.
  const cells = byTag(doc, "rect", "cell");
  assert.equal(cells.length, 100);
  assert.deepEqual(
    cells.map((c) => Number(c.attrs["data-value"])),
    report.confusion.flat(),
  );
  // Filters: 6 conv1 filters; layer maps for digit 0: conv 6 + relu 6 + pool 6 + fc 1 + out 1,
  // twice (activations and deltas); the chosen digit's card and 12 mistakes.
  const filterMaps = byTag(byTag(doc, "section")[2], "image", "map");
  assert.equal(filterMaps.length, 6);
  const layers = byTag(doc, "div", "layer");
  assert.deepEqual(layers.map((l) => l.attrs["data-layer"]), [
    "conv (fixed 3x3 kernels)",
    "relu",
    "max-pool 2x2",
    "fc2",
    "output",
  ]);
  assert.deepEqual(layers.map((l) => byTag(l, "image", "map").length), [12, 12, 12, 2, 2]);
  for (const l of layers) {
    const figs = byTag(l, "figure");
    assert.equal(figs[1].attrs["data-colormap"], "diverging", "deltas are signed maps");
  }
  assert.equal(byTag(byTag(doc, "section")[3], "g", "digit").length, 1);
  assert.equal(byTag(byTag(doc, "section")[4], "g", "digit").length, 12);
  assert.equal(byTag(doc, "image").length, byTag(doc, "image", "map").length + 1 + 10);
  // Self-contained: no scripts, no external references.
  assert.equal(byTag(doc, "script").length, 0);
  for (const n of findAll(doc, (x) => "href" in x.attrs || "src" in x.attrs)) {
    const ref = n.attrs.href ?? n.attrs.src;
    assert.ok(ref.startsWith("data:image/png;base64,"), `external reference ${ref.slice(0, 40)}`);
  }
});

Deno.test("the report escapes the run folder and model names", () => {
  const html = renderReport(
    { ...run, report: { ...report, model: `<img src=x onerror=alert(1)>` } },
    report.digits[0],
  );
  const doc = parse(html);
  assert.equal(byTag(doc, "img").length, 0);
  assert.equal(textOf(byTag(doc, "title")[0]), "gradproof report: runs/<lenet>&1");
  assert.match(textOf(byTag(doc, "p", "sub")[0]), /run runs\/<lenet>&1 - <img src=x/);
});

Deno.test("without report.json: the curves and a note saying what comes later", () => {
  const doc = parse(renderReport({ ...run, report: null }, null));
  assert.deepEqual(byTag(doc, "section").map((s) => s.attrs.id), ["curves"]);
  assert.equal(byTag(doc, "path", "series").length, 4);
  const note = findAll(doc, (n) => n.attrs.id === "pending")[0];
  assert.match(textOf(note), /report\.json is not in runs\/<lenet>&1 yet/);
});

Deno.test("summary line: epochs, final and best accuracy, time", () => {
  const doc = parse(renderReport(run, report.digits[0]));
  const facts = textOf(byTag(doc, "p")[1]);
  assert.match(
    facts,
    /^6 epochs · final test accuracy 98\.32% \(error 1\.68%\) · best 98\.32% at epoch 6/,
  );
});

Deno.test("pickDigit: the first by default, by test index, or a message listing what exists", () => {
  assert.deepEqual(pickDigit(report, undefined), E.right(report.digits[0]));
  assert.deepEqual(pickDigit(report, 1), E.right(report.digits[1]));
  assert.deepEqual(
    pickDigit(report, 7),
    E.left("--digit 7: report.json has layer maps for test digits 0, 1 only"),
  );
  assert.deepEqual(pickDigit({ ...report, digits: [] }, undefined), E.right(null));
});
