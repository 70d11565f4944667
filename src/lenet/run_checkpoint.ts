/**
 * A training run's checkpoints: the training state plus what `--resume`, `eval` and `predict`
 * need to carry on, stored as metadata strings of the safetensors checkpoint
 * (`src/lenet/checkpoint.ts`):
 *
 * - `config`: the {@link TrainConfig} as JSON (a resumed run continues with exactly these
 *   settings);
 * - `normalization`: `{"mean", "std"}` applied to pixels in [0, 1] (`x = (p - mean) / std`), so
 *   evaluation and prediction feed the network what training fed it;
 * - `progress`: the {@link RunProgress} of the epoch under way (running loss and accuracy sums,
 *   times) and of the run (best epoch, early-stopping counters), so metrics continue too.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { pipe } from "npm:fp-ts@2.16.11/lib/function.js";
import { prngKey } from "../tensor/random.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { Either, TaskEither } from "../tensor/result.ts";
import {
  type CheckpointMeta,
  decodeCheckpoint,
  peekCheckpointMeta,
  readFileBytes,
  saveCheckpoint,
} from "./checkpoint.ts";
import { optimizerFor, parseInit, parseTrainConfig, type TrainConfig } from "./config.ts";
import { getVariant, type Variant } from "./model.ts";
import type { Params } from "./params.ts";
import type { CheckpointError } from "./safetensors.ts";
import type { TrainState } from "./train.ts";

/**
 * Pixel normalization: `x = (p - mean) / std` for pixels `p` in [0, 1].
 *
 * @example
 * ```ts
 * import { MNIST_MEAN, MNIST_STD, type Normalization } from "./mod.ts";
 * const standard: Normalization = { mean: MNIST_MEAN, std: MNIST_STD };
 * ```
 */
export interface Normalization {
  /** Subtracted from each pixel. */
  readonly mean: number;
  /** Divides each centered pixel. */
  readonly std: number;
}

/**
 * `(p - mean) / std` for pixels `p` in [0, 1], as a fresh float32 tensor (how `predict` and
 * `eval` feed images to a model trained with that normalization).
 *
 * @example
 * ```ts
 * import { normalizeImages, tensor } from "./mod.ts";
 * console.log(normalizeImages(tensor([0, 1]), { mean: 0.5, std: 0.5 }).data); // Float32Array [-1, 1]
 * ```
 */
export function normalizeImages(images: Tensor, norm: Normalization): Tensor {
  const src = images.data, out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = (src[i] - norm.mean) / norm.std;
  return new Tensor(out, images.shape);
}

/**
 * The best epoch so far.
 *
 * @example
 * ```ts
 * import type { BestEpoch } from "./mod.ts";
 * const describe = (b: BestEpoch) => `${b.metric} ${(100 * b.value).toFixed(2)}% at epoch ${b.epoch}`;
 * ```
 */
export interface BestEpoch {
  /** Its number (1-based). */
  readonly epoch: number;
  /** `"validation_accuracy"` or `"test_accuracy"`. */
  readonly metric: string;
  /** The metric's value. */
  readonly value: number;
}

/**
 * The bookkeeping a run carries across checkpoints (besides the training state).
 *
 * @example
 * ```ts
 * import { FRESH_PROGRESS, type RunProgress } from "./mod.ts";
 * const p: RunProgress = { ...FRESH_PROGRESS, seen: 640, correct: 600, lossSum: 128 };
 * console.log(p.correct / p.seen, p.lossSum / p.seen); // 0.9375 0.2
 * ```
 */
export interface RunProgress {
  /** Sum over the epoch's batches so far of `batch loss x batch size`. */
  readonly lossSum: number;
  /** Examples of the epoch so far classified correctly before their update. */
  readonly correct: number;
  /** Examples of the epoch seen so far. */
  readonly seen: number;
  /** Seconds spent training in the epoch under way (evaluation excluded). */
  readonly epochTrainSeconds: number;
  /** Seconds of the run so far (all sessions, evaluation included). */
  readonly elapsedSeconds: number;
  /** Seconds of the run so far spent in training steps. */
  readonly trainSeconds: number;
  /** Examples trained on so far, all epochs. */
  readonly examples: number;
  /** The best epoch so far, or null before the first evaluation. */
  readonly best: BestEpoch | null;
  /** Lowest validation loss so far, or null. */
  readonly bestValidationLoss: number | null;
  /** Epochs since the validation loss last improved. */
  readonly sinceBest: number;
  /** `"running"`, or how the run ended. */
  readonly status: "running" | "completed" | "early-stopped";
}

/**
 * The progress of a run that has not started.
 *
 * @example
 * ```ts
 * import { FRESH_PROGRESS } from "./mod.ts";
 * console.log(FRESH_PROGRESS.status, FRESH_PROGRESS.best); // "running" null
 * ```
 */
export const FRESH_PROGRESS: RunProgress = Object.freeze({
  lossSum: 0,
  correct: 0,
  seen: 0,
  epochTrainSeconds: 0,
  elapsedSeconds: 0,
  trainSeconds: 0,
  examples: 0,
  best: null,
  bestValidationLoss: null,
  sinceBest: 0,
  status: "running",
});

/**
 * A run as a checkpoint holds it.
 *
 * @example
 * ```ts
 * import { loadRun, type RunCheckpoint } from "./mod.ts";
 * const where = (c: RunCheckpoint) => `epoch ${c.state.epoch}, batch ${c.state.batch}, step ${c.state.step}`;
 * const r = await loadRun("runs/20250101-120000/checkpoint.safetensors")();
 * if (r._tag === "Right") console.log(where(r.right));
 * ```
 */
export interface RunCheckpoint<P extends Params = Params> {
  /** The file it was read from. */
  readonly path: string;
  /** The training configuration. */
  readonly config: TrainConfig;
  /** The model variant. */
  readonly variant: Variant<P>;
  /** The pixel normalization training used. */
  readonly normalization: Normalization;
  /** The training state (parameters, optimizer state, counters, key). */
  readonly state: TrainState<P>;
  /** The run's bookkeeping. */
  readonly progress: RunProgress;
  /** The raw metadata. */
  readonly meta: CheckpointMeta;
}

/**
 * Saves a run's state atomically to `path`.
 *
 * @example
 * ```ts
 * import { adam, DEFAULT_TRAIN_CONFIG, FRESH_PROGRESS, initTrainState, modern, saveRun } from "./mod.ts";
 * const state = initTrainState(modern, adam({ lr: 1e-3 }), 0);
 * const norm = { mean: 0.1307, std: 0.3081 };
 * await saveRun("/tmp/run.safetensors", DEFAULT_TRAIN_CONFIG, norm, state, FRESH_PROGRESS)();
 * ```
 */
export function saveRun<P extends Params>(
  path: string,
  config: TrainConfig,
  normalization: Normalization,
  state: TrainState<P>,
  progress: RunProgress,
): TaskEither<CheckpointError, void> {
  return saveCheckpoint(path, {
    params: state.params,
    optState: state.opt,
    meta: {
      variant: config.variant,
      optimizer: config.optimizer,
      seed: config.seed,
      step: state.step,
      epoch: state.epoch,
      batch: state.batch,
      key: state.key,
      extra: {
        config: JSON.stringify(config),
        normalization: JSON.stringify(normalization),
        progress: JSON.stringify(progress),
      },
    },
  });
}

function parseJsonObject(
  text: string | undefined,
  what: string,
): Either<string, Record<string, unknown>> {
  if (text === undefined) return E.left(`it has no "${what}" metadata`);
  try {
    const v = JSON.parse(text);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return E.right(v);
  } catch { /* reported below */ }
  return E.left(`its "${what}" metadata is not a JSON object`);
}

function parseNormalization(meta: CheckpointMeta): Either<string, Normalization> {
  return pipe(
    parseJsonObject(meta.extra.normalization, "normalization"),
    E.chain((o) =>
      typeof o.mean === "number" && typeof o.std === "number" && Number.isFinite(o.mean) &&
        o.std > 0
        ? E.right({ mean: o.mean, std: o.std })
        : E.left(`its "normalization" metadata needs a finite mean and a std > 0`)
    ),
  );
}

function parseProgress(meta: CheckpointMeta): Either<string, RunProgress> {
  return pipe(
    parseJsonObject(meta.extra.progress, "progress"),
    E.chain((o) => {
      for (const k of Object.keys(FRESH_PROGRESS)) {
        if (!Object.hasOwn(o, k)) return E.left(`its "progress" metadata has no "${k}"`);
      }
      return E.right(o as unknown as RunProgress);
    }),
  );
}

/**
 * Decodes the bytes of a run checkpoint written by {@link saveRun} (no file access: usable in a
 * browser): configuration, variant, normalization, training state (with the optimizer state
 * `--resume` needs) and progress. Every failure is a message naming `path`.
 *
 * @example
 * ```ts
 * import { decodeRun } from "./mod.ts";
 * const bytes = await (await fetch("/checkpoint.safetensors")).bytes();
 * const r = decodeRun(bytes, "checkpoint.safetensors");
 * if (r._tag === "Right") console.log(r.right.variant.name, r.right.state.step);
 * ```
 */
export function decodeRun(bytes: Uint8Array, path: string): Either<string, RunCheckpoint> {
  const metaE = peekCheckpointMeta(bytes, path);
  if (E.isLeft(metaE)) return E.left(metaE.left.message);
  const meta = metaE.right;
  const configE = pipe(
    parseJsonObject(meta.extra.config, "config"),
    E.chain((o) => parseTrainConfig(JSON.stringify(o))),
  );
  if (E.isLeft(configE)) return E.left(`${path}: not a training checkpoint: ${configE.left}`);
  const config = configE.right;
  const variant = getVariant(config.variant, config.head);
  if (E.isLeft(variant)) return E.left(`${path}: ${variant.left}`);
  const init = parseInit(config.init);
  if (E.isLeft(init)) return E.left(`${path}: ${init.left}`);
  const template = variant.right.init(prngKey(0), { ...init.right, dtype: config.dtype });
  const { optimizer } = optimizerFor(config, 1);
  const ckpt = decodeCheckpoint(bytes, path, template, optimizer.momentNames);
  if (E.isLeft(ckpt)) return E.left(ckpt.left.message);
  const norm = parseNormalization(meta);
  if (E.isLeft(norm)) return E.left(`${path}: ${norm.left}`);
  const progress = parseProgress(meta);
  if (E.isLeft(progress)) return E.left(`${path}: ${progress.left}`);
  const seedKey = prngKey(config.seed);
  const key = meta.key ?? seedKey;
  if (key.words[0] !== seedKey.words[0] || key.words[1] !== seedKey.words[1]) {
    return E.left(`${path}: its PRNG key does not belong to its seed ${config.seed}`);
  }
  const c = ckpt.right;
  return E.right({
    path,
    config,
    variant: variant.right,
    normalization: norm.right,
    state: Object.freeze({
      params: c.params,
      opt: c.optState,
      step: meta.step,
      epoch: meta.epoch,
      batch: meta.batch,
      key,
    }),
    progress: progress.right,
    meta,
  });
}

/**
 * Reads and decodes a run checkpoint file (see {@link decodeRun}).
 *
 * @example
 * ```ts
 * import { loadRun } from "./mod.ts";
 * const r = await loadRun("runs/20250101-120000/checkpoint.safetensors")();
 * if (r._tag === "Right") console.log(r.right.state.step, r.right.config.lr);
 * ```
 */
export function loadRun(path: string): TaskEither<string, RunCheckpoint> {
  return async () => {
    const bytes = await readFileBytes(path)();
    return E.isLeft(bytes) ? E.left(bytes.left.message) : decodeRun(bytes.right, path);
  };
}
