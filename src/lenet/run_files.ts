/**
 * The run-folder contract: what a training run writes for `deno task report`, and the strict
 * readers that turn those files into typed values or an error naming the file, the line and the
 * field.
 *
 * A run folder holds:
 *
 * - `metrics.jsonl`, appended after every epoch, one JSON object per line:
 *   `{"epoch": 1, "train_loss": 0.31, "train_accuracy": 0.912, "test_loss": 0.12,
 *   "test_accuracy": 0.9641, "examples_per_s": 2450.5, "epoch_seconds": 24.5}`.
 *   `epoch` is an integer >= 1; losses are finite and >= 0 (means over the epoch / the test
 *   set); accuracies are fractions in [0, 1] (not percent); `examples_per_s` > 0 and
 *   `epoch_seconds` >= 0 are training throughput and wall time. Other keys are allowed and
 *   ignored: the trainer also writes `step`, `lr` and the validation figures (the full line is
 *   {@link EpochMetrics} in `metrics.ts`; the reader keeps {@link ReportEpoch}, the part above).
 *   Blank lines are ignored. A line whose epoch is not
 *   greater than the previous line's starts a resumed segment: the earlier lines from that epoch
 *   on are replaced (a run resumed from a checkpoint re-appends the epochs it redoes).
 * - `report.json`, written once at the end of training (see {@link RunReport} for every field);
 *   until it exists the report shows the curves only.
 *
 * The writers (`metricsLine` and `appendMetrics` in `metrics.ts`, `reportJson` and
 * `writeReportFile` in `run_summary.ts`) go through the same validation
 * ({@link checkEpochMetrics}, {@link checkRunReport}), so a file the trainer writes always reads
 * back. `deno task report` (`src/cli/report.ts`) reads and draws.
 * Internal: not exported from `mod.ts`.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { findJsonSyntaxError } from "./json.ts";
import type { EpochMetrics } from "./metrics.ts";

/** File name of the per-epoch metrics in a run folder. */
export const METRICS_FILE = "metrics.jsonl";
/** File name of the end-of-training report data in a run folder. */
export const REPORT_FILE = "report.json";
/** The `format` field of `report.json`. */
export const REPORT_FORMAT = "gradproof-report";
/** The `version` field of `report.json` this code reads and writes. */
export const REPORT_VERSION = 1;
/** Side of the square input images (MNIST). */
export const IMAGE_SIDE = 28;

/**
 * What the reader keeps of a `metrics.jsonl` line: the fields the report draws, all required.
 * Lines written before `step` and `lr` existed still read.
 */
export type ReportEpoch = Pick<
  EpochMetrics,
  | "epoch"
  | "train_loss"
  | "train_accuracy"
  | "test_loss"
  | "test_accuracy"
  | "examples_per_s"
  | "epoch_seconds"
>;

/** A test digit and the model's answer. */
export interface DigitRecord {
  /** Index in the test set (0-based). */
  readonly index: number;
  /** True class. */
  readonly label: number;
  /** Predicted class (the arg-max of `probabilities`). */
  readonly prediction: number;
  /** Softmax output, `num_classes` values in [0, 1] summing to 1 (within 1e-3). */
  readonly probabilities: readonly number[];
  /** The raw 28x28 image, row-major, integers 0..255 as stored in the IDX file. */
  readonly pixels: readonly number[];
}

/**
 * One point of the forward pass for a chosen digit: the tensor there (`activation`) and the
 * gradient of the loss with respect to it (`delta`, the "delta map" / sensitivity of the classic
 * derivations), both without the batch axis.
 */
export interface LayerMaps {
  /** Name of the point, e.g. `"conv1"`, `"pool1"`, `"fc1"`; the input may appear as `"input"`. */
  readonly name: string;
  /** `[C, H, W]` maps, `[H, W]` one map, or `[K]` a vector (fully connected layers). */
  readonly shape: readonly number[];
  /** The forward value, row-major, `product(shape)` finite numbers. */
  readonly activation: readonly number[];
  /** `dL/d(activation)` for the cross-entropy loss of `delta_label`, same layout. */
  readonly delta: readonly number[];
}

/** A test digit with every layer's maps: the forward and backward pass made visible. */
export interface ChosenDigit extends DigitRecord {
  /** The label whose loss the deltas differentiate (normally the true `label`). */
  readonly delta_label: number;
  /** The layers in forward order. */
  readonly layers: readonly LayerMaps[];
}

/** The weights of a convolution layer, OIHW. */
export interface FilterBank {
  /** Layer name, e.g. `"conv1"`. */
  readonly layer: string;
  /** `[out, in, kh, kw]`. */
  readonly shape: readonly number[];
  /** `product(shape)` finite numbers, row-major. */
  readonly values: readonly number[];
}

/** `report.json`: everything the report needs that only the trained model knows. */
export interface RunReport {
  /** Always {@link REPORT_FORMAT}. */
  readonly format: string;
  /** Always {@link REPORT_VERSION}. */
  readonly version: number;
  /** Free-text model description shown in the report, e.g. `"LeNet-5 (relu, max-pool)"`. */
  readonly model: string;
  /** Number of classes (10 for MNIST). */
  readonly num_classes: number;
  /** Size of the evaluated test set; the confusion matrix sums to it. */
  readonly test_examples: number;
  /** `confusion[true][predicted]` counts, `num_classes` x `num_classes`. */
  readonly confusion: readonly (readonly number[])[];
  /** The most confidently wrong test digits, most confident first (`prediction !== label`). */
  readonly wrong: readonly DigitRecord[];
  /** Convolution weights to draw (conv1 at least). */
  readonly filters: readonly FilterBank[];
  /** Digits with per-layer feature and delta maps; `--digit` picks one by test index. */
  readonly digits: readonly ChosenDigit[];
}

/** A problem with a run folder's file: where (file, line) and what. */
export interface RunError {
  /** The file (or folder) at fault, as given. */
  readonly file: string;
  /** 1-based line, when known. */
  readonly line?: number;
  /** What is wrong and, where useful, what to do. */
  readonly message: string;
}

/** `file:line: message` (or `file: message`). */
export function formatRunError(e: RunError): string {
  return `${e.file}${e.line === undefined ? "" : `:${e.line}`}: ${e.message}`;
}

/** Thrown by the field readers below, caught at the parse boundary and turned into a Left. */
class FieldError extends Error {}

type Json = unknown;

function describe(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "string") return `the string ${JSON.stringify(v.slice(0, 40))}`;
  return typeof v === "object" ? "an object" : `${typeof v} ${String(v)}`;
}

function obj(v: Json, path: string): Record<string, Json> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new FieldError(`${path || "top level"}: expected a JSON object, got ${describe(v)}`);
  }
  return v as Record<string, Json>;
}

function field(o: Record<string, Json>, key: string, path: string): Json {
  if (!(key in o)) throw new FieldError(`${path}${key}: missing`);
  return o[key];
}

interface NumOpts {
  int?: boolean;
  min?: number;
  max?: number;
  above?: number;
}

function checkNum(v: Json, path: string, o: NumOpts): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new FieldError(`${path}: expected a finite number, got ${describe(v)}`);
  }
  if (o.int && !Number.isInteger(v)) throw new FieldError(`${path}: expected an integer, got ${v}`);
  if (o.min !== undefined && v < o.min) throw new FieldError(`${path}: ${v} is below ${o.min}`);
  if (o.max !== undefined && v > o.max) throw new FieldError(`${path}: ${v} is above ${o.max}`);
  if (o.above !== undefined && !(v > o.above)) {
    throw new FieldError(`${path}: ${v} must be greater than ${o.above}`);
  }
  return v;
}

function numField(o: Record<string, Json>, key: string, path: string, opts: NumOpts): number {
  return checkNum(field(o, key, path), path + key, opts);
}

function strField(o: Record<string, Json>, key: string, path: string): string {
  const v = field(o, key, path);
  if (typeof v !== "string") {
    throw new FieldError(`${path}${key}: expected a string, got ${describe(v)}`);
  }
  return v;
}

function arr(v: Json, path: string, length?: number, what = "values"): Json[] {
  if (!Array.isArray(v)) throw new FieldError(`${path}: expected an array, got ${describe(v)}`);
  if (length !== undefined && v.length !== length) {
    throw new FieldError(`${path}: expected ${length} ${what}, got ${v.length}`);
  }
  return v;
}

function numbers(v: Json, path: string, length: number | undefined, o: NumOpts, what?: string) {
  const a = arr(v, path, length, what);
  for (let i = 0; i < a.length; i++) checkNum(a[i], `${path}[${i}]`, o);
  return a as number[];
}

function shapeOf(v: Json, path: string, ranks: readonly number[]): number[] {
  const s = numbers(v, path, undefined, { int: true, min: 1 });
  if (!ranks.includes(s.length)) {
    throw new FieldError(`${path}: expected rank ${ranks.join(" or ")}, got [${s.join(", ")}]`);
  }
  return s;
}

const product = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Validates one metrics object, keeping the {@link ReportEpoch} fields. */
function readMetrics(v: Json): ReportEpoch {
  const o = obj(v, "");
  const acc = { min: 0, max: 1 };
  return {
    epoch: numField(o, "epoch", "", { int: true, min: 1 }),
    train_loss: numField(o, "train_loss", "", { min: 0 }),
    train_accuracy: numField(o, "train_accuracy", "", acc),
    test_loss: numField(o, "test_loss", "", { min: 0 }),
    test_accuracy: numField(o, "test_accuracy", "", acc),
    examples_per_s: numField(o, "examples_per_s", "", { above: 0 }),
    epoch_seconds: numField(o, "epoch_seconds", "", { min: 0 }),
  };
}

/** Validates a metrics record the way the reader does; throws a message naming the field. */
export function checkEpochMetrics(m: ReportEpoch): ReportEpoch {
  try {
    return readMetrics(m);
  } catch (e) {
    if (e instanceof FieldError) throw new Error(`metrics: ${e.message}`);
    throw e;
  }
}

/**
 * The error for `text` that `JSON.parse` rejected: where it goes wrong and how. `line` is the
 * line in the file when `text` is one line of it; otherwise the line is found in `text`.
 */
function notJson(file: string, text: string, line?: number): RunError {
  const syn = findJsonSyntaxError(text);
  return {
    file,
    line: line ?? syn?.line,
    message: `not valid JSON (column ${syn?.column ?? 1}: ${syn?.message ?? "syntax error"})`,
  };
}

/**
 * Parses `metrics.jsonl` text. Errors name `file` and the 1-based line. See the module doc for
 * blank lines and resumed runs.
 */
export function parseMetrics(text: string, file: string): E.Either<RunError, ReportEpoch[]> {
  const out: ReportEpoch[] = [];
  const lines = text.split("\n");
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k].trim();
    if (line === "") continue;
    let v: Json;
    try {
      v = JSON.parse(line);
    } catch {
      return E.left(notJson(file, line, k + 1));
    }
    try {
      const m = readMetrics(v);
      while (out.length > 0 && out[out.length - 1].epoch >= m.epoch) out.pop();
      out.push(m);
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      return E.left({ file, line: k + 1, message: e.message });
    }
  }
  if (out.length === 0) {
    return E.left({ file, message: "no epochs yet (the trainer appends a line per epoch)" });
  }
  return E.right(out);
}

function readDigit(v: Json, path: string, classes: number): DigitRecord {
  const o = obj(v, path);
  const cls = { int: true, min: 0, max: classes - 1 };
  const probabilities = numbers(
    field(o, "probabilities", path),
    `${path}probabilities`,
    classes,
    { min: 0, max: 1 },
    "probabilities (num_classes)",
  );
  const total = probabilities.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-3) {
    throw new FieldError(
      `${path}probabilities: sum to ${Number(total.toFixed(6))}, expected 1 (a softmax output)`,
    );
  }
  return {
    index: numField(o, "index", path, { int: true, min: 0 }),
    label: numField(o, "label", path, cls),
    prediction: numField(o, "prediction", path, cls),
    probabilities,
    pixels: numbers(
      field(o, "pixels", path),
      `${path}pixels`,
      IMAGE_SIDE * IMAGE_SIDE,
      { int: true, min: 0, max: 255 },
      "pixels (28x28)",
    ),
  };
}

function readLayer(v: Json, path: string): LayerMaps {
  const o = obj(v, path);
  const name = strField(o, "name", path);
  if (name === "") throw new FieldError(`${path}name: empty`);
  const shape = shapeOf(field(o, "shape", path), `${path}shape`, [1, 2, 3]);
  const n = product(shape), what = `numbers (shape [${shape.join(", ")}])`;
  return {
    name,
    shape,
    activation: numbers(field(o, "activation", path), `${path}activation`, n, {}, what),
    delta: numbers(field(o, "delta", path), `${path}delta`, n, {}, what),
  };
}

function readReport(v: Json): RunReport {
  const o = obj(v, "");
  const format = strField(o, "format", "");
  if (format !== REPORT_FORMAT) {
    throw new FieldError(`format: expected "${REPORT_FORMAT}", got ${JSON.stringify(format)}`);
  }
  const version = numField(o, "version", "", { int: true });
  if (version !== REPORT_VERSION) {
    throw new FieldError(
      `version: this gradproof reads version ${REPORT_VERSION}, the file is version ${version}`,
    );
  }
  const classes = numField(o, "num_classes", "", { int: true, min: 2, max: 1000 });
  const testExamples = numField(o, "test_examples", "", { int: true, min: 0 });
  const confusion = arr(field(o, "confusion", ""), "confusion", classes, "rows (num_classes)")
    .map((r, i) =>
      numbers(r, `confusion[${i}]`, classes, { int: true, min: 0 }, "counts (num_classes)")
    );
  const total = confusion.reduce((a, r) => a + r.reduce((x, y) => x + y, 0), 0);
  if (total !== testExamples) {
    throw new FieldError(`confusion: counts sum to ${total}, test_examples is ${testExamples}`);
  }
  const wrong = arr(field(o, "wrong", ""), "wrong").map((w, i) => {
    const d = readDigit(w, `wrong[${i}].`, classes);
    if (d.prediction === d.label) {
      throw new FieldError(`wrong[${i}]: prediction equals label (${d.label}); not a mistake`);
    }
    return d;
  });
  const filters = arr(field(o, "filters", ""), "filters").map((f, i): FilterBank => {
    const p = `filters[${i}].`, fo = obj(f, p);
    const shape = shapeOf(field(fo, "shape", p), `${p}shape`, [4]);
    return {
      layer: strField(fo, "layer", p),
      shape,
      values: numbers(field(fo, "values", p), `${p}values`, product(shape), {}),
    };
  });
  const digits = arr(field(o, "digits", ""), "digits").map((d, i): ChosenDigit => {
    const p = `digits[${i}].`;
    const base = readDigit(d, p, classes), dob = obj(d, p);
    return {
      ...base,
      delta_label: numField(dob, "delta_label", p, { int: true, min: 0, max: classes - 1 }),
      layers: arr(field(dob, "layers", p), `${p}layers`).map((l, j) =>
        readLayer(l, `${p}layers[${j}].`)
      ),
    };
  });
  return {
    format,
    version,
    model: strField(o, "model", ""),
    num_classes: classes,
    test_examples: testExamples,
    confusion,
    wrong,
    filters,
    digits,
  };
}

/** Validates a report value the way the reader does; throws a message naming the field. */
export function checkRunReport(r: RunReport): RunReport {
  try {
    return readReport(r);
  } catch (e) {
    if (e instanceof FieldError) throw new Error(`report: ${e.message}`);
    throw e;
  }
}

/** Parses `report.json` text. Syntax errors name the line; schema errors the field path. */
export function parseReport(text: string, file: string): E.Either<RunError, RunReport> {
  let v: Json;
  try {
    v = JSON.parse(text);
  } catch {
    return E.left(notJson(file, text));
  }
  try {
    return E.right(readReport(v));
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    return E.left({ file, message: e.message });
  }
}

/** A run folder read into memory. */
export interface Run {
  /** The folder as given. */
  readonly dir: string;
  /** The epochs, in order. */
  readonly metrics: readonly ReportEpoch[];
  /** The end-of-training data, or null while training has not finished. */
  readonly report: RunReport | null;
}

async function readText(path: string): Promise<E.Either<RunError | "missing", string>> {
  try {
    return E.right(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return E.left("missing");
    if (e instanceof Deno.errors.IsADirectory) {
      return E.left({ file: path, message: "is a folder, expected a file" });
    }
    return E.left({ file: path, message: `cannot read: ${(e as Error).message}` });
  }
}

/**
 * Reads a run folder: `metrics.jsonl` is required, `report.json` optional (null when absent).
 * Every failure is a {@link RunError} naming the file (and line).
 */
export async function readRun(dir: string): Promise<E.Either<RunError, Run>> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch {
    return E.left({ file: dir, message: "run folder not found" });
  }
  if (!info.isDirectory) {
    return E.left({ file: dir, message: "not a folder (expected a run folder)" });
  }
  const sep = dir.endsWith("/") ? "" : "/";
  const mPath = `${dir}${sep}${METRICS_FILE}`, rPath = `${dir}${sep}${REPORT_FILE}`;
  const mText = await readText(mPath);
  if (E.isLeft(mText)) {
    return E.left(
      mText.left === "missing"
        ? { file: mPath, message: "not found (the trainer appends it after every epoch)" }
        : mText.left,
    );
  }
  const metrics = parseMetrics(mText.right, mPath);
  if (E.isLeft(metrics)) return metrics;
  const rText = await readText(rPath);
  if (E.isLeft(rText)) {
    if (rText.left === "missing") return E.right({ dir, metrics: metrics.right, report: null });
    return E.left(rText.left);
  }
  const report = parseReport(rText.right, rPath);
  if (E.isLeft(report)) return report;
  return E.right({ dir, metrics: metrics.right, report: report.right });
}
