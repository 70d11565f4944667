/**
 * The gradient suite: for every row of the op table (`suite_ops.ts`), random cases from a
 * seeded fast-check arbitrary, each checked three ways in float64:
 *
 * 1. hand rule vs reference: the fast op's value and VJP (its hand-derived rule, through the
 *    engine) against the reference definition's (the chain rule over the primitives), for a
 *    seeded random cotangent: `|hand - ref| <= 1e-10 (1 + |ref|)` elementwise;
 * 2. hand rule vs central differences and 3. reference vs central differences: `gradcheck` on
 *    both, `rtol = 1e-6`, `atol = 1e-8`, on `samples` seeded coordinates per input.
 *
 * The reported "vs FD" error is `|a - n| / max(|a| + |n|, atol / rtol)`: it is <= `rtol`
 * exactly when gradcheck's rule passes (a point fails only if both its relative error exceeds
 * `rtol` and its absolute error `atol`), so one number says how close to the spec a row came.
 *
 * @module
 */

import type { default as fcModule } from "npm:fast-check@4.3.0";
import { either as E } from "npm:fp-ts@2.16.11";
import { fmtShape, TensorError } from "../tensor/errors.ts";
import { prngKey, randomNormal } from "../tensor/random.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { vjp } from "./engine.ts";
import { gradcheck, type GradcheckReport } from "./gradcheck.ts";
import { type SuiteCase, type SuiteOp, suiteOps } from "./suite_ops.ts";

/** The suite's tolerances (the spec: never loosened to make a row pass). */
export const SUITE_TOLERANCES: {
  readonly handVsRef: number;
  readonly rtol: number;
  readonly atol: number;
  readonly eps: number;
} = { handVsRef: 1e-10, rtol: 1e-6, atol: 1e-8, eps: 1e-5 };

/** Options of {@link runGradientSuite}; every one has a default. */
export interface GradientSuiteOptions {
  /** fast-check seed: the same seed gives the same cases; default 1. */
  seed?: number;
  /** Random cases per op; default 100. */
  cases?: number;
  /** Ops to run (names as `mod.ts` exports them); default every op of the table. */
  ops?: readonly string[];
  /** Coordinates per input checked by central differences; default 16 (all when fewer). */
  samples?: number;
  /** Called after each op with its row (e.g. to print progress). */
  onRow?: (row: GradientSuiteRow) => void;
}

/** The outcome for one op. */
export interface GradientSuiteRow {
  /** The op's name. */
  readonly op: string;
  /** Cases run (fewer than asked when one failed: the run stops at the first failure). */
  readonly cases: number;
  /** Max over cases, values and gradients of `|hand - ref| / (1 + |ref|)`. */
  readonly maxHandVsRef: number;
  /** Max over cases, inputs and both sides of `|a - n| / max(|a| + |n|, atol / rtol)`. */
  readonly maxVsFd: number;
  /** Whether every case passed all three checks. */
  readonly passed: boolean;
  /** For a failure: the (shrunk) counterexample, what disagreed, and how to reproduce it. */
  readonly failure: string | null;
  /** Wall time in milliseconds. */
  readonly ms: number;
}

/** What {@link runGradientSuite} ran and found. */
export interface GradientSuiteReport {
  /** The fast-check seed. */
  readonly seed: number;
  /** Cases asked per op. */
  readonly cases: number;
  /** Central-difference coordinates per input. */
  readonly samples: number;
  /** One row per op, in table order. */
  readonly rows: readonly GradientSuiteRow[];
  /** Whether every row passed. */
  readonly passed: boolean;
  /** Wall time in milliseconds. */
  readonly ms: number;
}

/**
 * The names of the ops the gradient suite covers (every differentiable fast op), in table order.
 *
 * @example
 * ```ts
 * import { gradientSuiteOps } from "./mod.ts";
 * console.log(gradientSuiteOps.includes("conv2d")); // true
 * ```
 */
export const gradientSuiteOps: readonly string[] = suiteOps.map((o) => o.name);

/** The metrics of one case, and what failed (null if nothing). */
export interface CaseResult {
  /** `max |hand - ref| / (1 + |ref|)` over values and gradients. */
  readonly handVsRef: number;
  /** `max |a - n| / max(|a| + |n|, atol / rtol)` over both sides' checked points. */
  readonly vsFd: number;
  /** Every disagreement, one per line (a check that failed, the worst point); null if none. */
  readonly failure: string | null;
}

/** `|h - r| / (1 + |r|)` at the worst element; NaN counts as infinitely bad. */
function worstDiff(h: Tensor, r: Tensor): { err: number; at: number } {
  let err = 0, at = -1;
  for (let i = 0; i < h.size; i++) {
    const e = Math.abs(h.data[i] - r.data[i]) / (1 + Math.abs(r.data[i]));
    const v = Number.isNaN(e) ? Infinity : e;
    if (v > err || at < 0) [err, at] = [v, i];
  }
  return { err, at };
}

/** The worst point of a gradcheck report on the `|a - n| / max(|a| + |n|, atol / rtol)` scale. */
function fdError(report: GradcheckReport): number {
  let worst = 0;
  for (const inp of report.inputs) {
    const w = inp.worst;
    if (w === null) continue;
    const e = w.absError /
      Math.max(Math.abs(w.analytic) + Math.abs(w.numeric), report.atol / report.rtol);
    worst = Math.max(worst, Number.isNaN(e) ? Infinity : e);
  }
  return worst;
}

/**
 * Checks one case three ways (see the module doc). `seed` fixes the cotangent and the sampled
 * coordinates; `label` names the case in failure messages.
 */
export function checkCase(label: string, c: SuiteCase, seed: number, samples: number): CaseResult {
  const tol = SUITE_TOLERANCES;
  const [yf, pullFast] = vjp(c.fast, ...c.inputs);
  const [yr, pullRef] = vjp(c.ref, ...c.inputs);
  if (yf.shape.join() !== yr.shape.join()) {
    const failure = `${label}: the fast op returned shape ${fmtShape(yf.shape)} but the ` +
      `reference ${fmtShape(yr.shape)}`;
    return { handVsRef: Infinity, vsFd: 0, failure };
  }
  const u = randomNormal(prngKey(seed), yf.shape, { dtype: "float64" });
  const gf = pullFast(u), gr = pullRef(u);
  const compared: [string, Tensor, Tensor][] = [
    ["value", yf, yr],
    ...c.inputs.map((
      _,
      i,
    ): [string, Tensor, Tensor] => [`gradient of ${c.names[i]}`, gf[i], gr[i]]),
  ];
  let handVsRef = 0;
  const failures: string[] = [];
  for (const [what, h, r] of compared) {
    const { err, at } = worstDiff(h, r);
    handVsRef = Math.max(handVsRef, err);
    if (err > tol.handVsRef) {
      failures.push(
        `${label}: hand rule vs reference: ${what} ${
          fmtShape(h.shape)
        } differs at flat index ${at}: ` +
          `hand ${h.data[at]}, reference ${r.data[at]} (|diff| / (1 + |ref|) = ` +
          `${err.toExponential(2)} > ${tol.handVsRef})`,
      );
    }
  }
  let vsFd = 0;
  const fdOpts = { seed, samples, eps: tol.eps, atol: tol.atol, rtol: tol.rtol, names: c.names };
  for (const [side, f] of [["hand rule", c.fast], ["reference", c.ref]] as const) {
    const r = gradcheck(f, c.inputs.slice(), { ...fdOpts, label: `${label} (${side})` });
    const report = E.isLeft(r) ? r.left : r.right;
    vsFd = Math.max(vsFd, fdError(report));
    if (E.isLeft(r)) failures.push(r.left.message);
  }
  return { handVsRef, vsFd, failure: failures.length > 0 ? failures.join("\n") : null };
}

/** A 32-bit FNV-1a hash: a per-case seed from the case's parameters (stable under replay). */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Options of {@link checkOp}. */
export interface CheckOpOptions {
  /** fast-check seed. */
  readonly seed: number;
  /** Cases to run. */
  readonly cases: number;
  /** Central-difference coordinates per input. */
  readonly samples: number;
}

/**
 * Runs `cases` seeded cases of one row through {@link checkCase} with fast-check (`fc` is the
 * fast-check namespace), shrinking a failing case to a small one.
 */
export function checkOp(fc: typeof fcModule, op: SuiteOp, opts: CheckOpOptions): GradientSuiteRow {
  const start = performance.now();
  let maxHandVsRef = 0, maxVsFd = 0;
  const details = fc.check(
    fc.property(op.params(fc), (p) => {
      const key = JSON.stringify(p);
      const r = checkCase(`${op.name} ${key}`, op.build(p), hash(key), opts.samples);
      maxHandVsRef = Math.max(maxHandVsRef, r.handVsRef);
      maxVsFd = Math.max(maxVsFd, r.vsFd);
      if (r.failure !== null) throw new Error(r.failure);
    }),
    { seed: opts.seed, numRuns: opts.cases },
  );
  let failure: string | null = null;
  if (details.failed) {
    const e = details.errorInstance;
    failure = `${op.name}: failed after ${details.numRuns} case(s) (shrunk ${details.numShrinks} ` +
      `times); counterexample ${fc.stringify(details.counterexample)}; reproduce with --seed ` +
      `${opts.seed} --op ${op.name}\n${e instanceof Error ? e.message : String(e)}`;
  }
  return {
    op: op.name,
    cases: details.numRuns,
    maxHandVsRef,
    maxVsFd,
    passed: !details.failed,
    failure,
    ms: performance.now() - start,
  };
}

/** The table rows for `names` (all when undefined); unknown names are an error listing them. */
export function selectOps(names?: readonly string[]): SuiteOp[] {
  if (names === undefined) return suiteOps.slice();
  const unknown = names.filter((n) => !gradientSuiteOps.includes(n));
  if (unknown.length > 0) {
    throw new TensorError(
      "runGradientSuite",
      `unknown op${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `"${n}"`).join(", ")}; ` +
        `valid ops: ${gradientSuiteOps.join(", ")}`,
    );
  }
  return suiteOps.filter((o) => names.includes(o.name));
}

/**
 * Runs the gradient suite: for every differentiable op (or `opts.ops`), `opts.cases` random
 * cases (shapes, options, axes, broadcasting; seeded), each checked three ways in float64: the
 * hand-derived rule against the reference definition (`<= 1e-10 (1 + |g|)` elementwise) and
 * each against central differences (gradcheck, `rtol 1e-6`, `atol 1e-8`). Resolves to a report
 * with one row per op; `report.passed` is false if any case failed, and the failing row's
 * `failure` holds the shrunk counterexample and how to reproduce it. Loads fast-check on first
 * use. Use it in your own CI to prove the rules your build ships.
 *
 * @example
 * ```ts
 * import { formatGradientSuite, runGradientSuite } from "./mod.ts";
 * const report = await runGradientSuite({ ops: ["relu", "softmax"], cases: 20, seed: 7 });
 * console.log(formatGradientSuite(report));
 * if (!report.passed) throw new Error(report.rows.find((r) => !r.passed)?.failure ?? "");
 * ```
 */
export async function runGradientSuite(
  opts: GradientSuiteOptions = {},
): Promise<GradientSuiteReport> {
  const seed = opts.seed ?? 1, cases = opts.cases ?? 100, samples = opts.samples ?? 16;
  for (const [name, v] of [["cases", cases], ["samples", samples]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new TensorError("runGradientSuite", `${name} = ${v} must be an integer >= 1`);
    }
  }
  if (!Number.isInteger(seed)) {
    throw new TensorError("runGradientSuite", `seed = ${seed} must be an integer`);
  }
  const ops = selectOps(opts.ops);
  const { default: fc } = await import("npm:fast-check@4.3.0");
  const start = performance.now();
  const rows: GradientSuiteRow[] = [];
  for (const op of ops) {
    const r = checkOp(fc, op, { seed, cases, samples });
    rows.push(r);
    opts.onRow?.(r);
  }
  return {
    seed,
    cases,
    samples,
    rows,
    passed: rows.every((r) => r.passed),
    ms: performance.now() - start,
  };
}

const HEADER = ["op", "cases", "max rel err hand vs autograd", "max rel err vs FD", "result"];

/** One line of the table (markdown, padded to fixed widths). */
function line(cells: readonly string[]): string {
  const widths = [20, 5, 28, 17, 6];
  return "| " +
    cells.map((c, i) => (i === 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ") +
    " |";
}

/** The table line of one row. */
export function formatGradientSuiteRow(r: GradientSuiteRow): string {
  const e = (v: number) => (v === 0 ? "0" : v.toExponential(1));
  return line([r.op, String(r.cases), e(r.maxHandVsRef), e(r.maxVsFd), r.passed ? "pass" : "FAIL"]);
}

/** The table's two header lines (column names and the markdown rule). */
export function formatGradientSuiteHeader(): string {
  return `${line(HEADER)}\n${line(["---", "---:", "---", "---", "---"])}`;
}

/** The summary line under the table, then each failure (counterexample, how to reproduce). */
export function formatGradientSuiteSummary(report: GradientSuiteReport): string {
  const t = SUITE_TOLERANCES, e = (v: number) => v.toExponential(0);
  const failed = report.rows.filter((r) => !r.passed);
  return [
    `${report.rows.length - failed.length}/${report.rows.length} ops passed, ${report.cases} ` +
    `cases each (seed ${report.seed}, ${report.samples} FD coordinates per input) in ` +
    `${(report.ms / 1000).toFixed(1)} s; tolerances: hand vs autograd <= ${e(t.handVsRef)} ` +
    `(1 + |g|), vs FD <= ${e(t.rtol)} (gradcheck atol ${e(t.atol)}, eps ${e(t.eps)})`,
    ...failed.map((r) => `\n${r.failure}`),
  ].join("\n");
}

/**
 * Renders a report as a markdown table (op, cases, max rel error hand vs autograd, max rel
 * error vs FD, pass/fail) with a summary line; failures follow the table.
 *
 * @example
 * ```ts
 * import { formatGradientSuite, runGradientSuite } from "./mod.ts";
 * console.log(formatGradientSuite(await runGradientSuite({ ops: ["tanh"], cases: 10 })));
 * ```
 */
export function formatGradientSuite(report: GradientSuiteReport): string {
  return [
    formatGradientSuiteHeader(),
    ...report.rows.map(formatGradientSuiteRow),
    "",
    formatGradientSuiteSummary(report),
  ].join("\n");
}
