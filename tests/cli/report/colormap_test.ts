import assert from "node:assert/strict";
import {
  autoRange,
  colorAt,
  cssColor,
  pickColorMap,
  toRgb,
} from "../../../src/cli/report/colormap.ts";

Deno.test("colour maps: ends, diverging midpoint white-ish, clamping and NaN", () => {
  assert.deepEqual(colorAt("ink", 0), [255, 255, 255]);
  assert.deepEqual(colorAt("ink", 1), [0, 0, 0]);
  assert.deepEqual(colorAt("ink", 0.5), [128, 128, 128]);
  assert.deepEqual(colorAt("diverging", 0.5), [247, 247, 247]);
  assert.deepEqual(colorAt("diverging", 0), [33, 102, 172]); // blue for negative
  assert.deepEqual(colorAt("diverging", 1), [178, 24, 43]); // red for positive
  assert.deepEqual(colorAt("heat", -3), colorAt("heat", 0));
  assert.deepEqual(colorAt("heat", 7), colorAt("heat", 1));
  assert.deepEqual(colorAt("heat", NaN), colorAt("heat", 0));
  assert.equal(cssColor([255, 0, 16]), "#ff0010");
});

Deno.test("autoRange: symmetric for diverging, from min(0, lo) otherwise, never empty", () => {
  assert.deepEqual(autoRange([-1, 3, 2], "diverging"), { lo: -3, hi: 3 });
  assert.deepEqual(autoRange([2, 5], "ink"), { lo: 0, hi: 5 });
  assert.deepEqual(autoRange([-2, 5], "ink"), { lo: -2, hi: 5 });
  assert.deepEqual(autoRange([0, 0], "ink"), { lo: 0, hi: 1 });
  assert.deepEqual(autoRange([0, 0], "diverging"), { lo: -1, hi: 1 });
  assert.deepEqual(autoRange([], "ink"), { lo: 0, hi: 1 });
  assert.equal(pickColorMap([0, 1, 2]), "ink");
  assert.equal(pickColorMap([0, -1e-9]), "diverging");
});

Deno.test("toRgb maps values through the range: zero of a diverging map is the middle colour", () => {
  const rgb = toRgb([-2, 0, 2, NaN], "diverging", { lo: -2, hi: 2 });
  assert.deepEqual([...rgb.subarray(0, 3)], colorAt("diverging", 0));
  assert.deepEqual([...rgb.subarray(3, 6)], colorAt("diverging", 128 / 255));
  assert.deepEqual([...rgb.subarray(6, 9)], colorAt("diverging", 1));
  assert.deepEqual([...rgb.subarray(9, 12)], colorAt("diverging", 0));
});
