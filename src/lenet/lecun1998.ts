/**
 * LeNet-5 as LeCun, Bottou, Bengio and Haffner built it in "Gradient-Based Learning Applied to
 * Document Recognition" (Proc. IEEE, 1998), section II-B:
 *
 * ```
 * input 32x32 (the 28x28 digit padded by 2; background -0.1, foreground 1.175)
 *  -> C1 conv 6@5x5 -> f                                      [N, 6, 28, 28]
 *  -> S2 trainable subsampling (beta * sum 2x2 + b) -> f      [N, 6, 14, 14]
 *  -> C3 conv 16@5x5 over Table I's 60 connections -> f       [N, 16, 10, 10]
 *  -> S4 trainable subsampling -> f                           [N, 16, 5, 5]
 *  -> C5 conv 120@5x5 (full: a 400 -> 120 product) -> f       [N, 120]
 *  -> F6 dense 84 -> f                                        [N, 84]
 *  -> RBF units against fixed +-1 codes, loss eq. 9           [N, 10] penalties
 *     (or, with the softmax head, dense 10 -> softmax cross-entropy)
 * ```
 *
 * with `f(a) = 1.7159 tanh(2a/3)`. Initialization as in the paper's appendix: weights uniform in
 * `+-2.4 / F_i` (`F_i` the fan-in of the unit), biases 0.
 *
 * The output codes: the paper drew each class's 84-dimensional code as a 7x12 bitmap of the
 * stylized digit. Those bitmaps are not reproduced here (we cannot reproduce them faithfully);
 * the codes are fixed +-1 vectors drawn from a seeded PRNG ({@link LECUN_CODES}), kept fixed as
 * the paper's were.
 *
 * @module
 */

import { scaledTanh } from "../tensor/activations.ts";
import { LECUN_C3_TABLE } from "../tensor/connected_conv.ts";
import { connectedConv2d } from "../tensor/connected_conv.ts";
import { conv2d } from "../tensor/conv.ts";
import { neg } from "../tensor/unary.ts";
import { flatten } from "../tensor/layout.ts";
import { crossEntropy, type Labels } from "../tensor/losses.ts";
import { dense } from "../tensor/matmul.ts";
import { type PRNGKey, prngKey, randomBits, randomUniform, split } from "../tensor/random.ts";
import { rbf, rbfLoss } from "../tensor/rbf.ts";
import { subsample2d } from "../tensor/subsample.ts";
import { allocData, type DType, Tensor, zeros } from "../tensor/tensor.ts";
import { MNIST_MEAN, MNIST_STD } from "./mnist.ts";
import type { ModelInitOptions, Stage, Variant, VariantDefaults } from "./model.ts";

/** A layer's weight and bias. */
export type WeightBias = { readonly w: Tensor; readonly b: Tensor };

/** A trainable subsampling layer: one coefficient and one bias per map. */
export type Subsampling = { readonly beta: Tensor; readonly b: Tensor };

/**
 * The parameters of {@link lecun1998Forward} (a `type`, so it is assignable to `Params`).
 *
 * @example
 * ```ts
 * import { countParams, lecun1998Init, prngKey } from "./mod.ts";
 * console.log(countParams(lecun1998Init(prngKey(0)))); // 60000
 * ```
 */
export type Lecun1998Params = {
  /** C1: w `[6, 1, 5, 5]`, b `[6]`. */
  readonly c1: WeightBias;
  /** S2: beta `[6]`, b `[6]`. */
  readonly s2: Subsampling;
  /** C3: one kernel per connection of Table I, w `[60, 5, 5]`, b `[16]`. */
  readonly c3: WeightBias;
  /** S4: beta `[16]`, b `[16]`. */
  readonly s4: Subsampling;
  /** C5, the full 5x5 convolution written as a product: w `[400, 120]`, b `[120]`. */
  readonly c5: WeightBias;
  /** F6: w `[120, 84]`, b `[84]`. */
  readonly f6: WeightBias;
  /** The softmax head's dense 84 -> 10 (absent with the RBF head). */
  readonly out?: WeightBias;
};

/** The output layer: the paper's RBF units with loss eq. 9, or dense logits with softmax CE. */
export type Lecun1998Head = "rbf" | "softmax";

/** The constant `j` of the paper's loss (eq. 9) used by the variant. */
export const LECUN_RBF_J = 1;

/**
 * The fixed RBF centers `[10, 84]`: +-1 entries drawn from seed 1998 (the paper's were 7x12
 * bitmaps of the digits; see the module note).
 *
 * @example
 * ```ts
 * import { LECUN_CODES } from "./mod.ts";
 * console.log(LECUN_CODES.shape, new Set(LECUN_CODES.data)); // [10, 84] Set(2) { -1, 1 }
 * ```
 */
export const LECUN_CODES: Tensor = (() => {
  const bits = randomBits(prngKey(1998), 10 * 84);
  return new Tensor(Float32Array.from(bits, (b) => (b & 1 ? 1 : -1)), [10, 84]);
})();

const codesAs = (dtype: DType): Tensor =>
  dtype === "float32" ? LECUN_CODES : new Tensor(Float64Array.from(LECUN_CODES.data), [10, 84]);

/**
 * The paper's input: images `[N, 1, 28, 28]` standardized as the trainer loads them
 * (`(p - mean) / std` with `p` in [0, 1]) become `[N, 1, 32, 32]` with `-0.1 + 1.275 p` inside
 * and the background -0.1 in the 2-pixel border. The input is data, not a parameter: this is a
 * plain transform, not a recorded op.
 *
 * @example
 * ```ts
 * import { lecunInput, zeros } from "./mod.ts";
 * const x = lecunInput(zeros([1, 1, 28, 28]), { mean: 0, std: 1 }); // p = 0: background
 * console.log(x.shape, x.data[0].toFixed(3), x.data[2 * 32 + 2].toFixed(3)); // [1, 1, 32, 32] "-0.100" "-0.100"
 * ```
 */
export function lecunInput(
  x: Tensor,
  norm: { readonly mean: number; readonly std: number } = { mean: MNIST_MEAN, std: MNIST_STD },
): Tensor {
  const [n, , h, w] = x.shape;
  const H = h + 4, W = w + 4;
  const out = allocData(x.dtype, n * H * W).fill(-0.1);
  // -0.1 + 1.275 p with p = x std + mean: one multiply-add per pixel.
  const a = 1.275 * norm.std, c = -0.1 + 1.275 * norm.mean;
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < h; r++) {
      const src = (i * h + r) * w, dst = (i * H + r + 2) * W + 2;
      for (let q = 0; q < w; q++) out[dst + q] = a * x.data[src + q] + c;
    }
  }
  return new Tensor(out, [n, 1, H, W]);
}

/** Uniform in `+-2.4 / fanIn` (the paper's initialization). */
function paperUniform(key: PRNGKey, shape: number[], fanIn: number, dtype: DType): Tensor {
  const a = 2.4 / fanIn;
  return randomUniform(key, shape, { low: -a, high: a, dtype });
}

/**
 * Fresh parameters of the 1998 network: weights uniform in `+-2.4 / F_i`, biases 0. The C3
 * kernels of output map `j` have fan-in `|table[j]| * 25`.
 *
 * @example
 * ```ts
 * import { countParams, lecun1998Init, prngKey } from "./mod.ts";
 * const p = lecun1998Init(prngKey(0), { head: "softmax" });
 * console.log(p.c3.w.shape, countParams(p)); // [60, 5, 5] 60850
 * ```
 */
export function lecun1998Init(
  key: PRNGKey,
  opts: { readonly dtype?: DType; readonly head?: Lecun1998Head } = {},
): Lecun1998Params {
  const dtype = opts.dtype ?? "float32";
  const [k1, k2, k3, k4, k5, k6, k7] = split(key, 7);
  const bias = (n: number) => zeros([n], { dtype });
  // C3: each connection's kernel scaled by the fan-in of the output map it feeds.
  const c3Keys = split(k3, LECUN_C3_TABLE.length);
  const c3w = allocData(dtype, 60 * 25);
  let at = 0;
  LECUN_C3_TABLE.forEach((row, j) => {
    const part = paperUniform(c3Keys[j], [row.length * 25], row.length * 25, dtype);
    c3w.set(part.data, at);
    at += part.size;
  });
  const params: Lecun1998Params = {
    c1: { w: paperUniform(k1, [6, 1, 5, 5], 25, dtype), b: bias(6) },
    s2: { beta: paperUniform(k2, [6], 4, dtype), b: bias(6) },
    c3: { w: new Tensor(c3w, [60, 5, 5]), b: bias(16) },
    s4: { beta: paperUniform(k4, [16], 4, dtype), b: bias(16) },
    c5: { w: paperUniform(k5, [400, 120], 400, dtype), b: bias(120) },
    f6: { w: paperUniform(k6, [120, 84], 120, dtype), b: bias(84) },
  };
  if (opts.head !== "softmax") return params;
  return { ...params, out: { w: paperUniform(k7, [84, 10], 84, dtype), b: bias(10) } };
}

/**
 * The F6 features `[N, 84]` of images `[N, 1, 28, 28]` (standardized as the trainer loads
 * them): everything up to the output layer.
 *
 * @example
 * ```ts
 * import { lecun1998Features, lecun1998Init, prngKey, zeros } from "./mod.ts";
 * console.log(lecun1998Features(lecun1998Init(prngKey(0)), zeros([2, 1, 28, 28])).shape); // [2, 84]
 * ```
 */
export function lecun1998Features(p: Lecun1998Params, x: Tensor): Tensor {
  let h = scaledTanh(conv2d(lecunInput(x), p.c1.w, p.c1.b)); // C1 [N, 6, 28, 28]
  h = scaledTanh(subsample2d(h, p.s2.beta, p.s2.b)); // S2 [N, 6, 14, 14]
  h = scaledTanh(connectedConv2d(h, p.c3.w, p.c3.b, LECUN_C3_TABLE)); // C3 [N, 16, 10, 10]
  h = scaledTanh(subsample2d(h, p.s4.beta, p.s4.b)); // S4 [N, 16, 5, 5]
  h = scaledTanh(dense(flatten(h), p.c5.w, p.c5.b)); // C5 [N, 120]
  return scaledTanh(dense(h, p.f6.w, p.f6.b)); // F6 [N, 84]
}

/**
 * Class scores `[N, 10]` whose argmax is the prediction: with the RBF head (the parameters have
 * no `out`) the NEGATED penalties `-y_k = -|F6 - code_k|^2`, with the softmax head the logits.
 *
 * @example
 * ```ts
 * import { lecun1998Forward, lecun1998Init, prngKey, zeros } from "./mod.ts";
 * console.log(lecun1998Forward(lecun1998Init(prngKey(0)), zeros([2, 1, 28, 28])).shape); // [2, 10]
 * ```
 */
export function lecun1998Forward(p: Lecun1998Params, x: Tensor): Tensor {
  const f6 = lecun1998Features(p, x);
  return p.out ? dense(f6, p.out.w, p.out.b) : neg(rbf(f6, codesAs(f6.dtype)));
}

/**
 * The training loss from {@link lecun1998Forward}'s scores: the paper's eq. 9 on the penalties
 * `y = -scores` (with `j = LECUN_RBF_J`), or softmax cross-entropy for the softmax head.
 *
 * @example
 * ```ts
 * import { lecun1998Criterion, tensor } from "./mod.ts";
 * console.log(lecun1998Criterion("rbf")(tensor([[-1, -100]], { dtype: "float64" }), [0]).data[0].toFixed(4)); // "0.6931" = 1 + log(2 e^-1)
 * ```
 */
export function lecun1998Criterion(
  head: Lecun1998Head,
): (scores: Tensor, labels: Labels) => Tensor {
  return head === "softmax"
    ? (z, labels) => crossEntropy(z, labels)
    : (scores, labels) => rbfLoss(neg(scores), labels, { j: LECUN_RBF_J });
}

/**
 * One layer's trainable parameters and connections, beside the figures of the paper's text
 * (section II-B) where it gives them.
 *
 * @example
 * ```ts
 * import { type LayerCount, lecun1998Counts, lecun1998Init, prngKey } from "./mod.ts";
 * const c3: LayerCount = lecun1998Counts(lecun1998Init(prngKey(0)))[2];
 * console.log(c3.layer, c3.params, c3.connections); // "C3" 1516 151600
 * ```
 */
export interface LayerCount {
  /** The paper's name of the layer. */
  readonly layer: string;
  /** What it computes, with its output shape. */
  readonly what: string;
  /** Trainable parameters (tensor sizes summed). */
  readonly params: number;
  /** Connections: for each output unit, its inputs plus its bias, summed over the units. */
  readonly connections: number;
  /** The paper's figures, or null where the text gives none. */
  readonly paper: { readonly params: number; readonly connections: number } | null;
}

/**
 * Parameters and connections per layer of the 1998 network, computed from the parameter shapes
 * and the layer geometry (a shared-weight layer's connections are its units times the inputs
 * and bias each unit reads), beside the paper's figures.
 *
 * @example
 * ```ts
 * import { lecun1998Counts, lecun1998Init, prngKey } from "./mod.ts";
 * for (const r of lecun1998Counts(lecun1998Init(prngKey(0)))) console.log(r.layer, r.params, r.connections);
 * ```
 */
export function lecun1998Counts(p: Lecun1998Params): LayerCount[] {
  const size = (l: WeightBias) => l.w.size + l.b.size;
  const sub = (l: Subsampling) => l.beta.size + l.b.size;
  const c3Units = LECUN_C3_TABLE.reduce((s, row) => s + row.length * 25 + 1, 0);
  const head: LayerCount = p.out
    ? {
      layer: "OUTPUT",
      what: "dense 84 -> 10, softmax cross-entropy",
      params: size(p.out),
      connections: size(p.out),
      paper: null,
    }
    : {
      layer: "OUTPUT",
      what: "10 RBF units, fixed +-1 codes, eq. 9",
      params: 0,
      connections: 10 * 84,
      paper: null,
    };
  return [
    row("C1", "conv 6@5x5 -> 6@28x28", size(p.c1), 28 * 28 * size(p.c1), 156, 122_304),
    row("S2", "subsample 2x2 -> 6@14x14", sub(p.s2), 6 * 14 * 14 * (4 + 1), 12, 5_880),
    row("C3", "Table I conv 16@5x5 -> 16@10x10", size(p.c3), 10 * 10 * c3Units, 1_516, 151_600),
    row("S4", "subsample 2x2 -> 16@5x5", sub(p.s4), 16 * 5 * 5 * (4 + 1), 32, 2_000),
    row("C5", "conv 120@5x5 -> 120@1x1", size(p.c5), 120 * (400 + 1), 48_120, 48_120),
    row("F6", "dense 120 -> 84", size(p.f6), 84 * (120 + 1), 10_164, 10_164),
    head,
  ];
}

function row(
  layer: string,
  what: string,
  params: number,
  connections: number,
  paperParams: number,
  paperConnections: number,
): LayerCount {
  return {
    layer,
    what,
    params,
    connections,
    paper: { params: paperParams, connections: paperConnections },
  };
}

/**
 * The counts as an aligned text table (ours beside the paper's), for the CLI and reports.
 *
 * @example
 * ```ts
 * import { formatLayerCounts, lecun1998Counts, lecun1998Init, prngKey } from "./mod.ts";
 * console.log(formatLayerCounts(lecun1998Counts(lecun1998Init(prngKey(0)))));
 * ```
 */
export function formatLayerCounts(rows: readonly LayerCount[]): string {
  const n = (v: number) => v.toLocaleString("en-US");
  const lines = [
    ["layer", "computes", "params", "connections", "paper params", "paper connections"],
    ...rows.map((r) => [
      r.layer,
      r.what,
      n(r.params),
      n(r.connections),
      r.paper ? n(r.paper.params) : "-",
      r.paper ? n(r.paper.connections) : "-",
    ]),
  ];
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  return lines.map((l) =>
    l.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")
      .trimEnd()
  ).join("\n");
}

/** The network's stages (C1 ... OUTPUT); folding an input through them is the forward pass. */
function lecun1998Stages(p: Lecun1998Params): readonly Stage[] {
  return [
    ["c1", (x) => scaledTanh(conv2d(lecunInput(x), p.c1.w, p.c1.b))],
    ["s2", (h) => scaledTanh(subsample2d(h, p.s2.beta, p.s2.b))],
    ["c3", (h) => scaledTanh(connectedConv2d(h, p.c3.w, p.c3.b, LECUN_C3_TABLE))],
    ["s4", (h) => scaledTanh(subsample2d(h, p.s4.beta, p.s4.b))],
    ["c5", (h) => scaledTanh(dense(flatten(h), p.c5.w, p.c5.b))],
    ["f6", (h) => scaledTanh(dense(h, p.f6.w, p.f6.b))],
    ["out", (f6) => p.out ? dense(f6, p.out.w, p.out.b) : neg(rbf(f6, codesAs(f6.dtype)))],
  ];
}

function lecun1998VariantOf(head: Lecun1998Head): Variant<Lecun1998Params> {
  const criterion = lecun1998Criterion(head);
  return Object.freeze({
    name: "lecun1998",
    description: head === "rbf"
      ? "LeCun et al. 1998: 32x32 input, scaled tanh, trainable subsampling, Table I C3, " +
        "RBF output with fixed +-1 codes and loss eq. 9 (60,000 parameters)"
      : "LeCun et al. 1998 with a dense 84 -> 10 softmax cross-entropy head (60,850 parameters)",
    head,
    // The paper's initialization (+-2.4 / F_i) replaces --init's schemes.
    init: (key: PRNGKey, opts: ModelInitOptions = {}) =>
      lecun1998Init(key, { dtype: opts.dtype, head }),
    forward: lecun1998Forward,
    stages: lecun1998Stages,
    criterion,
    loss: (p: Lecun1998Params, x: Tensor, labels: Labels) =>
      criterion(lecun1998Forward(p, x), labels),
    defaults: LECUN1998_DEFAULTS,
    describe: (p: Lecun1998Params) =>
      `Parameters and connections per layer (paper: section II-B):\n${
        formatLayerCounts(lecun1998Counts(p))
      }`,
  });
}

/**
 * The training defaults of `--variant lecun1998` (flags override them): Adam at 1e-3 with a
 * 300-step warmup and a cosine decay over 20 epochs, minibatches of 32. (The paper trained 20
 * passes with its stochastic diagonal Levenberg-Marquardt method; Adam is our stand-in for that
 * per-parameter step size.) README "Variants" has the measured accuracy.
 *
 * @example
 * ```ts
 * import { LECUN1998_DEFAULTS } from "./mod.ts";
 * console.log(LECUN1998_DEFAULTS.epochs); // 20
 * ```
 */
export const LECUN1998_DEFAULTS: VariantDefaults = Object.freeze({
  epochs: 20,
  batchSize: 32,
  optimizer: "adam",
  lr: 1e-3,
  schedule: "warmup:300+cosine",
  weightDecay: 0,
});

/**
 * `--variant lecun1998`: the 1998 network with the paper's RBF output and loss; `--head softmax`
 * gives the same network with a dense softmax cross-entropy head ({@link Variant.heads}).
 *
 * @example
 * ```ts
 * import { countParams, lecun1998, prngKey } from "./mod.ts";
 * console.log(countParams(lecun1998.init(prngKey(0)))); // 60000
 * console.log(countParams(lecun1998.heads!.softmax.init(prngKey(0)))); // 60850
 * ```
 */
export const lecun1998: Variant<Lecun1998Params> = Object.freeze({
  ...lecun1998VariantOf("rbf"),
  heads: Object.freeze({ softmax: lecun1998VariantOf("softmax") as unknown as Variant }),
});
