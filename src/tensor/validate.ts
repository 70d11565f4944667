/**
 * Shared argument checks of the ops: axes (negative allowed), gradient shapes and dtypes. Each
 * throws a {@link TensorError} naming the op, the shapes involved and the fix.
 *
 * @module
 */

import { fmtShape, TensorError } from "./errors.ts";
import type { Shape, Tensor } from "./tensor.ts";

/** Resolves one axis (negative counts from the end) against `shape`, or throws. */
export function normalizeAxis(op: string, axis: number, shape: Shape): number {
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new TensorError(
      op,
      `axis ${axis} is out of range for shape ${fmtShape(shape)} (rank ${rank}); ` +
        (rank === 0 ? `a scalar has no axes` : `use an integer in ${-rank}..${rank - 1}`),
    );
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Resolves a reduction's `axis` option into a mask over the axes of `shape`: `undefined` means
 * every axis. Duplicates (after resolving negatives) are an error.
 */
export function axisMask(
  op: string,
  axis: number | readonly number[] | undefined,
  shape: Shape,
): boolean[] {
  if (axis === undefined) return shape.map(() => true);
  const list = typeof axis === "number" ? [axis] : axis;
  const mask = shape.map(() => false);
  for (const a of list) {
    const k = normalizeAxis(op, a, shape);
    if (mask[k]) {
      throw new TensorError(
        op,
        `axis ${a} is repeated in [${list.join(", ")}] for shape ${fmtShape(shape)}; ` +
          `list each axis once`,
      );
    }
    mask[k] = true;
  }
  return mask;
}

/** Checks that a gradient `g` has the shape and dtype of the tensor it is the gradient of. */
export function checkGrad(op: string, g: Tensor, shape: Shape, dtype: string): void {
  if (
    g.dtype !== dtype || g.shape.length !== shape.length || g.shape.some((d, i) => d !== shape[i])
  ) {
    throw new TensorError(
      op,
      `gradient ${g.dtype} ${fmtShape(g.shape)} does not match the forward output ` +
        `${dtype} ${fmtShape(shape)}; pass the upstream gradient of that output`,
    );
  }
}

/**
 * Checks that a backward rule's `delta` has the forward output's shape. `inputs` names the
 * forward's operands for the message (e.g. `x [2, 1, 28, 28], w [6, 1, 5, 5]`), `fix` says what
 * to pass instead.
 */
export function checkDelta(
  op: string,
  delta: Tensor,
  expected: Shape,
  inputs: string,
  fix: string,
): void {
  if (delta.rank !== expected.length || delta.shape.some((d, i) => d !== expected[i])) {
    throw new TensorError(
      op,
      `delta ${fmtShape(delta.shape)} must have the forward output's shape ` +
        `${fmtShape(expected)} (${inputs}); ${fix}`,
    );
  }
}

/** Checks that two tensor operands share a dtype (no silent promotion). */
export function checkSameDType(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new TensorError(
      op,
      `operands have different dtypes: ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ` +
        `${fmtShape(b.shape)}; convert one so both match (no silent promotion)`,
    );
  }
}
