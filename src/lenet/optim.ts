/**
 * Optimizers as pure functions: `step(params, grads, state) -> { params, state }`.
 *
 * The state is an explicit immutable record: the number of updates applied so far and the
 * optimizer's moments, each a parameter tree shaped like the parameters (`velocity` for momentum,
 * `m` and `v` for Adam). Every update is a flat loop over each tensor's data that writes into
 * freshly allocated arrays: inputs are never mutated, so a caller may keep the old parameters
 * (for a NaN guard, say), and the same inputs always give bit-identical outputs.
 *
 * Arithmetic is done in float64 and rounded once per stored value; a float32 moment is rounded
 * when stored and read back rounded on the next step, so a run resumed from saved state matches
 * an uninterrupted one bit for bit.
 *
 * Formulas follow PyTorch's `torch.optim` (with `g` the gradient, `p` the parameter, `t` the
 * 1-based step, `lr` the learning rate at that step):
 *
 * - weight decay `wd` is **L2 regularization** by default, as PyTorch's `weight_decay` for SGD
 *   and Adam: `g <- g + wd * p` before the update. Adam's `decoupledWeightDecay` instead applies
 *   AdamW's `p <- p * (1 - lr * wd)` and leaves `g` alone;
 * - SGD: `p <- p - lr * g`;
 * - momentum (PyTorch's form, dampening 0): `v <- mu * v + g`, then classic `p <- p - lr * v`,
 *   or Nesterov `p <- p - lr * (g + mu * v)`;
 * - Adam: `m <- b1 m + (1 - b1) g`, `v <- b2 v + (1 - b2) g^2`,
 *   `p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`, which is the
 *   bias-corrected `p - lr * mhat / (sqrt(vhat) + eps)`.
 *
 * @module
 */

import { TensorError } from "../tensor/errors.ts";
import { allocData, Tensor, zeros } from "../tensor/tensor.ts";
import { alignedLeaves, flattenParams, type Params, rebuildParams } from "./params.ts";
import type { Schedule } from "./schedule.ts";

/** A learning rate: a constant, or a schedule giving the rate for each 0-based step. */
export type LearningRate = number | Schedule;

/** The explicit state of an optimizer. */
export interface OptimizerState<P extends Params> {
  /** Updates applied so far (the next update is step `step + 1` in 1-based terms). */
  readonly step: number;
  /** Moment trees by name (`{}` for SGD, `{ velocity }`, `{ m, v }`), each shaped like params. */
  readonly moments: { readonly [name: string]: P };
}

/** The result of one update. */
export interface StepResult<P extends Params> {
  /** The updated parameters (fresh tensors). */
  readonly params: P;
  /** The new state (fresh moment tensors, `step + 1`). */
  readonly state: OptimizerState<P>;
}

/** An optimizer: how to make its initial state and how to apply one update. */
export interface Optimizer {
  /** `"sgd"`, `"momentum"` or `"adam"`. */
  readonly name: OptimizerName;
  /** The names of the moment trees in its state, in order. */
  readonly momentNames: readonly string[];
  /** The state before the first update: step 0, zero moments shaped like `params`. */
  init<P extends Params>(params: P): OptimizerState<P>;
  /** One update. Never mutates its arguments. */
  step<P extends Params>(params: P, grads: P, state: OptimizerState<P>): StepResult<P>;
}

/** The optimizers this module provides. */
export type OptimizerName = "sgd" | "momentum" | "adam";

/** Options of {@link sgd}. */
export interface SgdOptions {
  /** Learning rate or schedule. */
  lr: LearningRate;
  /** L2 weight decay: `g <- g + weightDecay * p`; default 0. */
  weightDecay?: number;
}

/** Options of {@link momentum}. */
export interface MomentumOptions extends SgdOptions {
  /** Momentum coefficient `mu` in `[0, 1)`; default 0.9. */
  momentum?: number;
  /** Nesterov's update `p <- p - lr * (g + mu * v)`; default false (classic). */
  nesterov?: boolean;
}

/** Options of {@link adam}. */
export interface AdamOptions extends SgdOptions {
  /** Decay of the first moment, in `[0, 1)`; default 0.9. */
  beta1?: number;
  /** Decay of the second moment, in `[0, 1)`; default 0.999. */
  beta2?: number;
  /** Added to the denominator; default 1e-8. */
  eps?: number;
  /** AdamW: decay the weights directly (`p <- p * (1 - lr * wd)`) instead of L2; default false. */
  decoupledWeightDecay?: boolean;
}

/** Options of {@link createOptimizer}: a name plus that optimizer's options. */
export type OptimizerConfig =
  | ({ name: "sgd" } & SgdOptions)
  | ({ name: "momentum" } & MomentumOptions)
  | ({ name: "adam" } & AdamOptions);

function check(op: string, ok: boolean, what: string): void {
  if (!ok) throw new TensorError(op, what);
}

function checkCommon(op: string, opts: SgdOptions): number {
  const wd = opts.weightDecay ?? 0;
  if (typeof opts.lr === "number") {
    check(op, Number.isFinite(opts.lr) && opts.lr >= 0, `lr ${opts.lr} must be finite and >= 0`);
  }
  check(op, Number.isFinite(wd) && wd >= 0, `weightDecay ${wd} must be finite and >= 0`);
  return wd;
}

/** The learning rate for 0-based step `step`, validated. */
export function learningRateAt(op: string, lr: LearningRate, step: number): number {
  const value = typeof lr === "number" ? lr : lr(step);
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new TensorError(op, `the learning rate at step ${step} is ${value}; it must be >= 0`);
  }
  return value;
}

function initState<P extends Params>(names: readonly string[], params: P): OptimizerState<P> {
  const moments: Record<string, P> = {};
  for (const name of names) {
    moments[name] = rebuildParams(
      params,
      flattenParams(params).map(([, t]) => zeros(t.shape, { dtype: t.dtype })),
    );
  }
  return Object.freeze({ step: 0, moments: Object.freeze(moments) });
}

/** Checks the state and returns the aligned leaves `[params, grads, ...moments]`. */
function leavesOf<P extends Params>(
  op: string,
  names: readonly string[],
  params: P,
  grads: P,
  state: OptimizerState<P>,
): Tensor[][] {
  check(
    op,
    Number.isSafeInteger(state.step) && state.step >= 0,
    `state.step ${state.step} must be an integer >= 0`,
  );
  const trees: [string, Params][] = [["params", params], ["grads", grads]];
  for (const name of names) {
    const tree = state.moments[name];
    check(op, tree !== undefined, `state has no "${name}" moments; make it with ${op}.init`);
    trees.push([`state.moments.${name}`, tree]);
  }
  return alignedLeaves(op, params, trees);
}

function finish<P extends Params>(
  names: readonly string[],
  params: P,
  step: number,
  leaves: Tensor[][],
): StepResult<P> {
  const moments: Record<string, P> = {};
  names.forEach((name, i) => (moments[name] = rebuildParams(params, leaves[i + 1])));
  return Object.freeze({
    params: rebuildParams(params, leaves[0]),
    state: Object.freeze({ step: step + 1, moments: Object.freeze(moments) }),
  });
}

/**
 * Plain stochastic gradient descent: `p <- p - lr * (g + wd * p)`.
 *
 * @example
 * ```ts
 * import { sgd, tensor } from "./mod.ts";
 * const opt = sgd({ lr: 0.1 });
 * const params = { w: tensor([1, 2]) };
 * const { params: next, state } = opt.step(params, { w: tensor([10, -10]) }, opt.init(params));
 * console.log(next.w.data, state.step); // Float32Array [0, 3] 1
 * ```
 */
export function sgd(opts: SgdOptions): Optimizer {
  const wd = checkCommon("sgd", opts);
  return {
    name: "sgd",
    momentNames: [],
    init: (params) => initState([], params),
    step(params, grads, state) {
      const [ps, gs] = leavesOf("sgd", [], params, grads, state);
      const lr = learningRateAt("sgd", opts.lr, state.step);
      const out = ps.map((p, j) => {
        const pd = p.data, gd = gs[j].data;
        const od = allocData(p.dtype, p.size);
        for (let i = 0; i < od.length; i++) od[i] = pd[i] - lr * (gd[i] + wd * pd[i]);
        return new Tensor(od, p.shape);
      });
      return finish([], params, state.step, [out]);
    },
  };
}

/**
 * SGD with momentum, PyTorch's formulation: `v <- mu * v + g`, then `p <- p - lr * v`
 * (classic) or `p <- p - lr * (g + mu * v)` (Nesterov). Weight decay is L2 (`g + wd * p`).
 *
 * @example
 * ```ts
 * import { momentum, tensor } from "./mod.ts";
 * const opt = momentum({ lr: 0.01, momentum: 0.9, nesterov: true });
 * const params = { w: tensor([1]) };
 * const s1 = opt.step(params, { w: tensor([1]) }, opt.init(params));
 * console.log(s1.state.moments.velocity.w.data); // Float32Array [1]
 * ```
 */
export function momentum(opts: MomentumOptions): Optimizer {
  const wd = checkCommon("momentum", opts);
  const mu = opts.momentum ?? 0.9;
  const nesterov = opts.nesterov ?? false;
  check("momentum", mu >= 0 && mu < 1, `momentum ${mu} must be in [0, 1)`);
  const names = ["velocity"];
  return {
    name: "momentum",
    momentNames: names,
    init: (params) => initState(names, params),
    step(params, grads, state) {
      const [ps, gs, vs] = leavesOf("momentum", names, params, grads, state);
      const lr = learningRateAt("momentum", opts.lr, state.step);
      const outP: Tensor[] = [], outV: Tensor[] = [];
      for (let j = 0; j < ps.length; j++) {
        const pd = ps[j].data, gd = gs[j].data, vd = vs[j].data;
        const op = allocData(ps[j].dtype, pd.length), ov = allocData(ps[j].dtype, pd.length);
        for (let i = 0; i < pd.length; i++) {
          const g = gd[i] + wd * pd[i];
          ov[i] = mu * vd[i] + g;
          const v = ov[i]; // the stored (rounded) velocity, as the next step will read it
          op[i] = pd[i] - lr * (nesterov ? g + mu * v : v);
        }
        outP.push(new Tensor(op, ps[j].shape));
        outV.push(new Tensor(ov, ps[j].shape));
      }
      return finish(names, params, state.step, [outP, outV]);
    },
  };
}

/**
 * Adam with bias correction (Kingma & Ba 2015), PyTorch's formulation; weight decay is L2
 * unless `decoupledWeightDecay` (AdamW).
 *
 * @example
 * ```ts
 * import { adam, tensor } from "./mod.ts";
 * const opt = adam({ lr: 1e-3 });
 * const params = { w: tensor([1, -1]) };
 * const { params: next } = opt.step(params, { w: tensor([0.5, -2]) }, opt.init(params));
 * console.log(next.w.data); // ~[0.999, -0.999]: the first step moves each weight by ~lr
 * ```
 */
export function adam(opts: AdamOptions): Optimizer {
  const wd = checkCommon("adam", opts);
  const b1 = opts.beta1 ?? 0.9, b2 = opts.beta2 ?? 0.999, eps = opts.eps ?? 1e-8;
  const decoupled = opts.decoupledWeightDecay ?? false;
  check("adam", b1 >= 0 && b1 < 1, `beta1 ${b1} must be in [0, 1)`);
  check("adam", b2 >= 0 && b2 < 1, `beta2 ${b2} must be in [0, 1)`);
  check("adam", Number.isFinite(eps) && eps > 0, `eps ${eps} must be finite and > 0`);
  const names = ["m", "v"];
  return {
    name: "adam",
    momentNames: names,
    init: (params) => initState(names, params),
    step(params, grads, state) {
      const [ps, gs, ms, vs] = leavesOf("adam", names, params, grads, state);
      const lr = learningRateAt("adam", opts.lr, state.step);
      const t = state.step + 1;
      const stepSize = lr / (1 - b1 ** t); // lr / bias correction of m
      const sqrtBc2 = Math.sqrt(1 - b2 ** t); // sqrt of the bias correction of v
      const l2 = decoupled ? 0 : wd;
      const shrink = decoupled ? 1 - lr * wd : 1;
      const outP: Tensor[] = [], outM: Tensor[] = [], outV: Tensor[] = [];
      for (let j = 0; j < ps.length; j++) {
        const pd = ps[j].data, gd = gs[j].data, md = ms[j].data, vd = vs[j].data;
        const n = pd.length, dtype = ps[j].dtype;
        const op = allocData(dtype, n), om = allocData(dtype, n), ov = allocData(dtype, n);
        for (let i = 0; i < n; i++) {
          const g = gd[i] + l2 * pd[i];
          om[i] = b1 * md[i] + (1 - b1) * g;
          ov[i] = b2 * vd[i] + (1 - b2) * g * g;
          op[i] = pd[i] * shrink - (stepSize * om[i]) / (Math.sqrt(ov[i]) / sqrtBc2 + eps);
        }
        outP.push(new Tensor(op, ps[j].shape));
        outM.push(new Tensor(om, ps[j].shape));
        outV.push(new Tensor(ov, ps[j].shape));
      }
      return finish(names, params, state.step, [outP, outM, outV]);
    },
  };
}

/**
 * The optimizer named in `config` (e.g. from a `--optimizer` flag).
 *
 * @example
 * ```ts
 * import { createOptimizer } from "./mod.ts";
 * const opt = createOptimizer({ name: "momentum", lr: 0.01, momentum: 0.9 });
 * console.log(opt.name, opt.momentNames); // "momentum" ["velocity"]
 * ```
 */
export function createOptimizer(config: OptimizerConfig): Optimizer {
  switch (config.name) {
    case "sgd":
      return sgd(config);
    case "momentum":
      return momentum(config);
    case "adam":
      return adam(config);
    default: {
      const name: never = config;
      throw new TensorError("createOptimizer", `unknown optimizer ${JSON.stringify(name)}`);
    }
  }
}
