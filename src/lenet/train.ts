/**
 * The training step as a pure function, and the pure pieces of the loop around it: the run's
 * keys, the seeded order of each epoch, minibatch gathering, the non-finite guard and evaluation.
 *
 * ```
 * seed --prngKey--> root --split--> [init, data, augment]
 * epoch e: order = randomPermutation(foldIn(data, e), N)          (a resumed run redoes it)
 * batch b: x = rows order[b*B .. b*B+B) of the images, augmented with foldIn(foldIn(augment, e), b)
 * step:    (state, batch) --valueAndGrad(loss)--> (loss, grads) --guard--> optimizer --> state'
 * ```
 *
 * Everything a later step depends on is in {@link TrainState} (or derived from its root key and
 * counters), so a run resumed from a saved state continues bit for bit as if never stopped.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { valueAndGrad } from "../autograd/engine.ts";
import { type PRNGKey, prngKey, randomPermutation, split, threefry2x32 } from "../tensor/random.ts";
import type { Either } from "../tensor/result.ts";
import { add } from "../tensor/elementwise.ts";
import { TensorError } from "../tensor/errors.ts";
import { allocData, type DType, Tensor } from "../tensor/tensor.ts";
import { type Dataset, pixelScale, scalePixels } from "./dataset.ts";
import type { ModelInitOptions, Variant } from "./model.ts";
import type { Optimizer, OptimizerState } from "./optim.ts";
import { flattenParams, type Params } from "./params.ts";
import { countCorrect } from "./evaluate.ts";
import { allFinite, layerOf, locateNonFinite } from "./guard.ts";

export { locateNonFinite } from "./guard.ts";

export {
  countCorrect,
  evaluate,
  type EvaluateOptions,
  type Evaluation,
  type Mistake,
} from "./evaluate.ts";

/** Pixels of one 28x28 image. */
const PIXELS = 28 * 28;

/**
 * Everything that changes during training; the step maps one state to the next.
 *
 * @example
 * ```ts
 * import { adam, initTrainState, modern, type TrainState } from "./mod.ts";
 * const s: TrainState = initTrainState(modern, adam({ lr: 1e-3 }), 42);
 * console.log(s.step, s.key.words); // 0 [0, 42]
 * ```
 */
export interface TrainState<P extends Params = Params> {
  /** The model's parameters. */
  readonly params: P;
  /** The optimizer's state (moments, and its own update count, equal to `step`). */
  readonly opt: OptimizerState<P>;
  /** Optimizer updates applied so far. */
  readonly step: number;
  /** Epochs completed. */
  readonly epoch: number;
  /** Batches done in the epoch under way (0 at an epoch boundary). */
  readonly batch: number;
  /** The run's root key: the epoch orders and augmentations derive from it and the counters. */
  readonly key: PRNGKey;
}

/**
 * The keys of a run, derived from its root key.
 *
 * @example
 * ```ts
 * import { prngKey, type RunKeys, runKeys } from "./mod.ts";
 * const keys: RunKeys = runKeys(prngKey(7));
 * ```
 */
export interface RunKeys {
  /** Initializes the parameters. */
  readonly init: PRNGKey;
  /** Orders each epoch's examples (folded with the epoch). */
  readonly data: PRNGKey;
  /** Augments each batch (folded with the epoch, then the batch). */
  readonly augment: PRNGKey;
}

/**
 * A key derived from `key` and the integer `n` (JAX's `fold_in`): Threefry of the counter
 * `[n, 2]`, a domain that `split` (`[i, 0]`) and the random bits (`[j, 1]`) never use.
 *
 * @example
 * ```ts
 * import { foldIn, prngKey } from "./mod.ts";
 * const epoch3 = foldIn(prngKey(0), 3); // the same key every time
 * ```
 */
export function foldIn(key: PRNGKey, n: number): PRNGKey {
  return { words: threefry2x32(key.words[0], key.words[1], n >>> 0, 2) };
}

/**
 * The keys of the run with root key `root`.
 *
 * @example
 * ```ts
 * import { prngKey, runKeys } from "./mod.ts";
 * const { init, data, augment } = runKeys(prngKey(42));
 * ```
 */
export function runKeys(root: PRNGKey): RunKeys {
  const [init, data, augment] = split(root, 3);
  return { init, data, augment };
}

/**
 * The first state of a run: parameters drawn from the seed, fresh optimizer state, counters 0.
 *
 * @example
 * ```ts
 * import { adam, initTrainState, modern } from "./mod.ts";
 * const s = initTrainState(modern, adam({ lr: 1e-3 }), 0);
 * console.log(s.step, s.epoch, s.batch); // 0 0 0
 * ```
 */
export function initTrainState<P extends Params>(
  variant: Variant<P>,
  optimizer: Optimizer,
  seed: number,
  init: ModelInitOptions = {},
): TrainState<P> {
  const key = prngKey(seed);
  const params = variant.init(runKeys(key).init, init);
  return Object.freeze({ params, opt: optimizer.init(params), step: 0, epoch: 0, batch: 0, key });
}

/**
 * The order in which epoch `epoch` (0-based) visits `n` examples: a permutation drawn from the
 * run's data key folded with the epoch, so any epoch's order can be recomputed on resume.
 *
 * @example
 * ```ts
 * import { epochOrder, prngKey } from "./mod.ts";
 * console.log(epochOrder(prngKey(0), 0, 5)); // a permutation of 0..4, the same every time
 * ```
 */
export function epochOrder(root: PRNGKey, epoch: number, n: number): Int32Array {
  return randomPermutation(foldIn(runKeys(root).data, epoch), n);
}

/**
 * The key that augments batch `batch` of epoch `epoch`.
 *
 * @example
 * ```ts
 * import { augmentBatch, batchKey, prngKey, zeros } from "./mod.ts";
 * const x = augmentBatch(zeros([4, 1, 28, 28]), batchKey(prngKey(0), 2, 17));
 * ```
 */
export function batchKey(root: PRNGKey, epoch: number, batch: number): PRNGKey {
  return foldIn(foldIn(runKeys(root).augment, epoch), batch);
}

/**
 * Batches in an epoch of `n` examples (the last one may be short).
 *
 * @example
 * ```ts
 * import { batchesPerEpoch } from "./mod.ts";
 * console.log(batchesPerEpoch(60_000, 64)); // 938 (the last batch holds 32)
 * ```
 */
export function batchesPerEpoch(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}

/**
 * A minibatch: images `[B, 1, 28, 28]` and their labels.
 *
 * @example
 * ```ts
 * import { type Batch, zeros } from "./mod.ts";
 * const batch: Batch = { x: zeros([2, 1, 28, 28]), labels: new Uint8Array([3, 8]) };
 * ```
 */
export interface Batch {
  /** Images, in the parameters' dtype. */
  readonly x: Tensor;
  /** Class labels, one per image. */
  readonly labels: Uint8Array;
}

/**
 * Gathers examples `order[start .. start + count)` into a fresh batch: one copy per image row
 * from the flat images. From a {@link Dataset} the uint8 pixels are scaled to
 * `(p/255 - mean)/std` in `dtype` while they are copied (the dataset stays bytes); from a
 * tensor they are copied (converted to `dtype` if it differs). `labels` defaults to the
 * dataset's own.
 *
 * @example
 * ```ts
 * import { gatherBatch, zeros } from "./mod.ts";
 * const images = zeros([10, 1, 28, 28]);
 * const b = gatherBatch(images, new Uint8Array(10), Int32Array.from([3, 1, 4]), 0, 2);
 * console.log(b.x.shape, b.labels.length); // [2, 1, 28, 28] 2
 * ```
 */
export function gatherBatch(
  images: Tensor | Dataset,
  labels: Uint8Array | undefined,
  order: Int32Array,
  start: number,
  count: number,
  dtype?: DType,
): Batch {
  const ys = labels ?? (images instanceof Tensor ? undefined : images.labels);
  if (ys === undefined) {
    throw new TensorError("gatherBatch", "labels are required when images is a tensor");
  }
  const to = dtype ?? (images instanceof Tensor ? images.dtype : "float32");
  const x = allocData(to, count * PIXELS);
  const y = new Uint8Array(count);
  if (images instanceof Tensor) {
    const src = images.data;
    for (let i = 0; i < count; i++) {
      const k = order[start + i];
      x.set(src.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS);
      y[i] = ys[k];
    }
  } else {
    const src = images.pixels, { scale, shift } = pixelScale(images.normalization);
    for (let i = 0; i < count; i++) {
      const k = order[start + i];
      scalePixels(src.subarray(k * PIXELS, (k + 1) * PIXELS), x, scale, shift, i * PIXELS);
      y[i] = ys[k];
    }
  }
  return { x: new Tensor(x, [count, 1, 28, 28]), labels: y };
}

/**
 * What one step measured on its batch.
 *
 * @example
 * ```ts
 * import type { StepReport } from "./mod.ts";
 * const accuracy = (r: StepReport) => r.correct / r.count;
 * ```
 */
export interface StepReport {
  /** The batch's mean loss (before the update). */
  readonly loss: number;
  /** Examples of the batch the model classified correctly (before the update). */
  readonly correct: number;
  /** Examples in the batch. */
  readonly count: number;
}

/**
 * Why training stopped: a non-finite loss, gradient or parameter.
 *
 * @example
 * ```ts
 * import type { Divergence } from "./mod.ts";
 * const explain = (d: Divergence) => `stopped at step ${d.step} in layer ${d.layer}: ${d.message}`;
 * ```
 */
export interface Divergence {
  /** The update that failed (1-based: the state's step + 1). */
  readonly step: number;
  /** Epoch (1-based) and batch (1-based) of that update. */
  readonly epoch: number;
  /** Batch within the epoch, 1-based. */
  readonly batch: number;
  /** What became non-finite. */
  readonly what: "input" | "loss" | "gradient" | "parameter";
  /** The layer (a parameter path's first part, e.g. `"c5"`), or `""` when none applies. */
  readonly layer: string;
  /** One sentence: where, what, and what to do. */
  readonly message: string;
}

/**
 * The training step: `(state, batch) -> state'`, one forward pass, one backward pass (the fast
 * ops' hand-derived rules as the autograd's custom VJPs) and one optimizer update. The loss is
 * the variant's criterion plus its `penalty` of the parameters, if it has one. Pure: it
 * never mutates `state` or `batch`, and equal inputs give bit-identical outputs.
 *
 * Guard: a non-finite input, loss, gradient or updated parameter returns a {@link Divergence}
 * naming the step and the layer, and the state is left as it was (the last good one).
 *
 * @example
 * ```ts
 * import { adam, initTrainState, makeTrainStep, modern, zeros } from "./mod.ts";
 * const opt = adam({ lr: 1e-3 });
 * const step = makeTrainStep(modern, opt);
 * const s0 = initTrainState(modern, opt, 0);
 * const r = step(s0, { x: zeros([4, 1, 28, 28]), labels: new Uint8Array([0, 1, 2, 3]) });
 * if (r._tag === "Right") console.log(r.right.state.step, r.right.report.loss); // 1 2.30...
 * ```
 */
export function makeTrainStep<P extends Params>(
  variant: Variant<P>,
  optimizer: Optimizer,
  describeLr: (step: number) => string = () => "",
): (
  state: TrainState<P>,
  batch: Batch,
) => Either<Divergence, { state: TrainState<P>; report: StepReport }> {
  return (state, batch) => {
    if (!allFinite(batch.x.data)) return inputDiverged(state);
    return applyGradients(
      variant,
      optimizer,
      describeLr,
      state,
      batch,
      batchGradients(variant, state.params, batch.x, batch.labels),
    );
  };
}

/**
 * The loss (mean over the examples), its gradient with respect to every parameter, and how
 * many examples the logits classify correctly: one `valueAndGrad` of the variant's loss plus its
 * `penalty`. Sharded steps weight each shard's result by its share of the batch, so the penalty
 * (the same in every shard) still counts once.
 */
export function batchGradients<P extends Params>(
  variant: Variant<P>,
  params: P,
  x: Tensor,
  labels: Uint8Array,
): BatchGradients<P> {
  // The logits are kept aside from inside the differentiated function for the running
  // accuracy (a local variable; the function stays a pure map of its arguments).
  let logits: Tensor | undefined;
  const lossOf = (p: P) => {
    logits = variant.forward(p, x);
    const fit = variant.criterion(logits, labels), extra = variant.penalty?.(p) ?? null;
    return extra === null ? fit : add(fit, extra);
  };
  const [lossT, grads] = valueAndGrad(lossOf)(params);
  return { loss: lossT.data[0], grads: grads as P, correct: countCorrect(logits!, labels) };
}

/** What {@link batchGradients} computes. */
export interface BatchGradients<P extends Params> {
  /** The mean loss over the batch. */
  readonly loss: number;
  /** Its gradient, shaped like the parameters. */
  readonly grads: P;
  /** Examples whose logits' argmax is their label. */
  readonly correct: number;
}

/** Where a step is, for messages. */
function stepAt(state: TrainState<Params>) {
  return { step: state.step + 1, epoch: state.epoch + 1, batch: state.batch + 1 };
}

function diverged(
  state: TrainState<Params>,
  what: Divergence["what"],
  layer: string,
  detail: string,
): Either<Divergence, never> {
  const at = stepAt(state);
  const where = `step ${at.step} (epoch ${at.epoch}, batch ${at.batch})`;
  return E.left({ ...at, what, layer, message: `${where}: ${detail}` });
}

/** The guard's answer to a batch holding a non-finite pixel. */
export function inputDiverged(state: TrainState<Params>): Either<Divergence, never> {
  return diverged(state, "input", "", "the input batch holds non-finite pixels");
}

/** The input guard of a step: are all of the batch's pixels finite? */
export function batchIsFinite(batch: Batch): boolean {
  return allFinite(batch.x.data);
}

/**
 * The rest of a step once the gradients are known: the loss and gradient guards, the optimizer
 * update, the parameter guard and the next state (shared by the one-thread and sharded steps).
 */
export function applyGradients<P extends Params>(
  variant: Variant<P>,
  optimizer: Optimizer,
  describeLr: (step: number) => string,
  state: TrainState<P>,
  batch: Batch,
  { loss, grads, correct }: BatchGradients<P>,
): Either<Divergence, { state: TrainState<P>; report: StepReport }> {
  const { x, labels } = batch;
  const lr = describeLr(state.step);
  const lower = lr === "" ? "lower --lr" : `lower --lr (the rate was ${lr})`;
  const fail = (what: Divergence["what"], layer: string, detail: string) =>
    diverged(state, what, layer, detail);
  if (!Number.isFinite(loss)) {
    const { layer, where: op } = locateNonFinite(variant, state.params, x, labels);
    return fail(
      "loss",
      layer,
      `the loss is ${loss}; the first non-finite values came out of ${op}; ${lower} or ` +
        `warm up (--schedule warmup:500+cosine)`,
    );
  }
  // Backprop order: the layer nearest the output goes bad first.
  const gradLeaves = flattenParams(grads);
  for (let i = gradLeaves.length - 1; i >= 0; i--) {
    const [path, g] = gradLeaves[i];
    if (!allFinite(g.data)) {
      return fail(
        "gradient",
        layerOf(path),
        `the gradient of ${path} (layer ${layerOf(path)}) is not finite although the loss ` +
          `is ${loss}; ${lower}`,
      );
    }
  }
  const { params, state: opt } = optimizer.step(state.params, grads, state.opt);
  for (const [path, p] of flattenParams(params)) {
    if (!allFinite(p.data)) {
      return fail(
        "parameter",
        layerOf(path),
        `the update made ${path} (layer ${layerOf(path)}) non-finite; ${lower}`,
      );
    }
  }
  const next: TrainState<P> = Object.freeze({
    params,
    opt,
    step: state.step + 1,
    epoch: state.epoch,
    batch: state.batch + 1,
    key: state.key,
  });
  return E.right({ state: next, report: { loss, correct, count: labels.length } });
}

/**
 * The state at the start of the next epoch.
 *
 * @example
 * ```ts
 * import { adam, initTrainState, modern, nextEpoch } from "./mod.ts";
 * const s = nextEpoch(initTrainState(modern, adam({ lr: 1e-3 }), 0));
 * console.log(s.epoch, s.batch); // 1 0
 * ```
 */
export function nextEpoch<P extends Params>(state: TrainState<P>): TrainState<P> {
  return Object.freeze({ ...state, epoch: state.epoch + 1, batch: 0 });
}
