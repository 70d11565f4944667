/**
 * The network of the notes' derivations (the MATLAB-style CNN of Bouvrie's "Notes on
 * Convolutional Neural Networks" and the DeepLearnToolbox example it goes with): sigmoid units,
 * mean pooling, full connections between maps, a sigmoid output layer and the squared error.
 *
 * ```
 * x [N, 1, 28, 28] (pixels in [0, 1])
 *  -> conv 6@5x5 -> sigmoid -> mean-pool 2       [N, 6, 12, 12]
 *  -> conv 12@5x5 (every output map sums over all 6 input maps) -> sigmoid -> mean-pool 2
 *                                                [N, 12, 4, 4]
 *  -> flatten 192 -> dense 10 -> sigmoid          [N, 10]
 * loss E = 1/2 sum_k (t_k - y_k)^2 per example (t one-hot), averaged over the batch
 * ```
 *
 * Trained as the notes do, with plain SGD, step 1, minibatches of 50. Initialization as the
 * toolbox's: Glorot uniform (`+-sqrt(6 / (fan_in + fan_out))`, a conv's fans counting the
 * 5x5 taps), biases 0. Parameters: 156 + 1,812 + 1,930 = 3,898.
 *
 * @module
 */

import { sigmoid } from "../tensor/activations.ts";
import { conv2d } from "../tensor/conv.ts";
import { flatten } from "../tensor/layout.ts";
import { type Labels, mse, oneHot } from "../tensor/losses.ts";
import { dense } from "../tensor/matmul.ts";
import { avgPool2d } from "../tensor/pool.ts";
import { type PRNGKey, split } from "../tensor/random.ts";
import { allocData, type DType, Tensor, zeros } from "../tensor/tensor.ts";
import { glorotUniform } from "./init.ts";
import type { WeightBias } from "./lecun1998.ts";
import { MNIST_MEAN, MNIST_STD } from "./mnist.ts";
import type { ModelInitOptions, Stage, Variant, VariantDefaults } from "./model.ts";

/**
 * The parameters of {@link notesSigmoidForward}.
 *
 * @example
 * ```ts
 * import { countParams, notesSigmoidInit, prngKey } from "./mod.ts";
 * console.log(countParams(notesSigmoidInit(prngKey(0)))); // 3898
 * ```
 */
export type NotesSigmoidParams = {
  /** conv 1 -> 6 maps, 5x5: w `[6, 1, 5, 5]`, b `[6]`. */
  readonly c1: WeightBias;
  /** conv 6 -> 12 maps, 5x5, full connections: w `[12, 6, 5, 5]`, b `[12]`. */
  readonly c2: WeightBias;
  /** dense 192 -> 10: w `[192, 10]`, b `[10]`. */
  readonly out: WeightBias;
};

/**
 * Pixels back in [0, 1] from images standardized as the trainer loads them (`(p - mean) / std`);
 * a plain transform of the data (not a recorded op).
 *
 * @example
 * ```ts
 * import { MNIST_MEAN, MNIST_STD, tensor, unitPixels } from "./mod.ts";
 * console.log(unitPixels(tensor([(1 - MNIST_MEAN) / MNIST_STD])).data[0].toFixed(5)); // "1.00000"
 * ```
 */
export function unitPixels(
  x: Tensor,
  norm: { readonly mean: number; readonly std: number } = { mean: MNIST_MEAN, std: MNIST_STD },
): Tensor {
  const out = allocData(x.dtype, x.size);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i] * norm.std + norm.mean;
  return new Tensor(out, x.shape);
}

/**
 * Fresh parameters: Glorot uniform weights (as the toolbox's `cnnsetup`), zero biases.
 *
 * @example
 * ```ts
 * import { notesSigmoidInit, prngKey } from "./mod.ts";
 * console.log(notesSigmoidInit(prngKey(0)).c2.w.shape); // [12, 6, 5, 5]
 * ```
 */
export function notesSigmoidInit(
  key: PRNGKey,
  opts: { readonly dtype?: DType } = {},
): NotesSigmoidParams {
  const dtype = opts.dtype ?? "float32";
  const [k1, k2, k3] = split(key, 3);
  const layer = (key: PRNGKey, shape: number[], out: number): WeightBias => ({
    w: glorotUniform(key, shape, { dtype }),
    b: zeros([out], { dtype }),
  });
  return {
    c1: layer(k1, [6, 1, 5, 5], 6),
    c2: layer(k2, [12, 6, 5, 5], 12),
    out: layer(k3, [192, 10], 10),
  };
}

/**
 * The network's outputs `[N, 10]`, sigmoids in (0, 1) whose argmax is the prediction, for images
 * `[N, 1, 28, 28]` standardized as the trainer loads them.
 *
 * @example
 * ```ts
 * import { notesSigmoidForward, notesSigmoidInit, prngKey, zeros } from "./mod.ts";
 * console.log(notesSigmoidForward(notesSigmoidInit(prngKey(0)), zeros([2, 1, 28, 28])).shape); // [2, 10]
 * ```
 */
export function notesSigmoidForward(p: NotesSigmoidParams, x: Tensor): Tensor {
  let h = avgPool2d(sigmoid(conv2d(unitPixels(x), p.c1.w, p.c1.b)), { kernel: 2 }); // [N,6,12,12]
  h = avgPool2d(sigmoid(conv2d(h, p.c2.w, p.c2.b)), { kernel: 2 }); // [N, 12, 4, 4]
  return sigmoid(dense(flatten(h), p.out.w, p.out.b)); // [N, 10]
}

/**
 * The notes' loss on the outputs: `E = 1/2 sum_k (t_k - y_k)^2` per example with `t` one-hot,
 * averaged over the batch (`mse` with the mean reduction).
 *
 * @example
 * ```ts
 * import { notesSigmoidCriterion, tensor } from "./mod.ts";
 * console.log(notesSigmoidCriterion(tensor([[0.5, 0.5]]), [0]).data); // Float32Array [0.25]
 * ```
 */
export function notesSigmoidCriterion(y: Tensor, labels: Labels): Tensor {
  return mse(y, oneHot(labels, y.shape[1], { dtype: y.dtype }));
}

/**
 * The training defaults of `--variant notes-sigmoid`, as the notes train it: plain SGD with
 * step `alpha = 1`, minibatches of 50, a constant rate, no weight decay (flags override them).
 *
 * @example
 * ```ts
 * import { NOTES_SIGMOID_DEFAULTS } from "./mod.ts";
 * console.log(NOTES_SIGMOID_DEFAULTS.optimizer, NOTES_SIGMOID_DEFAULTS.lr); // "sgd" 1
 * ```
 */
export const NOTES_SIGMOID_DEFAULTS: VariantDefaults = Object.freeze({
  optimizer: "sgd",
  lr: 1,
  batchSize: 50,
  schedule: "constant",
  weightDecay: 0,
});

/**
 * `--variant notes-sigmoid`: the notes' sigmoid network with the squared error, trained by
 * default as the notes do ({@link NOTES_SIGMOID_DEFAULTS}). Its own Glorot initialization
 * replaces `--init`'s schemes.
 *
 * @example
 * ```ts
 * import { countParams, notesSigmoid, prngKey } from "./mod.ts";
 * console.log(countParams(notesSigmoid.init(prngKey(0)))); // 3898
 * ```
 */
export const notesSigmoid: Variant<NotesSigmoidParams> = Object.freeze({
  name: "notes-sigmoid",
  description: "the notes' network: sigmoid, mean pooling, 6 and 12 maps, sigmoid outputs, " +
    "loss 1/2 sum (t - y)^2 (3,898 parameters)",
  head: "sigmoid-mse",
  init: (key: PRNGKey, opts: ModelInitOptions = {}) => notesSigmoidInit(key, { dtype: opts.dtype }),
  forward: notesSigmoidForward,
  stages: (p: NotesSigmoidParams): readonly Stage[] => [
    ["c1", (x) => sigmoid(conv2d(unitPixels(x), p.c1.w, p.c1.b))],
    ["s2", (h) => avgPool2d(h, { kernel: 2 })],
    ["c3", (h) => sigmoid(conv2d(h, p.c2.w, p.c2.b))],
    ["s4", (h) => avgPool2d(h, { kernel: 2 })],
    ["out", (h) => sigmoid(dense(flatten(h), p.out.w, p.out.b))],
  ],
  criterion: notesSigmoidCriterion,
  loss: (p: NotesSigmoidParams, x: Tensor, labels: Labels) =>
    notesSigmoidCriterion(notesSigmoidForward(p, x), labels),
  defaults: NOTES_SIGMOID_DEFAULTS,
});
