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
export {
  broadcastShapes,
  broadcastTo,
  broadcastToBackward,
  sumToShape,
  sumToShapeBackward,
} from "./src/tensor/broadcast.ts";
export {
  add,
  addBackward,
  type BinaryGrads,
  div,
  divBackward,
  maximum,
  maximumBackward,
  minimum,
  minimumBackward,
  mul,
  mulBackward,
  type Operand,
  sub,
  subBackward,
} from "./src/tensor/elementwise.ts";
export {
  clamp,
  clampBackward,
  exp,
  expBackward,
  log,
  logBackward,
  neg,
  negBackward,
  pow,
  powBackward,
  sqrt,
  sqrtBackward,
  square,
  squareBackward,
} from "./src/tensor/unary.ts";
export {
  argmax,
  type ArgmaxOptions,
  logSumExp,
  logSumExpBackward,
  max,
  maxBackward,
  mean,
  meanBackward,
  type ReduceOptions,
  sum,
  sumBackward,
} from "./src/tensor/reduce.ts";
export { dense, denseBackward, matmul, matmulBackward } from "./src/tensor/matmul.ts";
export { permute, transpose, transposeBackward } from "./src/tensor/transpose.ts";
export {
  relu,
  reluBackward,
  scaledTanh,
  scaledTanhBackward,
  sigmoid,
  sigmoidBackward,
  tanh,
  tanhBackward,
} from "./src/tensor/activations.ts";
export { logSoftmax, logSoftmaxBackward, softmax, softmaxBackward } from "./src/tensor/softmax.ts";
export {
  crossEntropy,
  crossEntropyBackward,
  type Labels,
  type LossOptions,
  mse,
  mseBackward,
  oneHot,
} from "./src/tensor/losses.ts";
export { type AllCloseOptions, assertAllClose } from "./src/tensor/testing.ts";

// Autograd: reverse-mode engine, gradient checks, reference definitions built from
// elementary primitives.
export { grad, type GradsOf, valueAndGrad, vjp } from "./src/autograd/engine.ts";
export type { TensorTree } from "./src/autograd/tree.ts";
export {
  gradcheck,
  type GradcheckFailure,
  type GradcheckInput,
  type GradcheckOptions,
  type GradcheckPoint,
  type GradcheckReport,
} from "./src/autograd/gradcheck.ts";
export * as ref from "./src/autograd/ref.ts";
export {
  formatGradientSuite,
  gradientSuiteOps,
  type GradientSuiteOptions,
  type GradientSuiteReport,
  type GradientSuiteRow,
  runGradientSuite,
} from "./src/autograd/suite.ts";

export { type Conv2dOptions, type Conv2dPadding, type Pair } from "./src/tensor/conv_options.ts";
export {
  conv2d,
  conv2dBackward,
  type Conv2dGrads,
  conv2dOutputShape,
  conv2dRelu,
  conv2dReluBackward,
} from "./src/tensor/conv.ts";
export { conv2dReluMaxPool, conv2dReluMaxPoolBackward } from "./src/tensor/conv_block.ts";
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

// LeNet-5 training support: parameter trees, initializers, optimizers, schedules, checkpoints
// (safetensors) and image input for predict.
export type { Either, Left, Right, TaskEither } from "./src/tensor/result.ts";
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

export { type KernelPath, kernelPath } from "./src/tensor/kernels/wasm/runtime.ts";

// --- MNIST data: IDX parsing, verified download, progress display ---
export type {
  AbortedError,
  DataError,
  DataErrorKind,
  FetchError,
  FileError,
  IdxError,
  IdxErrorKind,
  OptionError,
  UnavailableError,
} from "./src/lenet/data_error.ts";
export {
  encodeIdx,
  type IdxArray,
  type IdxData,
  type IdxDType,
  type IdxHeader,
  parseIdx,
  parseIdxHeader,
} from "./src/lenet/idx.ts";
export { readIdxBytes, readIdxFile, type ReadIdxOptions } from "./src/lenet/idx_file.ts";
export {
  DEFAULT_MIRRORS,
  MNIST_FILES,
  type MnistFileName,
  type MnistFileSpec,
  parseMirrors,
  verifyMnistFile,
} from "./src/lenet/mnist_files.ts";
export {
  type DownloadEvent,
  downloadMnistFile,
  type DownloadOptions,
  ensureMnist,
  type EnsureOptions,
  type MnistPaths,
} from "./src/lenet/download.ts";
export { type Dataset, dataset, datasetImages, sliceDataset } from "./src/lenet/dataset.ts";
export {
  DEFAULT_MNIST_DIR,
  loadMnist,
  type LoadMnistOptions,
  type Mnist,
  MNIST_MEAN,
  MNIST_STD,
  type MnistAssembleOptions,
  type MnistDir,
  mnistFromIdx,
  resolveMnistDir,
} from "./src/lenet/mnist.ts";
export {
  createProgress,
  formatBytes,
  formatDuration,
  formatRate,
  type Progress,
  type ProgressOptions,
  type ProgressUpdate,
  type ProgressWriter,
  renderLine,
} from "./src/cli/progress.ts";
export { downloadReporter } from "./src/cli/data.ts";

// --- LeNet-5: model variants, the training step and loop, evaluation, run checkpoints ---
export {
  conv,
  convBlock,
  DEFAULT_VARIANT,
  fc,
  flat,
  getVariant,
  headsOf,
  type Layer,
  type LeNetParams,
  maxPool,
  type ModelInitOptions,
  modern,
  type Stage,
  type Variant,
  type VariantDefaults,
  type VariantNote,
  VARIANTS,
} from "./src/lenet/model.ts";
export { type LayerTrace, traceLayers } from "./src/lenet/inspect.ts";
export {
  type Batch,
  batchesPerEpoch,
  batchKey,
  countCorrect,
  type Divergence,
  epochOrder,
  evaluate,
  type EvaluateOptions,
  type Evaluation,
  foldIn,
  gatherBatch,
  initTrainState,
  makeTrainStep,
  type Mistake,
  nextEpoch,
  type RunKeys,
  runKeys,
  type StepReport,
  type TrainState,
} from "./src/lenet/train.ts";
export { augmentBatch, type AugmentOptions } from "./src/lenet/augment.ts";
export {
  createGradientPool,
  type GradientPool,
  makeShardedTrainStep,
  type ShardResult,
} from "./src/lenet/shards.ts";
export {
  checkTrainConfig,
  DEFAULT_TRAIN_CONFIG,
  optimizerFor,
  parseInit,
  parseTrainConfig,
  type TrainConfig,
} from "./src/lenet/config.ts";
export {
  type ClassStats,
  classStats,
  type EpochMetrics,
  metricsLine,
} from "./src/lenet/metrics.ts";
export {
  type BestEpoch,
  decodeRun,
  FRESH_PROGRESS,
  loadRun,
  type Normalization,
  normalizeImages,
  type RunCheckpoint,
  type RunProgress,
  saveRun,
} from "./src/lenet/run_checkpoint.ts";
export {
  RUN_FILES,
  type RunFiles,
  train,
  type TrainFailure,
  type TrainIo,
  type TrainRun,
  type TrainSummary,
} from "./src/lenet/trainer.ts";
// The networks of the derivations: LeCun 1998's trainable subsampling, partially
// connected convolution, RBF output units and loss; the notes' learned combinations of maps.
export { subsample2d, subsample2dBackward, type Subsample2dGrads } from "./src/tensor/subsample.ts";
export {
  connectedConv2d,
  connectedConv2dBackward,
  type ConnectedConv2dGrads,
  type ConnectionTable,
  LECUN_C3_TABLE,
} from "./src/tensor/connected_conv.ts";
export {
  rbf,
  rbfBackward,
  type RbfGrads,
  rbfLoss,
  rbfLossBackward,
  type RbfLossOptions,
} from "./src/tensor/rbf.ts";
export {
  combinationEntropy,
  combinationEntropyBackward,
  combinationPenalty,
  combinationPenaltyBackward,
  combineConv2d,
  combineConv2dBackward,
  type CombineConv2dGrads,
} from "./src/tensor/combine_conv.ts";
export {
  formatLayerCounts,
  type LayerCount,
  lecun1998,
  LECUN1998_DEFAULTS,
  lecun1998Counts,
  lecun1998Criterion,
  lecun1998Features,
  lecun1998Forward,
  type Lecun1998Head,
  lecun1998Init,
  type Lecun1998Params,
  LECUN_CODES,
  LECUN_RBF_J,
  lecunInput,
  type Subsampling,
  type WeightBias,
} from "./src/lenet/lecun1998.ts";
export {
  NOTES_SIGMOID_DEFAULTS,
  notesSigmoid,
  notesSigmoidCriterion,
  notesSigmoidForward,
  notesSigmoidInit,
  type NotesSigmoidParams,
  unitPixels,
} from "./src/lenet/notes_sigmoid.ts";
export {
  type CombinationPenaltyKind,
  combinationRegularizer,
  formatCombinationTable,
  LEARNED_COMBINATIONS_LAMBDA,
  learnedCombinations,
  learnedCombinationsForward,
  learnedCombinationsInit,
  type LearnedCombinationsParams,
  learnedTable,
} from "./src/lenet/learned_combinations.ts";
