import assert from "node:assert/strict";
import { digitGrid, imageGrid, mapImage } from "../../../src/cli/report/images.ts";
import { byTag, parse, textOf } from "./xml.ts";

function pngSize(href: string): [number, number] {
  const b64 = href.replace(/^data:image\/png;base64,/, "");
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const dv = new DataView(bytes.buffer);
  return [dv.getUint32(16), dv.getUint32(20)];
}

const map = (w: number, h: number, f: (i: number) => number) => ({
  width: w,
  height: h,
  values: Array.from({ length: w * h }, (_, i) => f(i)),
});

Deno.test("imageGrid: an <image class=map> per item with its caption, a shared colour scale", () => {
  const items = Array.from({ length: 6 }, (_, k) => ({
    map: map(28, 28, (i) => (i % 28) * k),
    caption: `map ${k} <&>`,
  }));
  const fig = parse(imageGrid({ items, caption: "conv1 <activations>" }));
  const maps = byTag(fig, "image", "map");
  assert.equal(maps.length, 6);
  assert.deepEqual(pngSize(maps[0].attrs.href), [28, 28]);
  assert.equal(maps[0].attrs.width, maps[0].attrs.height);
  assert.deepEqual(byTag(fig, "text", "caption").map(textOf), items.map((i) => i.caption));
  assert.equal(textOf(byTag(fig, "figcaption")[0]), "conv1 <activations>");
  assert.equal(byTag(fig, "figure")[0].attrs["data-colormap"], "ink");
  assert.equal(byTag(fig, "image", "scale").length, 1);
  const scaleLabels = byTag(fig, "g", "color-scale").flatMap((g) => byTag(g, "text")).map(textOf);
  assert.deepEqual(scaleLabels, ["0", "135"]);
});

Deno.test("imageGrid picks the diverging map for signed values and labels 0 in the middle", () => {
  const fig = parse(imageGrid({ items: [{ map: map(4, 3, (i) => i - 5) }] }));
  assert.equal(byTag(fig, "figure")[0].attrs["data-colormap"], "diverging");
  const labels = byTag(fig, "g", "color-scale").flatMap((g) => byTag(g, "text")).map(textOf);
  assert.deepEqual(labels, ["-6", "6", "0"]);
});

Deno.test("imageGrid with per-map ranges has no shared scale; 5x5 maps are scaled up", () => {
  const fig = parse(imageGrid({
    items: [{ map: map(5, 5, (i) => i) }, { map: map(5, 5, (i) => -i) }],
    range: "each",
    size: 50,
  }));
  assert.equal(byTag(fig, "image", "scale").length, 0);
  assert.equal(byTag(fig, "image", "map")[0].attrs.width, "50");
});

Deno.test("mapImage rejects a value count that does not match the size", () => {
  assert.throws(
    () => mapImage({ width: 3, height: 3, values: [1, 2] }, 0, 0, 1, "ink", { lo: 0, hi: 1 }),
    /3x3 map needs 9 values, got 2/,
  );
});

Deno.test("digitGrid: image, 10 probability bars (prediction and truth marked), caption", () => {
  const probs = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.55];
  const svg = parse(digitGrid([
    {
      pixels: new Array(784).fill(0),
      probabilities: probs,
      prediction: 9,
      label: 4,
      caption: "#7",
    },
    {
      pixels: new Array(784).fill(255),
      probabilities: probs,
      prediction: 9,
      label: 9,
      caption: "#8",
    },
  ], 2));
  const cards = byTag(svg, "g", "digit");
  assert.equal(cards.length, 2);
  const bars = byTag(cards[0], "rect").filter((r) => r.attrs["data-class"] !== undefined);
  assert.equal(bars.length, 10);
  assert.deepEqual(bars.map((b) => Number(b.attrs["data-p"])), probs);
  assert.equal(bars[9].attrs.class, "prob-bar wrong");
  assert.equal(bars[4].attrs.class, "prob-bar truth");
  assert.ok(Number(bars[9].attrs.width) > Number(bars[8].attrs.width));
  const right = byTag(cards[1], "rect").filter((r) => r.attrs["data-class"] === "9")[0];
  assert.equal(right.attrs.class, "prob-bar right");
  assert.equal(byTag(svg, "image", "map").length, 2);
  assert.deepEqual(byTag(svg, "text", "caption").map(textOf), ["#7", "#8"]);
  // Captions sit below both the image and the bars.
  const capY = Number(byTag(cards[0], "text", "caption")[0].attrs.y);
  const lastBar = bars[9];
  assert.ok(capY > Number(lastBar.attrs.y) + Number(lastBar.attrs.height));
});
