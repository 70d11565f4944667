/**
 * Reference definitions of the ops of LeCun et al. 1998 and of the notes' learned combinations:
 * trainable subsampling, the partially connected convolution, Euclidean RBF units and the
 * paper's loss, the learned-combination convolution and its penalties. Like `reference.ts`,
 * they are compositions of the autograd's elementary primitives (and of `reference.ts`'s own
 * compositions) and never call the fast ops or their hand-derived rules, so their gradients come
 * from the chain rule alone. They follow the definitions literally (one correlation per
 * connection, one per input map) rather than the fast ops' dense-weight shortcuts.
 *
 * @module
 */

import { fmtShape, TensorError } from "../tensor/errors.ts";
import { full, type Shape, type Tensor } from "../tensor/tensor.ts";
import * as P from "./primitives.ts";
import {
  conv2d,
  type Conv2dOptions,
  crossEntropy,
  logSoftmax,
  type LossOptions,
  softmax,
} from "./reference.ts";

const scale = (x: Tensor, c: number): Tensor => P.mul(x, full(x.shape, c, { dtype: x.dtype }));

/** `v` `[len]` reshaped to `view` and broadcast to `shape`. */
const expand = (v: Tensor, view: Shape, shape: Shape): Tensor =>
  P.broadcastTo(P.reshape(v, view), shape);

function need(op: string, ok: boolean, what: string): void {
  if (!ok) throw new TensorError(op, what);
}

/**
 * Trainable subsampling `y[n,c] = beta_c * sumpool_k(x[n,c]) + b_c`: the `k x k` block sums as
 * a reshape to `[N, C, H/kh, kh, W/kw, kw]` summed over the two block axes.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * const x = tensor([[[[1, 2], [3, 4]]]], { dtype: "float64" });
 * console.log(ref.subsample2d(x, tensor([0.5], { dtype: "float64" }), tensor([1], { dtype: "float64" })).data); // [6]
 * ```
 */
export function subsample2d(
  x: Tensor,
  beta: Tensor,
  bias: Tensor,
  k: number | readonly [number, number] = 2,
): Tensor {
  const op = "ref.subsample2d";
  const [kh, kw] = typeof k === "number" ? [k, k] : k;
  need(op, x.rank === 4, `x ${fmtShape(x.shape)} must be [N, C, H, W]`);
  const [n, c, h, w] = x.shape;
  need(
    op,
    h % kh === 0 && w % kw === 0 && beta.size === c && bias.size === c,
    `x ${fmtShape(x.shape)}: maps must tile by ${kh}x${kw}; beta and bias must be [${c}]`,
  );
  const s = P.sum(P.reshape(x, [n, c, h / kh, kh, w / kw, kw]), [3, 5]);
  const view = [1, c, 1, 1];
  return P.add(P.mul(s, expand(beta, view, s.shape)), expand(bias, view, s.shape));
}

/**
 * Partially connected convolution: for each connection `c = (j, i)` in table order, the
 * correlation of input map `i` with `kernels[c]`, added into output map `j` (a pad along the
 * map axis places it), plus `b_j`.
 *
 * @example
 * ```ts
 * import { ones, ref, tensor } from "./mod.ts";
 * const x = tensor([[[[1, 2], [3, 4]], [[10, 20], [30, 40]]]], { dtype: "float64" });
 * const y = ref.connectedConv2d(x, ones([3, 2, 2], { dtype: "float64" }), null, [[0], [0, 1]]);
 * console.log(y.data); // [10, 110]
 * ```
 */
export function connectedConv2d(
  x: Tensor,
  kernels: Tensor,
  bias: Tensor | null,
  table: readonly (readonly number[])[],
  opts: Conv2dOptions = {},
): Tensor {
  const op = "ref.connectedConv2d";
  need(op, x.rank === 4 && kernels.rank === 3, `x must be [N, C, H, W], kernels [K, kh, kw]`);
  const [n, cin, h, w] = x.shape;
  const [count, kh, kw] = kernels.shape;
  const cout = table.length;
  need(
    op,
    table.flat().length === count,
    `${count} kernels for ${table.flat().length} connections`,
  );
  let acc: Tensor | undefined, c = 0;
  table.forEach((row, j) => {
    for (const i of row) {
      need(op, Number.isInteger(i) && i >= 0 && i < cin, `table[${j}] reads map ${i} of ${cin}`);
      const xi = P.slice(x, [0, i, 0, 0], [n, i + 1, h, w]);
      const k = P.reshape(P.slice(kernels, [c, 0, 0], [c + 1, kh, kw]), [1, 1, kh, kw]);
      const t = conv2d(xi, k, null, opts);
      const placed = P.pad(t, [[0, 0], [j, cout - 1 - j], [0, 0], [0, 0]]);
      acc = acc ? P.add(acc, placed) : placed;
      c++;
    }
  });
  if (!bias) return acc!;
  need(op, bias.size === cout, `bias ${fmtShape(bias.shape)} must be [${cout}]`);
  return P.add(acc!, expand(bias, [1, cout, 1, 1], acc!.shape));
}

/**
 * Euclidean RBF units `y[n,k] = sum_j (x[n,j] - w[k,j])^2`: both broadcast to `[N, K, D]`,
 * subtracted, squared (a product) and summed over `D`.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * const y = ref.rbf(tensor([[1, 1]], { dtype: "float64" }), tensor([[1, 1], [-1, 1]], { dtype: "float64" }));
 * console.log(y.data); // [0, 4]
 * ```
 */
export function rbf(x: Tensor, centers: Tensor): Tensor {
  need(
    "ref.rbf",
    x.rank === 2 && centers.rank === 2 && x.shape[1] === centers.shape[1],
    `x ${fmtShape(x.shape)} must be [N, D] and centers ${fmtShape(centers.shape)} [K, D]`,
  );
  const [n, d] = x.shape, k = centers.shape[0];
  const diff = P.sub(
    P.broadcastTo(P.reshape(x, [n, 1, d]), [n, k, d]),
    P.broadcastTo(P.reshape(centers, [1, k, d]), [n, k, d]),
  );
  return P.sum(P.mul(diff, diff), 2);
}

/** Options of {@link rbfLoss}: the constant `j` of eq. 9 and the reduction. */
export interface RbfLossOptions extends LossOptions {
  /** The penalty of the implicit "rubbish" class (`j > 0`). */
  j: number;
}

/**
 * The loss of LeCun 1998 (eq. 9), `y_l + log(e^-j + sum_i e^-y_i)` per row: exactly the
 * cross-entropy of the logits `[-y, -j]` (the RBF penalties negated, plus a constant column for
 * the rubbish class, appended by a pad) at the label.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * const y = tensor([[0, 0]], { dtype: "float64" });
 * console.log(ref.rbfLoss(y, [0], { j: 1000 }).data); // [0.6931] = log 2
 * ```
 */
export function rbfLoss(
  y: Tensor,
  labels: ArrayLike<number> | Tensor,
  opts: RbfLossOptions,
): Tensor {
  const op = "ref.rbfLoss";
  need(op, y.rank === 2, `penalties ${fmtShape(y.shape)} must be [N, K]`);
  need(op, Number.isFinite(opts.j) && opts.j > 0, `j = ${opts.j} must be positive`);
  const lab = "data" in labels ? labels.data : labels;
  for (let i = 0; i < lab.length; i++) {
    need(op, lab[i] >= 0 && lab[i] < y.shape[1], `label ${lab[i]} is not in 0..${y.shape[1] - 1}`);
  }
  const logits = P.pad(P.neg(y), [[0, 0], [0, 1]], -opts.j);
  return crossEntropy(logits, labels, { reduction: opts.reduction });
}

/**
 * Learned combinations, literally: for each input map `i`, its correlation with `k[:, i]` for
 * every output map, scaled by `alpha[i, :]` (`alpha = softmax(c)` over the inputs), summed over
 * `i`, plus `b`.
 *
 * @example
 * ```ts
 * import { ones, ref, tensor, zeros } from "./mod.ts";
 * const x = tensor([[[[1]], [[3]]]], { dtype: "float64" });
 * const f64 = { dtype: "float64" } as const;
 * console.log(ref.combineConv2d(x, ones([1, 2, 1, 1], f64), zeros([2, 1], f64), null).data); // [2]
 * ```
 */
export function combineConv2d(
  x: Tensor,
  k: Tensor,
  c: Tensor,
  b: Tensor | null,
  opts: Conv2dOptions = {},
): Tensor {
  const op = "ref.combineConv2d";
  need(op, x.rank === 4 && k.rank === 4, `x must be [N, C, H, W] and k OIHW`);
  const [n, cin, h, w] = x.shape;
  const [cout, , kh, kw] = k.shape;
  need(
    op,
    c.rank === 2 && c.shape[0] === cin && c.shape[1] === cout,
    `c must be [${cin}, ${cout}]`,
  );
  const alpha = softmax(c, 0);
  let acc: Tensor | undefined;
  for (let i = 0; i < cin; i++) {
    const xi = P.slice(x, [0, i, 0, 0], [n, i + 1, h, w]);
    const ki = P.slice(k, [0, i, 0, 0], [cout, i + 1, kh, kw]);
    const t = conv2d(xi, ki, null, opts);
    const ai = P.slice(alpha, [i, 0], [i + 1, cout]);
    const term = P.mul(t, expand(ai, [1, cout, 1, 1], t.shape));
    acc = acc ? P.add(acc, term) : term;
  }
  if (!b) return acc!;
  return P.add(acc!, expand(b, [1, cout, 1, 1], acc!.shape));
}

/**
 * The notes' penalty `lambda sum |softmax(c)|` over the inputs (axis 0), `|a|` as
 * `maximum(a, -a)`. Constant for softmax weights (see the fast op).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.combinationPenalty(tensor([[5], [0]], { dtype: "float64" }), 2).data); // [2]
 * ```
 */
export function combinationPenalty(c: Tensor, lambda: number): Tensor {
  const alpha = softmax(c, 0);
  return scale(P.sum(P.maximum(alpha, P.neg(alpha))), lambda);
}

/**
 * The entropy penalty `-lambda sum alpha log alpha`, `alpha = softmax(c)` and `log alpha =
 * logSoftmax(c)` over the inputs (axis 0).
 *
 * @example
 * ```ts
 * import { ref, zeros } from "./mod.ts";
 * console.log(ref.combinationEntropy(zeros([2, 1], { dtype: "float64" }), 1).data); // [0.6931] = log 2
 * ```
 */
export function combinationEntropy(c: Tensor, lambda: number): Tensor {
  return scale(P.sum(P.mul(softmax(c, 0), logSoftmax(c, 0))), -lambda);
}
