/**
 * Learning-rate schedules: pure functions from the 0-based optimizer step to a learning rate.
 *
 * - constant: `lr`;
 * - step decay: `lr * gamma^floor(step / every)`;
 * - cosine annealing (PyTorch's `CosineAnnealingLR` without restarts):
 *   `min + (lr - min) * (1 + cos(pi * min(step, T) / T)) / 2` over `T` total steps;
 * - linear warmup, composable with any of them: `schedule(step) * min(1, (step + 1) / N)`.
 *   Warmup multiplies (as chained PyTorch schedulers do) rather than delaying the inner
 *   schedule, so step-decay boundaries stay on epoch boundaries.
 *
 * The `--schedule` flag is parsed in two stages: {@link parseSchedule} validates the text at the
 * door (before the dataset is known) into a {@link ScheduleSpec}, and {@link buildSchedule}
 * turns that into a function once the steps per epoch and the total steps are known.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { TensorError } from "../tensor/errors.ts";
import type { Either } from "../tensor/result.ts";

/** A learning rate as a function of the 0-based optimizer step. */
export type Schedule = (step: number) => number;

function checkNumber(op: string, name: string, v: number, ok: boolean, need: string): void {
  if (!ok) throw new TensorError(op, `${name} ${v} is invalid; ${need}`);
}

/**
 * The same rate at every step.
 *
 * @example
 * ```ts
 * import { constantSchedule } from "./mod.ts";
 * console.log(constantSchedule(0.01)(1000)); // 0.01
 * ```
 */
export function constantSchedule(lr: number): Schedule {
  checkNumber("constantSchedule", "lr", lr, Number.isFinite(lr) && lr >= 0, "need lr >= 0");
  return () => lr;
}

/**
 * Multiplies the rate by `gamma` every `every` steps: `lr * gamma^floor(step / every)`.
 *
 * @example
 * ```ts
 * import { stepSchedule } from "./mod.ts";
 * const s = stepSchedule(0.1, 100, 0.5);
 * console.log(s(99), s(100), s(250)); // 0.1 0.05 0.025
 * ```
 */
export function stepSchedule(lr: number, every: number, gamma: number): Schedule {
  const op = "stepSchedule";
  checkNumber(op, "lr", lr, Number.isFinite(lr) && lr >= 0, "need lr >= 0");
  checkNumber(op, "every", every, Number.isSafeInteger(every) && every > 0, "need an integer > 0");
  checkNumber(op, "gamma", gamma, Number.isFinite(gamma) && gamma > 0, "need gamma > 0");
  return (step) => lr * gamma ** Math.floor(step / every);
}

/**
 * Cosine annealing from `lr` at step 0 to `minLr` at step `totalSteps` (and after):
 * `minLr + (lr - minLr) * (1 + cos(pi * min(step, T) / T)) / 2`.
 *
 * @example
 * ```ts
 * import { cosineSchedule } from "./mod.ts";
 * const s = cosineSchedule(0.1, 1000);
 * console.log(s(0), s(500), s(1000)); // 0.1 0.05 0
 * ```
 */
export function cosineSchedule(lr: number, totalSteps: number, minLr = 0): Schedule {
  const op = "cosineSchedule";
  checkNumber(op, "lr", lr, Number.isFinite(lr) && lr >= 0, "need lr >= 0");
  checkNumber(op, "minLr", minLr, minLr >= 0 && minLr <= lr, "need 0 <= minLr <= lr");
  checkNumber(
    op,
    "totalSteps",
    totalSteps,
    Number.isSafeInteger(totalSteps) && totalSteps >= 0,
    "need an integer >= 0",
  );
  if (totalSteps === 0) return () => lr;
  return (step) => {
    const t = Math.min(Math.max(step, 0), totalSteps) / totalSteps;
    return minLr + (lr - minLr) * (1 + Math.cos(Math.PI * t)) / 2;
  };
}

/**
 * Linear warmup over the first `steps` steps on top of `inner`:
 * `inner(step) * min(1, (step + 1) / steps)`.
 *
 * @example
 * ```ts
 * import { constantSchedule, warmup } from "./mod.ts";
 * const s = warmup(constantSchedule(1), 10);
 * console.log(s(0), s(4), s(9), s(50)); // 0.1 0.5 1 1
 * ```
 */
export function warmup(inner: Schedule, steps: number): Schedule {
  checkNumber("warmup", "steps", steps, Number.isSafeInteger(steps) && steps > 0, "need > 0");
  return (step) => inner(step) * Math.min(1, (step + 1) / steps);
}

/** A parsed `--schedule` flag (see {@link parseSchedule}). */
export type ScheduleSpec =
  | { readonly kind: "constant" }
  | { readonly kind: "step"; readonly everyEpochs: number; readonly gamma: number }
  | { readonly kind: "cosine"; readonly floor: number }
  | { readonly kind: "warmup"; readonly steps: number; readonly then: BaseScheduleSpec };

/** A schedule spec without warmup. */
export type BaseScheduleSpec = Exclude<ScheduleSpec, { kind: "warmup" }>;

/** What {@link buildSchedule} needs to know about the run. */
export interface ScheduleContext {
  /** The base learning rate (`--lr`). */
  readonly lr: number;
  /** Optimizer steps per epoch (batches per epoch). */
  readonly stepsPerEpoch: number;
  /** Optimizer steps in the whole run (epochs x steps per epoch). */
  readonly totalSteps: number;
}

const SYNTAX = 'use "constant", "step:EPOCHS[:GAMMA]", "cosine[:FLOOR]" or ' +
  '"warmup:STEPS[+<one of those>]", e.g. "warmup:500+cosine"';

const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseBase(text: string, whole: string): Either<string, BaseScheduleSpec> {
  const bad = (why: string) => E.left(`invalid --schedule "${whole}": ${why}`);
  const parts = text.split(":");
  const num = (s: string) => (NUMBER.test(s) ? Number(s) : NaN);
  switch (parts[0]) {
    case "constant":
      return parts.length === 1 ? E.right({ kind: "constant" }) : bad('"constant" takes no value');
    case "step": {
      if (parts.length < 2 || parts.length > 3) {
        return bad('write "step:EPOCHS" or "step:EPOCHS:GAMMA"');
      }
      const every = num(parts[1]);
      const gamma = parts.length === 3 ? num(parts[2]) : 0.1;
      if (!Number.isSafeInteger(every) || every < 1) {
        return bad(`EPOCHS "${parts[1]}" must be an integer >= 1`);
      }
      if (!(gamma > 0 && gamma <= 1)) return bad(`GAMMA "${parts[2]}" must be a number in (0, 1]`);
      return E.right({ kind: "step", everyEpochs: every, gamma });
    }
    case "cosine": {
      if (parts.length > 2) return bad('write "cosine" or "cosine:FLOOR"');
      const floor = parts.length === 2 ? num(parts[1]) : 0;
      if (!(floor >= 0 && floor <= 1)) {
        return bad(`FLOOR "${parts[1]}" must be a fraction of --lr in [0, 1]`);
      }
      return E.right({ kind: "cosine", floor });
    }
    default:
      return bad(`unknown schedule "${parts[0]}"; ${SYNTAX}`);
  }
}

/**
 * Parses a `--schedule` flag:
 *
 * - `constant`;
 * - `step:E[:G]`: multiply the rate by `G` (default 0.1, in (0, 1]) every `E` epochs;
 * - `cosine[:F]`: cosine annealing over the whole run down to `F x lr` (default 0);
 * - `warmup:N` or `warmup:N+<one of the above>`: linear warmup over the first `N` steps.
 *
 * Returns a clear message on the left for anything else.
 *
 * @example
 * ```ts
 * import { parseSchedule } from "./mod.ts";
 * console.log(parseSchedule("warmup:500+cosine"));
 * // { _tag: "Right", right: { kind: "warmup", steps: 500, then: { kind: "cosine", floor: 0 } } }
 * console.log(parseSchedule("step:0:0.5")._tag); // "Left"
 * ```
 */
export function parseSchedule(text: string): Either<string, ScheduleSpec> {
  const spec = text.trim();
  if (!spec.startsWith("warmup")) return parseBase(spec, text);
  const plus = spec.indexOf("+");
  const head = plus < 0 ? spec : spec.slice(0, plus);
  const m = /^warmup:(\d+)$/.exec(head);
  if (m === null || Number(m[1]) < 1 || !Number.isSafeInteger(Number(m[1]))) {
    return E.left(`invalid --schedule "${text}": write "warmup:STEPS" with STEPS an integer >= 1`);
  }
  const steps = Number(m[1]);
  if (plus < 0) return E.right({ kind: "warmup", steps, then: { kind: "constant" } });
  const rest = spec.slice(plus + 1);
  if (rest.startsWith("warmup")) return E.left(`invalid --schedule "${text}": only one warmup`);
  return E.map((then: BaseScheduleSpec): ScheduleSpec => ({ kind: "warmup", steps, then }))(
    parseBase(rest, text),
  );
}

/**
 * The canonical text of a spec (what {@link parseSchedule} reads back), e.g. for checkpoint
 * metadata.
 *
 * @example
 * ```ts
 * import { formatSchedule } from "./mod.ts";
 * console.log(formatSchedule({ kind: "step", everyEpochs: 10, gamma: 0.5 })); // "step:10:0.5"
 * ```
 */
export function formatSchedule(spec: ScheduleSpec): string {
  switch (spec.kind) {
    case "constant":
      return "constant";
    case "step":
      return `step:${spec.everyEpochs}:${spec.gamma}`;
    case "cosine":
      return spec.floor === 0 ? "cosine" : `cosine:${spec.floor}`;
    case "warmup":
      return spec.then.kind === "constant"
        ? `warmup:${spec.steps}`
        : `warmup:${spec.steps}+${formatSchedule(spec.then)}`;
  }
}

/**
 * The schedule a spec describes for a run: epochs become steps through `stepsPerEpoch`, and
 * cosine annealing spans `totalSteps`.
 *
 * @example
 * ```ts
 * import { buildSchedule } from "./mod.ts";
 * const s = buildSchedule({ kind: "step", everyEpochs: 2, gamma: 0.5 }, {
 *   lr: 0.1,
 *   stepsPerEpoch: 100,
 *   totalSteps: 1000,
 * });
 * console.log(s(199), s(200)); // 0.1 0.05
 * ```
 */
export function buildSchedule(spec: ScheduleSpec, ctx: ScheduleContext): Schedule {
  const { lr, stepsPerEpoch, totalSteps } = ctx;
  const op = "buildSchedule";
  checkNumber(
    op,
    "stepsPerEpoch",
    stepsPerEpoch,
    Number.isSafeInteger(stepsPerEpoch) && stepsPerEpoch > 0,
    "need an integer > 0",
  );
  switch (spec.kind) {
    case "constant":
      return constantSchedule(lr);
    case "step":
      return stepSchedule(lr, spec.everyEpochs * stepsPerEpoch, spec.gamma);
    case "cosine":
      return cosineSchedule(lr, totalSteps, spec.floor * lr);
    case "warmup":
      return warmup(buildSchedule(spec.then, ctx), spec.steps);
  }
}
