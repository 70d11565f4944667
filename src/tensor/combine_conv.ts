/**
 * Learned combinations of feature maps (the notes' alternative to LeNet's hand-made C3 table):
 * output map `j` mixes the convolved input maps with weights `alpha_.j = softmax(c_.j)` over
 * the inputs `i`, so the network learns which inputs each output uses:
 *
 * `y_j = sum_i alpha_ij (x_i * k_ij) + b_j`, `alpha_ij = e^{c_ij} / sum_k e^{c_kj}`
 *
 * (`*` is cross-correlation, with conv2d's options). The layer is computed as one conv2d with
 * the effective weight `W_ji = alpha_ij k_ij`. Backward, with `delta_j = dL/dy_j`:
 *
 * - `dX = conv2d's input gradient with W` (`sum_j full_corr(delta_j, rot180(alpha_ij k_ij))`);
 * - `dk_ij = alpha_ij valid_corr(x_i, delta_j)`;
 * - `dE/dalpha_ij = <valid_corr(x_i, delta_j), k_ij>` (= `sum delta_j (x_i * k_ij)`);
 * - `dE/dc_ij = alpha_ij (dE/dalpha_ij - sum_k dE/dalpha_kj alpha_kj)` (the notes' softmax rule);
 * - `db_j = sum(delta_j)`.
 *
 * Penalties on the combination weights, each with its backward:
 *
 * - {@link combinationPenalty}, the notes' `Omega = lambda sum_ij |alpha_ij|` with their gradient
 *   `dOmega/dc_ij = lambda (|alpha_ij| - alpha_ij sum_k |alpha_kj|)`. With softmax weights
 *   (`alpha >= 0`, `sum_i alpha_ij = 1`) this penalty is the constant `lambda * Cout` and that
 *   gradient is identically 0: it cannot sparsify anything (kept, and tested, to show exactly
 *   that);
 * - {@link combinationEntropy}, `lambda sum_j H_j` with `H_j = -sum_i alpha_ij log alpha_ij`,
 *   which is smallest when each column of alpha is one-hot, so it does push toward few inputs per
 *   output: `d(lambda H_j)/dc_ij = -lambda alpha_ij (log alpha_ij + H_j)`.
 *
 * @module
 */

import {
  checkSameDType,
  type Conv2dOptions,
  fmtConvOptions,
  resolveConv2d,
} from "./conv_options.ts";
import { fmtShape, TensorError } from "./errors.ts";
import type { Conv2dGeometry } from "./kernels/conv.ts";
import { convForward, convGrads } from "./kernels/dispatch.ts";
import { softmaxGradLoop, softmaxLoop } from "./kernels/softmax.ts";
import { allocData, Tensor, type TensorData } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { checkDelta, checkGrad } from "./validate.ts";

/** `alpha = softmax(c)` over the inputs (axis 0) of `c` `[Cin, Cout]`, or its log. */
function weights(c: Tensor, log = false): TensorData {
  const out = allocData(c.dtype, c.size);
  softmaxLoop(c.data, 1, c.shape[0], c.shape[1], log, out);
  return out;
}

function resolve(
  op: string,
  x: Tensor,
  k: Tensor,
  c: Tensor,
  b: Tensor | null,
  opts: Conv2dOptions,
): Conv2dGeometry {
  const { geometry: g } = resolveConv2d(op, x.shape, k.shape, opts);
  const ctx = `x ${fmtShape(x.shape)}, k ${fmtShape(k.shape)}, c ${fmtShape(c.shape)}, b ${
    b ? fmtShape(b.shape) : "null"
  }, options ${fmtConvOptions(opts)}`;
  if (c.rank !== 2 || c.shape[0] !== g.inC || c.shape[1] !== g.outC) {
    throw new TensorError(
      op,
      `combination logits c must be [Cin, Cout] = [${g.inC}, ${g.outC}] (${ctx}); pass one ` +
        `logit per (input map, output map) pair, softmaxed over the inputs`,
    );
  }
  if (b && (b.rank !== 1 || b.shape[0] !== g.outC)) {
    throw new TensorError(op, `bias must be [${g.outC}] (${ctx}); pass a rank-1 bias or null`);
  }
  checkSameDType(op, b ? [["x", x], ["k", k], ["c", c], ["b", b]] : [["x", x], ["k", k], ["c", c]]);
  return g;
}

/** `W[j,i,:,:] = alpha[i,j] k[j,i,:,:]`: the effective OIHW weight of the layer. */
function effectiveWeight(k: Tensor, alpha: TensorData, g: Conv2dGeometry): TensorData {
  const khw = g.kh * g.kw, w = allocData(k.dtype, k.size);
  for (let j = 0; j < g.outC; j++) {
    for (let i = 0; i < g.inC; i++) {
      const a = alpha[i * g.outC + j], at = (j * g.inC + i) * khw;
      for (let t = at; t < at + khw; t++) w[t] = a * k.data[t];
    }
  }
  return w;
}

/**
 * Convolution with learned combinations of feature maps: `x` `[N, Cin, H, W]`, kernels `k`
 * `[Cout, Cin, kh, kw]` (OIHW), combination logits `c` `[Cin, Cout]`, bias `b` `[Cout]` (or
 * null): `y_j = sum_i alpha_ij (x_i * k_ij) + b_j` with `alpha_.j = softmax(c_.j)` over the
 * inputs. Options as conv2d. Backward: {@link combineConv2dBackward}.
 *
 * @example
 * ```ts
 * import { combineConv2d, ones, tensor, zeros } from "./mod.ts";
 * const x = tensor([[[[1]], [[3]]]]); // [1, 2, 1, 1]
 * // c = 0: each output map averages its two inputs' convolutions
 * console.log(combineConv2d(x, ones([1, 2, 1, 1]), zeros([2, 1]), null).data); // Float32Array [2]
 * ```
 */
export function combineConv2d(
  x: Tensor,
  k: Tensor,
  c: Tensor,
  b: Tensor | null,
  opts: Conv2dOptions = {},
): Tensor {
  const g = resolve("combineConv2d", x, k, c, b, opts);
  const alpha = weights(c);
  const w = effectiveWeight(k, alpha, g);
  const y = allocData(x.dtype, g.batch * g.outC * g.outH * g.outW);
  convForward(x.data, w, b ? b.data : null, y, g);
  const inputs = b ? [x, k, c, b] : [x, k, c];
  const out = new Tensor(y, [g.batch, g.outC, g.outH, g.outW]);
  return recordOp("combineConv2d", inputs, out, () => (delta, needed) => {
    const d = combineGrads("combineConv2dBackward", delta, x, k, c, g, alpha, w, [
      needed?.[0] ?? true,
      b !== null && (needed?.[3] ?? true),
    ]);
    return b ? [d.dx, d.dk, d.dc, d.db] : [d.dx, d.dk, d.dc];
  });
}

/**
 * The gradients of {@link combineConv2d}.
 *
 * @example
 * ```ts
 * import { type CombineConv2dGrads, combineConv2dBackward, ones, zeros } from "./mod.ts";
 * const g: CombineConv2dGrads = combineConv2dBackward(
 *   ones([1, 3, 2, 2]), ones([1, 2, 4, 4]), ones([3, 2, 3, 3]), zeros([2, 3]),
 * );
 * console.log(g.dx.shape, g.dk.shape, g.dc.shape, g.db.shape); // [1, 2, 4, 4] [3, 2, 3, 3] [2, 3] [3]
 * ```
 */
export interface CombineConv2dGrads {
  /** `dL/dx`, shape `[N, Cin, H, W]`. */
  dx: Tensor;
  /** `dL/dk`, shape `[Cout, Cin, kh, kw]`. */
  dk: Tensor;
  /** `dL/dc`, shape `[Cin, Cout]`. */
  dc: Tensor;
  /** `dL/db`, shape `[Cout]` (whether or not the forward had a bias). */
  db: Tensor;
}

/**
 * VJP of {@link combineConv2d}, given `delta = dL/dy` `[N, Cout, Ho, Wo]` and the forward's
 * inputs: with `G_ji = valid_corr(x_i, delta_j)` summed over the batch (conv2d's weight
 * gradient of the effective weight),
 *
 * - `dk_ij = alpha_ij G_ji`;
 * - `dE/dalpha_ij = sum_{p,q} G_ji[p,q] k_ij[p,q]`;
 * - `dc_ij = alpha_ij (dE/dalpha_ij - sum_k dE/dalpha_kj alpha_kj)` (the notes' rule);
 * - `dX = sum_j full_corr(delta_j, rot180(alpha_ij k_ij))` (conv2d's input gradient);
 * - `db_j = sum delta_j`.
 *
 * @example
 * ```ts
 * import { combineConv2dBackward, ones, tensor, zeros } from "./mod.ts";
 * const x = tensor([[[[1]], [[3]]]]);
 * const { dk, dc } = combineConv2dBackward(ones([1, 1, 1, 1]), x, ones([1, 2, 1, 1]), zeros([2, 1]));
 * console.log(dk.data, dc.data); // Float32Array [0.5, 1.5] Float32Array [-0.5, 0.5]
 * ```
 */
export function combineConv2dBackward(
  delta: Tensor,
  x: Tensor,
  k: Tensor,
  c: Tensor,
  opts: Conv2dOptions = {},
): CombineConv2dGrads {
  const g = resolve("combineConv2dBackward", x, k, c, null, opts);
  const alpha = weights(c);
  const d = combineGrads(
    "combineConv2dBackward",
    delta,
    x,
    k,
    c,
    g,
    alpha,
    effectiveWeight(k, alpha, g),
    [
      true,
      true,
    ],
  );
  return { dx: d.dx!, dk: d.dk, dc: d.dc, db: d.db! };
}

function combineGrads(
  op: string,
  delta: Tensor,
  x: Tensor,
  k: Tensor,
  c: Tensor,
  g: Conv2dGeometry,
  alpha: TensorData,
  w: TensorData,
  [needX, needB]: [boolean, boolean],
): { dx: Tensor | null; dk: Tensor; dc: Tensor; db: Tensor | null } {
  checkDelta(
    op,
    delta,
    [g.batch, g.outC, g.outH, g.outW],
    `x ${fmtShape(x.shape)}, k ${fmtShape(k.shape)}`,
    "pass the gradient of combineConv2d's output with the same inputs and options",
  );
  checkSameDType(op, [["delta", delta], ["x", x]]);
  const khw = g.kh * g.kw, cin = g.inC, cout = g.outC;
  // G = conv2d's weight gradient of the effective weight; dX and db come from the same call.
  const G = allocData(x.dtype, k.size);
  const dxData = needX ? allocData(x.dtype, x.size) : null;
  const dbData = needB ? allocData(x.dtype, cout) : null;
  convGrads(delta.data, x.data, w, null, { dx: dxData, dw: G, db: dbData }, g);
  const dk = allocData(x.dtype, k.size), dalpha = allocData(x.dtype, c.size);
  for (let j = 0; j < cout; j++) {
    for (let i = 0; i < cin; i++) {
      const a = alpha[i * cout + j], at = (j * cin + i) * khw;
      let s = 0;
      for (let t = at; t < at + khw; t++) {
        dk[t] = a * G[t];
        s += G[t] * k.data[t];
      }
      dalpha[i * cout + j] = s;
    }
  }
  // dc_ij = alpha_ij (dalpha_ij - sum_k dalpha_kj alpha_kj): the softmax VJP along the inputs.
  const dc = allocData(x.dtype, c.size);
  softmaxGradLoop(dalpha, alpha, 1, cin, cout, false, dc);
  return {
    dx: dxData ? new Tensor(dxData, x.shape) : null,
    dk: new Tensor(dk, k.shape),
    dc: new Tensor(dc, c.shape),
    db: dbData ? new Tensor(dbData, [cout]) : null,
  };
}

function checkLogits(op: string, c: Tensor, lambda: number): void {
  if (c.rank !== 2 || c.shape[0] < 1) {
    throw new TensorError(
      op,
      `combination logits c must be [Cin, Cout] with Cin >= 1, got ${fmtShape(c.shape)}`,
    );
  }
  if (!Number.isFinite(lambda)) {
    throw new TensorError(op, `lambda = ${lambda} must be a finite number`);
  }
}

function scalar(c: Tensor, v: number): Tensor {
  const out = allocData(c.dtype, 1);
  out[0] = v;
  return new Tensor(out, []);
}

/**
 * The notes' sparsity penalty on the combination weights: `lambda sum_ij |alpha_ij|` with
 * `alpha = softmax(c)` over the inputs (axis 0 of `c` `[Cin, Cout]`). NOTE: softmax weights are
 * positive and sum to 1 per output map, so this is always `lambda * Cout` and its gradient is 0:
 * it does not sparsify. Use {@link combinationEntropy} for a penalty that does. Backward:
 * {@link combinationPenaltyBackward}.
 *
 * @example
 * ```ts
 * import { combinationPenalty, tensor } from "./mod.ts";
 * const c = tensor([[5, -1], [0, 2]], { dtype: "float64" });
 * console.log(combinationPenalty(c, 0.1).data[0].toFixed(12)); // "0.200000000000" = 0.1 * Cout, whatever c
 * ```
 */
export function combinationPenalty(c: Tensor, lambda: number): Tensor {
  checkLogits("combinationPenalty", c, lambda);
  const alpha = weights(c);
  let s = 0;
  for (let t = 0; t < alpha.length; t++) s += Math.abs(alpha[t]);
  return recordOp("combinationPenalty", [c], scalar(c, lambda * s), () => (g) => [
    combinationPenaltyBackward(g, c, lambda),
  ]);
}

/**
 * VJP of {@link combinationPenalty}, as the notes derive it:
 * `dOmega/dc_ij = lambda (|alpha_ij| - alpha_ij sum_k |alpha_kj|)`, times `g`. With softmax
 * weights `|alpha| = alpha` and `sum_k alpha_kj = 1`, so it is 0 up to rounding.
 *
 * @example
 * ```ts
 * import { combinationPenaltyBackward, tensor } from "./mod.ts";
 * const dc = combinationPenaltyBackward(tensor(1, { dtype: "float64" }), tensor([[5], [0]], { dtype: "float64" }), 0.1);
 * console.log(Math.max(...dc.data.map(Math.abs)) < 1e-15); // true
 * ```
 */
export function combinationPenaltyBackward(g: Tensor, c: Tensor, lambda: number): Tensor {
  checkLogits("combinationPenaltyBackward", c, lambda);
  checkGrad("combinationPenaltyBackward", g, [], c.dtype);
  const alpha = weights(c), [cin, cout] = c.shape, scale = lambda * g.data[0];
  const dc = allocData(c.dtype, c.size);
  for (let j = 0; j < cout; j++) {
    let l1 = 0;
    for (let i = 0; i < cin; i++) l1 += Math.abs(alpha[i * cout + j]);
    for (let i = 0; i < cin; i++) {
      const a = alpha[i * cout + j];
      dc[i * cout + j] = scale * (Math.abs(a) - a * l1);
    }
  }
  return new Tensor(dc, c.shape);
}

/**
 * An entropy penalty that does sparsify the combination weights: `lambda sum_j H_j` with
 * `H_j = -sum_i alpha_ij log alpha_ij`, `alpha = softmax(c)` over the inputs (axis 0 of `c`
 * `[Cin, Cout]`, `log alpha` taken as a stable log-softmax). `H_j` ranges from 0 (output `j`
 * reads one input) to `log Cin` (uniform), so minimizing it concentrates each output on few
 * inputs. Backward: {@link combinationEntropyBackward}.
 *
 * @example
 * ```ts
 * import { combinationEntropy, zeros } from "./mod.ts";
 * console.log(combinationEntropy(zeros([4, 1], { dtype: "float64" }), 1).data); // Float64Array [1.3862943611198906]  = log 4
 * ```
 */
export function combinationEntropy(c: Tensor, lambda: number): Tensor {
  checkLogits("combinationEntropy", c, lambda);
  const alpha = weights(c), logAlpha = weights(c, true);
  let h = 0;
  for (let t = 0; t < alpha.length; t++) h -= alpha[t] * logAlpha[t];
  return recordOp("combinationEntropy", [c], scalar(c, lambda * h), () => (g) => [
    combinationEntropyBackward(g, c, lambda),
  ]);
}

/**
 * VJP of {@link combinationEntropy}: by the notes' softmax rule with
 * `dH_j/dalpha_ij = -(log alpha_ij + 1)`,
 * `dc_ij = alpha_ij (dH_j/dalpha_ij - sum_k alpha_kj dH_j/dalpha_kj) = -alpha_ij (log alpha_ij + H_j)`,
 * times `lambda g`.
 *
 * @example
 * ```ts
 * import { combinationEntropyBackward, tensor } from "./mod.ts";
 * // uniform weights are a maximum of the entropy: zero gradient
 * const dc = combinationEntropyBackward(tensor(1, { dtype: "float64" }), tensor([[0], [0]], { dtype: "float64" }), 1);
 * console.log(dc.data.every((v) => v === 0)); // true
 * ```
 */
export function combinationEntropyBackward(g: Tensor, c: Tensor, lambda: number): Tensor {
  checkLogits("combinationEntropyBackward", c, lambda);
  checkGrad("combinationEntropyBackward", g, [], c.dtype);
  const alpha = weights(c), logAlpha = weights(c, true), [cin, cout] = c.shape;
  const scale = lambda * g.data[0];
  const dc = allocData(c.dtype, c.size);
  for (let j = 0; j < cout; j++) {
    let h = 0;
    for (let i = 0; i < cin; i++) h -= alpha[i * cout + j] * logAlpha[i * cout + j];
    for (let i = 0; i < cin; i++) {
      const t = i * cout + j;
      dc[t] = -scale * alpha[t] * (logAlpha[t] + h);
    }
  }
  return new Tensor(dc, c.shape);
}
