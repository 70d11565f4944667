import assert from "node:assert/strict";
import { decodePnm, encodePgm } from "../../src/lenet/pnm.ts";
import { fromData, type Tensor } from "../../src/tensor/tensor.ts";

const W = 7, H = 5;
const fixture = (name: string) => Deno.readFile(new URL(`fixtures/${name}`, import.meta.url));
const grid = (f: (x: number, y: number) => number) =>
  Array.from({ length: W * H }, (_, i) => f(i % W, Math.floor(i / W)));
const text = (s: string) => new TextEncoder().encode(s);

function ok(bytes: Uint8Array): Tensor {
  const r = decodePnm(bytes, "t.pgm");
  if (r._tag === "Left") throw r.left;
  return r.right;
}

function near(img: Tensor, want: number[]) {
  assert.equal(img.size, want.length);
  want.forEach((v, i) =>
    assert.ok(Math.abs(img.data[i] - v) < 1e-6, `${i}: ${img.data[i]} != ${v}`)
  );
}

Deno.test("P2 with comments everywhere in the header, and raw P5 / P6 from netpbm", async () => {
  const p2 = ok(text("P2\n# made by hand\n3 # width\n2\n# maxval next\n15\n0 5 10\n15 7 3\n"));
  assert.deepEqual(p2.shape, [2, 3]);
  near(p2, [0, 5, 10, 15, 7, 3].map((v) => v / 15));
  near(ok(await fixture("g8_plain.pgm")), grid((x, y) => ((37 * x + 53 * y) % 256) / 255));
  near(ok(await fixture("g16_raw.pgm")), grid((x, y) => ((9001 * x + 13007 * y) % 65536) / 65535));
  near(
    ok(await fixture("rgb8_raw.ppm")),
    grid((x, y) =>
      (0.299 * ((40 * x) % 256) + 0.587 * ((60 * y) % 256) + 0.114 * ((23 * x * y + 11) % 256)) /
      255
    ),
  );
  // Raw P5 with maxval 1000 (two bytes per sample, most significant first).
  const p5 = new Uint8Array([...text("P5 2 1 1000\n"), 0x03, 0xe8, 0x01, 0xf4]);
  near(ok(p5), [1, 0.5]);
});

Deno.test("encodePgm writes P5 and P2 that decode back", () => {
  const img = fromData([0, 0.5, 1, 0.25, 2, -1], [2, 3]);
  assert.equal(
    new TextDecoder().decode(encodePgm(img, { format: "P2" })),
    "P2\n3 2\n255\n0 128 255\n64 255 0\n",
  );
  const p5 = encodePgm(img);
  assert.deepEqual(Array.from(p5), [...text("P5\n3 2\n255\n"), 0, 128, 255, 64, 255, 0]);
  near(ok(p5), [0, 128, 255, 64, 255, 0].map((v) => v / 255));
  assert.throws(
    () => encodePgm(fromData([1, 2], [2])),
    /expected a grayscale image \[height, width\]/,
  );
});

Deno.test("rejects malformed PGM/PPM with offset and reason", () => {
  const bad = (bytes: Uint8Array, message: string) => {
    const r = decodePnm(bytes, "bad.pgm");
    assert.equal(r._tag === "Left" ? r.left.message : "accepted", message);
  };
  bad(
    text("P4\n1 1\n"),
    'bad.pgm: byte 0: not a PGM/PPM file: expected "P2", "P5", "P3" or "P6", found "P4"',
  );
  bad(
    text("P2\n3\n"),
    "bad.pgm: byte 5: expected the height (a decimal number), found the end of the file",
  );
  bad(
    text("P2\n3 x 255\n"),
    "bad.pgm: byte 5: expected the height (a decimal number), found byte 0x78",
  );
  bad(text("P2\n3 2 0\n"), "bad.pgm: byte 7: maxval 0 must be in 1..65535");
  bad(text("P2\n3 2 70000\n"), "bad.pgm: byte 7: maxval 70000 must be in 1..65535");
  bad(text("P2\n0 2 255\n"), "bad.pgm: byte 3: the width 0 must be in 1..2147483647");
  bad(
    text("P2\n3a 2 255\n"),
    "bad.pgm: byte 4: the width is followed by byte 0x61, expected whitespace",
  );
  bad(text("P2\n2 1 255\n0 256\n"), "bad.pgm: byte 13: sample 1 is 256, above maxval 255");
  bad(
    text("P2\n2 1 255\n0\n"),
    "bad.pgm: byte 13: expected sample 1 of 2 (a decimal number), found the end of the file",
  );
  bad(
    text("P5\n2 2\n255\n\x01\x02\x03"),
    "bad.pgm: byte 11: the raster is 3 bytes, a 2x2 image with maxval 255 needs 4",
  );
  bad(
    new Uint8Array([...text("P5 1 1 100\n"), 200]),
    "bad.pgm: byte 11: sample 0 is 200, above maxval 100",
  );
  bad(
    text("P5 10000 10000 255\n"),
    "bad.pgm: byte 3: image size 10000x10000 is more than 67108864 pixels",
  );
});
