import assert from "node:assert/strict";
import { decodeImage, preprocessDigit, readImageFile } from "../../src/lenet/image.ts";
import { encodePng } from "../../src/lenet/png.ts";
import { encodePgm } from "../../src/lenet/pnm.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import { mnistTestDigits } from "./mnist_sample.ts";

const asImage = (pixels: Uint8Array, h = 28, w = 28) =>
  new Tensor(Float32Array.from(pixels, (v) => v / 255), [h, w]);

function ok(r: ReturnType<typeof preprocessDigit>): Tensor {
  if (r._tag === "Left") throw r.left;
  return r.right;
}

function centerOfMass(t: Tensor): [number, number] {
  const [h, w] = t.shape;
  let m = 0, y = 0, x = 0;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      [m, y, x] = [m + t.data[r * w + c], y + r * t.data[r * w + c], x + c * t.data[r * w + c]];
    }
  }
  return [y / m, x / m];
}

function cosine(a: Tensor, b: Tensor): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.size; i++) {
    [ab, aa, bb] = [ab + a.data[i] * b.data[i], aa + a.data[i] ** 2, bb + b.data[i] ** 2];
  }
  return ab / Math.sqrt(aa * bb);
}

Deno.test("a bar is cropped, scaled to 20 pixels and centered by its center of mass", () => {
  // A 4x12 white bar at (row 3, col 30) of a black 40x50 image.
  const data = new Float32Array(40 * 50);
  for (let r = 3; r < 15; r++) for (let c = 30; c < 34; c++) data[r * 50 + c] = 1;
  const out = ok(preprocessDigit(new Tensor(data, [40, 50])));
  assert.deepEqual(out.shape, [28, 28]);
  // 12 rows -> 20, 4 columns -> round(4 * 20 / 12) = 7. Center of mass (9.5, 3) of the 20x7 bar
  // goes to (14, 14): shift round(4.5) = 5 rows, 11 columns.
  for (let r = 0; r < 28; r++) {
    for (let c = 0; c < 28; c++) {
      const inside = r >= 5 && r < 25 && c >= 11 && c < 18;
      assert.equal(out.data[r * 28 + c], inside ? 1 : 0, `(${r}, ${c})`);
    }
  }
  // A wide bar keeps its aspect ratio: 30x6 -> 20x4.
  const wide = new Float32Array(20 * 40);
  for (let r = 5; r < 11; r++) for (let c = 2; c < 32; c++) wide[r * 40 + c] = 1;
  const w = ok(preprocessDigit(new Tensor(wide, [20, 40])));
  const rows = new Set<number>(), cols = new Set<number>();
  w.data.forEach((v, i) => v > 0.5 && (rows.add(Math.floor(i / 28)), cols.add(i % 28)));
  assert.deepEqual([rows.size, cols.size], [4, 20]);
});

Deno.test("MNIST test digits pass through (nearly) unchanged: the same normalization", async () => {
  const { images } = await mnistTestDigits(100);
  let identical = 0;
  for (const pixels of images) {
    const img = asImage(pixels);
    const out = ok(preprocessDigit(img));
    let maxDiff = 0;
    for (let i = 0; i < 784; i++) maxDiff = Math.max(maxDiff, Math.abs(out.data[i] - img.data[i]));
    if (maxDiff < 1e-6) identical++;
    assert.ok(cosine(out, img) > 0.99, `cosine ${cosine(out, img)}`);
  }
  assert.ok(identical >= 75, `only ${identical} of 100 digits reproduced exactly`);
});

Deno.test("a shifted, enlarged digit drawn dark on light paper ends up MNIST-like and centered", async () => {
  const { images } = await mnistTestDigits(5);
  for (const pixels of images) {
    const reference = ok(preprocessDigit(asImage(pixels)));
    // 3x nearest-neighbour enlargement, placed off-center on a 150x120 page: paper 0.9, ink 0.1.
    const page = new Float32Array(150 * 120).fill(0.9);
    for (let r = 0; r < 84; r++) {
      for (let c = 0; c < 84; c++) {
        page[(r + 60) * 120 + c + 5] = 0.9 -
          0.8 * pixels[Math.floor(r / 3) * 28 + Math.floor(c / 3)] / 255;
      }
    }
    const out = ok(preprocessDigit(new Tensor(page, [150, 120]), "page.png"));
    const [cy, cx] = centerOfMass(out);
    assert.ok(
      Math.abs(cy - 14) <= 0.5 && Math.abs(cx - 14) <= 0.5,
      `center of mass (${cy}, ${cx})`,
    );
    assert.ok(cosine(out, reference) > 0.95, `cosine to the MNIST digit ${cosine(out, reference)}`);
    assert.ok(Math.max(...out.data) === 1 && Math.min(...out.data) === 0);
  }
});

Deno.test("polarity: an inverted image gives the same result; forcing the wrong one finds no ink", async () => {
  const { images } = await mnistTestDigits(3);
  for (const pixels of images) {
    const img = asImage(pixels);
    const inverted = new Tensor(img.data.map((v) => 1 - v), img.shape);
    const a = ok(preprocessDigit(img)), b = ok(preprocessDigit(inverted));
    let maxDiff = 0;
    for (let i = 0; i < a.size; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - b.data[i]));
    assert.ok(maxDiff < 1e-5, `max difference ${maxDiff}`);
    const forced = preprocessDigit(inverted, "x", { invert: false });
    assert.equal(
      forced._tag === "Left" ? forced.left.message : "accepted",
      "x: no ink: nothing is lighter than the background (gray level 1.000); check the " +
        "polarity (invert: false)",
    );
    const forcedTrue = ok(preprocessDigit(inverted, "x", { invert: true }));
    assert.deepEqual(forcedTrue.data, b.data);
  }
});

Deno.test("blank images are rejected with a clear message", () => {
  const r = preprocessDigit(new Tensor(new Float32Array(100).fill(0.7), [10, 10]), "blank.png");
  assert.equal(
    r._tag === "Left" ? r.left.message : "accepted",
    "blank.png: the image is blank (uniform gray level 0.700): no digit to read",
  );
});

Deno.test("MNIST digits written as PNG and PGM read back exactly and preprocess the same", async () => {
  const { images } = await mnistTestDigits(4);
  const dir = await Deno.makeTempDir();
  try {
    for (const [i, pixels] of images.entries()) {
      const img = asImage(pixels);
      await Deno.writeFile(`${dir}/${i}.png`, await encodePng(img));
      await Deno.writeFile(`${dir}/${i}.pgm`, encodePgm(img));
      for (const ext of ["png", "pgm"]) {
        const r = await readImageFile(`${dir}/${i}.${ext}`)();
        assert.ok(r._tag === "Right", r._tag === "Left" ? r.left.message : "");
        assert.deepEqual(r.right.data, img.data, `${i}.${ext}`);
      }
    }
    const missing = await readImageFile(`${dir}/none.png`)();
    assert.ok(
      missing._tag === "Left" &&
        /none.png: cannot read the file: No such file/.test(missing.left.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const unknown = await decodeImage(new TextEncoder().encode("GIF89a"), "x.gif");
  assert.equal(
    unknown._tag === "Left" ? unknown.left.message : "accepted",
    "x.gif: byte 0: unknown image format: expected a PNG or a PGM/PPM (P2, P3, P5, P6) file",
  );
});
