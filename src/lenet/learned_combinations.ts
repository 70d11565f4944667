/**
 * The `modern` LeNet-5 with the notes' learned combinations of feature maps in place of C3:
 * instead of LeCun's hand-made connection table, output map `j` of C3 mixes the 6 convolved S2
 * maps with weights `alpha_.j = softmax(c_.j)` learned with everything else
 * (`combineConv2d`), optionally pushed toward few inputs per output by a sparsity penalty.
 *
 * ```
 * x [N,1,28,28] -> conv 6@5x5 pad 2 -> ReLU -> max-pool 2             [N, 6, 14, 14]
 *               -> combine-conv 16@5x5, alpha = softmax(c) over the 6 inputs
 *                  -> ReLU -> max-pool 2                              [N, 16, 5, 5]
 *               -> dense 120 -> ReLU -> dense 84 -> ReLU -> dense 10 -> softmax CE
 * ```
 *
 * Parameters: the modern network's 61,706 plus the 96 logits `c` (61,802).
 *
 * Penalty: the notes' `lambda sum |alpha|` is constant for softmax weights (see
 * `combinationPenalty`), so the penalty that does something is the entropy
 * `lambda sum_j H(alpha_.j)` (`combinationEntropy`), which is 0 only for one-hot columns.
 *
 * @module
 */

import { relu } from "../tensor/activations.ts";
import { combinationEntropy, combinationPenalty, combineConv2d } from "../tensor/combine_conv.ts";
import { type ConnectionTable, LECUN_C3_TABLE } from "../tensor/connected_conv.ts";
import { conv2dReluMaxPool } from "../tensor/conv_block.ts";
import { flatten } from "../tensor/layout.ts";
import { dense } from "../tensor/matmul.ts";
import { maxPool2d } from "../tensor/pool.ts";
import { type PRNGKey, split } from "../tensor/random.ts";
import { softmax } from "../tensor/softmax.ts";
import { type DType, Tensor, zeros } from "../tensor/tensor.ts";
import { glorotUniform, heUniform } from "./init.ts";
import type { WeightBias } from "./lecun1998.ts";
import type { ModelInitOptions, Stage, Variant, VariantNote } from "./model.ts";
import { conv2d } from "../tensor/conv.ts";
import { crossEntropy, type Labels } from "../tensor/losses.ts";

/**
 * The parameters of {@link learnedCombinationsForward}.
 *
 * @example
 * ```ts
 * import { countParams, learnedCombinationsInit, prngKey } from "./mod.ts";
 * console.log(countParams(learnedCombinationsInit(prngKey(0)))); // 61802
 * ```
 */
export type LearnedCombinationsParams = {
  /** conv 1 -> 6, 5x5, padding 2: w `[6, 1, 5, 5]`, b `[6]`. */
  readonly c1: WeightBias;
  /** C3: kernels `k` `[16, 6, 5, 5]`, combination logits `c` `[6, 16]`, bias `b` `[16]`. */
  readonly c3: { readonly k: Tensor; readonly c: Tensor; readonly b: Tensor };
  /** dense 400 -> 120. */
  readonly c5: WeightBias;
  /** dense 120 -> 84. */
  readonly f6: WeightBias;
  /** dense 84 -> 10 (logits). */
  readonly out: WeightBias;
};

/** Which penalty on the combination weights: none, the notes' `sum |alpha|`, or the entropy. */
export type CombinationPenaltyKind = "none" | "l1" | "entropy";

/**
 * Fresh parameters: He uniform weights (Glorot for the logits layer), zero biases, `c = 0`
 * (every output map starts reading its 6 inputs equally). The C3 kernels are drawn with He's
 * variance and multiplied by 6 so that the initial effective weights `alpha k = k / 6` have
 * He's variance.
 *
 * @example
 * ```ts
 * import { learnedCombinationsInit, prngKey } from "./mod.ts";
 * console.log(learnedCombinationsInit(prngKey(0)).c3.c.shape); // [6, 16]
 * ```
 */
export function learnedCombinationsInit(
  key: PRNGKey,
  opts: { readonly dtype?: DType } = {},
): LearnedCombinationsParams {
  const dtype = opts.dtype ?? "float32";
  const [k1, k3, k5, k6, k7] = split(key, 5);
  const layer = (w: Tensor): WeightBias => ({
    w,
    b: zeros([w.shape[w.rank === 2 ? 1 : 0]], { dtype }),
  });
  const k = heUniform(k3, [16, 6, 5, 5], { dtype });
  return {
    c1: layer(heUniform(k1, [6, 1, 5, 5], { dtype })),
    c3: {
      k: new Tensor(k.data.map((v) => v * 6), k.shape),
      c: zeros([6, 16], { dtype }),
      b: zeros([16], { dtype }),
    },
    c5: layer(heUniform(k5, [400, 120], { dtype })),
    f6: layer(heUniform(k6, [120, 84], { dtype })),
    out: layer(glorotUniform(k7, [84, 10], { dtype })),
  };
}

/**
 * Logits `[N, 10]` for images `[N, 1, 28, 28]`.
 *
 * @example
 * ```ts
 * import { learnedCombinationsForward, learnedCombinationsInit, prngKey, zeros } from "./mod.ts";
 * const p = learnedCombinationsInit(prngKey(0));
 * console.log(learnedCombinationsForward(p, zeros([2, 1, 28, 28])).shape); // [2, 10]
 * ```
 */
export function learnedCombinationsForward(p: LearnedCombinationsParams, x: Tensor): Tensor {
  // C1 as one fused op (maxPool(relu(conv)) without materializing the conv output).
  let h = conv2dReluMaxPool(x, p.c1.w, p.c1.b, { padding: 2 }, { kernel: 2 });
  h = maxPool2d(relu(combineConv2d(h, p.c3.k, p.c3.c, p.c3.b)), { kernel: 2 });
  h = relu(dense(flatten(h), p.c5.w, p.c5.b));
  h = relu(dense(h, p.f6.w, p.f6.b));
  return dense(h, p.out.w, p.out.b);
}

/**
 * The penalty term added to the loss: `lambda * sum_j H(alpha_.j)` (`"entropy"`), the notes'
 * constant `lambda * sum |alpha|` (`"l1"`), or nothing (null).
 *
 * @example
 * ```ts
 * import { combinationRegularizer, learnedCombinationsInit, prngKey } from "./mod.ts";
 * const p = learnedCombinationsInit(prngKey(0));
 * console.log(combinationRegularizer("entropy", 0.01)(p)?.data[0].toFixed(4)); // "0.2867" = 0.01 * 16 log 6
 * ```
 */
export function combinationRegularizer(
  kind: CombinationPenaltyKind,
  lambda: number,
): (p: LearnedCombinationsParams) => Tensor | null {
  if (kind === "none" || lambda === 0) return () => null;
  return kind === "entropy"
    ? (p) => combinationEntropy(p.c3.c, lambda)
    : (p) => combinationPenalty(p.c3.c, lambda);
}

/**
 * The learned table: for each output map, the input maps whose weight `alpha_ij` is at least
 * `threshold` (default `1/6`, the uniform share), in the layout of {@link LECUN_C3_TABLE}.
 *
 * @example
 * ```ts
 * import { learnedCombinationsInit, learnedTable, prngKey } from "./mod.ts";
 * console.log(learnedTable(learnedCombinationsInit(prngKey(0)))[0]); // [0, 1, 2, 3, 4, 5] (uniform at init)
 * ```
 */
export function learnedTable(p: LearnedCombinationsParams, threshold = 1 / 6): ConnectionTable {
  const [cin, cout] = p.c3.c.shape;
  const alpha = softmax(p.c3.c, 0).data;
  return Array.from(
    { length: cout },
    (_, j) =>
      Array.from({ length: cin }, (_, i) => i).filter((i) =>
        alpha[i * cout + j] >= threshold - 1e-7
      ),
  );
}

/**
 * The learned weights `alpha` as a text table, input maps as rows and output maps as columns
 * like the paper's Table I (`X` marks `alpha >= threshold`, with the value in hundredths),
 * followed by the paper's table for comparison.
 *
 * @example
 * ```ts
 * import { formatCombinationTable, learnedCombinationsInit, prngKey } from "./mod.ts";
 * console.log(formatCombinationTable(learnedCombinationsInit(prngKey(0))));
 * ```
 */
export function formatCombinationTable(p: LearnedCombinationsParams, threshold = 1 / 6): string {
  const [cin, cout] = p.c3.c.shape;
  const alpha = softmax(p.c3.c, 0).data;
  const cols = Array.from({ length: cout }, (_, j) => String(j).padStart(4));
  const lines = [`learned alpha (x100; * = alpha >= ${threshold.toFixed(3)}), inputs x outputs:`];
  lines.push("     " + cols.join(""));
  for (let i = 0; i < cin; i++) {
    const cells = Array.from({ length: cout }, (_, j) => {
      const a = alpha[i * cout + j];
      return (Math.round(a * 100) + (a >= threshold - 1e-7 ? "*" : " ")).padStart(4);
    });
    lines.push(`  ${i}  ` + cells.join(""));
  }
  const used = learnedTable(p, threshold).map((r) => r.length);
  lines.push(
    `  inputs used per output: ${used.join(" ")} (${used.reduce((a, b) => a + b, 0)} of ${
      cin * cout
    })`,
  );
  lines.push("", "LeCun 1998 Table I (X = connected):", "     " + cols.join(""));
  for (let i = 0; i < cin; i++) {
    const cells = LECUN_C3_TABLE.map((row) => (row.includes(i) ? "X" : ".").padStart(4));
    lines.push(`  ${i}  ` + cells.join(""));
  }
  return lines.join("\n");
}

/**
 * The weight `lambda` of the entropy penalty `lambda sum_j H(alpha_.j)` that
 * `--variant learned-combinations` adds to its loss, pushing each output map toward few inputs.
 * Chosen by measurement (4 epochs, seed 0; README "Variants"): 0.001 leaves every alpha within
 * 0.11..0.25 of the uniform 1/6 (99.00%); 0.01 lets most maps settle on 2-4 inputs (99.14%);
 * 0.05 collapses every map onto one input (98.60%).
 *
 * @example
 * ```ts
 * import { LEARNED_COMBINATIONS_LAMBDA } from "./mod.ts";
 * console.log(LEARNED_COMBINATIONS_LAMBDA); // 0.01
 * ```
 */
export const LEARNED_COMBINATIONS_LAMBDA = 0.01;

/**
 * `--variant learned-combinations`: the modern LeNet-5 with C3 as learned combinations of the S2
 * maps, the entropy penalty ({@link LEARNED_COMBINATIONS_LAMBDA}) in its training loss, and the
 * learned table beside the paper's written to `combinations.txt` when training ends.
 *
 * @example
 * ```ts
 * import { countParams, learnedCombinations, prngKey } from "./mod.ts";
 * const p = learnedCombinations.init(prngKey(0));
 * console.log(countParams(p), learnedCombinations.learned!(p).file); // 61802 "combinations.txt"
 * ```
 */
export const learnedCombinations: Variant<LearnedCombinationsParams> = Object.freeze({
  name: "learned-combinations",
  description: "modern LeNet-5 with C3 mixing the 6 S2 maps by learned softmax weights, " +
    "entropy penalty (61,802 parameters)",
  // He/Glorot as the modern network (--init's schemes do not apply).
  init: (key: PRNGKey, opts: ModelInitOptions = {}) =>
    learnedCombinationsInit(key, { dtype: opts.dtype }),
  forward: learnedCombinationsForward,
  stages: (p: LearnedCombinationsParams): readonly Stage[] => [
    ["c1", (x) => relu(conv2d(x, p.c1.w, p.c1.b, { padding: 2 }))],
    ["s2", (h) => maxPool2d(h, { kernel: 2 })],
    ["c3", (h) => relu(combineConv2d(h, p.c3.k, p.c3.c, p.c3.b))],
    ["s4", (h) => maxPool2d(h, { kernel: 2 })],
    ["c5", (h) => relu(dense(flatten(h), p.c5.w, p.c5.b))],
    ["f6", (h) => relu(dense(h, p.f6.w, p.f6.b))],
    ["out", (h) => dense(h, p.out.w, p.out.b)],
  ],
  criterion: (logits: Tensor, labels: Labels) => crossEntropy(logits, labels),
  loss: (p: LearnedCombinationsParams, x: Tensor, labels: Labels) =>
    crossEntropy(learnedCombinationsForward(p, x), labels),
  penalty: combinationRegularizer("entropy", LEARNED_COMBINATIONS_LAMBDA),
  learned: (p: LearnedCombinationsParams): VariantNote => ({
    file: "combinations.txt",
    text: formatCombinationTable(p),
  }),
});
