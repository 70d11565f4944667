/**
 * The peer: LeNet-5 (`modern` variant) in TensorFlow.js 4.22.0 on its wasm backend, written with
 * tf ops + `optimizer.minimize` (the leanest TF.js path: no layers/fit machinery in the loop).
 *
 *   28x28x1 -> conv 6@5x5 same -> ReLU -> maxpool 2 -> conv 16@5x5 valid -> ReLU -> maxpool 2
 *   -> dense 400->120 -> ReLU -> dense 120->84 -> ReLU -> dense 84->10 -> softmax cross-entropy
 *
 * 61,706 parameters; batch 64, SGD momentum 0.9 (v = 0.9 v + g; w -= 0.01 v), lr 0.01, float32,
 * Glorot-uniform weights and zero biases (Keras/TF.js layer defaults), mean loss over the batch.
 * Activations are NHWC, which for one channel is the same memory as our [n, 1, 28, 28].
 *
 * @module
 */

import { tf, useTfjsWasm } from "./tfjs_setup.ts";
import {
  accuracy,
  type PeerPredictor,
  type PeerTrainer,
  type TrainData,
  type TrainerConfig,
} from "./paired.ts";

/** LeNet-5 parameters as TF.js variables (HWIO filters, [in, out] dense weights). */
export type TfjsLenetParams = Record<
  "c1w" | "c1b" | "c3w" | "c3b" | "f5w" | "f5b" | "f6w" | "f6b" | "outw" | "outb",
  tf.Variable
>;

/** The parameter count of LeNet-5 `modern`: 150+6 + 2400+16 + 48000+120 + 10080+84 + 840+10. */
export const LENET_PARAM_COUNT = 61_706;

/** Glorot-uniform weights (limit sqrt(6 / (fanIn + fanOut)), fans scaled by the kernel area). */
export function initTfjsLenet(seed: number): TfjsLenetParams {
  let s = seed;
  const glorot = (shape: number[]) => {
    const area = shape.length === 4 ? shape[0] * shape[1] : 1;
    const fanIn = area * shape[shape.length - 2], fanOut = area * shape[shape.length - 1];
    const lim = Math.sqrt(6 / (fanIn + fanOut));
    return tf.variable(tf.randomUniform(shape, -lim, lim, "float32", s++));
  };
  const zeros = (n: number) => tf.variable(tf.zeros([n]));
  const p: TfjsLenetParams = {
    c1w: glorot([5, 5, 1, 6]),
    c1b: zeros(6),
    c3w: glorot([5, 5, 6, 16]),
    c3b: zeros(16),
    f5w: glorot([400, 120]),
    f5b: zeros(120),
    f6w: glorot([120, 84]),
    f6b: zeros(84),
    outw: glorot([84, 10]),
    outb: zeros(10),
  };
  const count = Object.values(p).reduce((a, v) => a + v.size, 0);
  if (count !== LENET_PARAM_COUNT) {
    throw new Error(`TF.js LeNet-5 has ${count} parameters, expected ${LENET_PARAM_COUNT}`);
  }
  return p;
}

/** Logits [n, 10] of images [n, 28, 28, 1]. */
export function tfjsLenetLogits(p: TfjsLenetParams, x: tf.Tensor4D): tf.Tensor2D {
  const conv = (h: tf.Tensor4D, w: tf.Variable, b: tf.Variable, pad: "same" | "valid") =>
    tf.relu(tf.add(tf.conv2d(h, w as tf.Tensor4D, 1, pad), b)) as tf.Tensor4D;
  const dense = (h: tf.Tensor2D, w: tf.Variable, b: tf.Variable) =>
    tf.add(tf.matMul(h, w as tf.Tensor2D), b) as tf.Tensor2D;
  let h = tf.maxPool(conv(x, p.c1w, p.c1b, "same"), 2, 2, "valid");
  h = tf.maxPool(conv(h, p.c3w, p.c3b, "valid"), 2, 2, "valid");
  let z = tf.reshape(h, [x.shape[0], 400]) as tf.Tensor2D;
  z = tf.relu(dense(z, p.f5w, p.f5b));
  z = tf.relu(dense(z, p.f6w, p.f6b));
  return dense(z, p.outw, p.outb);
}

/** Labels as one-hot float32 rows, computed once before any timing. */
function oneHot(labels: Uint8Array): Float32Array {
  const out = new Float32Array(labels.length * 10);
  for (let i = 0; i < labels.length; i++) out[i * 10 + labels[i]] = 1;
  return out;
}

/** A LeNet-5 being trained by TF.js on fixed data, batch after batch (wrapping around). */
export type TfjsLenetState = {
  params: TfjsLenetParams;
  optimizer: tf.MomentumOptimizer;
  data: TrainData;
  targets: Float32Array;
  batchSize: number;
  /** Index of the next batch; batch i covers examples [i*B, (i+1)*B) mod the full batches. */
  next: number;
  lastLoss: number;
};

/** Fresh weights and optimizer state over `data` (which must hold at least one full batch). */
export function newTfjsLenetState(data: TrainData, config: TrainerConfig): TfjsLenetState {
  if (data.n < config.batchSize) throw new Error(`need >= ${config.batchSize} training images`);
  return {
    params: initTfjsLenet(config.seed),
    optimizer: tf.train.momentum(config.lr, config.momentum),
    data,
    targets: oneHot(data.labels.subarray(0, data.n)),
    batchSize: config.batchSize,
    next: 0,
    lastLoss: NaN,
  };
}

/** Trains `batches` SGD steps; returns the examples/s of those steps. */
export function trainTfjsBatches(st: TfjsLenetState, batches: number): number {
  const bs = st.batchSize, full = Math.floor(st.data.n / bs);
  const vars = Object.values(st.params);
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) {
    const at = (st.next++ % full) * bs;
    const last = i === batches - 1;
    const cost = tf.tidy(() => {
      const x = tf.tensor4d(st.data.images.subarray(at * 784, (at + bs) * 784), [bs, 28, 28, 1]);
      const y = tf.tensor2d(st.targets.subarray(at * 10, (at + bs) * 10), [bs, 10]);
      const loss = () =>
        tf.losses.softmaxCrossEntropy(y, tfjsLenetLogits(st.params, x)) as tf.Scalar;
      return st.optimizer.minimize(loss, last, vars) ?? undefined;
    });
    // The wasm backend runs kernels synchronously; reading the last loss also proves it.
    if (cost !== undefined) {
      st.lastLoss = cost.dataSync()[0];
      cost.dispose();
    }
  }
  return (batches * bs) / ((performance.now() - t0) / 1000);
}

/** Predicted classes of `n` images, `batch` at a time. */
export function predictTfjs(
  p: TfjsLenetParams,
  images: Float32Array,
  n: number,
  batch: number,
): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += batch) {
    const m = Math.min(batch, n - at);
    const cls = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(at * 784, (at + m) * 784), [m, 28, 28, 1]);
      return tf.argMax(tfjsLenetLogits(p, x), 1).dataSync();
    });
    out.set(cls, at);
  }
  return out;
}

/** Test accuracy in [0, 1] of the current weights. */
export function tfjsAccuracy(p: TfjsLenetParams, test: TrainData): number {
  return accuracy(predictTfjs(p, test.images, test.n, 1000), test.labels, test.n);
}

/** The PeerTrainer of the side-by-side runner, on the wasm backend (SIMD, 1 thread). */
export async function createTfjsWasmTrainer(
  data: TrainData,
  config: TrainerConfig,
): Promise<PeerTrainer & PeerPredictor & { state: TfjsLenetState }> {
  await useTfjsWasm();
  const state = newTfjsLenetState(data, config);
  const timed = (batches: number) => {
    const rate = trainTfjsBatches(state, batches);
    return Promise.resolve((batches * state.batchSize) / rate);
  };
  return {
    name: "tfjs-wasm",
    batchSize: config.batchSize,
    state,
    warmup: timed,
    trainChunk: timed,
    lastLoss: () => state.lastLoss,
    predict: (images, n, batch) => Promise.resolve(predictTfjs(state.params, images, n, batch)),
  };
}
