/**
 * A synthetic but realistic run folder for the report tests and the report screenshot: six
 * epochs of falling loss, a 1,000-example "test set" whose logits are drawn with the library's
 * seeded PRNG (so the confusion matrix and the confident mistakes come out of the real builders
 * in `src/lenet/run_summary.ts`), a conv1 bank of random 5x5 filters, and layer maps for two
 * digits computed by the demo's fixed edge bank (real ops) plus made-up fully connected layers
 * and deltas.
 */

import { edgeBankModel } from "../../../src/cli/demo/model.ts";
import { either as E } from "npm:fp-ts@2.16.11";
import { appendMetrics, type EpochMetrics } from "../../../src/lenet/metrics.ts";
import {
  METRICS_FILE,
  REPORT_FORMAT,
  REPORT_VERSION,
  type RunReport,
} from "../../../src/lenet/run_files.ts";
import {
  chosenDigit,
  classify,
  confusionMatrix,
  digitRecord,
  filterBank,
  layerMaps,
  mostConfidentWrong,
  writeReportFile,
} from "../../../src/lenet/run_summary.ts";
import { prngKey, randomNormal, split } from "../../../src/tensor/random.ts";
import { fromData, Tensor } from "../../../src/tensor/tensor.ts";

/** A 28x28 digit (bytes) and its label. */
export interface FixtureDigit {
  readonly label: number;
  readonly pixels: ArrayLike<number>;
}

/** Six epochs of plausible LeNet-5 metrics (938 steps of 64 examples per epoch). */
export function syntheticMetrics(epochs = 6): EpochMetrics[] {
  return Array.from({ length: epochs }, (_, k) => {
    const e = k + 1;
    const trainLoss = 0.04 + 0.3 * 0.55 ** k;
    const testLoss = 0.045 + 0.2 * 0.6 ** k;
    return {
      epoch: e,
      train_loss: Number(trainLoss.toFixed(4)),
      train_accuracy: Number((1 - trainLoss / 3.2).toFixed(4)),
      test_loss: Number(testLoss.toFixed(4)),
      test_accuracy: Number((1 - testLoss / 3.6).toFixed(4)),
      examples_per_s: 2400 + 37 * k,
      epoch_seconds: Number((60000 / (2400 + 37 * k)).toFixed(2)),
      step: 938 * e,
      lr: 0.001,
    };
  });
}

/** A made-up glyph: a ring for even labels, a slanted bar for odd ones (bytes 0..255). */
export function glyph(label: number): Uint8Array {
  const px = new Uint8Array(784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      let d: number;
      if (label % 2 === 0) {
        const r = Math.hypot((x - 14) / (6 + label / 4), (y - 14) / 9);
        d = Math.abs(r - 1) * 7;
      } else {
        d = Math.abs(x - 14 - (y - 14) * (label / 20));
        if (y < 5 || y > 23) d = 9;
      }
      px[y * 28 + x] = Math.round(255 * Math.max(0, Math.min(1, 1.6 - d)));
    }
  }
  return px;
}

const N = 1000;

/** The report data, built with the real builders from seeded random logits. */
export function syntheticReport(digits?: readonly FixtureDigit[]): RunReport {
  const source: FixtureDigit[] = digits?.length
    ? [...digits]
    : Array.from({ length: 10 }, (_, l) => ({ label: l, pixels: glyph(l) }));
  const [k1, k2, k3] = split(prngKey(8), 3);
  const noise = randomNormal(k1, [N, 10]).data;
  const logits = new Float32Array(N * 10);
  const labels = new Int32Array(N);
  const images = new Uint8Array(N * 784);
  for (let i = 0; i < N; i++) {
    const d = source[i % source.length];
    labels[i] = d.label;
    images.set(Array.from(d.pixels), i * 784);
    for (let c = 0; c < 10; c++) {
      // The right class leads by ~6 nats; the noise flips about 1 in 40 answers, more often
      // towards the classic confusions (4/9, 3/5, 7/1).
      const confusable = (d.label === 4 && c === 9) || (d.label === 3 && c === 5) ||
        (d.label === 7 && c === 1);
      logits[i * 10 + c] = (c === d.label ? 6 : confusable ? 2.5 : 0) + 1.8 * noise[i * 10 + c];
    }
  }
  const { probabilities, predictions } = classify(new Tensor(logits, [N, 10]));
  const conv1 = randomNormal(k2, [6, 1, 5, 5], { std: 0.3 });
  const edge = edgeBankModel();
  const fcNoise = randomNormal(k3, [2, 94]).data;
  const chosen = [0, 1].map((i) => {
    const d = source[i % source.length];
    const x = fromData(Array.from(d.pixels, (v) => v / 255), [1, 1, 28, 28]);
    const out = edge.forward(x);
    const probs = Array.from(probabilities.data.subarray(i * 10, i * 10 + 10));
    const layers = out.layers.map((l, j) => {
      const act = fromData(l.values, l.shape);
      // A made-up delta: the map modulated by a signed wave, scaled like real gradients.
      const delta = fromData(
        Array.from(l.values, (v, q) => 1e-3 * v * Math.sin(q / (5 + j)) * Math.cos(q / 31)),
        l.shape,
      );
      return layerMaps(l.name, act, delta);
    });
    const fc = fromData(Array.from(fcNoise.subarray(i * 94, i * 94 + 84), Math.abs), [1, 84]);
    const fcDelta = fromData(fcNoise.subarray(i * 94 + 10, i * 94 + 94), [1, 84]);
    const out10 = fromData(fcNoise.subarray(i * 94 + 84, i * 94 + 94), [1, 10]);
    const outDelta = fromData(probs.map((p, c) => p - (c === d.label ? 1 : 0)), [1, 10]);
    return chosenDigit(
      digitRecord(i, d.label, probs, d.pixels, 255),
      d.label,
      [...layers, layerMaps("fc2", fc, fcDelta), layerMaps("output", out10, outDelta)],
    );
  });
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    model: "synthetic fixture (not a trained model)",
    num_classes: 10,
    test_examples: N,
    confusion: confusionMatrix(labels, predictions, 10),
    wrong: mostConfidentWrong({
      probabilities,
      predictions,
      labels,
      images,
      pixelMax: 255,
      count: 12,
    }),
    filters: [filterBank("conv1", conv1)],
    digits: chosen,
  };
}

/** Writes `metrics.jsonl` (and `report.json` unless `withReport` is false) into `dir`. */
export async function writeSyntheticRun(
  dir: string,
  opts: { withReport?: boolean; digits?: readonly FixtureDigit[] } = {},
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const m of syntheticMetrics()) {
    const appended = await appendMetrics(`${dir}/${METRICS_FILE}`, m)();
    if (E.isLeft(appended)) throw appended.left;
  }
  if (opts.withReport ?? true) await writeReportFile(dir, syntheticReport(opts.digits));
}
