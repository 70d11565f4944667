/**
 * The seam between the ops and the autograd engine.
 *
 * Every differentiable op computes its output with plain kernels, then hands
 * `(name, inputs, output, pullback)` to {@link recordOp}. When no differentiation is under way
 * (no recorder is installed) that is a single length check and the op returns at once. While
 * `vjp`/`grad` from `src/autograd` run a function, they install a {@link Recorder} for the
 * duration of the call, and the op's hand-derived backward becomes its VJP in the engine, as
 * JAX's `custom_vjp` does.
 *
 * Recorders form a stack (nested `grad` calls each install their own); each recorder decides
 * whether an op concerns it (whether any input is one of its traced tensors). This module is
 * internal: it is not exported from `mod.ts`.
 *
 * @module
 */

import type { Tensor } from "./tensor.ts";

/**
 * A backward rule (vector-Jacobian product): given the gradient of the loss with respect to the
 * op's output, returns one gradient per tensor input, each of that input's shape, or `null`
 * where an input is not differentiable (e.g. integer labels).
 *
 * `needed[i]` (when given) says whether the engine will use the gradient of input `i`; a rule
 * may skip work and return `null` where it is `false` (e.g. the input-gradient of the first
 * convolution, whose input is the data). Rules that ignore it stay correct.
 */
export type Pullback = (g: Tensor, needed?: readonly boolean[]) => readonly (Tensor | null)[];

/** Something that listens to the ops run while it is installed (the autograd's tape). */
export interface Recorder {
  /**
   * Whether an op on `inputs` concerns this recorder (some input is one of its traced tensors).
   * A recorder without it hears every op.
   */
  tracks?(inputs: readonly Tensor[]): boolean;
  /**
   * Called after an op produced `output` from `inputs` (when {@link Recorder.tracks} says yes);
   * `pullback` is the op's VJP.
   */
  record(name: string, inputs: readonly Tensor[], output: Tensor, pullback: Pullback): void;
}

const recorders: Recorder[] = [];

/**
 * Reports an op to the installed recorders and returns its output. `makePullback` is only
 * called (once) when some installed recorder traces one of `inputs`, so ops on constants pay
 * nothing for differentiability, even while a gradient is being taken.
 */
export function recordOp(
  name: string,
  inputs: readonly Tensor[],
  output: Tensor,
  makePullback: () => Pullback,
): Tensor {
  if (recorders.length === 0) return output;
  let pullback: Pullback | undefined;
  for (let i = recorders.length - 1; i >= 0; i--) {
    const r = recorders[i];
    if (r.tracks?.(inputs) ?? true) r.record(name, inputs, output, pullback ??= makePullback());
  }
  return output;
}

/**
 * Whether an op on `inputs` would be recorded now (some installed recorder traces one of
 * them), i.e. whether its pullback may ever be asked for. An op can skip work that only its
 * backward needs when this is false (e.g. max pooling's arg-max during inference).
 */
export function willRecord(inputs: readonly Tensor[]): boolean {
  for (let i = recorders.length - 1; i >= 0; i--) {
    if (recorders[i].tracks?.(inputs) ?? true) return true;
  }
  return false;
}

/**
 * The recorders installed right now, outermost first (a copy). The engine asks for them when a
 * backward pass starts: the tapes of enclosing `grad`/`vjp` calls that will see the pullbacks'
 * ops (higher-order derivatives).
 */
export function installedRecorders(): readonly Recorder[] {
  return recorders.slice();
}

/** Runs `f` with `recorder` installed on top of the stack; always uninstalls it. */
export function withRecorder<T>(recorder: Recorder, f: () => T): T {
  recorders.push(recorder);
  try {
    return f();
  } finally {
    recorders.pop();
  }
}

/** Runs `f` with no recorder installed (e.g. inside a pullback that must not be traced). */
export function untraced<T>(f: () => T): T {
  const saved = recorders.splice(0, recorders.length);
  try {
    return f();
  } finally {
    recorders.push(...saved);
  }
}
