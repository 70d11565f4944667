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

// LeNet-5 training support: parameter trees, initializers, optimizers, schedules, checkpoints
// (safetensors) and image input for predict.
export type { Either, Left, Right, TaskEither } from "./src/lenet/result.ts";
export {
  assertParamsMatch,
  countParams,
  flattenParams,
  mapParams,
  type ParamEntry,
  type Params,
  paramsMismatch,
  rebuildParams,
  zip3Params,
  zipParams,
} from "./src/lenet/params.ts";
export {
  computeFans,
  type Fans,
  glorotNormal,
  glorotUniform,
  heNormal,
  heUniform,
  type InitDistribution,
  type Initializer,
  initializer,
  type InitOptions,
  type InitScheme,
  lecunNormal,
  lecunUniform,
  zeroBias,
} from "./src/lenet/init.ts";
export {
  adam,
  type AdamOptions,
  createOptimizer,
  type LearningRate,
  momentum,
  type MomentumOptions,
  type Optimizer,
  type OptimizerConfig,
  type OptimizerName,
  type OptimizerState,
  sgd,
  type SgdOptions,
  type StepResult,
} from "./src/lenet/optim.ts";
export {
  type BaseScheduleSpec,
  buildSchedule,
  constantSchedule,
  cosineSchedule,
  formatSchedule,
  parseSchedule,
  type Schedule,
  type ScheduleContext,
  type ScheduleSpec,
  stepSchedule,
  warmup,
} from "./src/lenet/schedule.ts";
export {
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsContents,
} from "./src/lenet/safetensors.ts";
export {
  type Checkpoint,
  type CheckpointMeta,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  parseCheckpointMeta,
  peekCheckpointMeta,
  readFileBytes,
  saveCheckpoint,
  writeFileAtomic,
} from "./src/lenet/checkpoint.ts";
export {
  decodeImage,
  preprocessDigit,
  type PreprocessOptions,
  readImageFile,
} from "./src/lenet/image.ts";
export { decodePng, encodePng, type PngEncodeOptions } from "./src/lenet/png.ts";
export { decodePnm, encodePgm, type PgmEncodeOptions } from "./src/lenet/pnm.ts";
export { ImageError } from "./src/lenet/raster.ts";
