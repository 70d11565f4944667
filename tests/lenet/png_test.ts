import assert from "node:assert/strict";
import { crc32, decodePng, encodePng } from "../../src/lenet/png.ts";
import { ImageError } from "../../src/lenet/raster.ts";
import { fromData, type Tensor } from "../../src/tensor/tensor.ts";

const W = 7, H = 5;
const fixture = (name: string) => Deno.readFile(new URL(`fixtures/${name}`, import.meta.url));
const grid = (f: (x: number, y: number) => number) => {
  const out: number[] = [];
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out.push(f(x, y));
  return out;
};
const lum = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;
const g8 = grid((x, y) => (37 * x + 53 * y) % 256);
const rgb: [number, number, number][] = [];
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) rgb.push([(40 * x) % 256, (60 * y) % 256, (23 * x * y + 11) % 256]);
}
const PAL = [[255, 0, 0], [0, 128, 0], [10, 20, 250], [255, 255, 255]];

async function decoded(bytes: Uint8Array, name = "t.png"): Promise<Tensor> {
  const r = await decodePng(bytes, name);
  if (r._tag === "Left") throw r.left;
  return r.right;
}

function near(img: Tensor, want: number[], what: string) {
  assert.deepEqual(img.shape, [H, W], what);
  for (let i = 0; i < want.length; i++) {
    assert.ok(
      Math.abs(img.data[i] - want[i]) < 1e-6,
      `${what}[${i}]: ${img.data[i]} != ${want[i]}`,
    );
  }
}

Deno.test("crc32 check values", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new TextEncoder().encode("IEND")), 0xae426082);
});

Deno.test("decodes grayscale PNGs of every bit depth written by ImageMagick", async () => {
  near(await decoded(await fixture("g1.png")), grid((x, y) => (x + y) % 2), "g1");
  near(await decoded(await fixture("g2.png")), grid((x, y) => ((x + 2 * y) % 4) / 3), "g2");
  near(await decoded(await fixture("g4.png")), grid((x, y) => ((3 * x + 5 * y) % 16) / 15), "g4");
  near(await decoded(await fixture("g8_im_adaptive.png")), g8.map((v) => v / 255), "g8");
  near(
    await decoded(await fixture("g16.png")),
    grid((x, y) => ((9001 * x + 13007 * y) % 65536) / 65535),
    "g16",
  );
});

Deno.test("each of the five filter types (pngjs, one filter for every row)", async () => {
  for (let f = 0; f <= 4; f++) {
    near(await decoded(await fixture(`g8_pngjs_f${f}.png`)), g8.map((v) => v / 255), `filter ${f}`);
  }
  // Average and Paeth with 3 bytes per pixel (the "left" neighbour is 3 bytes back).
  const color = rgb.map(([r, g, b]) => lum(r, g, b) / 255);
  near(await decoded(await fixture("rgb8_pngjs_f3.png")), color, "rgb8 average");
  near(await decoded(await fixture("rgb8.png")), color, "rgb8 sub/Paeth");
});

Deno.test("decodes RGB 16-bit, palettes, tRNS, alpha and Adam7 interlacing", async () => {
  const color = rgb.map(([r, g, b]) => lum(r, g, b) / 255);
  near(
    await decoded(await fixture("rgb16.png")),
    rgb.map(([r, g, b], i) => lum(257 * r + (i % W), 257 * g + Math.floor(i / W), 257 * b) / 65535),
    "rgb16",
  );
  const pal = grid((x, y) => lum(...(PAL[(x + y) % 4] as [number, number, number])) / 255);
  near(await decoded(await fixture("pal2.png")), pal, "palette 2-bit");
  near(await decoded(await fixture("pal8.png")), pal, "palette 8-bit");
  // White is transparent; the opaque pixels are dark, so the background is white again.
  near(await decoded(await fixture("pal8_trns.png")), pal, "palette + tRNS");
  near(await decoded(await fixture("rgb8_adam7.png")), color, "rgb8 Adam7");
  near(await decoded(await fixture("g1_adam7.png")), grid((x, y) => (x + y) % 2), "g1 Adam7");
  // RGBA (alpha = g8) and gray+alpha (alpha = g4): composited over the background opposite
  // to the alpha-weighted mean ink level.
  const composite = (y: number[], a: number[]) => {
    const mean = y.reduce((s, v, i) => s + v * a[i], 0) / a.reduce((s, v) => s + v, 0);
    const bg = mean < 0.5 ? 1 : 0;
    return y.map((v, i) => a[i] * v + (1 - a[i]) * bg);
  };
  near(await decoded(await fixture("rgba8.png")), composite(color, g8.map((v) => v / 255)), "rgba");
  const a4 = grid((x, y) => ((3 * x + 5 * y) % 16) / 15);
  near(await decoded(await fixture("ga8.png")), composite(g8.map((v) => v / 255), a4), "ga");
});

// ---- Hand-built files: chunks assembled here, zlib from CompressionStream. ----

async function zlib(raw: number[]): Promise<Uint8Array> {
  const s = new Blob([new Uint8Array(raw)]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

function chunk(type: string, data: ArrayLike<number>): number[] {
  const body = [...new TextEncoder().encode(type), ...Array.from(data)];
  const n = data.length, c = crc32(new Uint8Array(body));
  return [
    n >>> 24,
    (n >> 16) & 255,
    (n >> 8) & 255,
    n & 255,
    ...body,
    c >>> 24,
    (c >> 16) & 255,
    (c >> 8) & 255,
    c & 255,
  ];
}

const be32 = (n: number) => [n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255];
const SIG = [137, 80, 78, 71, 13, 10, 26, 10];

async function png(
  w: number,
  h: number,
  depth: number,
  colorType: number,
  raw: number[],
  extra: number[][] = [],
  interlace = 0,
): Promise<Uint8Array> {
  const ihdr = chunk("IHDR", [...be32(w), ...be32(h), depth, colorType, 0, 0, interlace]);
  return new Uint8Array([
    ...SIG,
    ...ihdr,
    ...extra.flat(),
    ...chunk("IDAT", await zlib(raw)),
    ...chunk("IEND", []),
  ]);
}

// A 3x2 image [[10, 20, 30], [15, 5, 200]] and its rows under each filter, computed by hand:
// sub: x - left; up: x - above; average: x - floor((left + above) / 2);
// Paeth: x - (whichever of left, above, upper-left is closest to left + above - upper-left).
const IMG = [10, 20, 30, 15, 5, 200];
const FILTERED: number[][] = [
  [0, 10, 20, 30, 0, 15, 5, 200],
  [1, 10, 10, 10, 1, 15, 246, 195],
  [2, 10, 20, 30, 2, 5, 241, 170],
  [3, 10, 15, 20, 3, 10, 244, 183],
  [4, 10, 10, 10, 4, 5, 241, 180],
];

Deno.test("hand-computed filter rows decode to the image, and encodePng writes them", async () => {
  for (const rows of FILTERED) {
    const img = await decoded(await png(3, 2, 8, 0, rows));
    assert.deepEqual(Array.from(img.data, (v) => Math.round(v * 255)), IMG, `filter ${rows[0]}`);
    // A stored (uncompressed) zlib stream shows the scanlines verbatim after 8 + 25 + 8 + 2 + 5
    // bytes (signature, IHDR, IDAT head, zlib head, stored block head).
    const f = rows[0] as 0 | 1 | 2 | 3 | 4;
    const enc = await encodePng(fromData(IMG.map((v) => v / 255), [2, 3]), {
      filter: f,
      compression: "stored",
    });
    assert.deepEqual(Array.from(enc.subarray(48, 56)), rows, `encoder filter ${f}`);
  }
  // Rows may mix filters within one image.
  const mixed = [FILTERED[3].slice(0, 4), FILTERED[4].slice(4)].flat();
  assert.deepEqual(
    Array.from((await decoded(await png(3, 2, 8, 0, mixed))).data, (v) => Math.round(v * 255)),
    IMG,
  );
});

Deno.test("Paeth ties: left before upper-left, above before upper-left", async () => {
  // Image [[15, 20], [5, 100]]: at (1, 1) a = 5, b = 20, c = 15, p = 10, |p-a| = |p-c| = 5 < 10,
  // so the predictor is a (5): 100 - 5 = 95. At (0, 1): b = 15 (a = c = 0): 5 - 15 = 246.
  // Image [[10, 20], [5, 100]]: at (1, 1) a = 5, b = 20, c = 10, p = 15, |p-b| = |p-c| = 5,
  // so the predictor is b (20): 100 - 20 = 80. At (0, 1): 5 - 10 = 251.
  const cases: [number[], number[]][] = [
    [[15, 20, 5, 100], [4, 15, 5, 4, 246, 95]],
    [[10, 20, 5, 100], [4, 10, 10, 4, 251, 80]],
  ];
  for (const [pixels, rows] of cases) {
    const img = await decoded(await png(2, 2, 8, 0, rows));
    assert.deepEqual(Array.from(img.data, (v) => Math.round(v * 255)), pixels);
    const enc = await encodePng(fromData(pixels.map((v) => v / 255), [2, 2]), {
      filter: 4,
      compression: "stored",
    });
    assert.deepEqual(Array.from(enc.subarray(48, 54)), rows);
  }
});

Deno.test("hand-built Adam7 image: 3x3 pixels spread over passes 1, 4, 5, 6 and 7", async () => {
  const p = [[11, 12, 13], [21, 22, 23], [31, 32, 33]]; // p[y][x]
  // pass 1: (0,0); 2 and 3: empty; 4: (2,0); 5: (0,2), (2,2); 6: (1,0), (1,2); 7: row 1
  const raw = [0, p[0][0], 0, p[0][2], 0, p[2][0], p[2][2], 0, p[0][1], 0, p[2][1], 0, ...p[1]];
  const img = await decoded(await png(3, 3, 8, 0, raw, [], 1));
  assert.deepEqual(Array.from(img.data, (v) => Math.round(v * 255)), p.flat());
});

Deno.test("transparent background: dark ink goes on white, light ink on black", async () => {
  // gray+alpha pixels (value, alpha): transparent black around opaque dark gray 51 (0.2).
  const dark = await decoded(await png(4, 1, 8, 4, [0, 0, 0, 51, 255, 0, 0, 51, 255]));
  near2(dark, [1, 0.2, 1, 0.2]);
  const light = await decoded(await png(2, 1, 8, 4, [0, 255, 0, 230, 255]));
  near2(light, [0, 230 / 255]);
  // Half-transparent dark ink over the white background: 0.5 * 0.2 + 0.5 * 1.
  const half = await decoded(await png(2, 1, 8, 4, [0, 51, 255, 51, 128]));
  near2(half, [0.2, (128 / 255) * 0.2 + (1 - 128 / 255)]);
  // tRNS on a gray image: sample value 0 is transparent.
  const keyed = await decoded(await png(2, 1, 8, 0, [0, 0, 51], [chunk("tRNS", [0, 0])]));
  near2(keyed, [1, 0.2]);
});

function near2(img: Tensor, want: number[]) {
  assert.equal(img.size, want.length);
  want.forEach((v, i) =>
    assert.ok(Math.abs(img.data[i] - v) < 1e-6, `${i}: ${img.data[i]} != ${v}`)
  );
}

Deno.test("encodePng round trip: deflate and stored, every filter", async () => {
  const img = fromData(Array.from({ length: 28 * 28 }, (_, i) => ((i * 7919) % 256) / 255), [
    28,
    28,
  ]);
  for (const compression of ["deflate", "stored"] as const) {
    for (const filter of [0, 1, 2, 3, 4] as const) {
      const back = await decoded(await encodePng(img, { filter, compression }));
      assert.deepEqual(back.data, img.data, `${compression} ${filter}`);
    }
  }
  // More than one stored block (65,535 bytes each); compared element-wise to keep failures short.
  const big = fromData(new Float32Array(300 * 300).map((_, i) => (i % 256) / 255), [300, 300]);
  const back = await decoded(await encodePng(big, { compression: "stored" }));
  const firstDiff = back.data.findIndex((v, i) => v !== big.data[i]);
  assert.equal(firstDiff, -1, `first difference at ${firstDiff}`);
  // Values are rounded to 8 bits: 0.5 -> 128 / 255, and clamped to [0, 1].
  const rounded = await decoded(await encodePng(fromData([0.5, -3, 7, NaN], [1, 4])));
  assert.deepEqual(Array.from(rounded.data), [128, 0, 255, 0].map((v) => Math.fround(v / 255)));
});

async function rejects(bytes: Uint8Array, message: string) {
  const r = await decodePng(bytes, "bad.png");
  assert.equal(r._tag, "Left", `accepted; expected ${message}`);
  if (r._tag === "Left") {
    assert.ok(r.left instanceof ImageError);
    assert.equal(r.left.message, message);
  }
}

Deno.test("rejects malformed PNGs with file, offset or chunk, and reason", async () => {
  const good = await png(3, 2, 8, 0, FILTERED[4]);
  await rejects(
    new TextEncoder().encode("GIF89a"),
    "bad.png: byte 0: not a PNG file (the 8-byte PNG signature is missing)",
  );
  const flipped = good.slice();
  flipped[20] ^= 1; // inside IHDR's data
  await rejects(flipped, "bad.png: byte 29: chunk IHDR: CRC mismatch (the file is corrupt)");
  await rejects(
    good.subarray(0, good.length - 12),
    `bad.png: byte ${good.length - 12}: the file ends before the IEND chunk (truncated?)`,
  );
  await rejects(
    good.subarray(0, 40),
    "bad.png: byte 33: the file ends before the IEND chunk (truncated?)",
  );
  const idatLength = new DataView(good.buffer).getUint32(33); // IDAT starts after 8 + 25 bytes
  await rejects(
    good.subarray(0, 50),
    `bad.png: byte 33: chunk IDAT claims ${idatLength} bytes but only 5 remain (truncated?)`,
  );
  await rejects(
    await png(3, 2, 3, 0, FILTERED[0]),
    "bad.png: byte 24: bit depth 3 is not allowed for color type 0 (allowed: 1, 2, 4, 8, 16)",
  );
  await rejects(await png(3, 2, 8, 5, FILTERED[0]), "bad.png: byte 25: unknown color type 5");
  await rejects(
    await png(3, 2, 8, 0, FILTERED[0], [], 2),
    "bad.png: byte 28: unknown interlace method 2",
  );
  await rejects(await png(0, 2, 8, 0, []), "bad.png: byte 16: image size 0x2 is invalid");
  await rejects(
    await png(3, 2, 8, 0, FILTERED[0].slice(0, 6)),
    "bad.png: IDAT: the image data inflates to 6 bytes, but a 3x2 image needs 8 (truncated?)",
  );
  await rejects(
    await png(3, 2, 8, 0, [...FILTERED[0], 0]),
    "bad.png: IDAT: the image data inflates to more than the 8 bytes a 3x2 image needs",
  );
  await rejects(
    await png(3, 2, 8, 0, [0, 1, 2, 3, 5, 1, 2, 3]),
    "bad.png: IDAT: scanline 1 has filter type 5; valid types are 0 to 4",
  );
  await rejects(await png(3, 2, 8, 3, FILTERED[0]), "bad.png: palette image without a PLTE chunk");
  await rejects(
    await png(2, 1, 8, 3, [0, 0, 1], [chunk("PLTE", [0, 0, 0])]),
    "bad.png: pixel 1,0 uses palette index 1, but PLTE has 1 entries",
  );
  await rejects(
    await png(3, 2, 8, 0, FILTERED[0], [chunk("ZZZZ", [1])]),
    "bad.png: byte 37: unknown critical chunk ZZZZ",
  );
  const corrupt = new Uint8Array([
    ...SIG,
    ...chunk("IHDR", [...be32(3), ...be32(2), 8, 0, 0, 0, 0]),
    ...chunk("IDAT", [0x78, 0x9c, 0xff, 0xff, 0xff]),
    ...chunk("IEND", []),
  ]);
  const r = await decodePng(corrupt, "bad.png");
  assert.ok(
    r._tag === "Left" && r.left.message.startsWith("bad.png: IDAT: the zlib stream is corrupt ("),
    r._tag === "Left" ? r.left.message : "",
  );
  const noIdat = new Uint8Array([
    ...SIG,
    ...chunk("IHDR", [...be32(3), ...be32(2), 8, 0, 0, 0, 0]),
    ...chunk("IEND", []),
  ]);
  await rejects(noIdat, "bad.png: no IDAT chunk: the file holds no image data");
  const gAMAFirst = new Uint8Array([...SIG, ...chunk("gAMA", [0, 0, 0, 1]), ...good.subarray(8)]);
  await rejects(gAMAFirst, "bad.png: byte 8: the first chunk is gAMA, expected IHDR");
  // Ancillary chunks are skipped.
  assert.equal(
    (await decodePng(await png(3, 2, 8, 0, FILTERED[1], [chunk("tEXt", [65, 0, 66])]), "ok.png"))
      ._tag,
    "Right",
  );
});
