/**
 * MNIST as tensors: find (or download) the four IDX files, verify, parse, split, scale.
 *
 * ```
 * opts.dir | $MNIST_DIR | data/mnist/  --ensureMnist (download missing, verified)-->  4 paths
 *   --gunzip + SHA-256 + parseIdx (in parallel)-->  uint8 images/labels
 *   --check shapes, counts, labels 0..9-->  split (validation = last N of train), limit
 *   -->  Mnist of uint8 Datasets (views of the decompressed bytes, no copy; they are scaled to
 *        floats a batch at a time by datasetImages / gatherBatch, never all at once)
 * ```
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import type { Either, TaskEither } from "../tensor/result.ts";
import { type Dataset, sliceDataset } from "./dataset.ts";
import { type DataError, fmtInt, idxError } from "./data_error.ts";
import { type DownloadEvent, ensureMnist } from "./download.ts";
import { type IdxArray, parseIdx } from "./idx.ts";
import { readIdxBytes } from "./idx_file.ts";
import {
  checkMnistBytes,
  MNIST_FILES,
  type MnistFileName,
  parseMirrors,
  readEnv,
} from "./mnist_files.ts";

/**
 * Mean of all MNIST training pixels scaled to [0, 1] (the usual normalization constant).
 *
 * @example
 * ```ts
 * import { MNIST_MEAN, MNIST_STD } from "./mod.ts";
 * const standardize = (p: number) => (p / 255 - MNIST_MEAN) / MNIST_STD;
 * ```
 */
export const MNIST_MEAN = 0.1307;
/**
 * Standard deviation of all MNIST training pixels scaled to [0, 1].
 *
 * @example
 * ```ts
 * import { MNIST_MEAN, MNIST_STD } from "./mod.ts";
 * const unstandardize = (x: number) => Math.round((x * MNIST_STD + MNIST_MEAN) * 255);
 * ```
 */
export const MNIST_STD = 0.3081;

/** Image side in pixels. */
const SIDE = 28;

export type { Dataset } from "./dataset.ts";

/**
 * The loaded dataset.
 *
 * @example
 * ```ts
 * import { loadMnist, type Mnist } from "./mod.ts";
 * const describe = (m: Mnist) =>
 *   `train ${m.train.count}, validation ${m.validation?.count ?? 0}, test ${m.test.count}`;
 * const r = await loadMnist({ validation: 5000 })();
 * if (r._tag === "Right") console.log(describe(r.right)); // train 55000, validation 5000, test 10000
 * ```
 */
export interface Mnist {
  /** Training examples (the first `60,000 - validation` of the training file). */
  readonly train: Dataset;
  /** The 10,000 test examples. */
  readonly test: Dataset;
  /** The last `validation` training examples, when a validation split was asked for. */
  readonly validation?: Dataset;
  /** Pixel scaling applied: `x = (p / 255 - mean) / std`; mean 0 and std 1 mean plain [0, 1]. */
  readonly normalization: { readonly mean: number; readonly std: number };
  /** The directory the files were read from. */
  readonly dir: string;
}

/**
 * Options of {@link loadMnist}.
 *
 * @example
 * ```ts
 * import type { LoadMnistOptions } from "./mod.ts";
 * const quick: LoadMnistOptions = { limit: 1000, standardize: true, offline: true };
 * ```
 */
export interface LoadMnistOptions {
  /** Directory with the files (`--data DIR`); else `$MNIST_DIR`; else `data/mnist/`. */
  readonly dir?: string;
  /** Never touch the network; missing files are an `offline` error. */
  readonly offline?: boolean;
  /** Standardize pixels with mean 0.1307 and std 0.3081 instead of plain [0, 1]. */
  readonly standardize?: boolean;
  /** Keep at most this many examples in every split (the first ones), for quick runs. */
  readonly limit?: number;
  /** Hold out the last `validation` training examples as a validation split (e.g. 5000). */
  readonly validation?: number;
  /** Check each file's SHA-256 while loading (default true; ~0.1 s for all four files). */
  readonly verify?: boolean;
  /** Mirrors to download from; default `$MNIST_MIRROR` or the built-in list. */
  readonly mirrors?: readonly string[];
  /** Cancels loading or downloading; the result is then an `aborted` error. */
  readonly signal?: AbortSignal;
  /** Download progress (only called when something must be downloaded or is found). */
  readonly onProgress?: (e: DownloadEvent) => void;
  /** Environment lookup (tests); default `Deno.env.get`, treating a denied read as unset. */
  readonly env?: (name: string) => string | undefined;
}

/**
 * Where the files are looked for, and why there.
 *
 * @example
 * ```ts
 * import { type MnistDir, resolveMnistDir } from "./mod.ts";
 * const where: MnistDir = resolveMnistDir();
 * console.log(`${where.dir} (${where.source})`);
 * ```
 */
export interface MnistDir {
  /** The directory. */
  readonly dir: string;
  /** `"option"` (--data DIR / `dir`), `"MNIST_DIR"`, or `"default"` (data/mnist/). */
  readonly source: "option" | "MNIST_DIR" | "default";
}

/**
 * The default location, relative to the working directory (the repository root for tasks).
 *
 * @example
 * ```ts
 * import { DEFAULT_MNIST_DIR } from "./mod.ts";
 * console.log(DEFAULT_MNIST_DIR); // "data/mnist"
 * ```
 */
export const DEFAULT_MNIST_DIR = "data/mnist";

/**
 * Resolves the MNIST directory: `dir` (from `--data DIR`) if given, else `$MNIST_DIR` if set,
 * else `data/mnist`. The first one that is given is used (files missing there are downloaded
 * there), so a typo in `--data` never silently falls back to other data.
 *
 * @example
 * ```ts
 * import { resolveMnistDir } from "./mod.ts";
 * console.log(resolveMnistDir({ dir: "/datasets/mnist" })); // { dir: "/datasets/mnist", source: "option" }
 * console.log(resolveMnistDir({ env: () => undefined })); // { dir: "data/mnist", source: "default" }
 * ```
 */
export function resolveMnistDir(
  opts: { readonly dir?: string; readonly env?: (name: string) => string | undefined } = {},
): MnistDir {
  if (opts.dir !== undefined && opts.dir !== "") return { dir: opts.dir, source: "option" };
  const env = (opts.env ?? readEnv)("MNIST_DIR");
  if (env !== undefined && env !== "") return { dir: env, source: "MNIST_DIR" };
  return { dir: DEFAULT_MNIST_DIR, source: "default" };
}

function checkCount(
  name: string,
  v: number | undefined,
  min: number,
  max: number,
): DataError | undefined {
  if (v === undefined || Number.isInteger(v) && v >= min && v <= max) return undefined;
  const range = max === Infinity ? `>= ${fmtInt(min)}` : `from ${fmtInt(min)} to ${fmtInt(max)}`;
  return {
    kind: "invalid-option",
    option: name,
    message: `${name} must be an integer ${range}; got ${v}`,
  };
}

/**
 * Loads MNIST: resolves the directory, downloads and verifies missing files (unless
 * `offline`), reads the four files in parallel, checks them, and returns tensors.
 *
 * Images stay uint8 (`Dataset.pixels`, views of the decompressed files); `datasetImages` and
 * `gatherBatch` scale them to `[N, 1, 28, 28]` floats in [0, 1] (or standardized) when needed.
 * Labels are a `Uint8Array`. Every failure is a {@link DataError} value; nothing throws.
 *
 * @example
 * ```ts
 * import { loadMnist } from "./mod.ts";
 * const r = await loadMnist({ validation: 5000, standardize: true })();
 * if (r._tag === "Left") {
 *   console.error(r.left.message);
 * } else {
 *   const { train, validation, test } = r.right;
 *   console.log(train.pixels.length, validation?.count, test.count); // 43120000 5000 10000
 * }
 * ```
 */
export function loadMnist(opts: LoadMnistOptions = {}): TaskEither<DataError, Mnist> {
  return async () => {
    const bad = checkCount("limit", opts.limit, 1, Infinity) ??
      checkCount("validation", opts.validation, 0, 59_999);
    if (bad !== undefined) return E.left(bad);
    const env = opts.env ?? readEnv;
    let mirrors = opts.mirrors;
    const fromEnv = env("MNIST_MIRROR");
    if (mirrors === undefined && fromEnv !== undefined && fromEnv !== "") {
      const parsed = parseMirrors(fromEnv);
      if (E.isLeft(parsed)) return parsed;
      mirrors = parsed.right;
    }
    const { dir } = resolveMnistDir({ dir: opts.dir, env });
    const paths = await ensureMnist({
      dir,
      offline: opts.offline,
      mirrors,
      signal: opts.signal,
      onEvent: opts.onProgress,
      verify: false, // verified below, from the bytes we decompress anyway
    })();
    if (E.isLeft(paths)) return paths;
    const verify = opts.verify ?? true;
    const files = paths.right;
    // Gunzip the four files concurrently (file reads and inflate overlap).
    const bytes = await Promise.all(
      MNIST_FILES.map((spec) =>
        // With verification the known size bounds the read; without, the header does.
        readIdxBytes(files[spec.name], {
          signal: opts.signal,
          maxBytes: verify ? spec.bytes : undefined,
        })()
      ),
    );
    const raw: Uint8Array[] = [];
    for (const b of bytes) {
      if (E.isLeft(b)) return b;
      raw.push(b.right);
    }
    // Start the SHA-256 digests (WebCrypto works off the main thread) and decode meanwhile.
    const digests = verify
      ? MNIST_FILES.map((spec, i) => checkMnistBytes(raw[i], files[spec.name], spec))
      : [];
    const byName: Partial<Record<MnistFileName, IdxArray>> = {};
    for (let i = 0; i < MNIST_FILES.length; i++) {
      const parsed = parseIdx(raw[i], files[MNIST_FILES[i].name]);
      if (E.isLeft(parsed)) {
        await Promise.all(digests); // settle them; the structural error is the more precise one
        return parsed;
      }
      byName[MNIST_FILES[i].name] = parsed.right;
    }
    const mnist = mnistFromIdx(byName as Record<MnistFileName, IdxArray>, files, {
      standardize: opts.standardize,
      limit: opts.limit,
      validation: opts.validation,
      dir,
    });
    for (const err of await Promise.all(digests)) if (err !== undefined) return E.left(err);
    return mnist;
  };
}

/**
 * Options of {@link mnistFromIdx}.
 *
 * @example
 * ```ts
 * import type { MnistAssembleOptions } from "./mod.ts";
 * const opts: MnistAssembleOptions = { validation: 5000, limit: 20_000 };
 * ```
 */
export interface MnistAssembleOptions {
  /** See {@link LoadMnistOptions.standardize}. */
  readonly standardize?: boolean;
  /** See {@link LoadMnistOptions.limit}. */
  readonly limit?: number;
  /** See {@link LoadMnistOptions.validation}. */
  readonly validation?: number;
  /** Reported as {@link Mnist.dir}. */
  readonly dir?: string;
}

/**
 * Builds the dataset from four parsed IDX arrays: checks image shape `[N, 28, 28]` uint8, label
 * shape `[N]` uint8 with values 0..9 and matching counts, then splits and limits (the
 * splits share the image bytes; nothing is copied).
 * (For MNIST-format data from elsewhere, e.g. arrays built in memory.)
 *
 * @example
 * ```ts
 * import { type IdxArray, mnistFromIdx } from "./mod.ts";
 * const images: IdxArray = { dtype: "uint8", shape: [2, 28, 28], data: new Uint8Array(2 * 784) };
 * const labels: IdxArray = { dtype: "uint8", shape: [2], data: new Uint8Array([3, 7]) };
 * const idx = {
 *   "train-images-idx3-ubyte": images, "train-labels-idx1-ubyte": labels,
 *   "t10k-images-idx3-ubyte": images, "t10k-labels-idx1-ubyte": labels,
 * };
 * const names = {
 *   "train-images-idx3-ubyte": "a", "train-labels-idx1-ubyte": "b",
 *   "t10k-images-idx3-ubyte": "c", "t10k-labels-idx1-ubyte": "d",
 * };
 * const r = mnistFromIdx(idx, names);
 * if (r._tag === "Right") console.log(r.right.train.count); // 2
 * ```
 *
 * @param files used to name the files in error messages
 */
export function mnistFromIdx(
  idx: Readonly<Record<MnistFileName, IdxArray>>,
  files: Readonly<Record<MnistFileName, string>>,
  opts: MnistAssembleOptions = {},
): Either<DataError, Mnist> {
  const bad = checkCount("limit", opts.limit, 1, Infinity) ??
    checkCount("validation", opts.validation, 0, 59_999);
  if (bad !== undefined) return E.left(bad);
  const train = checkPair(idx, files, "train-images-idx3-ubyte", "train-labels-idx1-ubyte");
  if (E.isLeft(train)) return train;
  const test = checkPair(idx, files, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
  if (E.isLeft(test)) return test;
  const v = opts.validation ?? 0;
  const n = train.right.count;
  if (v >= n) {
    return E.left({
      kind: "invalid-option",
      option: "validation",
      message: `validation (${fmtInt(v)}) must leave training examples: the training file ` +
        `holds ${fmtInt(n)}`,
    });
  }
  const limit = opts.limit ?? Infinity;
  const mean = opts.standardize ? MNIST_MEAN : 0;
  const std = opts.standardize ? MNIST_STD : 1;
  const normalization = { mean, std };
  const cut = (p: Pair, start: number, count: number): Dataset =>
    sliceDataset(
      { pixels: p.pixels, labels: p.labels, count: p.count, normalization },
      start,
      Math.min(count, limit),
    );
  return E.right({
    train: cut(train.right, 0, n - v),
    test: cut(test.right, 0, test.right.count),
    ...(v > 0 ? { validation: cut(train.right, n - v, v) } : {}),
    normalization,
    dir: opts.dir ?? "",
  });
}

interface Pair {
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

function checkPair(
  idx: Readonly<Record<MnistFileName, IdxArray>>,
  files: Readonly<Record<MnistFileName, string>>,
  imagesName: MnistFileName,
  labelsName: MnistFileName,
): Either<DataError, Pair> {
  const im = idx[imagesName], lb = idx[labelsName];
  const imFile = files[imagesName], lbFile = files[labelsName];
  const fix = "This is not an MNIST file: point --data or MNIST_DIR at the MNIST files, or " +
    "delete it and run `deno task data`.";
  const shapeOf = (a: IdxArray) => `${a.dtype} [${a.shape.map(fmtInt).join(", ")}]`;
  if (
    im.dtype !== "uint8" || im.shape.length !== 3 || im.shape[1] !== SIDE || im.shape[2] !== SIDE
  ) {
    return E.left(idxError(
      "unexpected-shape",
      imFile,
      2,
      "images must be 28x28 uint8",
      "uint8 [N, 28, 28]",
      shapeOf(im),
      fix,
    ));
  }
  if (lb.dtype !== "uint8" || lb.shape.length !== 1) {
    return E.left(idxError(
      "unexpected-shape",
      lbFile,
      2,
      "labels must be one uint8 per image",
      "uint8 [N]",
      shapeOf(lb),
      fix,
    ));
  }
  if (im.shape[0] !== lb.shape[0]) {
    return E.left(idxError(
      "count-mismatch",
      lbFile,
      4,
      `${imFile} and ${lbFile} disagree on the number of examples`,
      `${fmtInt(im.shape[0])} labels (one per image)`,
      `${fmtInt(lb.shape[0])} labels`,
      "The two files come from different datasets or versions: use the four files of one " +
        "MNIST release.",
    ));
  }
  const labels = lb.data as Uint8Array;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] > 9) {
      return E.left(idxError(
        "label-out-of-range",
        lbFile,
        8 + i,
        `label of example ${fmtInt(i)} is not a digit`,
        "a class in 0..9",
        String(labels[i]),
        "The file is damaged: delete it and run `deno task data`.",
      ));
    }
  }
  return E.right({ pixels: im.data as Uint8Array, labels, count: im.shape[0] });
}
