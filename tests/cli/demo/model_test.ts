import assert from "node:assert/strict";
import {
  EDGE_KERNELS,
  edgeBankModel,
  loadDemoModel,
  patches3x3,
} from "../../../src/cli/demo/model.ts";
import { fromData } from "../../../src/tensor/tensor.ts";
import { testDigits } from "../mnist_fixture.ts";

/** Direct "same" cross-correlation with zero padding, one kernel, in float64. */
function correlate(img: ArrayLike<number>, k: readonly number[]): Float64Array {
  const out = new Float64Array(784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy, xx = x + dx;
          if (yy >= 0 && yy < 28 && xx >= 0 && xx < 28) {
            s += img[yy * 28 + xx] * k[(dy + 1) * 3 + dx + 1];
          }
        }
      }
      out[y * 28 + x] = s;
    }
  }
  return out;
}

Deno.test("patches3x3: the window around each pixel, zero outside the image", () => {
  const img = Array.from({ length: 784 }, (_, i) => i);
  const p = patches3x3(img);
  assert.deepEqual(p.shape, [784, 9]);
  assert.deepEqual(Array.from(p.data.subarray(0, 9)), [0, 0, 0, 0, 0, 1, 0, 28, 29]);
  const at = (29 * 5 + 0) * 9; // pixel (y=5, x=5) is row 145
  assert.deepEqual(Array.from(p.data.subarray(at, at + 9)), [
    116,
    117,
    118,
    144,
    145,
    146,
    172,
    173,
    174,
  ]);
});

Deno.test("edge bank: conv equals a direct correlation, relu >= 0, pool = max of 2x2 windows", async () => {
  const [d] = await testDigits(1);
  const img = Array.from(d.pixels, (v) => v / 255);
  const out = edgeBankModel().forward(fromData(img, [1, 1, 28, 28]));
  assert.equal(out.prediction, null);
  assert.equal(out.probabilities, null);
  assert.deepEqual(out.layers.map((l) => l.shape), [[6, 28, 28], [6, 28, 28], [6, 14, 14]]);
  const [conv, act, pool] = out.layers;
  EDGE_KERNELS.forEach(([name, k], c) => {
    const ref = correlate(img, k);
    for (let i = 0; i < 784; i++) {
      assert.ok(Math.abs(conv.values[c * 784 + i] - ref[i]) < 1e-5, `${name} at ${i}`);
      assert.equal(act.values[c * 784 + i], Math.max(0, conv.values[c * 784 + i]));
    }
  });
  for (let c = 0; c < 6; c++) {
    for (let y = 0; y < 14; y++) {
      for (let x = 0; x < 14; x++) {
        const a = (yy: number, xx: number) => act.values[c * 784 + yy * 28 + xx];
        const m = Math.max(
          a(2 * y, 2 * x),
          a(2 * y, 2 * x + 1),
          a(2 * y + 1, 2 * x),
          a(2 * y + 1, 2 * x + 1),
        );
        assert.equal(pool.values[c * 196 + y * 14 + x], m);
      }
    }
  }
  // The Sobel-x map of a digit has both signs (left and right edges of strokes).
  const sobel = Array.from(conv.values).slice(0, 784);
  assert.ok(Math.min(...sobel) < -1 && Math.max(...sobel) > 1);
});

Deno.test("edge bank rejects inputs that are not 28x28", () => {
  assert.throws(
    () => edgeBankModel().forward(fromData([1, 2, 3, 4], [1, 1, 2, 2])),
    /\[1, 1, 28, 28\]/,
  );
});

Deno.test("loadDemoModel: the edge bank until LeNet plugs in, with or without a checkpoint", () => {
  for (const ckpt of [null, new Uint8Array([1, 2, 3])]) {
    const m = loadDemoModel(ckpt);
    assert.equal(m.name, "fixed edge bank (no trained model)");
    assert.equal(m.deltas, null);
  }
});
