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
export { type KernelPath, kernelPath } from "./src/tensor/kernels/wasm/runtime.ts";
