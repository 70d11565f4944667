import assert from "node:assert/strict";
import { either as E } from "npm:fp-ts@2.16.11";
import type { DataError } from "../../src/lenet/data_error.ts";
import { encodeIdx, type IdxArray, parseIdx } from "../../src/lenet/idx.ts";
import { readIdxBytes, readIdxFile } from "../../src/lenet/idx_file.ts";
import { gzip } from "./mirror_server.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

function err<T>(r: E.Either<DataError, T>): DataError & { offset?: number } {
  assert.ok(E.isLeft(r), `expected an error, got ${JSON.stringify(r)}`);
  return r.left;
}

Deno.test("idx: a worked uint8 example (labels 5 0 4) parses to a view of the input", () => {
  const file = bytes(0, 0, 0x08, 1, 0, 0, 0, 3, 5, 0, 4);
  const r = parseIdx(file, "labels");
  assert.ok(E.isRight(r));
  assert.equal(r.right.dtype, "uint8");
  assert.deepEqual(r.right.shape, [3]);
  assert.deepEqual(Array.from(r.right.data), [5, 0, 4]);
  assert.equal(r.right.data.buffer, file.buffer); // zero-copy
});

Deno.test("idx: multi-byte types are big-endian on disk", () => {
  // int16 0x0102 = 258, 0xFFFE = -2; float32 0x3FC00000 = 1.5; int32 0x80000000 = -2^31.
  const i16 = parseIdx(bytes(0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe));
  assert.ok(E.isRight(i16));
  assert.deepEqual(Array.from(i16.right.data), [258, -2]);
  const f32 = parseIdx(bytes(0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0));
  assert.ok(E.isRight(f32));
  assert.deepEqual(Array.from(f32.right.data), [1.5]);
  const i32 = parseIdx(bytes(0, 0, 0x0c, 1, 0, 0, 0, 1, 0x80, 0, 0, 0));
  assert.ok(E.isRight(i32));
  assert.deepEqual(Array.from(i32.right.data), [-(2 ** 31)]);
  const i8 = parseIdx(bytes(0, 0, 0x09, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0x80, 0x7f));
  assert.ok(E.isRight(i8));
  assert.deepEqual(i8.right.shape, [1, 2]);
  assert.deepEqual(Array.from(i8.right.data), [-128, 127]);
});

Deno.test("idx: encodeIdx and parseIdx round-trip every type code", () => {
  const cases: IdxArray[] = [
    { dtype: "uint8", shape: [2, 3], data: new Uint8Array([0, 1, 2, 253, 254, 255]) },
    { dtype: "int8", shape: [3], data: new Int8Array([-128, 0, 127]) },
    { dtype: "int16", shape: [2], data: new Int16Array([-32768, 32767]) },
    { dtype: "int32", shape: [1, 1, 2], data: new Int32Array([-123456789, 987654321]) },
    { dtype: "float32", shape: [2], data: new Float32Array([Math.PI, -0.5]) },
    { dtype: "float64", shape: [2], data: new Float64Array([Math.E, -1e-300]) },
  ];
  for (const c of cases) {
    const r = parseIdx(encodeIdx(c), c.dtype);
    assert.ok(E.isRight(r), c.dtype);
    assert.equal(r.right.dtype, c.dtype);
    assert.deepEqual(r.right.shape, c.shape);
    assert.deepEqual(Array.from(r.right.data), Array.from(c.data));
    assert.equal(r.right.data.constructor, c.data.constructor);
  }
});

Deno.test("idx: each header fault has its own kind, offset, expected and got", () => {
  const cases: [Uint8Array, string, number, RegExp][] = [
    [
      bytes(0, 1, 8, 1, 0, 0, 0, 0),
      "bad-magic",
      1,
      /expected 0x00 0x00 at bytes 0-1, got 0x01 at byte 1/,
    ],
    [bytes(0x1f, 0x8b, 8, 0), "bad-magic", 0, /gzip-compressed: gunzip them first/],
    [bytes(0, 0, 0x0a, 1, 0, 0, 0, 1, 7), "unsupported-type", 2, /got 0x0a/],
    [bytes(0, 0, 8, 0), "bad-dims", 3, /declares no dimensions/],
    [bytes(0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 0), "bad-dims", 8, /dimension 1 of 2 is zero/],
    [bytes(0, 0, 8, 1, 0x80, 0, 0, 0), "bad-dims", 4, /is absurd .*got 2,147,483,648/],
    [
      bytes(0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 1, 0, 0, 0, 1, 0, 0),
      "dims-overflow",
      8,
      /dimensions \[60000, 65536, \.\.\.\] multiply past .*got at least 3,932,160,000/,
    ],
    [
      bytes(0, 0, 8),
      "truncated",
      3,
      /ends inside the header .*at least 4 header bytes, got 3 bytes/,
    ],
    [bytes(0, 0, 8, 3, 0, 0, 0, 2), "truncated", 8, /at least 16 header bytes, got 8 bytes/],
    [
      bytes(0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3),
      "truncated",
      15,
      /expected 16 bytes \(12 header \+ 2 x 2 uint8\), got 15 bytes/,
    ],
    [bytes(0, 0, 8, 1, 0, 0, 0, 1, 9, 9), "trailing-bytes", 9, /expected 9 bytes .*got 10 bytes/],
  ];
  for (const [b, kind, offset, msg] of cases) {
    const e = err(parseIdx(b, "f.idx"));
    assert.equal(e.kind, kind, e.message);
    assert.equal(e.offset, offset, e.message);
    assert.ok(
      e.message.startsWith(`f.idx: at byte ${offset.toLocaleString("en-US")}: `),
      e.message,
    );
    assert.match(e.message, msg);
    assert.match(e.message, /deno task data|gunzip/); // always says what to do
  }
});

async function tempFile(content: Uint8Array<ArrayBuffer>): Promise<string> {
  const p = await Deno.makeTempFile({ prefix: "idx-test-" });
  await Deno.writeFile(p, content);
  return p;
}

Deno.test("idx: readIdxFile reads raw and gzipped files alike (detected by magic, not name)", async () => {
  const a: IdxArray = { dtype: "int16", shape: [2, 2], data: new Int16Array([1, -2, 300, -400]) };
  const raw = encodeIdx(a) as Uint8Array<ArrayBuffer>;
  const pRaw = await tempFile(raw), pGz = await tempFile(await gzip(raw));
  try {
    for (const p of [pRaw, pGz]) {
      const r = await readIdxFile(p)();
      assert.ok(E.isRight(r));
      assert.deepEqual(Array.from(r.right.data), [1, -2, 300, -400]);
      assert.deepEqual(r.right.shape, [2, 2]);
    }
  } finally {
    await Deno.remove(pRaw);
    await Deno.remove(pGz);
  }
});

Deno.test("idx: corrupt or truncated gzip is a typed corrupt-gzip error", async () => {
  const raw = encodeIdx({ dtype: "uint8", shape: [1000], data: new Uint8Array(1000).fill(7) });
  const gz = await gzip(raw as Uint8Array<ArrayBuffer>);
  const flipped = gz.slice();
  flipped[gz.length - 6] ^= 0xff; // inside the CRC-32 trailer
  for (
    const bad of [
      gz.slice(0, gz.length - 5),
      flipped,
      bytes(0x1f, 0x8b, 0, 0, 0) as Uint8Array<ArrayBuffer>,
    ]
  ) {
    const p = await tempFile(bad);
    try {
      const e = err(await readIdxFile(p)());
      assert.equal(e.kind, "corrupt-gzip", e.message);
      assert.ok(e.message.startsWith(`${p}: at byte`));
      assert.match(
        e.message,
        /within the first [\d,]+ compressed bytes\)\. Delete the file and download/,
      );
    } finally {
      await Deno.remove(p);
    }
  }
});

Deno.test("idx: a gzip bomb stops at the header's claim instead of filling memory", async () => {
  // The header promises 10 bytes; the stream holds 16 MB of zeros (~16 kB compressed).
  const big = new Uint8Array(16 * 1024 * 1024);
  big.set([0, 0, 8, 1, 0, 0, 0, 10]);
  const p = await tempFile(await gzip(big));
  try {
    const e = err(await readIdxFile(p)());
    assert.equal(e.kind, "trailing-bytes");
    assert.equal(e.offset, 18);
    // Stopped within one decompressor output chunk (4 kB in -> at most ~4.2 MB out).
    const got = Number(/got at least ([\d,]+) bytes/.exec(e.message)![1].replaceAll(",", ""));
    assert.ok(got > 18 && got <= 4096 * 1032 + 18, e.message);
    // maxBytes bounds a file even when its header claims more.
    big.set([0, 0, 8, 1, 0x10, 0, 0, 0]); // 2^28 bytes promised
    await Deno.writeFile(p, await gzip(big));
    const capped = err(await readIdxBytes(p, { maxBytes: 1000 })());
    assert.equal(capped.kind, "trailing-bytes");
    assert.match(
      capped.message,
      /larger than allowed \(expected at most 1,000 bytes, got at least/,
    );
  } finally {
    await Deno.remove(p);
  }
});

Deno.test("idx: a bad header inside a gzip stream fails before decompressing the rest", async () => {
  const big = new Uint8Array(8 * 1024 * 1024);
  big.set([0, 0, 0x42, 1]);
  const p = await tempFile(await gzip(big));
  try {
    const e = err(await readIdxFile(p)());
    assert.equal(e.kind, "unsupported-type");
  } finally {
    await Deno.remove(p);
  }
});

Deno.test("idx: a missing file is a not-found error naming the path", async () => {
  const e = err(await readIdxFile("/nonexistent/dir/train-images-idx3-ubyte.gz")());
  assert.equal(e.kind, "not-found");
  assert.match(
    e.message,
    /^\/nonexistent\/dir\/train-images-idx3-ubyte\.gz: cannot read: no such file/,
  );
});

Deno.test("idx: an aborted read returns `aborted`", async () => {
  const raw = encodeIdx({ dtype: "uint8", shape: [10], data: new Uint8Array(10) });
  const p = await tempFile(await gzip(raw as Uint8Array<ArrayBuffer>));
  try {
    const ctl = new AbortController();
    ctl.abort();
    assert.equal(err(await readIdxBytes(p, { signal: ctl.signal })()).kind, "aborted");
  } finally {
    await Deno.remove(p);
  }
});

Deno.test("idx: with a trusted maxBytes, a short gzip stream still reads as exactly what arrived", async () => {
  // Header promises 100 bytes of data; only 50 follow. The reader preallocates min(claim,
  // maxBytes) but must hand back just the 58 bytes that exist.
  const short = new Uint8Array(8 + 50);
  short.set([0, 0, 8, 1, 0, 0, 0, 100]);
  short.fill(9, 8);
  const p = await tempFile(await gzip(short));
  try {
    const r = await readIdxBytes(p, { maxBytes: 1000 })();
    assert.ok(E.isRight(r));
    assert.deepEqual(r.right, short);
    const e = err(await readIdxFile(p, { maxBytes: 1000 })());
    assert.equal(e.kind, "truncated");
    assert.match(e.message, /expected 108 bytes .*got 58 bytes/);
  } finally {
    await Deno.remove(p);
  }
});
