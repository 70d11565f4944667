import assert from "node:assert/strict";
import {
  boundingBox,
  centerOfMass,
  correlation,
  inkFromRgba,
  mnistStyle,
  resizeArea,
} from "../../../src/cli/demo/preprocess.ts";
import { testDigits } from "../mnist_fixture.ts";

/** A `w x h` image with the rectangle [x0, x1) x [y0, y1) inked. */
function rect(w: number, h: number, x0: number, y0: number, x1: number, y1: number) {
  const a = new Float32Array(w * h);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) a[y * w + x] = 1;
  return a;
}

/** Nearest-neighbour upscaling by `k` (what drawing a 28x28 digit on a 280x280 pad amounts to). */
function upscale(px: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(784 * k * k);
  for (let y = 0; y < 28 * k; y++) {
    for (let x = 0; x < 28 * k; x++) {
      out[y * 28 * k + x] = px[Math.floor(y / k) * 28 + Math.floor(x / k)] / 255;
    }
  }
  return out;
}

Deno.test("inkFromRgba reads the alpha channel", () => {
  const rgba = new Uint8Array([0, 0, 0, 255, 9, 9, 9, 0, 0, 0, 0, 51]);
  assert.deepEqual(Array.from(inkFromRgba(rgba, 3, 1)), [1, 0, Math.fround(0.2)]);
  assert.throws(() => inkFromRgba(rgba, 2, 2), /2x2 RGBA needs 16 bytes, got 12/);
});

Deno.test("boundingBox: exclusive ends, null when empty", () => {
  assert.deepEqual(boundingBox(rect(10, 8, 2, 3, 5, 7), 10, 8), { x0: 2, y0: 3, x1: 5, y1: 7 });
  assert.equal(boundingBox(new Float32Array(80), 10, 8), null);
  const faint = new Float32Array(80).fill(0.04);
  assert.equal(boundingBox(faint, 10, 8), null, "anti-aliasing dust below the threshold");
});

Deno.test("resizeArea: exact area averages; mean and constants preserved", () => {
  // 4 -> 2 averages pairs; 3 -> 2 splits the middle cell half and half.
  assert.deepEqual(Array.from(resizeArea([1, 3, 5, 7], 4, 1, 2, 1)), [2, 6]);
  const r = resizeArea([3, 6, 9], 3, 1, 2, 1);
  assert.ok(Math.abs(r[0] - 4) < 1e-12 && Math.abs(r[1] - 8) < 1e-12, `${r}`);
  const img = Float64Array.from({ length: 37 * 23 }, (_, i) => (i * 7919) % 13);
  const small = resizeArea(img, 37, 23, 11, 7);
  const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(small) - mean(img)) < 1e-9);
  assert.ok(
    resizeArea(new Float64Array(50).fill(0.7), 10, 5, 3, 2).every((v) => Math.abs(v - 0.7) < 1e-12),
  );
});

Deno.test("centerOfMass in continuous coordinates", () => {
  assert.deepEqual(centerOfMass(rect(10, 10, 2, 4, 4, 6), 10, 10), [3, 5]);
  assert.deepEqual(centerOfMass(new Float32Array(4), 2, 2), [1, 1]);
});

Deno.test("mnistStyle: longer side 20, aspect kept, centre of mass at pixel (14, 14)", () => {
  // A 100x200 block in a corner of a 280x280 pad -> a 10x20 block centred in 28x28.
  const out = mnistStyle(rect(280, 280, 0, 0, 100, 200), 280, 280);
  const bb = boundingBox(out, 28, 28)!;
  assert.deepEqual([bb.x1 - bb.x0, bb.y1 - bb.y0], [10, 20]);
  const [cx, cy] = centerOfMass(out, 28, 28);
  // Continuous coordinates: pixel index 14 spans [14, 15), its centre is 14.5.
  assert.ok(Math.abs(cx - 14.5) <= 0.5 && Math.abs(cy - 14.5) <= 0.5, `${cx}, ${cy}`);
  assert.ok(out.every((v) => v >= 0 && v <= 1));
  // A thin vertical stroke stays thin (20 tall, 1-2 wide), not stretched into a square.
  const bar = boundingBox(mnistStyle(rect(280, 280, 130, 40, 150, 240), 280, 280), 28, 28)!;
  assert.equal(bar.y1 - bar.y0, 20);
  assert.ok(bar.x1 - bar.x0 <= 3);
  assert.ok(mnistStyle(new Float32Array(280 * 280), 280, 280).every((v) => v === 0));
});

Deno.test("mnistStyle undoes a 10x drawing of real MNIST digits (correlation > 0.95)", async () => {
  for (const d of await testDigits(20)) {
    const back = mnistStyle(upscale(d.pixels, 10), 280, 280);
    const r = correlation(back, Array.from(d.pixels, (v) => v / 255));
    assert.ok(r > 0.95, `digit #${d.index} (${d.label}): correlation ${r.toFixed(3)}`);
  }
});

Deno.test("correlation: 1 for affine copies, -1 for negatives, 0 for constants", () => {
  const a = [1, 2, 3, 5];
  assert.ok(Math.abs(correlation(a, a.map((v) => 3 * v + 1)) - 1) < 1e-12);
  assert.ok(Math.abs(correlation(a, a.map((v) => -v)) + 1) < 1e-12);
  assert.equal(correlation(a, [2, 2, 2, 2]), 0);
  assert.throws(() => correlation([1], [1, 2]), /lengths 1 and 2/);
});
