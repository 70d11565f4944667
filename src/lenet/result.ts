/**
 * `TaskEither`, spelled out structurally so the public API names only exported types (JSR "no
 * private type refs") while staying the very shape of fp-ts 2.16's: every value here IS an
 * fp-ts `TaskEither`, usable with `TE.map`, `TE.chain`, `pipe`, ...
 *
 * `Either`, `Left` and `Right` are the autograd's structural copies (one public `Either` for
 * the whole library), re-exported here for the data code.
 *
 * @module
 */

import type { Either } from "../autograd/gradcheck.ts";

export type { Either, Left, Right } from "../autograd/gradcheck.ts";

/**
 * A lazy asynchronous computation that yields an `Either` when called (fp-ts
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
