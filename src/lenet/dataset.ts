/**
 * A split of MNIST kept as its raw bytes: 784 uint8 pixels per image (47 MB for the 60,000
 * training images, against 188 MB as float32), scaled to floats only a batch at a time.
 *
 * ```
 * Dataset { pixels: uint8 [count * 784], labels, count, normalization }
 *   --datasetImages(d, start, count)--> float tensor [count, 1, 28, 28] of (p/255 - mean)/std
 *   --gatherBatch(d, ..., order, ...)--> a shuffled minibatch, scaled while it is copied
 * ```
 *
 * @module
 */

import { allocData, type DType, Tensor } from "../tensor/tensor.ts";
import { TensorError } from "../tensor/errors.ts";

/** Pixels of one 28x28 image. */
const PIXELS = 28 * 28;

/**
 * One split of a dataset: the images as their original bytes, scaled on demand.
 *
 * @example
 * ```ts
 * import { type Dataset, datasetImages, loadMnist } from "./mod.ts";
 * const firstLabels = (d: Dataset, n: number) => Array.from(d.labels.subarray(0, n));
 * const r = await loadMnist({ limit: 100 })();
 * if (r._tag === "Right") {
 *   const test = r.right.test;
 *   console.log(datasetImages(test).shape, firstLabels(test, 5)); // [100, 1, 28, 28] [7, 2, 1, 0, 4]
 * }
 * ```
 */
export interface Dataset {
  /** The images' bytes 0..255, `count * 784` of them, image after image (rows of 28). */
  readonly pixels: Uint8Array;
  /** Class labels 0..9, one per image. */
  readonly labels: Uint8Array;
  /** Number of examples. */
  readonly count: number;
  /** The scaling the float images get: `x = (p / 255 - mean) / std` (0 and 1: plain [0, 1]). */
  readonly normalization: { readonly mean: number; readonly std: number };
}

/**
 * Builds a {@link Dataset} from bytes (e.g. images made in memory), checking the sizes.
 *
 * @example
 * ```ts
 * import { dataset, datasetImages } from "./mod.ts";
 * const d = dataset(new Uint8Array(2 * 784).fill(255), new Uint8Array([3, 7]));
 * console.log(d.count, datasetImages(d).data[0]); // 2 1
 * ```
 */
export function dataset(
  pixels: Uint8Array,
  labels: Uint8Array,
  normalization: { readonly mean: number; readonly std: number } = { mean: 0, std: 1 },
): Dataset {
  if (pixels.length !== labels.length * PIXELS) {
    throw new TensorError(
      "dataset",
      `${pixels.length} pixel bytes do not make ${labels.length} images of 28x28 ` +
        `(${labels.length * PIXELS} bytes); pass one label per image`,
    );
  }
  if (!(normalization.std > 0) || !Number.isFinite(normalization.mean)) {
    throw new TensorError(
      "dataset",
      `normalization needs a finite mean and a std > 0; got mean ${normalization.mean}, std ` +
        `${normalization.std}`,
    );
  }
  return { pixels, labels, count: labels.length, normalization };
}

/**
 * Examples `[start, start + count)` as a dataset sharing the same bytes (no copy).
 *
 * @example
 * ```ts
 * import { dataset, sliceDataset } from "./mod.ts";
 * const d = dataset(new Uint8Array(3 * 784), new Uint8Array([1, 2, 3]));
 * console.log(sliceDataset(d, 1, 2).labels); // Uint8Array(2) [2, 3]
 * ```
 */
export function sliceDataset(d: Dataset, start: number, count: number): Dataset {
  checkRange("sliceDataset", d, start, count);
  return {
    pixels: d.pixels.subarray(start * PIXELS, (start + count) * PIXELS),
    labels: d.labels.subarray(start, start + count),
    count,
    normalization: d.normalization,
  };
}

/**
 * Images `[start, start + count)` as a fresh tensor `[count, 1, 28, 28]` of
 * `(p / 255 - mean) / std` in `dtype` (default float32); the whole split by default.
 *
 * @example
 * ```ts
 * import { dataset, datasetImages } from "./mod.ts";
 * const d = dataset(new Uint8Array(2 * 784).fill(51), new Uint8Array([0, 1]), { mean: 0.1, std: 0.5 });
 * const x = datasetImages(d, 1, 1);
 * console.log(x.shape, x.data[0].toFixed(4)); // [1, 1, 28, 28] "0.2000"
 * ```
 */
export function datasetImages(
  d: Dataset,
  start = 0,
  count: number = d.count - start,
  dtype: DType = "float32",
): Tensor {
  checkRange("datasetImages", d, start, count);
  const out = allocData(dtype, count * PIXELS);
  const { scale, shift } = pixelScale(d.normalization);
  scalePixels(d.pixels.subarray(start * PIXELS, (start + count) * PIXELS), out, scale, shift);
  return new Tensor(out, [count, 1, 28, 28]);
}

/**
 * `(p/255 - mean)/std = p * scale + shift`: one multiply-add per pixel, no division. The
 * constants are computed once in float64, so every byte value always maps to the same float.
 */
export function pixelScale(
  norm: { readonly mean: number; readonly std: number },
): { scale: number; shift: number } {
  return { scale: 1 / (255 * norm.std), shift: -norm.mean / norm.std };
}

/**
 * `out[i] = src[i] * scale + shift` for every pixel (`out.length` of them): the uint8 -> float
 * decode as one flat loop over monomorphic typed arrays (no closures, no boxing).
 */
export function scalePixels(
  src: Uint8Array,
  out: Float32Array | Float64Array,
  scale: number,
  shift: number,
  outOffset = 0,
): void {
  const n = src.length;
  if (shift === 0) {
    for (let i = 0; i < n; i++) out[outOffset + i] = src[i] * scale;
  } else {
    for (let i = 0; i < n; i++) out[outOffset + i] = src[i] * scale + shift;
  }
}

function checkRange(op: string, d: Dataset, start: number, count: number): void {
  if (
    !Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 ||
    start + count > d.count
  ) {
    throw new TensorError(
      op,
      `examples [${start}, ${start + count}) are not within the ${d.count} of the dataset; ` +
        `pass integers with 0 <= start and start + count <= ${d.count}`,
    );
  }
}
