/**
 * The one error type every op throws when its inputs are wrong.
 *
 * Ops validate shapes and options before touching any data, and report what was wrong (with the
 * shapes involved) and how to fix it. Boundary code (CLI, file loading) turns these into
 * fp-ts `Either` values.
 *
 * @module
 */

/**
 * Thrown by an op whose inputs or options are invalid. `op` names the op; the message names the
 * shapes and options involved and says what to do.
 *
 * @example
 * ```ts
 * import { TensorError, tensor, matmul } from "./mod.ts";
 * try {
 *   matmul(tensor([[1, 2]]), tensor([[1, 2]]));
 * } catch (e) {
 *   if (e instanceof TensorError) console.log(e.op, e.message);
 * }
 * ```
 */
export class TensorError extends Error {
  /** The op that rejected its inputs, e.g. `"conv2d"`. */
  readonly op: string;

  /**
   * Creates the error; the message is prefixed with the op's name.
   * @param op the op's name
   * @param message what was wrong and how to fix it
   */
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = "TensorError";
    this.op = op;
  }
}

/** Formats a shape the way messages print it: `[2, 3, 28, 28]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
