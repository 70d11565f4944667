/**
 * What a training run writes into its folder after each epoch: one JSON line in `metrics.jsonl`
 * (the run-folder contract of `deno task report`, `run_files.ts`, whose reader keeps the first
 * seven keys and ignores the rest), plus per-class precision and recall from a confusion matrix
 * (`deno task eval`). Every line is checked with the reader's own validation before it is
 * written, so what the trainer writes always reads back.
 *
 * `metrics.jsonl`, one object per completed epoch, keys in this order:
 * `epoch` (1-based), `train_loss` and `train_accuracy` (running over the epoch's batches, before
 * each update), `test_loss`, `test_accuracy` (0..1), `examples_per_s` (training examples per
 * second of training, evaluation excluded), `epoch_seconds` (wall time of the epoch including
 * evaluation), then `step` (updates so far), `lr` (the rate of the epoch's last update) and,
 * with a validation split, `validation_loss` and `validation_accuracy`.
 *
 * @module
 */

import { taskEither as TE } from "npm:fp-ts@2.16.11";
import type { TaskEither } from "../tensor/result.ts";
import { CheckpointError } from "./safetensors.ts";
import { writeFileAtomic } from "./checkpoint.ts";
import { checkEpochMetrics, type ReportEpoch } from "./run_files.ts";

/**
 * One line of `metrics.jsonl`.
 *
 * @example
 * ```ts
 * import type { EpochMetrics } from "./mod.ts";
 * const lines = (await Deno.readTextFile("runs/20250101-120000/metrics.jsonl")).trim().split("\n");
 * const last: EpochMetrics = JSON.parse(lines[lines.length - 1]);
 * console.log(last.test_accuracy);
 * ```
 */
export interface EpochMetrics {
  /** Epochs completed (1-based number of this epoch). */
  readonly epoch: number;
  /** Mean training loss over the epoch's batches. */
  readonly train_loss: number;
  /** Fraction of the epoch's training examples classified correctly (before each update). */
  readonly train_accuracy: number;
  /** Mean test loss after the epoch. */
  readonly test_loss: number;
  /** Test accuracy after the epoch, 0..1. */
  readonly test_accuracy: number;
  /** Training examples per second (evaluation excluded). */
  readonly examples_per_s: number;
  /** Wall time of the epoch, evaluation included. */
  readonly epoch_seconds: number;
  /** Optimizer updates so far. */
  readonly step: number;
  /** Learning rate of the epoch's last update. */
  readonly lr: number;
  /** Validation loss, with a validation split. */
  readonly validation_loss?: number;
  /** Validation accuracy, with a validation split. */
  readonly validation_accuracy?: number;
}

/**
 * Per-class figures from a confusion matrix.
 *
 * @example
 * ```ts
 * import { classStats, type ClassStats } from "./mod.ts";
 * const worst = (s: ClassStats[]) => s.reduce((a, b) => (b.recall < a.recall ? b : a));
 * console.log(worst(classStats(Int32Array.from([3, 1, 0, 4]), 2)).digit); // 0
 * ```
 */
export interface ClassStats {
  /** The class (digit). */
  readonly digit: number;
  /** Of the examples predicted as this class, the fraction that are (NaN if none predicted). */
  readonly precision: number;
  /** Of the examples of this class, the fraction predicted as it (NaN if none). */
  readonly recall: number;
  /** Examples of this class. */
  readonly support: number;
}

/**
 * Precision and recall per class from a `k x k` confusion matrix (`m[t * k + p]`: label `t`
 * predicted as `p`).
 *
 * @example
 * ```ts
 * import { classStats } from "./mod.ts";
 * const s = classStats(Int32Array.from([3, 1, 0, 4]), 2);
 * console.log(s[0]); // { digit: 0, precision: 1, recall: 0.75, support: 4 }
 * ```
 */
export function classStats(m: Int32Array, k = 10): ClassStats[] {
  const out: ClassStats[] = [];
  for (let c = 0; c < k; c++) {
    let predicted = 0, actual = 0;
    for (let j = 0; j < k; j++) {
      predicted += m[j * k + c];
      actual += m[c * k + j];
    }
    const hit = m[c * k + c];
    out.push({
      digit: c,
      precision: predicted === 0 ? NaN : hit / predicted,
      recall: actual === 0 ? NaN : hit / actual,
      support: actual,
    });
  }
  return out;
}

/** Rounds for JSON: `digits` significant decimals, keeping integers as they are. */
function round(v: number, digits = 6): number {
  return Number.isFinite(v) ? Number(v.toFixed(digits)) : v;
}

/**
 * The JSON line of an epoch (keys in the contract's order, no newline). The rounded values are
 * validated as the reader validates them; an invalid one (an accuracy above 1, a negative or
 * non-finite loss, ...) throws an `Error` naming the field.
 *
 * @example
 * ```ts
 * import { metricsLine } from "./mod.ts";
 * console.log(metricsLine({
 *   epoch: 1, train_loss: 0.2, train_accuracy: 0.94, test_loss: 0.07, test_accuracy: 0.977,
 *   examples_per_s: 1200, epoch_seconds: 52, step: 938, lr: 0.001,
 * })); // {"epoch":1,"train_loss":0.2,...}
 * ```
 */
export function metricsLine(m: EpochMetrics): string {
  const read: ReportEpoch = checkEpochMetrics({
    epoch: m.epoch,
    train_loss: round(m.train_loss),
    train_accuracy: round(m.train_accuracy),
    test_loss: round(m.test_loss),
    test_accuracy: round(m.test_accuracy),
    examples_per_s: round(m.examples_per_s, 1),
    epoch_seconds: round(m.epoch_seconds, 3),
  });
  const o: Record<string, number> = { ...read, step: m.step, lr: m.lr };
  if (m.validation_loss !== undefined) o.validation_loss = round(m.validation_loss);
  if (m.validation_accuracy !== undefined) o.validation_accuracy = round(m.validation_accuracy);
  return JSON.stringify(o);
}

function ioError(path: string, e: unknown): CheckpointError {
  return new CheckpointError(path, null, `cannot write: ${e instanceof Error ? e.message : e}`);
}

/**
 * Appends one epoch's line to `metrics.jsonl` (the file at `path`; its folder must exist). A
 * record that fails {@link metricsLine}'s validation is a Left and nothing is written.
 */
export function appendMetrics(path: string, m: EpochMetrics): TaskEither<CheckpointError, void> {
  let line: string;
  try {
    line = metricsLine(m);
  } catch (e) {
    return TE.left(
      new CheckpointError(path, null, `not written: ${e instanceof Error ? e.message : e}`),
    );
  }
  return TE.tryCatch(
    () => Deno.writeTextFile(path, `${line}\n`, { append: true }),
    (e) => ioError(path, e),
  );
}

/**
 * Rewrites `metrics.jsonl` keeping only the lines of epochs `<= epochs` (a resumed run redoes
 * the later ones), atomically; a missing file becomes an empty one.
 */
export function truncateMetrics(path: string, epochs: number): TaskEither<CheckpointError, void> {
  return async () => {
    let text = "";
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) return { _tag: "Left", left: ioError(path, e) };
    }
    const kept = text.split("\n").filter((line) => {
      if (line.trim() === "") return false;
      try {
        const epoch = JSON.parse(line).epoch;
        return typeof epoch === "number" && epoch <= epochs;
      } catch {
        return false; // a line cut short by a kill
      }
    });
    return writeFileAtomic(path, new TextEncoder().encode(kept.map((l) => `${l}\n`).join("")))();
  };
}
