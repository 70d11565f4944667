import assert from "node:assert/strict";
import { either as E } from "npm:fp-ts@2.16.11";
import type { DataError } from "../../src/lenet/data_error.ts";
import { MNIST_FILES, type MnistFileName } from "../../src/lenet/mnist_files.ts";
import { encodeIdx, type IdxArray } from "../../src/lenet/idx.ts";
import { type Dataset, datasetImages } from "../../src/lenet/dataset.ts";
import {
  loadMnist,
  type Mnist,
  MNIST_MEAN,
  MNIST_STD,
  mnistFromIdx,
  resolveMnistDir,
} from "../../src/lenet/mnist.ts";
import { gzip, MNIST_DIR } from "./mirror_server.ts";

function ok<T>(r: E.Either<DataError, T>): T {
  if (E.isLeft(r)) assert.fail(r.left.message);
  return r.right;
}
function left<T>(r: E.Either<DataError, T>): DataError {
  assert.ok(E.isLeft(r), "expected an error");
  return r.left;
}

/** Pixel checksums: the plain sum, and sum of p[i] * (i mod 997) over the pixels. */
function checksums(x: ArrayLike<number>, mean = 0, std = 1): [number, number] {
  let sum = 0, weighted = 0;
  for (let i = 0; i < x.length; i++) {
    const p = Math.round((x[i] * std + mean) * 255);
    sum += p;
    weighted += p * (i % 997);
  }
  return [sum, weighted];
}

/** The bytes' checksums, and the same ones through the float images (which must agree). */
function checksumsBoth(d: Dataset, mean = 0, std = 1): [number, number] {
  const bytes = checksums(d.pixels, 0, 1 / 255);
  assert.deepEqual(checksums(datasetImages(d).data, mean, std), bytes);
  return bytes;
}

let cached: Mnist | undefined;
async function full(): Promise<Mnist> {
  cached ??= ok(await loadMnist({ dir: MNIST_DIR, offline: true })());
  return cached;
}

Deno.test("mnist: the shared files parse entirely: 60,000 + 10,000 examples, known labels", async () => {
  const m = await full();
  assert.equal(m.train.count, 60_000);
  assert.equal(m.test.count, 10_000);
  assert.equal(m.validation, undefined);
  assert.equal(m.train.pixels.length, 60_000 * 784);
  assert.equal(m.test.pixels.length, 10_000 * 784);
  assert.deepEqual(datasetImages(m.test, 0, 3).shape, [3, 1, 28, 28]);
  assert.equal(datasetImages(m.test, 0, 3).dtype, "float32");
  assert.equal(m.train.labels.length, 60_000);
  assert.deepEqual(Array.from(m.train.labels.subarray(0, 6)), [5, 0, 4, 1, 9, 2]);
  assert.deepEqual(Array.from(m.test.labels.subarray(0, 5)), [7, 2, 1, 0, 4]);
  assert.deepEqual(m.normalization, { mean: 0, std: 1 });
  // Label sums, computed independently with Python over the decompressed files:
  //   sum(gzip.open("train-labels-idx1-ubyte.gz").read()[8:]) == 267236 (t10k: 44434)
  assert.equal(m.train.labels.reduce((a, b) => a + b, 0), 267_236);
  assert.equal(m.test.labels.reduce((a, b) => a + b, 0), 44_434);
});

Deno.test("mnist: pixel checksums match an independent computation; values are p/255", async () => {
  const m = await full();
  // Expected values computed once with Python 3 over the decompressed files:
  //   px = gzip.open("train-images-idx3-ubyte.gz").read()[16:]
  //   sum(px); sum(p * (i % 997) for i, p in enumerate(px))
  assert.deepEqual(checksumsBoth(m.train), [1_567_298_545, 780_612_564_224]);
  assert.deepEqual(checksumsBoth(m.test), [264_923_200, 131_934_998_449]);
  const x = datasetImages(m.train).data;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  assert.equal(lo, 0);
  assert.equal(hi, 1);
  // Every byte value maps to exactly fround(p / 255) (the multiply by 1/255 loses nothing).
  for (let p = 0; p < 256; p++) assert.equal(Math.fround(p * (1 / 255)), Math.fround(p / 255));
  const first = x.subarray(0, 784);
  assert.equal(first[152], Math.fround(3 / 255)); // image 0, row 5, col 12: byte 3
});

Deno.test("mnist: standardization gives (p/255 - 0.1307)/0.3081, mean ~0 and std ~1", async () => {
  const m = ok(
    await loadMnist({ dir: MNIST_DIR, offline: true, standardize: true, limit: 10_000 })(),
  );
  assert.deepEqual(m.normalization, { mean: MNIST_MEAN, std: MNIST_STD });
  assert.equal(m.train.count, 10_000);
  assert.deepEqual(m.train.normalization, { mean: MNIST_MEAN, std: MNIST_STD });
  const x = datasetImages(m.train).data;
  let s = 0, s2 = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i];
    s2 += x[i] * x[i];
  }
  const mean = s / x.length, std = Math.sqrt(s2 / x.length - mean * mean);
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.02, `std ${std}`);
  assert.ok(Math.abs(x[0] - (0 - MNIST_MEAN) / MNIST_STD) < 1e-6);
  assert.ok(Math.abs(x[152] - (3 / 255 - MNIST_MEAN) / MNIST_STD) < 1e-6);
  assert.deepEqual(checksumsBoth(m.test, MNIST_MEAN, MNIST_STD), [264_923_200, 131_934_998_449]);
});

Deno.test("mnist: validation is the last N training examples; limit caps every split", async () => {
  const all = await full();
  const m = ok(await loadMnist({ dir: MNIST_DIR, offline: true, validation: 5000, limit: 6000 })());
  assert.equal(m.train.count, 6000);
  assert.equal(m.validation?.count, 5000);
  assert.equal(m.test.count, 6000);
  assert.equal(m.validation!.pixels.length, 5000 * 784);
  assert.deepEqual(m.validation!.labels, all.train.labels.subarray(55_000));
  assert.deepEqual(m.validation!.pixels, all.train.pixels.subarray(55_000 * 784));
  assert.deepEqual(m.train.labels, all.train.labels.subarray(0, 6000));
  const v = ok(await loadMnist({ dir: MNIST_DIR, offline: true, validation: 5000, limit: 100 })());
  assert.equal(v.validation?.count, 100);
  assert.deepEqual(v.validation!.labels, all.train.labels.subarray(55_000, 55_100));
});

Deno.test("mnist: bad options are invalid-option errors before any file is read", async () => {
  for (
    const [opts, msg] of [
      [{ limit: 0 }, /limit must be an integer >= 1; got 0/],
      [{ limit: 2.5 }, /limit must be an integer >= 1; got 2.5/],
      [{ validation: 60_000 }, /validation must be an integer from 0 to 59,999; got 60000/],
      [{ validation: -1 }, /validation must be an integer from 0 to 59,999/],
    ] as const
  ) {
    const e = left(await loadMnist({ dir: "/nonexistent", offline: true, ...opts })());
    assert.equal(e.kind, "invalid-option");
    assert.match(e.message, msg);
  }
});

Deno.test("mnist: resolution order is option, then $MNIST_DIR, then data/mnist", () => {
  const env = (v?: string) => (name: string) => name === "MNIST_DIR" ? v : undefined;
  assert.deepEqual(resolveMnistDir({ dir: "/a", env: env("/b") }), { dir: "/a", source: "option" });
  assert.deepEqual(resolveMnistDir({ env: env("/b") }), { dir: "/b", source: "MNIST_DIR" });
  assert.deepEqual(resolveMnistDir({ env: env("") }), { dir: "data/mnist", source: "default" });
  assert.deepEqual(resolveMnistDir({ env: env() }), { dir: "data/mnist", source: "default" });
});

Deno.test("mnist: offline with no files says which files to put where", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const e = left(await loadMnist({ dir, offline: true })());
    assert.equal(e.kind, "offline");
    assert.ok(e.message.includes(`into ${dir}/:`));
    for (const s of MNIST_FILES) assert.ok(e.message.includes(`${s.name}.gz`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mnist: a well-formed but altered file fails verification; verify: false loads it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const s of MNIST_FILES) {
      if (s.name !== "t10k-labels-idx1-ubyte") {
        await Deno.symlink(`${MNIST_DIR}/${s.name}.gz`, `${dir}/${s.name}.gz`);
      }
    }
    // Test labels all 3 (a valid IDX file of the right shape, like another MNIST-format set).
    const fake = encodeIdx({
      dtype: "uint8",
      shape: [10_000],
      data: new Uint8Array(10_000).fill(3),
    });
    await Deno.writeFile(
      `${dir}/t10k-labels-idx1-ubyte.gz`,
      await gzip(fake as Uint8Array<ArrayBuffer>),
    );
    const e = left(await loadMnist({ dir, offline: true, limit: 10 })());
    assert.equal(e.kind, "checksum");
    assert.match(
      e.message,
      /t10k-labels-idx1-ubyte\.gz: at byte 0: SHA-256 .* \(expected ff7bcfd4/,
    );
    assert.match(e.message, /verify: false/);
    const m = ok(await loadMnist({ dir, offline: true, limit: 10, verify: false })());
    assert.deepEqual(Array.from(m.test.labels), new Array(10).fill(3));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Small synthetic IDX sets for the structural checks. */
function synth(n: number, opts: { labels?: number[]; side?: number; labelCount?: number } = {}) {
  const side = opts.side ?? 28;
  const images: IdxArray = {
    dtype: "uint8",
    shape: [n, side, side],
    data: new Uint8Array(n * side * side).fill(255),
  };
  const lc = opts.labelCount ?? n;
  const labels: IdxArray = {
    dtype: "uint8",
    shape: [lc],
    data: new Uint8Array(opts.labels ?? new Array(lc).fill(1)),
  };
  const idx: Record<MnistFileName, IdxArray> = {
    "train-images-idx3-ubyte": images,
    "train-labels-idx1-ubyte": labels,
    "t10k-images-idx3-ubyte": images,
    "t10k-labels-idx1-ubyte": labels,
  };
  const files = Object.fromEntries(MNIST_FILES.map((s) => [s.name, `d/${s.name}.gz`])) as Record<
    MnistFileName,
    string
  >;
  return [idx, files] as const;
}

Deno.test("mnist: structural checks name the file, the offset, expected and got", () => {
  const good = ok(mnistFromIdx(...synth(3)));
  assert.equal(good.train.count, 3);
  assert.equal(datasetImages(good.train).data[0], 1);

  const badLabel = left(mnistFromIdx(...synth(3, { labels: [1, 12, 0] })));
  assert.equal(badLabel.kind, "label-out-of-range");
  assert.equal(
    badLabel.message,
    "d/train-labels-idx1-ubyte.gz: at byte 9: label of example 1 is not a digit " +
      "(expected a class in 0..9, got 12). The file is damaged: delete it and run `deno task data`.",
  );

  const mismatch = left(mnistFromIdx(...synth(3, { labelCount: 4 })));
  assert.equal(mismatch.kind, "count-mismatch");
  assert.match(mismatch.message, /expected 3 labels \(one per image\), got 4 labels/);

  const shape = left(mnistFromIdx(...synth(2, { side: 32 })));
  assert.equal(shape.kind, "unexpected-shape");
  assert.match(shape.message, /expected uint8 \[N, 28, 28\], got uint8 \[2, 32, 32\]/);

  const tooMuch = left(mnistFromIdx(...synth(3), { validation: 3 }));
  assert.equal(tooMuch.kind, "invalid-option");
  assert.match(tooMuch.message, /must leave training examples: the training file holds 3/);
});
