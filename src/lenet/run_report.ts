/**
 * The trainer's `report.json`, in the run-folder contract of `deno task report`
 * (`run_files.ts`): the test confusion matrix, the most confidently wrong test digits,
 * the convolution filters, and for the first test digit of each class the feature and delta maps
 * of every layer.
 *
 * @module
 */

import { softmax } from "../tensor/softmax.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { traceLayers } from "./inspect.ts";
import { type Dataset, datasetImages } from "./dataset.ts";
import type { Variant } from "./model.ts";
import { flattenParams, type Params } from "./params.ts";
import type { Normalization } from "./run_checkpoint.ts";
import { REPORT_FORMAT, REPORT_VERSION, type RunReport } from "./run_files.ts";
import { chosenDigit, digitRecord, filterBank, layerMaps } from "./run_summary.ts";
import type { Evaluation } from "./train.ts";

const PIXELS = 784;

/** Options of {@link buildRunReport}. */
export interface RunReportOptions {
  /** How many confidently wrong digits to include (at most `evaluation.errors.length`); 24. */
  readonly wrong?: number;
}

/**
 * The `report.json` of a trained model on its test set. `test` holds the images the model was
 * evaluated on (scaled with `norm`); `evaluation` must come from `evaluate(..., { confusion: true, errors })`
 * on that same set.
 */
export function buildRunReport<P extends Params>(
  variant: Variant<P>,
  params: P,
  test: Dataset,
  norm: Normalization,
  evaluation: Evaluation,
  opts: RunReportOptions = {},
): RunReport {
  const { labels } = test;
  const dtype = flattenParams(params)[0][1].dtype;
  const data = { ...test, normalization: norm };
  const image = (i: number) => datasetImages(data, i, 1, dtype);
  // The raw pixels in [0, 1], straight from the bytes (no normalization to undo).
  const raw = (i: number) =>
    Array.from(test.pixels.subarray(i * PIXELS, (i + 1) * PIXELS), (p) => p / 255);
  const probabilities = (logits: Tensor) => Array.from(softmax(logits, -1).data);
  const wrong = (evaluation.errors ?? []).slice(0, opts.wrong ?? 24).map((m) =>
    digitRecord(
      m.index,
      m.label,
      probabilities(variant.forward(params, image(m.index))),
      raw(m.index),
      1,
    )
  );
  const digits = [];
  for (let c = 0; c < 10; c++) {
    const i = labels.indexOf(c);
    if (i < 0) continue;
    const t = traceLayers(variant, params, image(i), [c]);
    const record = digitRecord(i, c, probabilities(t.logits), raw(i), 1);
    digits.push(
      chosenDigit(record, c, t.layers.map((l) => layerMaps(l.name, l.activation, l.delta))),
    );
  }
  const confusion = evaluation.confusion;
  if (confusion === undefined) throw new Error("buildRunReport: evaluate with { confusion: true }");
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    model: `LeNet-5 "${variant.name}": ${variant.description}`,
    num_classes: 10,
    test_examples: evaluation.count,
    confusion: Array.from(
      { length: 10 },
      (_, t) => Array.from(confusion.subarray(t * 10, t * 10 + 10)),
    ),
    wrong,
    filters: flattenParams(params)
      .filter(([, t]) => t.rank === 4)
      .map(([path, t]) => filterBank(path.slice(0, path.lastIndexOf(".")), t)),
    digits,
  };
}
