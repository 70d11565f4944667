/**
 * Weight initializers: LeCun, Glorot (Xavier) and He (Kaiming), each uniform or normal.
 *
 * Each scales the weights' variance by the layer's fan-in and/or fan-out so that activations
 * (and gradients) keep roughly unit variance through the layers:
 *
 * | scheme | variance | uniform limit `a` (samples in `[-a, a)`) | normal std |
 * | --- | --- | --- | --- |
 * | LeCun (1998) | `1 / fan_in` | `sqrt(3 / fan_in)` | `sqrt(1 / fan_in)` |
 * | Glorot (2010) | `2 / (fan_in + fan_out)` | `sqrt(6 / (fan_in + fan_out))` | `sqrt(2 / (fan_in + fan_out))` |
 * | He (2015) | `2 / fan_in` | `sqrt(6 / fan_in)` | `sqrt(2 / fan_in)` |
 *
 * (a uniform on `[-a, a)` has variance `a^2 / 3`, hence the `3` and `6`.) Normal samples are plain,
 * not truncated, Gaussians, as in PyTorch's `nn.init`.
 *
 * Fans: a dense weight `[in, out]` has `fan_in = in`, `fan_out = out`; a convolution weight in
 * OIHW layout `[O, C, kh, kw]` (or any `[O, C, ...spatial]`) has `fan_in = C * kh * kw` and
 * `fan_out = O * kh * kw`. Biases start at zero ({@link zeroBias}).
 *
 * Every initializer is a pure function of its PRNG key: the same key gives the same tensor.
 *
 * @module
 */

import { fmtShape, TensorError } from "../tensor/errors.ts";
import { randomNormal, randomUniform } from "../tensor/random.ts";
import type { PRNGKey } from "../tensor/random.ts";
import { checkShape, type DType, type Shape, type Tensor, zeros } from "../tensor/tensor.ts";

/** The three variance-scaling schemes. */
export type InitScheme = "lecun" | "glorot" | "he";

/** The distribution the weights are drawn from. */
export type InitDistribution = "uniform" | "normal";

/** Options of the initializers. */
export interface InitOptions {
  /** Element type; defaults to `"float32"`. */
  dtype?: DType;
}

/** An initializer: a pure function of a key and a weight shape. */
export type Initializer = (key: PRNGKey, shape: Shape, opts?: InitOptions) => Tensor;

/** The fan-in and fan-out of a weight. */
export interface Fans {
  /** Inputs feeding each output unit. */
  readonly fanIn: number;
  /** Outputs each input unit feeds. */
  readonly fanOut: number;
}

/**
 * Fan-in and fan-out of a dense `[in, out]` or convolution `[O, C, ...spatial]` (OIHW) weight.
 *
 * @example
 * ```ts
 * import { computeFans } from "./mod.ts";
 * console.log(computeFans([16, 6, 5, 5])); // { fanIn: 150, fanOut: 400 }
 * console.log(computeFans([400, 120])); // { fanIn: 400, fanOut: 120 }
 * ```
 */
export function computeFans(shape: Shape): Fans {
  checkShape("computeFans", shape);
  if (shape.length < 2) {
    throw new TensorError(
      "computeFans",
      `weight shape ${fmtShape(shape)} has rank ${shape.length}; initializers need a dense ` +
        `[in, out] or a conv [O, C, kh, kw] weight (initialize biases with zeroBias)`,
    );
  }
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** The variance each scheme asks for (see the module table). */
function variance(op: string, scheme: InitScheme, shape: Shape): number {
  const { fanIn, fanOut } = computeFans(shape);
  const denominator = scheme === "glorot" ? fanIn + fanOut : fanIn;
  if (denominator === 0) {
    throw new TensorError(
      op,
      `weight shape ${fmtShape(shape)} has a zero fan; nothing to scale by`,
    );
  }
  return (scheme === "lecun" ? 1 : 2) / denominator;
}

/**
 * The initializer of `scheme` and `distribution`: uniform on `[-sqrt(3 var), sqrt(3 var))` or
 * normal with std `sqrt(var)`, where `var` is the scheme's variance.
 *
 * @example
 * ```ts
 * import { initializer, prngKey } from "./mod.ts";
 * const init = initializer("he", "normal");
 * const w = init(prngKey(0), [6, 1, 5, 5]); // std sqrt(2 / 25)
 * ```
 */
export function initializer(scheme: InitScheme, distribution: InitDistribution): Initializer {
  const op = `${scheme}${distribution === "uniform" ? "Uniform" : "Normal"}`;
  return (key, shape, opts = {}) => {
    const v = variance(op, scheme, shape);
    const dtype = opts.dtype ?? "float32";
    if (distribution === "normal") return randomNormal(key, shape, { std: Math.sqrt(v), dtype });
    const limit = Math.sqrt(3 * v);
    return randomUniform(key, shape, { low: -limit, high: limit, dtype });
  };
}

/**
 * LeCun uniform: `U[-a, a)` with `a = sqrt(3 / fan_in)` (variance `1 / fan_in`).
 *
 * @example
 * ```ts
 * import { lecunUniform, prngKey } from "./mod.ts";
 * const w = lecunUniform(prngKey(1), [84, 10]); // limit sqrt(3 / 84)
 * ```
 */
export const lecunUniform: Initializer = initializer("lecun", "uniform");

/**
 * LeCun normal: `N(0, std^2)` with `std = sqrt(1 / fan_in)`.
 *
 * @example
 * ```ts
 * import { lecunNormal, prngKey } from "./mod.ts";
 * const w = lecunNormal(prngKey(1), [84, 10], { dtype: "float64" });
 * ```
 */
export const lecunNormal: Initializer = initializer("lecun", "normal");

/**
 * Glorot (Xavier) uniform: `U[-a, a)` with `a = sqrt(6 / (fan_in + fan_out))`.
 *
 * @example
 * ```ts
 * import { glorotUniform, prngKey } from "./mod.ts";
 * const w = glorotUniform(prngKey(2), [400, 120]); // limit sqrt(6 / 520)
 * ```
 */
export const glorotUniform: Initializer = initializer("glorot", "uniform");

/**
 * Glorot (Xavier) normal: `N(0, std^2)` with `std = sqrt(2 / (fan_in + fan_out))`.
 *
 * @example
 * ```ts
 * import { glorotNormal, prngKey } from "./mod.ts";
 * const w = glorotNormal(prngKey(2), [120, 84]);
 * ```
 */
export const glorotNormal: Initializer = initializer("glorot", "normal");

/**
 * He (Kaiming) uniform: `U[-a, a)` with `a = sqrt(6 / fan_in)` (variance `2 / fan_in`, for ReLU).
 *
 * @example
 * ```ts
 * import { heUniform, prngKey } from "./mod.ts";
 * const w = heUniform(prngKey(3), [16, 6, 5, 5]); // limit sqrt(6 / 150)
 * ```
 */
export const heUniform: Initializer = initializer("he", "uniform");

/**
 * He (Kaiming) normal: `N(0, std^2)` with `std = sqrt(2 / fan_in)`.
 *
 * @example
 * ```ts
 * import { heNormal, prngKey } from "./mod.ts";
 * const w = heNormal(prngKey(3), [6, 1, 5, 5]); // std sqrt(2 / 25)
 * ```
 */
export const heNormal: Initializer = initializer("he", "normal");

/**
 * A zero bias of `n` units (biases start at zero under every scheme).
 *
 * @example
 * ```ts
 * import { zeroBias } from "./mod.ts";
 * console.log(zeroBias(6).data); // Float32Array [0, 0, 0, 0, 0, 0]
 * ```
 */
export function zeroBias(n: number, opts: InitOptions = {}): Tensor {
  return zeros([n], opts);
}
