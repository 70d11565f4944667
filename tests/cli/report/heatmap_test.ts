import assert from "node:assert/strict";
import { heatMap } from "../../../src/cli/report/heatmap.ts";
import { byTag, parse, textOf } from "./xml.ts";

const labels = Array.from({ length: 10 }, (_, k) => String(k));
const confusion = labels.map((_, i) => labels.map((_, j) => (i === j ? 950 + i : (i + j) % 4)));

const luminance = (hex: string) => {
  const n = parseInt(hex.slice(1), 16);
  return 0.2126 * (n >> 16) + 0.7152 * ((n >> 8) & 255) + 0.0722 * (n & 255);
};

Deno.test("heatMap 10x10: 100 cells with their values, labels, titles and a colour scale", () => {
  const svg = parse(heatMap({
    id: "cm",
    title: "Confusion <matrix>",
    values: confusion,
    rowLabels: labels,
    colLabels: labels,
    rowTitle: "true label",
    colTitle: "predicted",
  }));
  const cells = byTag(svg, "rect", "cell");
  assert.equal(cells.length, 100);
  for (const c of cells) {
    const i = Number(c.attrs["data-row"]), j = Number(c.attrs["data-col"]);
    assert.equal(Number(c.attrs["data-value"]), confusion[i][j]);
  }
  const cellText = byTag(svg, "text", "cell-label").map(textOf);
  assert.equal(cellText.length, 100);
  assert.equal(cellText[0], "950");
  assert.equal(cellText[11], "951");
  assert.equal(cellText[1], String(confusion[0][1]));
  const ticks = byTag(svg, "text", "tick").map(textOf);
  assert.deepEqual(ticks.slice(0, 10), labels, "column labels");
  assert.deepEqual(byTag(svg, "text", "axis-label").map(textOf), ["predicted", "true label"]);
  assert.equal(textOf(byTag(svg, "text", "chart-title")[0]), "Confusion <matrix>");
  // A darker fill for a larger count; a zero is the lightest colour.
  const fill = (i: number, j: number) =>
    cells.find((c) => c.attrs["data-row"] === String(i) && c.attrs["data-col"] === String(j))!
      .attrs.fill;
  assert.ok(luminance(fill(3, 3)) < luminance(fill(0, 3)));
  assert.ok(luminance(fill(0, 3)) < luminance(fill(0, 0 + 4)) || confusion[0][4] >= 3);
  assert.equal(fill(0, 4), "#f7fbff", "zero count");
  // Colour scale: a gradient with stops and labels from 0 to the maximum on a log scale.
  assert.equal(byTag(svg, "linearGradient")[0].attrs.id, "cm-scale");
  assert.equal(byTag(svg, "rect", "scale-bar")[0].attrs.fill, "url(#cm-scale)");
  assert.deepEqual(ticks.slice(20), ["0", "1", "10", "100", "959"]);
});

Deno.test("heatMap rejects label counts that do not match the matrix", () => {
  assert.throws(
    () =>
      heatMap({
        id: "x",
        title: "t",
        values: [[1, 2], [3, 4]],
        rowLabels: ["a"],
        colLabels: ["a", "b"],
        rowTitle: "r",
        colTitle: "c",
      }),
    /2x2 values need 2 row and 2 column labels, got 1 and 2/,
  );
});
