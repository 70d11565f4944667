import assert from "node:assert/strict";
import { fmtSig, lineChart, niceTicks } from "../../../src/cli/report/charts.ts";
import { byTag, parse, textOf } from "./xml.ts";

Deno.test("niceTicks: steps of 1, 2 or 5 times a power of ten covering the range", () => {
  assert.deepEqual(niceTicks(0, 1, 6).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.031, 0.342, 6).ticks, [0, 0.1, 0.2, 0.3, 0.4]);
  assert.deepEqual(niceTicks(0.893, 0.9832, 6).ticks, [0.88, 0.9, 0.92, 0.94, 0.96, 0.98, 1]);
  assert.deepEqual(niceTicks(1, 6, 8, true).ticks, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(niceTicks(1, 1, 8, true).ticks, [0, 1, 2]); // one epoch: widened
  assert.deepEqual(niceTicks(1, 120, 8, true).ticks, [0, 20, 40, 60, 80, 100, 120]);
  const t = niceTicks(-0.0731, 0.0052);
  assert.ok(t.lo <= -0.0731 && t.hi >= 0.0052);
  for (const v of t.ticks) assert.equal(v, Number(v.toFixed(4)), `no float noise in ${v}`);
});

Deno.test("fmtSig: short labels", () => {
  assert.equal(fmtSig(0.123456), "0.123");
  assert.equal(fmtSig(98.3216, 4), "98.32");
  assert.equal(fmtSig(2437), "2440");
  assert.equal(fmtSig(0), "0");
  assert.equal(fmtSig(3e-7), "3.00e-7");
});

const series = [
  { name: "train", points: [[1, 0.34], [2, 0.2], [3, 0.13]] as [number, number][], color: "#00f" },
  {
    name: "test <b>",
    points: [[1, 0.25], [2, NaN], [3, 0.12]] as [number, number][],
    color: "#f00",
    dashed: true,
  },
];

Deno.test("lineChart: one path per series, a marker per finite point, labels and legend", () => {
  const svg = parse(
    lineChart({ title: "Loss per epoch", xLabel: "epoch", yLabel: "loss", series }),
  );
  const paths = byTag(svg, "path", "series");
  assert.equal(paths.length, 2);
  assert.deepEqual(paths.map((p) => p.attrs["data-series"]), ["train", "test <b>"]);
  assert.equal(paths[0].attrs.d.split("M").length - 1, 1, "train is one run");
  assert.equal(paths[1].attrs.d.split("M").length - 1, 2, "NaN breaks the test line");
  assert.equal(paths[1].attrs["stroke-dasharray"], "6 4");
  assert.equal(byTag(svg, "circle", "marker").length, 5);
  const ticks = byTag(svg, "text", "tick").map(textOf);
  // y from 0.12 to 0.34 in at most 6 ticks: step 0.05 from 0.1 to 0.35.
  assert.deepEqual(ticks, ["0.1", "0.15", "0.2", "0.25", "0.3", "0.35", "1", "2", "3"]);
  assert.deepEqual(byTag(svg, "text", "axis-label").map(textOf), ["epoch", "loss"]);
  assert.deepEqual(byTag(svg, "text", "legend-label").map(textOf), ["train", "test <b>"]);
  assert.equal(byTag(svg, "text", "chart-title").map(textOf)[0], "Loss per epoch");
  assert.equal(byTag(svg, "b").length, 0, "the series name stayed text");
  const tip = textOf(byTag(svg, "circle", "marker")[0]);
  assert.equal(tip, "train, epoch 1: 0.34");
});

Deno.test("lineChart: y values map into the plot, larger values higher up", () => {
  const svg = parse(lineChart({ title: "t", xLabel: "x", yLabel: "y", series: [series[0]] }));
  const cy = byTag(svg, "circle").map((c) => Number(c.attrs.cy));
  assert.ok(cy[0] < cy[1] && cy[1] < cy[2], `0.34 above 0.2 above 0.13: ${cy}`);
  const cx = byTag(svg, "circle").map((c) => Number(c.attrs.cx));
  assert.ok(cx[0] < cx[1] && cx[1] < cx[2]);
  assert.ok(Math.abs(cx[1] - cx[0] - (cx[2] - cx[1])) < 0.02, "epochs evenly spaced");
});

Deno.test("lineChart without finite points says so and draws no path", () => {
  const svg = parse(lineChart({
    title: "empty",
    xLabel: "x",
    yLabel: "y",
    series: [{ name: "a", points: [[1, NaN]], color: "#000" }],
  }));
  assert.equal(byTag(svg, "path").length, 0);
  assert.equal(textOf(byTag(svg, "text", "no-data")[0]), "no data");
});
