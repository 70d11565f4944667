/**
 * The training loop, with its effects at the edges: it loads MNIST, runs the pure step over
 * seeded minibatches, reports progress, evaluates after each epoch, appends `metrics.jsonl`,
 * writes checkpoints atomically, stops cleanly on an abort signal (Ctrl-C) and on a non-finite
 * loss, gradient or parameter, and finally writes `report.json`.
 *
 * Order at the end of an epoch: evaluate, append the metrics line, update `best.safetensors`,
 * save `checkpoint.safetensors`. A resumed run drops metrics lines of epochs its checkpoint has
 * not completed, so a kill between two of these writes leaves no duplicate.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import type { Progress } from "../cli/progress.ts";
import type { Either } from "../tensor/result.ts";
import { augmentBatch } from "./augment.ts";
import { optimizerFor, parseInit, type TrainConfig } from "./config.ts";
import type { DataError } from "./data_error.ts";
import type { DownloadEvent } from "./download.ts";
import { type Dataset, sliceDataset } from "./dataset.ts";
import { loadMnist } from "./mnist.ts";
import { appendMetrics, type EpochMetrics, truncateMetrics } from "./metrics.ts";
import { buildRunReport } from "./run_report.ts";
import { METRICS_FILE, REPORT_FILE } from "./run_files.ts";
import { writeReportFile } from "./run_summary.ts";
import { getVariant, type Variant } from "./model.ts";
import type { Params } from "./params.ts";
import {
  FRESH_PROGRESS,
  type Normalization,
  type RunCheckpoint,
  type RunProgress,
  saveRun,
} from "./run_checkpoint.ts";
import { createGradientPool, makeShardedTrainStep } from "./shards.ts";
import {
  batchesPerEpoch,
  batchKey,
  type Divergence,
  epochOrder,
  evaluate,
  type Evaluation,
  gatherBatch,
  initTrainState,
  makeTrainStep,
  nextEpoch,
  type TrainState,
} from "./train.ts";

/** How many confidently wrong test digits `report.json` shows. */
const REPORT_WRONG = 24;

/**
 * The names of the files in a run folder.
 *
 * @example
 * ```ts
 * import { RUN_FILES, type RunFiles } from "./mod.ts";
 * const files: RunFiles = RUN_FILES;
 * console.log(files.metrics); // "metrics.jsonl"
 * ```
 */
export interface RunFiles {
  /** The latest checkpoint. */
  readonly checkpoint: string;
  /** The checkpoint of the best epoch. */
  readonly best: string;
  /** One JSON line per epoch. */
  readonly metrics: string;
  /** What `deno task report` draws (written when training ends). */
  readonly report: string;
}

/**
 * File names inside the run folder.
 *
 * @example
 * ```ts
 * import { RUN_FILES } from "./mod.ts";
 * console.log(`runs/20250101-120000/${RUN_FILES.checkpoint}`); // runs/20250101-120000/checkpoint.safetensors
 * ```
 */
export const RUN_FILES: RunFiles = Object.freeze({
  checkpoint: "checkpoint.safetensors",
  best: "best.safetensors",
  metrics: METRICS_FILE,
  report: REPORT_FILE,
});

/**
 * What the loop talks to.
 *
 * @example
 * ```ts
 * import { createProgress, type TrainIo } from "./mod.ts";
 * const ctl = new AbortController();
 * const io: TrainIo = { progress: createProgress(), signal: ctl.signal };
 * ```
 */
export interface TrainIo {
  /** The progress display (live line or plain lines). */
  readonly progress: Progress;
  /** Aborting it (Ctrl-C) stops after the current step with a checkpoint. */
  readonly signal?: AbortSignal;
  /** MNIST download events (when files are missing). */
  readonly onDownload?: (e: DownloadEvent) => void;
  /** Environment lookup for MNIST_DIR/MNIST_MIRROR (tests); default Deno.env. */
  readonly env?: (name: string) => string | undefined;
}

/**
 * Where and how to run.
 *
 * @example
 * ```ts
 * import { DEFAULT_TRAIN_CONFIG, type TrainRun } from "./mod.ts";
 * const run: TrainRun = { config: DEFAULT_TRAIN_CONFIG, out: "runs/mine", checkpointEvery: 500 };
 * ```
 */
export interface TrainRun {
  /** The training configuration (from flags, or from the checkpoint on resume). */
  readonly config: TrainConfig;
  /** The run folder (created if missing). */
  readonly out: string;
  /** MNIST directory (`--data`), else `$MNIST_DIR`, else data/mnist. */
  readonly dataDir?: string;
  /** Never download. */
  readonly offline?: boolean;
  /** Save a checkpoint every this many steps as well as at each epoch end; 0 for epoch ends. */
  readonly checkpointEvery?: number;
  /** The checkpoint to resume from. */
  readonly resume?: RunCheckpoint;
  /**
   * Threads computing the gradient shards (`config.shards` of them per batch): this one plus
   * `workers - 1` Workers. Changes the speed, never the weights. Default 1.
   */
  readonly workers?: number;
}

/**
 * How a run ended without an error.
 *
 * @example
 * ```ts
 * import type { TrainSummary } from "./mod.ts";
 * const line = (s: TrainSummary) => `${s.status}: ${(100 * (s.finalTest?.accuracy ?? 0)).toFixed(2)}% -> ${s.checkpoint}`;
 * ```
 */
export interface TrainSummary {
  /** `"completed"`, `"early-stopped"` or `"interrupted"` (by the abort signal). */
  readonly status: "completed" | "early-stopped" | "interrupted";
  /** The run folder and its files. */
  readonly out: string;
  /** Path of the latest checkpoint. */
  readonly checkpoint: string;
  /** Path of the best checkpoint, if an epoch completed. */
  readonly bestCheckpoint: string | null;
  /** The training state at the end. */
  readonly state: TrainState;
  /** Evaluation of the final parameters on the test set, if an epoch completed. */
  readonly finalTest: Evaluation | null;
  /** The run's bookkeeping at the end (best epoch, times). */
  readonly progress: RunProgress;
  /** Training examples per second over the run. */
  readonly examplesPerSecond: number;
  /**
   * What the variant reads off its trained parameters (e.g. the learned connection table), and
   * the path it was written to; null when the variant has nothing to say or no epoch ended.
   */
  readonly learned: { readonly path: string; readonly text: string } | null;
}

/**
 * Why a run failed.
 *
 * @example
 * ```ts
 * import type { TrainFailure } from "./mod.ts";
 * const exitCode = (f: TrainFailure) => (f.kind === "data" && f.error.kind === "invalid-option" ? 2 : 1);
 * ```
 */
export type TrainFailure =
  | { readonly kind: "data"; readonly message: string; readonly error: DataError }
  | {
    readonly kind: "diverged";
    readonly message: string;
    readonly divergence: Divergence;
    /** The last checkpoint saved before the divergence (left untouched), if any. */
    readonly checkpoint: string | null;
  }
  | { readonly kind: "io"; readonly message: string };

const join = (dir: string, name: string) => `${dir.replace(/[\/\\]+$/, "")}/${name}`;

/** The first `n` examples of a split (a view: no copy), or all of them for null. */
function take(d: Dataset, n: number | null): Dataset {
  return n === null || n >= d.count ? d : sliceDataset(d, 0, n);
}

/** Yields to the event loop so that signal listeners (Ctrl-C) get to run. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Runs (or resumes) training to the end, to early stopping, to an abort, or to a failure.
 *
 * @example
 * ```ts
 * import { createProgress, DEFAULT_TRAIN_CONFIG, train } from "./mod.ts";
 * const r = await train(
 *   { config: { ...DEFAULT_TRAIN_CONFIG, epochs: 1, limit: 2000, testLimit: 1000 }, out: "/tmp/run" },
 *   { progress: createProgress() },
 * );
 * if (r._tag === "Right") console.log(r.right.finalTest?.accuracy);
 * ```
 */
export async function train(
  run: TrainRun,
  io: TrainIo,
): Promise<Either<TrainFailure, TrainSummary>> {
  const { config, out } = run;
  const t0 = performance.now();
  const variantE = getVariant(config.variant, config.head);
  if (E.isLeft(variantE)) return E.left({ kind: "io", message: variantE.left });
  const variant = variantE.right as Variant<Params>;
  const init = parseInit(config.init);
  if (E.isLeft(init)) return E.left({ kind: "io", message: init.left });
  const initOpts = init.right;
  // Load only as many examples as the limits need (every split is cut to the same bound).
  const bound = config.limit === null || config.testLimit === null
    ? undefined
    : Math.max(config.limit, config.testLimit, config.validation);
  const mnist = await loadMnist({
    dir: run.dataDir,
    offline: run.offline,
    standardize: true,
    limit: bound,
    validation: config.validation > 0 ? config.validation : undefined,
    signal: io.signal,
    onProgress: io.onDownload,
    env: io.env,
  })();
  if (E.isLeft(mnist)) {
    return E.left({ kind: "data", message: mnist.left.message, error: mnist.left });
  }
  const trainSet = take(mnist.right.train, config.limit);
  const testSet = take(mnist.right.test, config.testLimit);
  const validationSet = mnist.right.validation;
  const normalization: Normalization = mnist.right.normalization;
  const n = trainSet.count, B = config.batchSize;
  const batches = batchesPerEpoch(n, B);
  const { optimizer, schedule } = optimizerFor(config, batches);
  const describeLr = (s: number) => schedule(s).toPrecision(3);
  const threads = run.workers ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > config.shards) {
    return E.left({
      kind: "io",
      message: `workers must be an integer from 1 to the run's ${config.shards} shards; got ` +
        `${threads}`,
    });
  }
  // One shard: the plain step on this thread. Several: a pool (Workers only when threads > 1).
  const pool = config.shards > 1 ? createGradientPool(threads) : undefined;
  const step = pool === undefined
    ? makeTrainStep(variant, optimizer, describeLr)
    : makeShardedTrainStep(variant, optimizer, pool, config.shards, describeLr);
  try {
    return await runLoop();
  } finally {
    pool?.close();
  }
  async function runLoop(): Promise<Either<TrainFailure, TrainSummary>> {
    const background = (0 - normalization.mean) / normalization.std;

    try {
      await Deno.mkdir(out, { recursive: true });
    } catch (e) {
      return E.left({ kind: "io", message: `cannot create the run folder ${out}: ${e}` });
    }
    const files = {
      checkpoint: join(out, RUN_FILES.checkpoint),
      best: join(out, RUN_FILES.best),
      metrics: join(out, RUN_FILES.metrics),
      report: join(out, RUN_FILES.report),
    };
    let state: TrainState = run.resume?.state ??
      initTrainState(variant, optimizer, config.seed, { ...initOpts, dtype: config.dtype });
    let prog: RunProgress = run.resume?.progress ?? FRESH_PROGRESS;
    const truncated = await truncateMetrics(files.metrics, state.epoch)();
    if (E.isLeft(truncated)) return E.left({ kind: "io", message: truncated.left.message });
    let lastSaved: string | null = run.resume !== undefined && run.resume.path === files.checkpoint
      ? files.checkpoint
      : null;
    const elapsedBefore = prog.elapsedSeconds;
    const elapsed = () => elapsedBefore + (performance.now() - t0) / 1000;
    const save = async (path: string): Promise<Either<TrainFailure, void>> => {
      const r = await saveRun(path, config, normalization, state, {
        ...prog,
        elapsedSeconds: elapsed(),
      })();
      if (E.isLeft(r)) return E.left({ kind: "io", message: r.left.message });
      if (path === files.checkpoint) lastSaved = path;
      return E.right(undefined);
    };
    let learned: TrainSummary["learned"] = null;
    const summary = (status: TrainSummary["status"], finalTest: Evaluation | null) =>
      E.right<TrainFailure, TrainSummary>({
        status,
        out,
        checkpoint: files.checkpoint,
        bestCheckpoint: prog.best === null ? null : files.best,
        state,
        finalTest,
        progress: { ...prog, elapsedSeconds: elapsed() },
        examplesPerSecond: prog.trainSeconds > 0 ? prog.examples / prog.trainSeconds : 0,
        learned,
      });

    let finalTest: Evaluation | null = null;
    let lastYield = performance.now();
    const totalSteps = batches * config.epochs;
    while (state.epoch < config.epochs && prog.status === "running") {
      const epochStart = performance.now() - prog.epochTrainSeconds * 1000;
      const order = epochOrder(state.key, state.epoch, n);
      const label = `epoch ${state.epoch + 1}/${config.epochs}`;
      let trainTime = prog.epochTrainSeconds;
      while (state.batch < batches) {
        const ts = performance.now();
        const start = state.batch * B, count = Math.min(B, n - start);
        let batch = gatherBatch(trainSet, undefined, order, start, count, config.dtype);
        if (config.augment) {
          const x = augmentBatch(batch.x, batchKey(state.key, state.epoch, state.batch), {
            background,
          });
          batch = { x, labels: batch.labels };
        }
        const r = await step(state, batch);
        if (E.isLeft(r)) {
          const where = lastSaved === null
            ? "No checkpoint had been saved yet."
            : `The last good checkpoint is kept: ${lastSaved}.`;
          return E.left({
            kind: "diverged",
            message: `${r.left.message}. ${where}`,
            divergence: r.left,
            checkpoint: lastSaved,
          });
        }
        state = r.right.state;
        const { loss, correct } = r.right.report;
        const dt = (performance.now() - ts) / 1000;
        trainTime += dt;
        prog = {
          ...prog,
          lossSum: prog.lossSum + loss * count,
          correct: prog.correct + correct,
          seen: prog.seen + count,
          epochTrainSeconds: trainTime,
          trainSeconds: prog.trainSeconds + dt,
          examples: prog.examples + count,
        };
        const perStep = prog.trainSeconds / Math.max(1, prog.examples / B);
        io.progress.update({
          label,
          current: prog.seen,
          total: n,
          unit: "ex",
          fields: {
            batch: `${state.batch}/${batches}`,
            loss: (prog.lossSum / prog.seen).toFixed(4),
            acc: `${(100 * prog.correct / prog.seen).toFixed(2)}%`,
            // The whole run's ETA, from the mean step time (+6% for the evaluations).
            run: state.step >= totalSteps
              ? "100%"
              : `${Math.floor(100 * state.step / totalSteps)}% ETA ${
                fmtSeconds(perStep * (totalSteps - state.step) * 1.06)
              }`,
          },
        });
        const every = run.checkpointEvery ?? 0;
        if (every > 0 && state.step % every === 0 && state.batch < batches) {
          const saved = await save(files.checkpoint);
          if (E.isLeft(saved)) return saved;
        }
        if (performance.now() - lastYield > 50) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
        if (io.signal?.aborted) {
          const saved = await save(files.checkpoint);
          if (E.isLeft(saved)) return saved;
          io.progress.done(undefined, "interrupted");
          return summary("interrupted", null);
        }
      }
      // End of the epoch: evaluate, record, keep the best, checkpoint.
      const test = evaluate(variant, state.params, testSet, undefined, {
        confusion: true,
        errors: REPORT_WRONG,
      });
      const val = validationSet === undefined
        ? undefined
        : evaluate(variant, state.params, validationSet);
      finalTest = test;
      const epochNo = state.epoch + 1;
      const metrics: EpochMetrics = {
        epoch: epochNo,
        train_loss: prog.lossSum / prog.seen,
        train_accuracy: prog.correct / prog.seen,
        test_loss: test.loss,
        test_accuracy: test.accuracy,
        examples_per_s: prog.seen / trainTime,
        epoch_seconds: (performance.now() - epochStart) / 1000,
        step: state.step,
        lr: schedule(state.step - 1),
        ...(val !== undefined
          ? { validation_loss: val.loss, validation_accuracy: val.accuracy }
          : {}),
      };
      const appended = await appendMetrics(files.metrics, metrics)();
      if (E.isLeft(appended)) return E.left({ kind: "io", message: appended.left.message });
      const metric = val !== undefined ? "validation_accuracy" : "test_accuracy";
      const value = val !== undefined ? val.accuracy : test.accuracy;
      const improved = prog.best === null || value > prog.best.value;
      const lowerValLoss = val !== undefined &&
        (prog.bestValidationLoss === null || val.loss < prog.bestValidationLoss);
      const sinceBest = lowerValLoss ? 0 : prog.sinceBest + 1;
      const stopEarly = config.patience !== null && sinceBest >= config.patience;
      state = nextEpoch(state);
      prog = {
        ...prog,
        lossSum: 0,
        correct: 0,
        seen: 0,
        epochTrainSeconds: 0,
        best: improved ? { epoch: epochNo, metric, value } : prog.best,
        bestValidationLoss: lowerValLoss ? val!.loss : prog.bestValidationLoss,
        sinceBest,
        status: stopEarly
          ? "early-stopped"
          : state.epoch >= config.epochs
          ? "completed"
          : "running",
      };
      if (improved) {
        const saved = await save(files.best);
        if (E.isLeft(saved)) return saved;
      }
      const saved = await save(files.checkpoint);
      if (E.isLeft(saved)) return saved;
      const valNote = val === undefined
        ? ""
        : `  val ${(100 * val.accuracy).toFixed(2)}% (loss ${val.loss.toFixed(4)})`;
      io.progress.done(
        undefined,
        `test ${(100 * test.accuracy).toFixed(2)}% (loss ${test.loss.toFixed(4)})${valNote}  ` +
          `${fmtSeconds(metrics.epoch_seconds)}${stopEarly ? "  early stop" : ""}`,
      );
      if (io.signal?.aborted) return summary("interrupted", finalTest);
    }
    if (finalTest === null && state.epoch > 0) {
      finalTest = evaluate(variant, state.params, testSet, undefined, {
        confusion: true,
        errors: REPORT_WRONG,
      });
    }
    // Training has ended: report.json for `deno task report` (written once, atomically).
    if (finalTest !== null) {
      try {
        const report = buildRunReport(variant, state.params, testSet, normalization, finalTest);
        await writeReportFile(out, report);
      } catch (e) {
        return E.left({ kind: "io", message: `cannot write ${files.report}: ${e}` });
      }
      const note = variant.learned?.(state.params);
      if (note !== undefined) {
        const path = join(out, note.file);
        try {
          await Deno.writeTextFile(path, `${note.text}\n`);
        } catch (e) {
          return E.left({ kind: "io", message: `cannot write ${path}: ${e}` });
        }
        learned = { path, text: note.text };
      }
    }
    return summary(prog.status === "early-stopped" ? "early-stopped" : "completed", finalTest);
  }
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
