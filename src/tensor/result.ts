/**
 * The result types of the public API: structurally identical to fp-ts's `Either` and
 * `TaskEither`, so every fp-ts function (`E.map`, `E.chain`, `pipe`, `TE.chain`...) accepts and
 * returns them, while `mod.ts` documents them itself (fp-ts's own declarations are not part of
 * this package's documentation).
 *
 * @module
 */

/**
 * A failure carrying `left`.
 *
 * @example
 * ```ts
 * import type { Left } from "./mod.ts";
 * const failed: Left<string> = { _tag: "Left", left: "bad header" };
 * ```
 */
export interface Left<E> {
  /** Discriminant. */
  readonly _tag: "Left";
  /** The error. */
  readonly left: E;
}

/**
 * A success carrying `right`.
 *
 * @example
 * ```ts
 * import type { Right } from "./mod.ts";
 * const ok: Right<number> = { _tag: "Right", right: 42 };
 * ```
 */
export interface Right<A> {
  /** Discriminant. */
  readonly _tag: "Right";
  /** The value. */
  readonly right: A;
}

/**
 * Failure (`Left<E>`) or success (`Right<A>`): fp-ts's `Either`.
 *
 * @example
 * ```ts
 * import { type Either, parseSchedule } from "./mod.ts";
 * const r: Either<string, unknown> = parseSchedule("cosine");
 * if (r._tag === "Left") console.error(r.left);
 * ```
 */
export type Either<E, A> = Left<E> | Right<A>;

/**
 * A lazy asynchronous computation that fails with `E` or succeeds with `A`: fp-ts's
 * `TaskEither`. Nothing happens until it is called.
 *
 * @example
 * ```ts
 * import { readFileBytes, type TaskEither } from "./mod.ts";
 * const task: TaskEither<Error, Uint8Array> = readFileBytes("model.safetensors");
 * const result = await task();
 * ```
 */
export type TaskEither<E, A> = () => Promise<Either<E, A>>;
