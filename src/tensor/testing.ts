/**
 * Assertions for users' tests: compare a tensor with expected values within tolerances, and on
 * failure say where and by how much.
 *
 * @module
 */

import { fmtShape } from "./errors.ts";
import { type NestedArray, Tensor, tensor } from "./tensor.ts";

/** Tolerances of {@link assertAllClose}: `|actual - expected| <= atol + rtol * |expected|`. */
export interface AllCloseOptions {
  /** Relative tolerance; default `1e-5`. */
  rtol?: number;
  /** Absolute tolerance; default `1e-8`. */
  atol?: number;
}

/** Row-major multi-index of flat index `i` in `shape`, as `[i0, i1, ...]`. */
function multiIndex(i: number, shape: readonly number[]): string {
  const idx = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = i % shape[a];
    i = Math.floor(i / shape[a]);
  }
  return `[${idx.join(", ")}]`;
}

/**
 * Asserts that `actual` and `expected` have the same shape and that every element satisfies
 * `|actual - expected| <= atol + rtol * |expected|` (NumPy's `isclose`, asymmetric in
 * `expected`). Defaults: `rtol = 1e-5`, `atol = 1e-8`; dtypes need not match.
 *
 * NaN: a NaN matches only a NaN at the same position. Infinities match only the same infinity.
 *
 * On failure it throws an `Error` that reports either the shape mismatch or the worst element:
 * its multi-index, both values, the absolute and relative error and the tolerances, plus how
 * many elements failed. "Worst" is the element furthest out of tolerance relative to its own
 * allowed error `atol + rtol * |expected|`.
 *
 * @example
 * ```ts
 * import { assertAllClose, tensor } from "./mod.ts";
 * assertAllClose(tensor([0.1 + 0.2, 1]), [0.3, 1]);
 * assertAllClose(tensor([[1, 2]]), tensor([[1, 2.001]]), { rtol: 1e-3 });
 * ```
 */
export function assertAllClose(
  actual: Tensor,
  expected: Tensor | NestedArray,
  opts: AllCloseOptions = {},
): void {
  const rtol = opts.rtol ?? 1e-5, atol = opts.atol ?? 1e-8;
  if (!(actual instanceof Tensor)) {
    throw new Error(`assertAllClose: actual must be a Tensor, got ${typeof actual}`);
  }
  const want = expected instanceof Tensor ? expected : tensor(expected, { dtype: "float64" });
  const same = actual.rank === want.rank && actual.shape.every((d, i) => d === want.shape[i]);
  if (!same) {
    throw new Error(
      `assertAllClose: shape mismatch: actual ${fmtShape(actual.shape)}, expected ` +
        `${fmtShape(want.shape)}`,
    );
  }
  const a = actual.data, e = want.data;
  let worst = -1, worstScore = -1, failures = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = e[i];
    if (x === y || (x !== x && y !== y)) continue; // equal (incl. same infinity) or both NaN
    const err = Math.abs(x - y);
    const tol = atol + rtol * Math.abs(y);
    // Unequal values where either is NaN or infinite never pass (an infinite expected value
    // would otherwise allow an infinite error).
    if (err <= tol && Number.isFinite(y)) continue;
    failures++;
    // How many allowed errors away; NaN/inf mismatches and zero tolerances rank first.
    const score = Number.isFinite(err) && tol > 0 ? err / tol : Infinity;
    if (score > worstScore) [worst, worstScore] = [i, score];
  }
  if (failures === 0) return;
  const x = a[worst], y = e[worst];
  const abs = Math.abs(x - y), rel = abs / Math.abs(y);
  throw new Error(
    `assertAllClose: ${failures} of ${a.length} elements differ (shape ` +
      `${fmtShape(actual.shape)}); worst at ${multiIndex(worst, actual.shape)}: actual ${x}, ` +
      `expected ${y}, abs error ${abs}, rel error ${rel} (rtol ${rtol}, atol ${atol}; allowed ` +
      `${atol + rtol * Math.abs(y)})`,
  );
}
