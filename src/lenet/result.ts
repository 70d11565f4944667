/**
 * `Either` and `TaskEither`, spelled out structurally so the public API names only exported
 * types (JSR "no private type refs") while staying the very same shapes as fp-ts 2.16's: every
 * value here IS an fp-ts `Either` / `TaskEither`, usable with `E.isLeft`, `TE.map`, `pipe`, ...
 *
 * @module
 */

/**
 * The failure case of an {@link Either} (fp-ts `Left`).
 *
 * @example
 * ```ts
 * import type { Left } from "./mod.ts";
 * const failed: Left<string> = { _tag: "Left", left: "no such file" };
 * ```
 */
export interface Left<E> {
  /** Discriminant: `"Left"`. */
  readonly _tag: "Left";
  /** The error. */
  readonly left: E;
}

/**
 * The success case of an {@link Either} (fp-ts `Right`).
 *
 * @example
 * ```ts
 * import type { Right } from "./mod.ts";
 * const ok: Right<number> = { _tag: "Right", right: 42 };
 * ```
 */
export interface Right<A> {
  /** Discriminant: `"Right"`. */
  readonly _tag: "Right";
  /** The value. */
  readonly right: A;
}

/**
 * A value or an error, as data (fp-ts `Either<E, A>`, structurally identical).
 *
 * @example
 * ```ts
 * import { either as E } from "npm:fp-ts@2.16.11";
 * import { type Either, parseIdx } from "./mod.ts";
 * const r: Either<unknown, unknown> = parseIdx(new Uint8Array(0));
 * console.log(E.isLeft(r)); // true
 * ```
 */
export type Either<E, A> = Left<E> | Right<A>;

/**
 * A lazy asynchronous computation that yields an {@link Either} when called (fp-ts
 * `TaskEither<E, A>`, structurally identical): nothing happens until you run it.
 *
 * @example
 * ```ts
 * import { pipe } from "npm:fp-ts@2.16.11/lib/function.js";
 * import { taskEither as TE } from "npm:fp-ts@2.16.11";
 * import { loadMnist } from "./mod.ts";
 * const trainCount = pipe(loadMnist({ limit: 10 }), TE.map((m) => m.train.count));
 * const r = await trainCount(); // runs it
 * ```
 */
export type TaskEither<E, A> = () => Promise<Either<E, A>>;
