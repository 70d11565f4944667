/**
 * `gradcheck`: compares the gradients the engine computes for `f` (whatever VJPs its ops
 * recorded: hand-derived rules or the primitives' chain rule) with central finite differences,
 * in float64, like `torch.autograd.gradcheck`.
 *
 * A non-scalar `f` is checked through `phi(x) = <u, f(x)>` for a random cotangent `u` (seeded),
 * which checks its VJP; the analytic side is the pullback of `u`. For big inputs the projection
 * mode compares `u^T J v` along random directions `v` with one pair of evaluations each.
 *
 * Central differences with step `eps` on a float64 function have error about
 * `eps^2 f''' / 6 + ulp / eps`: around 1e-10 relative for eps = 1e-5. A coordinate whose
 * true gradient is nearly zero cannot meet a relative tolerance against that noise, hence the
 * absolute tolerance: a coordinate fails only when BOTH `|a - n| > atol` and
 * `|a - n| / max(1e-8, |a| + |n|) > rtol`.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { fmtShape, TensorError } from "../tensor/errors.ts";
import { prngKey, randomNormal, randomPermutation, split } from "../tensor/random.ts";
import { full, type Shape, Tensor } from "../tensor/tensor.ts";
import { vjp } from "./engine.ts";
import { mapTree, treeLeaves } from "./tree.ts";
import type { Either } from "../tensor/result.ts";

/** Options of {@link gradcheck}; every one has a default. */
export interface GradcheckOptions {
  /**
   * Central-difference step; default `1e-5`, near the optimum `cbrt(3 ulp / |f'''|)` for float64
   * where truncation (`eps^2 f''' / 6`) and roundoff (`ulp / eps`) balance; `1e-6` (PyTorch's
   * default) is noisier on sums of many terms such as convolutions.
   */
  eps?: number;
  /** Absolute tolerance on `|analytic - numeric|`; default `1e-8`. */
  atol?: number;
  /** Tolerance on the relative error `|a - n| / max(1e-8, |a| + |n|)`; default `1e-6`. */
  rtol?: number;
  /** Seed of the random cotangent, sampled coordinates and projection directions; default 0. */
  seed?: number;
  /** Name of the function in reports; default `f.name`, or `"f"`. */
  label?: string;
  /** Names of the inputs in reports; default `input 0`, `input 1`, ... */
  names?: readonly string[];
  /**
   * `"full"` (default): every coordinate of every input (or `samples` of them) by central
   * differences, two evaluations each. `"projection"`: `u^T J v` along `projections` random
   * normal directions `v` per input, two evaluations each, for inputs too big for `"full"`.
   */
  mode?: "full" | "projection";
  /** Full mode: check this many randomly chosen coordinates per input leaf; default all. */
  samples?: number;
  /** Projection mode: random directions per input leaf; default 2. */
  projections?: number;
}

/** One compared quantity: a coordinate (full mode) or a projection `u^T J v` (projection mode). */
export interface GradcheckPoint {
  /** Multi-index of the coordinate, or `[k]` for the k-th projection. */
  readonly index: readonly number[];
  /** What `index` addresses. */
  readonly kind: "coordinate" | "projection";
  /** The engine's value. */
  readonly analytic: number;
  /** The central-difference value. */
  readonly numeric: number;
  /** `|analytic - numeric|`. */
  readonly absError: number;
  /** `|analytic - numeric| / max(1e-8, |analytic| + |numeric|)`. */
  readonly relError: number;
}

/** The comparison for one input tensor (one leaf of an input tree). */
export interface GradcheckInput {
  /** Position of the argument this leaf belongs to. */
  readonly input: number;
  /** Readable name: the input's name plus the leaf's path in its tree. */
  readonly name: string;
  /** Shape of the leaf. */
  readonly shape: Shape;
  /** Coordinates (or projections) compared. */
  readonly checked: number;
  /** How many of them are out of tolerance. */
  readonly failures: number;
  /** Largest absolute error. */
  readonly maxAbsError: number;
  /** Largest relative error. */
  readonly maxRelError: number;
  /** The point furthest out of tolerance (`null` if nothing was compared). */
  readonly worst: GradcheckPoint | null;
}

/** What {@link gradcheck} compared, and how closely it agreed. */
export interface GradcheckReport {
  /** The function's name. */
  readonly label: string;
  /** `"full"` or `"projection"`. */
  readonly mode: "full" | "projection";
  /** Shape of `f`'s output (non-scalar outputs are checked through a random cotangent). */
  readonly outputShape: Shape;
  /** The step and tolerances used. */
  readonly eps: number;
  /** Absolute tolerance used. */
  readonly atol: number;
  /** Relative tolerance used. */
  readonly rtol: number;
  /** Evaluations of `f` made for the finite differences. */
  readonly evaluations: number;
  /** One entry per input leaf. */
  readonly inputs: readonly GradcheckInput[];
  /** Largest absolute error over all inputs. */
  readonly maxAbsError: number;
  /** Largest relative error over all inputs. */
  readonly maxRelError: number;
}

/** A failed check: the full report, the inputs out of tolerance and a readable message. */
export interface GradcheckFailure extends GradcheckReport {
  /** Names the function, each failing input and its worst point. */
  readonly message: string;
  /** The inputs with at least one point out of tolerance. */
  readonly failed: readonly GradcheckInput[];
}

function positive(name: string, v: number, integer = false): number {
  if (!(v > 0 && Number.isFinite(v)) || (integer && !Number.isInteger(v))) {
    throw new TensorError("gradcheck", `option ${name} = ${v} must be a positive number`);
  }
  return v;
}

function multiIndex(flat: number, shape: Shape): number[] {
  const out = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return out;
}

const fmt = (v: number): string => v.toPrecision(12);
const fmtErr = (v: number): string => v.toExponential(2);

function describe(label: string, inp: GradcheckInput, atol: number, rtol: number): string {
  const w = inp.worst!;
  return `${label}: ${inp.name} ${fmtShape(inp.shape)}: ${inp.failures} of ${inp.checked} ` +
    `${w.kind}s out of tolerance; worst ${w.kind} [${w.index.join(", ")}]: analytic ` +
    `${fmt(w.analytic)}, numeric ${fmt(w.numeric)} (abs error ${fmtErr(w.absError)}, rel error ` +
    `${fmtErr(w.relError)}; atol ${atol}, rtol ${rtol})`;
}

/**
 * Checks the gradients of `f` at `inputs` against central finite differences in float64.
 * Inputs are float64 tensors or trees of them; every leaf is checked and reported on its own.
 * Returns `Right(report)` when every point is within tolerance, else `Left(failure)` whose
 * `message` names the function, the input and the worst coordinate. `f` must be pure.
 *
 * @example
 * ```ts
 * import { either as E } from "npm:fp-ts@2.16.11";
 * import { gradcheck, ref, tensor } from "./mod.ts";
 * const x = tensor([[0.3, -1.2, 2.0]], { dtype: "float64" });
 * const result = gradcheck((x) => ref.softmax(x), [x], { label: "softmax" });
 * if (E.isLeft(result)) throw new Error(result.left.message);
 * console.log(result.right.maxRelError < 1e-6); // true
 * ```
 */
export function gradcheck<A extends readonly unknown[]>(
  f: (...xs: A) => Tensor,
  inputs: A,
  opts: GradcheckOptions = {},
): Either<GradcheckFailure, GradcheckReport> {
  const eps = positive("eps", opts.eps ?? 1e-5);
  const atol = opts.atol ?? 1e-8, rtol = opts.rtol ?? 1e-6;
  if (!(atol >= 0 && rtol >= 0)) {
    throw new TensorError("gradcheck", `atol ${atol} and rtol ${rtol} must be >= 0`);
  }
  const mode = opts.mode ?? "full";
  const projections = positive("projections", opts.projections ?? 2, true);
  const samples = opts.samples === undefined ? Infinity : positive("samples", opts.samples, true);
  const label = opts.label ?? (f.name || "f");
  const nameOf = (k: number): string => opts.names?.[k] ?? `input ${k}`;
  const leaves = inputs.flatMap((tree, k) =>
    treeLeaves("gradcheck", tree, "").map(([t, path]) => ({ k, t, name: nameOf(k) + path }))
  );
  for (const { t, name } of leaves) {
    if (t.dtype !== "float64") {
      throw new TensorError(
        "gradcheck",
        `${label}: ${name} is ${t.dtype}; gradients are checked in float64 so that tolerances ` +
          `can be tight: build the inputs with { dtype: "float64" }`,
      );
    }
  }

  const [y, pullback] = vjp(f, ...inputs);
  if (y.dtype !== "float64") {
    throw new TensorError("gradcheck", `${label} returned ${y.dtype}; it must compute in float64`);
  }
  const [kU, kPoints] = split(prngKey(opts.seed ?? 0));
  const u = y.rank === 0 ? full([], 1, { dtype: "float64" }) : randomNormal(kU, y.shape, {
    dtype: "float64",
  });
  const analytic = pullback(u).flatMap((tree) => treeLeaves("gradcheck", tree, ""));
  let evaluations = 0;
  const pointKeys = split(kPoints, Math.max(leaves.length, 1));

  const checks = leaves.map(({ k, t, name }, leafNo): GradcheckInput => {
    // The leaf is replaced by a probe whose buffer we perturb in place between evaluations.
    const buf = t.data.slice() as Float64Array;
    const probe = new Tensor(buf, t.shape);
    const within = leafNo - leaves.findIndex((l) => l.k === k);
    let seen = 0;
    const args = inputs.map((tree, j) =>
      j !== k ? tree : mapTree("gradcheck", tree, "", (leaf) => (seen++ === within ? probe : leaf))
    ) as unknown as A;
    const evaluate = (): Float64Array => {
      evaluations++;
      // A copy: the output may share the probe's buffer (e.g. a reshape of it).
      return f(...args).data.slice() as Float64Array;
    };
    // <u, f(x+) - f(x-)>: differencing the outputs first keeps the roundoff to that of the
    // outputs the perturbation actually changed, instead of that of the whole sum <u, f>.
    const dphi = (fp: Float64Array, fm: Float64Array): number => {
      let s = 0;
      for (let i = 0; i < fp.length; i++) s += u.data[i] * (fp[i] - fm[i]);
      return s;
    };
    const a = analytic[leafNo][0].data;
    const points: GradcheckPoint[] = [];
    const push = (kind: GradcheckPoint["kind"], index: number[], an: number, nu: number) => {
      const absError = Math.abs(an - nu);
      const relError = absError / Math.max(1e-8, Math.abs(an) + Math.abs(nu));
      points.push({ index, kind, analytic: an, numeric: nu, absError, relError });
    };
    if (mode === "full") {
      const all = t.size <= samples;
      const order = all ? null : randomPermutation(pointKeys[leafNo], t.size);
      const count = all ? t.size : samples;
      for (let c = 0; c < count; c++) {
        const i = order ? order[c] : c;
        const x0 = buf[i], xp = x0 + eps, xm = x0 - eps;
        buf[i] = xp;
        const fp = evaluate();
        buf[i] = xm;
        const fm = evaluate();
        buf[i] = x0;
        // Divide by the step actually taken (x +- eps rounds), not by 2 eps.
        push("coordinate", multiIndex(i, t.shape), a[i], dphi(fp, fm) / (xp - xm));
      }
    } else {
      const keys = split(pointKeys[leafNo], projections);
      for (let p = 0; p < projections; p++) {
        const v = randomNormal(keys[p], t.shape, { dtype: "float64" }).data;
        let an = 0;
        for (let i = 0; i < v.length; i++) an += a[i] * v[i];
        for (let i = 0; i < v.length; i++) buf[i] = t.data[i] + eps * v[i];
        const fp = evaluate();
        for (let i = 0; i < v.length; i++) buf[i] = t.data[i] - eps * v[i];
        const fm = evaluate();
        buf.set(t.data);
        push("projection", [p], an, dphi(fp, fm) / (2 * eps));
      }
    }
    // Score > 1 means out of tolerance; NaN errors count as infinitely bad.
    const score = (p: GradcheckPoint): number => {
      if (Number.isNaN(p.absError)) return Infinity;
      const sa = p.absError === 0 ? 0 : p.absError / atol;
      const sr = p.relError === 0 ? 0 : p.relError / rtol;
      return Math.min(sa, sr);
    };
    let worst: GradcheckPoint | null = null, worstScore = -1, failures = 0;
    let maxAbsError = 0, maxRelError = 0;
    for (const p of points) {
      const s = score(p);
      if (s > 1) failures++;
      if (s > worstScore) [worst, worstScore] = [p, s];
      maxAbsError = Math.max(maxAbsError, p.absError);
      maxRelError = Math.max(maxRelError, p.relError);
    }
    return {
      input: k,
      name,
      shape: t.shape,
      checked: points.length,
      failures,
      maxAbsError,
      maxRelError,
      worst,
    };
  });

  const report: GradcheckReport = {
    label,
    mode,
    outputShape: y.shape,
    eps,
    atol,
    rtol,
    evaluations,
    inputs: checks,
    maxAbsError: Math.max(0, ...checks.map((c) => c.maxAbsError)),
    maxRelError: Math.max(0, ...checks.map((c) => c.maxRelError)),
  };
  const failed = checks.filter((c) => c.failures > 0);
  if (failed.length === 0) return E.right(report);
  const message = `gradcheck failed for ${label}\n` +
    failed.map((c) => "  " + describe(label, c, atol, rtol)).join("\n");
  return E.left({ ...report, message, failed });
}
