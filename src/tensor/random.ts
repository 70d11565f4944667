/**
 * A pure, splittable PRNG: explicit keys that are split, never mutated (as in JAX).
 *
 * Random bits come from the counter-based Threefry-2x32 block cipher (20 rounds; Salmon et al.,
 * "Parallel Random Numbers: As Easy as 1, 2, 3", SC 2011): `bits = threefry(key, counter)`.
 * A function of (key, counter) alone has no hidden state, so the same key gives the same numbers
 * on every machine, in every order of calls. Keys made by {@link split} use counters
 * `[i, 0]`, random bits use `[j, 1]`, so the two never collide.
 *
 * Integer arithmetic is exact 32-bit (`Math.imul`-free adds and rotations with `>>> 0`); normal
 * samples use Box-Muller with `Math.log`/`Math.cos`/`Math.sin`, which V8 computes with the same
 * portable fdlibm code on every platform.
 *
 * @module
 */

import { TensorError } from "./errors.ts";
import { allocData, checkShape, type DTypeOptions, type Shape, Tensor } from "./tensor.ts";

/**
 * A PRNG key: two 32-bit words. Make one with {@link prngKey}, derive more with {@link split}.
 */
export interface PRNGKey {
  /** The key's two 32-bit words. */
  readonly words: readonly [number, number];
}

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];

/** Threefry-2x32 with 20 rounds: encrypts the counter `(x0, x1)` under `(k0, k1)`. */
export function threefry2x32(
  k0: number,
  k1: number,
  x0: number,
  x1: number,
): [number, number] {
  const ks = [k0 >>> 0, k1 >>> 0, (k0 ^ k1 ^ 0x1bd11bda) >>> 0];
  x0 = (x0 + ks[0]) >>> 0;
  x1 = (x1 + ks[1]) >>> 0;
  for (let group = 0; group < 5; group++) {
    const base = (group & 1) * 4;
    for (let r = 0; r < 4; r++) {
      const rot = ROTATIONS[base + r];
      x0 = (x0 + x1) >>> 0;
      x1 = ((x1 << rot) | (x1 >>> (32 - rot))) >>> 0;
      x1 = (x1 ^ x0) >>> 0;
    }
    x0 = (x0 + ks[(group + 1) % 3]) >>> 0;
    x1 = (x1 + ks[(group + 2) % 3] + group + 1) >>> 0;
  }
  return [x0, x1];
}

/**
 * A key from an integer seed (any safe integer; the low 64 bits are used).
 *
 * @example
 * ```ts
 * import { prngKey, randomUniform } from "./mod.ts";
 * const x = randomUniform(prngKey(42), [2, 3]);
 * console.log(x.shape); // [2, 3]
 * ```
 */
export function prngKey(seed: number): PRNGKey {
  if (!Number.isSafeInteger(seed)) {
    throw new TensorError("prngKey", `seed ${seed} is not a safe integer; pass an integer seed`);
  }
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  return { words: [hi, seed >>> 0] };
}

/**
 * `n` new independent keys from `key` (default 2). The input key should not be used again for
 * sampling once split.
 *
 * @example
 * ```ts
 * import { prngKey, split } from "./mod.ts";
 * const [initKey, shuffleKey] = split(prngKey(0));
 * ```
 */
export function split(key: PRNGKey, n = 2): PRNGKey[] {
  if (!Number.isInteger(n) || n < 1) {
    throw new TensorError("split", `cannot split a key into ${n} keys; pass an integer n >= 1`);
  }
  const [k0, k1] = key.words;
  return Array.from({ length: n }, (_, i) => ({ words: threefry2x32(k0, k1, i, 0) }));
}

/** `n` random 32-bit words from `key`: block j is `threefry(key, [j, 1])`. */
export function randomBits(key: PRNGKey, n: number): Uint32Array {
  const out = new Uint32Array(n);
  const [k0, k1] = key.words;
  for (let j = 0; 2 * j < n; j++) {
    const [a, b] = threefry2x32(k0, k1, j, 1);
    out[2 * j] = a;
    if (2 * j + 1 < n) out[2 * j + 1] = b;
  }
  return out;
}

/** Uniform doubles in [0, 1) with 53 random bits each, from pairs of words. */
function uniform53(key: PRNGKey, n: number): Float64Array {
  const bits = randomBits(key, 2 * n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = ((bits[2 * i] >>> 5) * 67108864 + (bits[2 * i + 1] >>> 6)) / 9007199254740992;
  }
  return out;
}

/** Options of {@link randomUniform}. */
export interface UniformOptions extends DTypeOptions {
  /** Inclusive lower bound; default 0. */
  low?: number;
  /** Exclusive upper bound; default 1. */
  high?: number;
}

/**
 * Uniform samples in `[low, high)`.
 *
 * @example
 * ```ts
 * import { prngKey, randomUniform } from "./mod.ts";
 * const w = randomUniform(prngKey(1), [6, 1, 5, 5], { low: -0.2, high: 0.2 });
 * ```
 */
export function randomUniform(key: PRNGKey, shape: Shape, opts: UniformOptions = {}): Tensor {
  const low = opts.low ?? 0;
  const high = opts.high ?? 1;
  if (!(Number.isFinite(low) && Number.isFinite(high) && low < high)) {
    throw new TensorError("randomUniform", `bounds [${low}, ${high}) are empty; need low < high`);
  }
  const n = checkShape("randomUniform", shape);
  const data = allocData(opts.dtype ?? "float32", n);
  const u = uniform53(key, n);
  for (let i = 0; i < n; i++) {
    const v = low + (high - low) * u[i];
    // Rounding to float32 can land exactly on `high`; keep the interval half-open.
    data[i] = v;
    if (data[i] >= high) data[i] = low;
  }
  return new Tensor(data, shape);
}

/** Options of {@link randomNormal}. */
export interface NormalOptions extends DTypeOptions {
  /** Mean; default 0. */
  mean?: number;
  /** Standard deviation; default 1. */
  std?: number;
}

/**
 * Normal samples (Box-Muller: `sqrt(-2 ln(1 - u1)) * cos(2 pi u2)` and its `sin` twin).
 *
 * @example
 * ```ts
 * import { prngKey, randomNormal } from "./mod.ts";
 * const noise = randomNormal(prngKey(7), [1000], { std: 0.1, dtype: "float64" });
 * ```
 */
export function randomNormal(key: PRNGKey, shape: Shape, opts: NormalOptions = {}): Tensor {
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  if (!(Number.isFinite(mean) && Number.isFinite(std) && std >= 0)) {
    throw new TensorError("randomNormal", `mean ${mean}, std ${std}: need finite, std >= 0`);
  }
  const n = checkShape("randomNormal", shape);
  const data = allocData(opts.dtype ?? "float32", n);
  const u = uniform53(key, n + (n & 1));
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u[i]));
    const theta = 2 * Math.PI * u[i + 1];
    data[i] = mean + std * r * Math.cos(theta);
    if (i + 1 < n) data[i + 1] = mean + std * r * Math.sin(theta);
  }
  return new Tensor(data, shape);
}

/**
 * A random permutation of `0..n-1` (Fisher-Yates), e.g. to shuffle a dataset each epoch.
 *
 * @example
 * ```ts
 * import { prngKey, randomPermutation } from "./mod.ts";
 * const order = randomPermutation(prngKey(3), 60000);
 * ```
 */
export function randomPermutation(key: PRNGKey, n: number): Int32Array {
  checkShape("randomPermutation", [n]);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const u = uniform53(key, n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[i] * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
