/**
 * The trainer's side of `report.json` in the run-folder contract (`run_files.ts`): turn the
 * model's outputs into its records and write the file. `run_report.ts` assembles them for a
 * trained LeNet-5; `metrics.ts` writes the other file, `metrics.jsonl`.
 *
 * How the trainer is expected to use it, at the end of training:
 *
 * ```ts
 * const { probabilities, predictions } = classify(testLogits);            // [N, 10] logits
 * const report: RunReport = {
 *   format: REPORT_FORMAT, version: REPORT_VERSION, model: "LeNet-5 (relu, max-pool)",
 *   num_classes: 10, test_examples: N,
 *   confusion: confusionMatrix(testLabels, predictions, 10),
 *   wrong: mostConfidentWrong({ probabilities, predictions, labels: testLabels,
 *                               images: testImages, pixelMax: 1, count: 24 }),
 *   filters: [filterBank("conv1", params.conv1.w)],
 *   digits: [chosenDigit(digitRecord(i, ...), label, [layerMaps("conv1", a1, d1), ...])],
 * };
 * await writeReportFile(runDir, report);
 * ```
 *
 * The feature and delta maps come from the model's forward and backward pass for one digit
 * (`layerMaps` only packages them). Internal: not exported from `mod.ts`.
 *
 * @module
 */

import { argmax } from "../tensor/reduce.ts";
import { softmax } from "../tensor/softmax.ts";
import type { Tensor } from "../tensor/tensor.ts";
import {
  checkRunReport,
  type ChosenDigit,
  type DigitRecord,
  type FilterBank,
  IMAGE_SIDE,
  type LayerMaps,
  REPORT_FILE,
  type RunReport,
} from "./run_files.ts";

const fmtShape = (s: readonly number[]) => `[${s.join(", ")}]`;

/**
 * `confusion[t][p]` = how many examples of true class `t` were predicted as `p`.
 *
 * @example
 * ```ts
 * confusionMatrix([0, 1, 1], [0, 1, 0], 2); // [[1, 0], [1, 1]]
 * ```
 */
export function confusionMatrix(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  numClasses: number,
): number[][] {
  if (labels.length !== predictions.length) {
    throw new Error(
      `confusionMatrix: ${labels.length} labels but ${predictions.length} predictions; ` +
        `pass one prediction per label`,
    );
  }
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i], p = predictions[i];
    if (!Number.isInteger(t) || t < 0 || t >= numClasses) {
      throw new Error(
        `confusionMatrix: labels[${i}] = ${t} is not a class in 0..${numClasses - 1}`,
      );
    }
    if (!Number.isInteger(p) || p < 0 || p >= numClasses) {
      throw new Error(
        `confusionMatrix: predictions[${i}] = ${p} is not a class in 0..${numClasses - 1}`,
      );
    }
    m[t][p]++;
  }
  return m;
}

/** Softmax probabilities and arg-max predictions of a batch of logits. */
export interface Classified {
  /** `softmax(logits)` along the class axis, `[N, K]`. */
  readonly probabilities: Tensor;
  /** The first arg-max of each row. */
  readonly predictions: Int32Array;
}

/** Classifies `[N, K]` logits with the library's `softmax` and `argmax`. */
export function classify(logits: Tensor): Classified {
  if (logits.rank !== 2) {
    throw new Error(`classify: logits must be [N, K], got ${fmtShape(logits.shape)}`);
  }
  const am = argmax(logits, { axis: 1 });
  return { probabilities: softmax(logits, 1), predictions: Int32Array.from(am.data) };
}

/** 6 significant digits: enough for pictures, a third of the bytes of full float64 JSON. */
function round6(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(6));
}

function roundAll(a: ArrayLike<number>): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = round6(a[i]);
  return out;
}

/** Pixels as bytes 0..255 from values in `[0, pixelMax]` (1 for unit floats, 255 for bytes). */
export function pixelBytes(values: ArrayLike<number>, pixelMax: number): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const b = Math.round((values[i] / pixelMax) * 255);
    out[i] = b > 0 ? (b < 255 ? b : 255) : 0;
  }
  return out;
}

/**
 * A {@link DigitRecord} for test example `index`: the prediction is the first arg-max of
 * `probabilities`; `image` holds 784 raw pixels in `[0, pixelMax]`.
 */
export function digitRecord(
  index: number,
  label: number,
  probabilities: ArrayLike<number>,
  image: ArrayLike<number>,
  pixelMax: number,
): DigitRecord {
  let prediction = 0;
  for (let k = 1; k < probabilities.length; k++) {
    if (probabilities[k] > probabilities[prediction]) prediction = k;
  }
  return {
    index,
    label,
    prediction,
    probabilities: roundAll(probabilities),
    pixels: pixelBytes(image, pixelMax),
  };
}

/** Inputs of {@link mostConfidentWrong}. */
export interface WrongOptions {
  /** `[N, K]` class probabilities of the test set. */
  readonly probabilities: Tensor;
  /** The predicted class of each example (see {@link classify}). */
  readonly predictions: ArrayLike<number>;
  /** The true class of each example. */
  readonly labels: ArrayLike<number>;
  /** `N * 784` raw (not mean/std-normalized) pixels in `[0, pixelMax]`. */
  readonly images: ArrayLike<number>;
  /** 1 for images in [0, 1], 255 for bytes. */
  readonly pixelMax: number;
  /** How many to keep. */
  readonly count: number;
}

/**
 * The `count` misclassified examples with the highest probability on their (wrong) prediction,
 * most confident first (ties: lower index first).
 */
export function mostConfidentWrong(o: WrongOptions): DigitRecord[] {
  const [n, k] = o.probabilities.shape;
  const px = IMAGE_SIDE * IMAGE_SIDE;
  if (o.probabilities.rank !== 2 || o.predictions.length !== n || o.labels.length !== n) {
    throw new Error(
      `mostConfidentWrong: probabilities ${fmtShape(o.probabilities.shape)}, ` +
        `${o.predictions.length} predictions and ${o.labels.length} labels must agree on N`,
    );
  }
  if (o.images.length !== n * px) {
    throw new Error(
      `mostConfidentWrong: images has ${o.images.length} values, ${n} images of 28x28 need ${
        n * px
      }`,
    );
  }
  const p = o.probabilities.data;
  const wrong: number[] = [];
  for (let i = 0; i < n; i++) if (o.predictions[i] !== o.labels[i]) wrong.push(i);
  const conf = (i: number) => p[i * k + o.predictions[i]];
  wrong.sort((a, b) => conf(b) - conf(a) || a - b);
  return wrong.slice(0, Math.max(0, o.count)).map((i) => ({
    index: i,
    label: o.labels[i],
    prediction: o.predictions[i],
    probabilities: roundAll(p.subarray(i * k, (i + 1) * k)),
    pixels: pixelBytes(
      Array.prototype.slice.call(o.images, i * px, (i + 1) * px) as number[],
      o.pixelMax,
    ),
  }));
}

/** The weights of a convolution layer (OIHW `[out, in, kh, kw]`) as a {@link FilterBank}. */
export function filterBank(layer: string, w: Tensor): FilterBank {
  if (w.rank !== 4) {
    throw new Error(`filterBank: ${layer} weights must be OIHW (rank 4), got ${fmtShape(w.shape)}`);
  }
  return { layer, shape: w.shape.slice(), values: roundAll(w.data) };
}

/**
 * One layer's forward value and delta for a single digit. A leading batch axis of extent 1 is
 * dropped (`[1, 6, 28, 28]` -> `[6, 28, 28]`); both tensors must have the same shape.
 */
export function layerMaps(name: string, activation: Tensor, delta: Tensor): LayerMaps {
  const same = activation.shape.length === delta.shape.length &&
    activation.shape.every((d, i) => d === delta.shape[i]);
  if (!same) {
    throw new Error(
      `layerMaps(${name}): activation ${fmtShape(activation.shape)} and delta ` +
        `${fmtShape(delta.shape)} must have the same shape`,
    );
  }
  let shape = activation.shape.slice();
  if (shape.length >= 2 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length < 1 || shape.length > 3) {
    throw new Error(
      `layerMaps(${name}): expected [C, H, W], [H, W] or [K] (after the batch axis), got ` +
        fmtShape(activation.shape),
    );
  }
  return { name, shape, activation: roundAll(activation.data), delta: roundAll(delta.data) };
}

/** A digit with its layers; `deltaLabel` is the label whose loss the deltas differentiate. */
export function chosenDigit(
  digit: DigitRecord,
  deltaLabel: number,
  layers: readonly LayerMaps[],
): ChosenDigit {
  return { ...digit, delta_label: deltaLabel, layers };
}

/** The `report.json` text, validated against the contract (throws naming the bad field). */
export function reportJson(r: RunReport): string {
  return JSON.stringify(checkRunReport(r)) + "\n";
}

/**
 * Writes `<dir>/report.json` atomically (a temporary file renamed over the target), so the
 * report never reads a half-written file.
 */
export async function writeReportFile(dir: string, r: RunReport): Promise<void> {
  const text = reportJson(r);
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${dir}/${REPORT_FILE}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, `${dir}/${REPORT_FILE}`);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
