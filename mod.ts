/**
 * gradproof: a functional tensor DSL whose every gradient is proven.
 *
 * One immutable {@link Tensor} type and pure functions over it; each differentiable op ships
 * its hand-derived backward rule beside its forward.
 *
 * @example
 * ```ts
 * import { reshape, tensor } from "./mod.ts";
 * const x = reshape(tensor([1, 2, 3, 4]), [2, 2]);
 * console.log(x.toString());
 * ```
 *
 * @module
 */

export { TensorError } from "./src/tensor/errors.ts";
export {
  arange,
  type DType,
  type DTypeOptions,
  fromData,
  full,
  type NestedArray,
  ones,
  type Shape,
  Tensor,
  tensor,
  type TensorData,
  zeros,
} from "./src/tensor/tensor.ts";
export { flatten, reshape, reshapeBackward } from "./src/tensor/layout.ts";
export {
  type NormalOptions,
  type PRNGKey,
  prngKey,
  randomBits,
  randomNormal,
  randomPermutation,
  randomUniform,
  split,
  type UniformOptions,
} from "./src/tensor/random.ts";
export { type Conv2dOptions, type Conv2dPadding, type Pair } from "./src/tensor/conv_options.ts";
export { conv2d, conv2dBackward, type Conv2dGrads, conv2dOutputShape } from "./src/tensor/conv.ts";
export {
  convolve2d,
  convolve2dBackward,
  correlate2d,
  correlate2dBackward,
  type Correlate2dGrads,
  type Correlate2dMode,
  rot180,
  rot180Backward,
} from "./src/tensor/correlate.ts";
export {
  avgPool2d,
  avgPool2dBackward,
  maxPool2d,
  maxPool2dBackward,
  type MaxPool2dResult,
  maxPool2dWithArgmax,
  type Pool2dOptions,
} from "./src/tensor/pool.ts";
export { upsample, upsampleBackward } from "./src/tensor/upsample.ts";
