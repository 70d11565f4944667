import assert from "node:assert/strict";
import { decodePng } from "../../src/lenet/png.ts";
import {
  adler32,
  crc32,
  encodeRasterPng,
  encodeRasterPngDeflate,
  type PngFilter,
  zlibStored,
} from "../../src/lenet/png_encode.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

async function inflate(z: Uint8Array): Promise<Uint8Array> {
  // The platform's zlib decoder checks the header, the block structure and the Adler-32.
  const stream = new Blob([z.slice()]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

interface Chunk {
  type: string;
  data: Uint8Array;
}

/** Splits a PNG into chunks, checking the signature and every CRC. */
function chunks(png: Uint8Array): Chunk[] {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  for (let o = 8; o < png.length;) {
    const len = dv.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    assert.equal(dv.getUint32(o + 8 + len), crc32(png, o + 4, o + 8 + len), `CRC of ${type}`);
    out.push({ type, data: png.subarray(o + 8, o + 8 + len) });
    o += 12 + len;
  }
  return out;
}

Deno.test("crc32 and adler32 match their published check values", () => {
  assert.equal(crc32(ascii("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(adler32(ascii("Wikipedia")), 0x11e60398);
  assert.equal(adler32(new Uint8Array(0)), 1);
});

Deno.test("zlibStored round-trips through DecompressionStream, also across 64 KiB blocks", async () => {
  for (const n of [0, 1, 65535, 65536, 140000]) {
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = (i * 7919) & 0xff;
    const z = zlibStored(data);
    assert.equal((z[0] * 256 + z[1]) % 31, 0, "zlib header check bits");
    assert.deepEqual(await inflate(z), data);
  }
});

Deno.test("encodeRasterPng: IHDR fields, filter bytes and pixels decode back (gray and RGB)", async () => {
  for (const channels of [1, 3] as const) {
    const w = 5, h = 3;
    const pixels = new Uint8Array(w * h * channels).map((_, i) => (i * 37) & 0xff);
    const cs = chunks(encodeRasterPng({ width: w, height: h, channels, pixels }));
    assert.deepEqual(cs.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
    const ih = new DataView(cs[0].data.buffer, cs[0].data.byteOffset, 13);
    assert.equal(ih.getUint32(0), w);
    assert.equal(ih.getUint32(4), h);
    assert.deepEqual([...cs[0].data.subarray(8)], [8, channels === 1 ? 0 : 2, 0, 0, 0]);
    const scan = await inflate(cs[1].data);
    assert.equal(scan.length, h * (w * channels + 1));
    for (let y = 0; y < h; y++) {
      const row = scan.subarray(y * (w * channels + 1));
      assert.equal(row[0], 0, "filter type none");
      assert.deepEqual(
        [...row.subarray(1, 1 + w * channels)],
        [...pixels.subarray(y * w * channels, (y + 1) * w * channels)],
      );
    }
  }
});

Deno.test("encodeRasterPng rejects inconsistent sizes with the numbers involved", () => {
  assert.throws(
    () => encodeRasterPng({ width: 2, height: 2, channels: 3, pixels: new Uint8Array(4) }),
    /2x2 with 3 channel\(s\) needs 12 bytes, got 4/,
  );
  assert.throws(
    () => encodeRasterPng({ width: 0, height: 2, channels: 1, pixels: new Uint8Array(0) }),
    /integers >= 1/,
  );
});

Deno.test("every filter, stored and deflate, gray and RGB: decodePng reads the pixels back", async () => {
  const w = 7, h = 5;
  for (const channels of [1, 3] as const) {
    const pixels = new Uint8Array(w * h * channels).map((_, i) => (i * 89 + (i >> 3) * 13) & 0xff);
    // decodePng reduces color to luminance Y = 0.299 R + 0.587 G + 0.114 B (BT.601)
    const want = Array.from(
      { length: w * h },
      (_, p) =>
        channels === 1
          ? pixels[p] / 255
          : (0.299 * pixels[3 * p] + 0.587 * pixels[3 * p + 1] + 0.114 * pixels[3 * p + 2]) / 255,
    );
    for (const filter of [0, 1, 2, 3, 4] as PngFilter[]) {
      const img = { width: w, height: h, channels, pixels };
      for (const png of [encodeRasterPng(img, filter), await encodeRasterPngDeflate(img, filter)]) {
        // signature (8), IHDR length and type (8), then the colour type at byte 9 of its data
        assert.equal(png[8 + 8 + 9], channels === 1 ? 0 : 2, "IHDR colour type");
        const back = await decodePng(png, `f${filter}`);
        assert.equal(back._tag, "Right");
        if (back._tag !== "Right") continue;
        assert.deepEqual(back.right.shape, [h, w]);
        back.right.data.forEach((v, i) =>
          assert.ok(
            Math.abs(v - want[i]) < 1e-6,
            `channels ${channels}, filter ${filter}, pixel ${i}`,
          )
        );
      }
    }
  }
});
