/**
 * Evaluation: a model's loss, accuracy, confusion matrix and most confident mistakes on a set
 * of images (a float tensor or a uint8 {@link Dataset}), by forward passes over slices.
 *
 * @module
 */

import { TensorError } from "../tensor/errors.ts";
import { type DType, Tensor } from "../tensor/tensor.ts";
import { type Dataset, datasetImages } from "./dataset.ts";
import type { Variant } from "./model.ts";
import { flattenParams, type Params } from "./params.ts";

/** Pixels of one 28x28 image. */
const PIXELS = 28 * 28;

/**
 * Counts the rows of `logits` `[N, C]` whose first maximum is at the label.
 *
 * @example
 * ```ts
 * import { countCorrect, tensor } from "./mod.ts";
 * console.log(countCorrect(tensor([[0.1, 2], [3, -1]]), [1, 1])); // 1
 * ```
 */
export function countCorrect(logits: Tensor, labels: ArrayLike<number>): number {
  const [n, c] = logits.shape, z = logits.data;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = i * c;
    let best = 0;
    for (let j = 1; j < c; j++) if (z[row + j] > z[row + best]) best = j;
    if (best === labels[i]) correct++;
  }
  return correct;
}

/**
 * Options of {@link evaluate}.
 *
 * @example
 * ```ts
 * import { evaluate, type EvaluateOptions, modern, prngKey, zeros } from "./mod.ts";
 * const opts: EvaluateOptions = { batchSize: 1000, confusion: true, errors: 10 };
 * const e = evaluate(modern, modern.init(prngKey(0)), zeros([4, 1, 28, 28]), new Uint8Array(4), opts);
 * ```
 */
export interface EvaluateOptions {
  /** Examples per forward pass; default 500. */
  readonly batchSize?: number;
  /** Also count the 10x10 confusion matrix; default false. */
  readonly confusion?: boolean;
  /** Also keep the `errors` most confident mistakes; default 0. */
  readonly errors?: number;
}

/**
 * A misclassified example.
 *
 * @example
 * ```ts
 * import type { Mistake } from "./mod.ts";
 * const line = (m: Mistake) => `#${m.index}: a ${m.label} read as ${m.predicted} (p = ${m.probability.toFixed(3)})`;
 * ```
 */
export interface Mistake {
  /** Index of the example in the evaluated set. */
  readonly index: number;
  /** Its true label. */
  readonly label: number;
  /** The predicted class. */
  readonly predicted: number;
  /** The softmax probability of the predicted class. */
  readonly probability: number;
}

/**
 * Loss and accuracy of a model on a dataset.
 *
 * @example
 * ```ts
 * import { evaluate, type Evaluation, modern, prngKey, zeros } from "./mod.ts";
 * const e: Evaluation = evaluate(modern, modern.init(prngKey(0)), zeros([4, 1, 28, 28]), new Uint8Array(4));
 * console.log(`${(100 * e.accuracy).toFixed(2)}% (${e.correct}/${e.count})`);
 * ```
 */
export interface Evaluation {
  /** Mean loss over the examples. */
  readonly loss: number;
  /** Fraction classified correctly, 0..1. */
  readonly accuracy: number;
  /** Examples classified correctly. */
  readonly correct: number;
  /** Examples evaluated. */
  readonly count: number;
  /** `confusion[t * 10 + p]`: examples of label `t` predicted as `p` (when asked for). */
  readonly confusion?: Int32Array;
  /** The most confident mistakes, most confident first (when asked for). */
  readonly errors?: readonly Mistake[];
}

/**
 * Evaluates `params` on images `[N, 1, 28, 28]` with their labels: forward passes over
 * consecutive slices (no tape, no gradients), summing the loss and counting correct argmaxes.
 * `images` may be a {@link Dataset} (uint8, scaled one slice at a time); `labels` then defaults
 * to its own.
 *
 * @example
 * ```ts
 * import { evaluate, modern, prngKey, zeros } from "./mod.ts";
 * const e = evaluate(modern, modern.init(prngKey(0)), zeros([8, 1, 28, 28]), new Uint8Array(8));
 * console.log(e.count, e.accuracy >= 0 && e.accuracy <= 1); // 8 true
 * ```
 */
export function evaluate<P extends Params>(
  variant: Variant<P>,
  params: P,
  images: Tensor | Dataset,
  labels?: Uint8Array,
  opts: EvaluateOptions = {},
): Evaluation {
  const isTensor = images instanceof Tensor;
  const ys = labels ?? (isTensor ? undefined : images.labels);
  if (ys === undefined) throw new TensorError("evaluate", "labels are required with a tensor");
  const n = isTensor ? images.shape[0] : images.count, size = opts.batchSize ?? 500;
  const dtype = flattenParams(params)[0][1].dtype;
  const confusion = opts.confusion ? new Int32Array(100) : undefined;
  const keep = opts.errors ?? 0;
  const errors: Mistake[] = [];
  let lossSum = 0, correct = 0;
  for (let start = 0; start < n; start += size) {
    const count = Math.min(size, n - start);
    const x = isTensor
      ? tensorRows(images, start, count, dtype)
      : datasetImages(images, start, count, dtype);
    const y = ys.subarray(start, start + count);
    const logits = variant.forward(params, x);
    lossSum += variant.criterion(logits, y).data[0] * count;
    correct += countCorrect(logits, y);
    if (confusion !== undefined || keep > 0) {
      const z = logits.data, c = logits.shape[1];
      for (let i = 0; i < count; i++) {
        const row = i * c;
        let best = 0;
        for (let j = 1; j < c; j++) if (z[row + j] > z[row + best]) best = j;
        if (confusion !== undefined) confusion[y[i] * 10 + best]++;
        if (keep > 0 && best !== y[i]) {
          // softmax at the argmax: 1 / sum_j exp(z_j - z_max)
          let s = 0;
          for (let j = 0; j < c; j++) s += Math.exp(z[row + j] - z[row + best]);
          errors.push({ index: start + i, label: y[i], predicted: best, probability: 1 / s });
        }
      }
    }
  }
  errors.sort((a, b) => b.probability - a.probability || a.index - b.index);
  return {
    loss: n === 0 ? NaN : lossSum / n,
    accuracy: n === 0 ? NaN : correct / n,
    correct,
    count: n,
    ...(confusion !== undefined ? { confusion } : {}),
    ...(keep > 0 ? { errors: errors.slice(0, keep) } : {}),
  };
}

/** Rows `[start, start + count)` of `images` in `dtype`: a view when the dtype matches. */
function tensorRows(images: Tensor, start: number, count: number, dtype: DType): Tensor {
  const view = images.data.subarray(start * PIXELS, (start + count) * PIXELS);
  const data = view instanceof (dtype === "float32" ? Float32Array : Float64Array)
    ? view
    : (dtype === "float32" ? Float32Array.from(view) : Float64Array.from(view));
  return new Tensor(data, [count, 1, 28, 28]);
}
