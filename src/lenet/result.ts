/**
 * The data code's result types: the library's one public `Either`/`TaskEither`
 * (`src/tensor/result.ts`, structurally fp-ts's), re-exported so the MNIST modules keep a local
 * import path.
 *
 * @module
 */

export type { Either, Left, Right, TaskEither } from "../tensor/result.ts";
