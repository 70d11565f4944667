import assert from "node:assert/strict";
import { dataset, datasetImages, sliceDataset } from "../../src/lenet/dataset.ts";
import { TensorError } from "../../src/tensor/errors.ts";

Deno.test("dataset: datasetImages scales bytes to (p/255 - mean)/std in the asked dtype", () => {
  const pixels = new Uint8Array(3 * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = i % 256;
  const d = dataset(pixels, new Uint8Array([1, 2, 3]));
  const x = datasetImages(d);
  assert.deepEqual(x.shape, [3, 1, 28, 28]);
  assert.equal(x.dtype, "float32");
  for (let p = 0; p < 256; p++) assert.equal(x.data[p], Math.fround(p / 255));
  const s = dataset(pixels, new Uint8Array([1, 2, 3]), { mean: 0.5, std: 0.25 });
  const y = datasetImages(s, 1, 2, "float64");
  assert.equal(y.dtype, "float64");
  assert.deepEqual(y.shape, [2, 1, 28, 28]);
  const byte = pixels[784 + 10];
  assert.ok(Math.abs(y.data[10] - (byte / 255 - 0.5) / 0.25) < 1e-12);
  // a fresh buffer each time: writing into one result does not touch another
  const a = datasetImages(d, 0, 1), b = datasetImages(d, 0, 1);
  a.data[0] = 42;
  assert.equal(b.data[0], 0);
});

Deno.test("dataset: slices share the bytes; bad sizes and ranges name the fix", () => {
  const pixels = Uint8Array.from({ length: 4 * 784 }, (_, i) => i >> 8);
  const d = dataset(pixels, new Uint8Array([0, 1, 2, 3]));
  const s = sliceDataset(d, 1, 2);
  assert.equal(s.count, 2);
  assert.deepEqual(Array.from(s.labels), [1, 2]);
  assert.equal(s.pixels.buffer, pixels.buffer);
  assert.equal(s.pixels[0], pixels[784]);
  assert.throws(() => dataset(pixels, new Uint8Array(3)), TensorError);
  assert.throws(() => dataset(pixels, new Uint8Array(4), { mean: 0, std: 0 }), /std > 0/);
  assert.throws(() => sliceDataset(d, 3, 2), /not within the 4/);
  assert.throws(() => datasetImages(d, -1, 1), /not within/);
});
