/**
 * LeNet-5 as a composition of the fast ops, and the registry of model variants behind
 * `--variant`.
 *
 * A {@link Variant} is plain data plus three pure functions: `init(key, opts)` draws the
 * parameters (an immutable record of tensors) from a PRNG key, `forward(params, x)` maps a batch
 * `[N, 1, 28, 28]` to logits `[N, 10]`, and `loss(params, x, labels)` is the scalar the trainer
 * differentiates with `valueAndGrad`. The layers are small curried helpers (`conv(p.c1, opts)`,
 * `maxPool(2)`, `fc(p.c5)`) piped with fp-ts, so the forward reads as the network diagram; the
 * fast ops record their hand-derived backward rules, which the autograd uses as custom VJPs.
 *
 * The default variant, `modern` (layer names follow LeCun et al. 1998: C1, S2, C3, S4, C5, F6):
 *
 * ```
 * x [N,1,28,28] -> c1 conv 6@5x5 pad 2 -> ReLU -> max-pool 2   [N,6,14,14]
 *               -> c3 conv 16@5x5     -> ReLU -> max-pool 2    [N,16,5,5]
 *               -> flatten 400 -> c5 dense 120 -> ReLU -> f6 dense 84 -> ReLU
 *               -> out dense 10 -> softmax cross-entropy
 * ```
 *
 * Parameters: c1 6*25+6 = 156, c3 16*150+16 = 2,416, c5 400*120+120 = 48,120,
 * f6 120*84+84 = 10,164, out 84*10+10 = 850; 61,706 in all.
 *
 * @module
 */

import { flow, pipe } from "npm:fp-ts@2.16.11/lib/function.js";
import { either as E } from "npm:fp-ts@2.16.11";
import { relu } from "../tensor/activations.ts";
import { conv2d } from "../tensor/conv.ts";
import { conv2dReluMaxPool } from "../tensor/conv_block.ts";
import type { Conv2dOptions } from "../tensor/conv_options.ts";
import { flatten } from "../tensor/layout.ts";
import { crossEntropy, type Labels } from "../tensor/losses.ts";
import { dense } from "../tensor/matmul.ts";
import { maxPool2d } from "../tensor/pool.ts";
import { type PRNGKey, split } from "../tensor/random.ts";
import type { Either } from "../tensor/result.ts";
import type { DType, Tensor } from "../tensor/tensor.ts";
import { type InitDistribution, initializer, type InitScheme, zeroBias } from "./init.ts";
import type { Params } from "./params.ts";
import type { TrainConfig } from "./config.ts";
import { lecun1998 } from "./lecun1998.ts";
import { notesSigmoid } from "./notes_sigmoid.ts";
import { learnedCombinations } from "./learned_combinations.ts";

/**
 * A layer's weight and bias.
 *
 * @example
 * ```ts
 * import { type Layer, zeros } from "./mod.ts";
 * const f6: Layer = { w: zeros([120, 84]), b: zeros([84]) };
 * ```
 */
export type Layer = { readonly w: Tensor; readonly b: Tensor };

/**
 * The parameters of the `modern` LeNet-5: conv weights OIHW, dense weights `[in, out]`.
 * (A `type`, not an `interface`, so it is assignable to {@link Params}.)
 *
 * @example
 * ```ts
 * import { type LeNetParams, modern, prngKey } from "./mod.ts";
 * const p: LeNetParams = modern.init(prngKey(0));
 * console.log(p.c1.w.shape); // [6, 1, 5, 5]
 * ```
 */
export type LeNetParams = {
  /** Conv 1 -> 6 maps, 5x5: w `[6, 1, 5, 5]`, b `[6]`. */
  readonly c1: Layer;
  /** Conv 6 -> 16 maps, 5x5: w `[16, 6, 5, 5]`, b `[16]`. */
  readonly c3: Layer;
  /** Dense 400 -> 120 (the paper's C5 is this, as a 5x5 convolution): w `[400, 120]`. */
  readonly c5: Layer;
  /** Dense 120 -> 84: w `[120, 84]`. */
  readonly f6: Layer;
  /** Dense 84 -> 10 (logits): w `[84, 10]`. */
  readonly out: Layer;
};

/**
 * Weight initialization: `"he"` (default) draws the layers followed by a ReLU with He's variance
 * `2 / fan_in` and the output layer with Glorot's; `"lecun"` and `"glorot"` use that scheme for
 * every layer. Biases start at zero.
 *
 * @example
 * ```ts
 * import { type ModelInitOptions, modern, prngKey } from "./mod.ts";
 * const opts: ModelInitOptions = { scheme: "glorot", distribution: "normal", dtype: "float64" };
 * const p = modern.init(prngKey(1), opts);
 * ```
 */
export interface ModelInitOptions {
  /** Element type of the parameters; default `"float32"`. */
  readonly dtype?: DType;
  /** Variance scheme; default `"he"`. */
  readonly scheme?: InitScheme;
  /** Distribution; default `"uniform"`. */
  readonly distribution?: InitDistribution;
}

/**
 * A model variant: its name, a one-line description, and pure functions to initialize it, run it
 * and score it.
 *
 * @example
 * ```ts
 * import { getVariant, prngKey, zeros } from "./mod.ts";
 * const v = getVariant("modern");
 * if (v._tag === "Right") {
 *   const params = v.right.init(prngKey(0));
 *   console.log(v.right.forward(params, zeros([2, 1, 28, 28])).shape); // [2, 10]
 * }
 * ```
 */
export interface Variant<P extends Params = Params> {
  /** The `--variant` name. */
  readonly name: string;
  /** What the network is, in one line. */
  readonly description: string;
  /** Fresh parameters drawn from `key`. */
  init(key: PRNGKey, opts?: ModelInitOptions): P;
  /** Logits `[N, 10]` for images `[N, 1, 28, 28]`: the predicted class is their argmax. */
  forward(params: P, x: Tensor): Tensor;
  /**
   * The forward pass as named stages (a layer with its activation, a pooling...), in order:
   * folding `x` through them gives `forward(params, x)` exactly. For looking inside the network
   * (feature and delta maps of each layer).
   */
  stages(params: P): readonly Stage[];
  /** The training loss (mean over the batch) from the logits and the labels. */
  criterion(logits: Tensor, labels: Labels): Tensor;
  /** The training loss for images `x` and their labels: `criterion(forward(params, x), labels)`. */
  loss(params: P, x: Tensor, labels: Labels): Tensor;
  /** The name of its output layer for `--head` (e.g. `"rbf"`); `"softmax"` when absent. */
  readonly head?: string;
  /** The same network with another output layer, by `--head` name. */
  readonly heads?: Readonly<Record<string, Variant>>;
  /**
   * The training settings this network is meant to train with: they replace the plain
   * `deno task train` defaults, and explicit flags replace them in turn.
   */
  readonly defaults?: VariantDefaults;
  /**
   * Whether `init` draws its weights with the scheme of {@link ModelInitOptions} (`--init`);
   * absent or false: the network initializes as its source did and `--init` is refused.
   */
  readonly takesInitScheme?: boolean;
  /**
   * A term of the training loss that depends on the parameters only (e.g. a sparsity penalty
   * on combination weights), added to the criterion by the training step; null for none.
   */
  penalty?(params: P): Tensor | null;
  /** Text the trainer prints when a run starts (e.g. parameters and connections per layer). */
  describe?(params: P): string;
  /**
   * What the trained parameters show that is worth reading (e.g. a learned connection table):
   * printed when training ends and written to `file` in the run folder.
   */
  learned?(params: P): VariantNote;
}

/**
 * Training settings a variant brings (see {@link Variant.defaults}): any configuration entry but
 * the variant and its head.
 *
 * @example
 * ```ts
 * import type { VariantDefaults } from "./mod.ts";
 * const notes: VariantDefaults = { optimizer: "sgd", lr: 1, batchSize: 50, schedule: "constant" };
 * ```
 */
export type VariantDefaults = Partial<Omit<TrainConfig, "variant" | "head">>;

/**
 * A text a variant derives from trained parameters, and the run-folder file it goes to.
 *
 * @example
 * ```ts
 * import type { VariantNote } from "./mod.ts";
 * const note: VariantNote = { file: "combinations.txt", text: "learned alpha ..." };
 * ```
 */
export interface VariantNote {
  /** File name inside the run folder. */
  readonly file: string;
  /** The text (printed, and written to the file). */
  readonly text: string;
}

/**
 * One named stage of a forward pass: the layer's name and its function of the input.
 *
 * @example
 * ```ts
 * import { modern, prngKey, type Stage, zeros } from "./mod.ts";
 * const stages: readonly Stage[] = modern.stages(modern.init(prngKey(0)));
 * let h = zeros([1, 1, 28, 28]);
 * for (const [name, apply] of stages) console.log(name, (h = apply(h)).shape); // c1 [1, 6, 28, 28] ...
 * ```
 */
export type Stage = readonly [name: string, apply: (x: Tensor) => Tensor];

/**
 * A convolution layer as a function of its input: `x -> conv2d(x, p.w, p.b, opts)`.
 *
 * @example
 * ```ts
 * import { conv, prngKey, getVariant, zeros } from "./mod.ts";
 * const v = getVariant("modern");
 * if (v._tag === "Right") {
 *   const p = v.right.init(prngKey(0)) as { c1: { w: never; b: never } };
 *   console.log(conv(p.c1, { padding: 2 })(zeros([1, 1, 28, 28])).shape); // [1, 6, 28, 28]
 * }
 * ```
 */
export const conv = (p: Layer, opts: Conv2dOptions = {}): (x: Tensor) => Tensor => (x) =>
  conv2d(x, p.w, p.b, opts);

/**
 * Max pooling with a `k x k` window and stride `k`, as a function of its input.
 *
 * @example
 * ```ts
 * import { maxPool, tensor } from "./mod.ts";
 * console.log(maxPool(2)(tensor([[[[1, 2], [3, 4]]]])).data); // Float32Array [4]
 * ```
 */
export const maxPool = (k: number): (x: Tensor) => Tensor => (x) => maxPool2d(x, { kernel: k });

/**
 * A fully connected layer `x W + b` as a function of its input `[N, in]`.
 *
 * @example
 * ```ts
 * import { fc, tensor } from "./mod.ts";
 * const layer = fc({ w: tensor([[1], [1]]), b: tensor([1]) });
 * console.log(layer(tensor([[2, 3]])).data); // Float32Array [6]
 * ```
 */
export const fc = (p: Layer): (x: Tensor) => Tensor => (x) => dense(x, p.w, p.b);

/**
 * Flattens `[N, ...]` to `[N, features]`.
 *
 * @example
 * ```ts
 * import { flat, zeros } from "./mod.ts";
 * console.log(flat(zeros([2, 16, 5, 5])).shape); // [2, 400]
 * ```
 */
export const flat = (x: Tensor): Tensor => flatten(x, 1);

/**
 * A convolutional block `maxPool(k)(relu(conv(p, opts)(x)))` as one fused op
 * (`conv2dReluMaxPool`: the convolution's output never leaves the kernels' scratch memory; its
 * hand-derived backward routes the pooled delta through the arg-max and the ReLU in one pass).
 *
 * @example
 * ```ts
 * import { convBlock, getVariant, prngKey, zeros } from "./mod.ts";
 * const v = getVariant("modern");
 * if (v._tag === "Right") {
 *   const p = v.right.init(prngKey(0)) as { c1: { w: never; b: never } };
 *   console.log(convBlock(p.c1, { padding: 2 }, 2)(zeros([1, 1, 28, 28])).shape); // [1, 6, 14, 14]
 * }
 * ```
 */
export const convBlock = (
  p: Layer,
  opts: Conv2dOptions = {},
  k = 2,
): (x: Tensor) => Tensor =>
(x) => conv2dReluMaxPool(x, p.w, p.b, opts, { kernel: k });

/**
 * The logits of the `modern` LeNet-5 (see the module diagram). Each conv -> ReLU -> max-pool is
 * one fused block; the result equals the separate ops (`modernStages`) bit for bit.
 */
function modernForward(p: LeNetParams, x: Tensor): Tensor {
  return pipe(
    x,
    convBlock(p.c1, { padding: 2 }), // c1 + s2
    convBlock(p.c3), // c3 + s4
    flat,
    fc(p.c5),
    relu,
    fc(p.f6),
    relu,
    fc(p.out),
  );
}

/**
 * The same network as {@link modernForward}, as the paper's named layers (C1, S2, ... output),
 * with the blocks' convolutions and poolings apart so that each one's maps can be looked at.
 */
function modernStages(p: LeNetParams): readonly Stage[] {
  return [
    ["c1", flow(conv(p.c1, { padding: 2 }), relu)],
    ["s2", maxPool(2)],
    ["c3", flow(conv(p.c3), relu)],
    ["s4", maxPool(2)],
    ["c5", flow(flat, fc(p.c5), relu)],
    ["f6", flow(fc(p.f6), relu)],
    ["out", fc(p.out)],
  ];
}

function modernInit(key: PRNGKey, opts: ModelInitOptions = {}): LeNetParams {
  const dtype = opts.dtype ?? "float32";
  const scheme = opts.scheme ?? "he";
  const dist = opts.distribution ?? "uniform";
  const hidden = initializer(scheme, dist);
  // He's derivation assumes a ReLU after the layer; the logits have none, so they get Glorot.
  const last = initializer(scheme === "he" ? "glorot" : scheme, dist);
  const [k1, k3, k5, k6, k7] = split(key, 5);
  // Bias length: a conv weight's first axis (O of OIHW), a dense weight's second ([in, out]).
  const layer = (w: Tensor): Layer =>
    Object.freeze({ w, b: zeroBias(w.shape[w.rank === 2 ? 1 : 0], { dtype }) });
  return Object.freeze({
    c1: layer(hidden(k1, [6, 1, 5, 5], { dtype })),
    c3: layer(hidden(k3, [16, 6, 5, 5], { dtype })),
    c5: layer(hidden(k5, [400, 120], { dtype })),
    f6: layer(hidden(k6, [120, 84], { dtype })),
    out: layer(last(k7, [84, 10], { dtype })),
  });
}

/**
 * The default variant: LeNet-5 with ReLU, max pooling and a softmax cross-entropy head
 * (61,706 parameters).
 *
 * @example
 * ```ts
 * import { countParams, modern, prngKey } from "./mod.ts";
 * console.log(countParams(modern.init(prngKey(0)))); // 61706
 * ```
 */
export const modern: Variant<LeNetParams> = Object.freeze({
  name: "modern",
  description: "LeNet-5 with ReLU and max pooling, 28x28 input padded by 2, softmax " +
    "cross-entropy (61,706 parameters)",
  init: modernInit,
  takesInitScheme: true,
  forward: modernForward,
  stages: modernStages,
  criterion: (logits: Tensor, labels: Labels) => crossEntropy(logits, labels),
  loss: (p: LeNetParams, x: Tensor, labels: Labels) => crossEntropy(modernForward(p, x), labels),
});

/**
 * Every variant `--variant` accepts, by name (`modern` is the default).
 *
 * @example
 * ```ts
 * import { VARIANTS } from "./mod.ts";
 * console.log(Object.keys(VARIANTS)); // ["modern", "lecun1998", "notes-sigmoid", "learned-combinations"]
 * console.log(VARIANTS["notes-sigmoid"].defaults?.optimizer); // "sgd"
 * ```
 */
export const VARIANTS: Readonly<Record<string, Variant>> = Object.freeze({
  modern: modern as unknown as Variant,
  lecun1998: lecun1998 as unknown as Variant,
  "notes-sigmoid": notesSigmoid as unknown as Variant,
  "learned-combinations": learnedCombinations as unknown as Variant,
});

/**
 * The default `--variant`.
 *
 * @example
 * ```ts
 * import { DEFAULT_VARIANT, VARIANTS } from "./mod.ts";
 * console.log(VARIANTS[DEFAULT_VARIANT].name); // "modern"
 * ```
 */
export const DEFAULT_VARIANT = "modern";

/**
 * The output heads `variant` offers for `--head`, its own first.
 *
 * @example
 * ```ts
 * import { headsOf, VARIANTS } from "./mod.ts";
 * console.log(headsOf(VARIANTS.lecun1998)); // ["rbf", "softmax"]
 * ```
 */
export function headsOf(variant: Variant): string[] {
  const own = variant.head ?? "softmax";
  return [own, ...Object.keys(variant.heads ?? {}).filter((h) => h !== own)];
}

/**
 * The variant called `name` (with the output layer `head`, when given and not null), or a
 * message listing the known ones.
 *
 * @example
 * ```ts
 * import { getVariant } from "./mod.ts";
 * console.log(getVariant("modern")._tag, getVariant("resnet")._tag); // "Right" "Left"
 * console.log(getVariant("lecun1998", "softmax")._tag, getVariant("modern", "rbf")._tag); // "Right" "Left"
 * ```
 */
export function getVariant(name: string, head?: string | null): Either<string, Variant> {
  const v = Object.hasOwn(VARIANTS, name) ? VARIANTS[name] : undefined;
  if (v === undefined) {
    return E.left(`unknown variant "${name}"; known: ${Object.keys(VARIANTS).join(", ")}`);
  }
  if (head === undefined || head === null || head === (v.head ?? "softmax")) return E.right(v);
  const other = v.heads !== undefined && Object.hasOwn(v.heads, head) ? v.heads[head] : undefined;
  return other === undefined
    ? E.left(`variant "${name}" has no head "${head}"; its heads: ${headsOf(v).join(", ")}`)
    : E.right(other);
}
