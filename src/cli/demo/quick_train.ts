/**
 * "Train a quick one" for the demo page without a checkpoint: LeNet-5 (`modern`) trained in the
 * page itself, on the first few thousand MNIST training digits the server offers
 * (`/mnist/train-images-idx3-ubyte`, `/mnist/train-labels-idx1-ubyte`, gzipped or not), with the same
 * pieces as `deno task train` (`initTrainState`, `epochOrder`, `gatherBatch`, `makeTrainStep`,
 * Adam) and the same input normalization; the result plugs into the page as a
 * {@link DemoModel} (`lenetDemoModel`), so prediction, layer views and delta maps work as with a
 * checkpoint. No DOM here: the page passes the bytes in and shows the progress.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { DEFAULT_TRAIN_CONFIG } from "../../lenet/config.ts";
import { parseIdx } from "../../lenet/idx.ts";
import { MNIST_MEAN, MNIST_STD } from "../../lenet/mnist.ts";
import type { MnistFileName } from "../../lenet/mnist_files.ts";
import { modern } from "../../lenet/model.ts";
import { adam } from "../../lenet/optim.ts";
import { normalizeImages } from "../../lenet/run_checkpoint.ts";
import { epochOrder, gatherBatch, initTrainState, makeTrainStep } from "../../lenet/train.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { type DemoModel, lenetDemoModel, TRAIN_FOR_DEMO } from "./model.ts";

/** The two MNIST files the page fetches, under `/mnist/` (the server's bytes, gzipped or not). */
export const QUICK_TRAIN_FILES: readonly MnistFileName[] = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
];

/** The bytes as fetched, gunzipped when they start with the gzip magic `1f 8b`. */
export async function maybeGunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Options of {@link quickTrain}. */
export interface QuickTrainOptions {
  /** Training examples, from the start of the set (default 6,000). */
  readonly examples?: number;
  /** Examples per step (default 32). */
  readonly batchSize?: number;
  /** Adam's learning rate, constant (default 2e-3). */
  readonly lr?: number;
  /** Seed of initialization and shuffling (default 0). */
  readonly seed?: number;
  /** Called after every step; awaited, so the page can repaint between steps. */
  readonly onStep?: (done: number, total: number, loss: number) => void | Promise<void>;
}

/**
 * Trains LeNet-5 for one epoch on the first `examples` digits of the MNIST training IDX files
 * (gzipped or not); resolves with the model for the page, or rejects naming what was wrong
 * (an unreadable file, mismatched counts, a diverging step).
 */
export async function quickTrain(
  imagesIdx: Uint8Array,
  labelsIdx: Uint8Array,
  opts: QuickTrainOptions = {},
): Promise<DemoModel> {
  const images = parseIdx(await maybeGunzip(imagesIdx), QUICK_TRAIN_FILES[0]);
  const labels = parseIdx(await maybeGunzip(labelsIdx), QUICK_TRAIN_FILES[1]);
  if (E.isLeft(images)) throw new Error(images.left.message);
  if (E.isLeft(labels)) throw new Error(labels.left.message);
  const shape = images.right.shape;
  if (images.right.dtype !== "uint8" || shape.length !== 3 || shape[1] !== 28 || shape[2] !== 28) {
    throw new Error(`${QUICK_TRAIN_FILES[0]}: expected uint8 [N, 28, 28], got [${shape}]`);
  }
  if (labels.right.dtype !== "uint8" || labels.right.shape[0] !== shape[0]) {
    throw new Error(`${QUICK_TRAIN_FILES[1]}: expected ${shape[0]} uint8 labels`);
  }
  const n = Math.min(opts.examples ?? 6000, shape[0]);
  const batchSize = opts.batchSize ?? 32;
  const raw = images.right.data as Uint8Array;
  const x01 = new Float32Array(n * 784);
  for (let i = 0; i < x01.length; i++) x01[i] = raw[i] / 255;
  const normalization = { mean: MNIST_MEAN, std: MNIST_STD };
  const x = normalizeImages(new Tensor(x01, [n, 1, 28, 28]), normalization);
  const y = (labels.right.data as Uint8Array).subarray(0, n);

  const optimizer = adam({ lr: opts.lr ?? 2e-3 });
  const step = makeTrainStep(modern, optimizer);
  let state = initTrainState(modern, optimizer, opts.seed ?? 0);
  const order = epochOrder(state.key, 0, n);
  const total = Math.floor(n / batchSize);
  for (let b = 0; b < total; b++) {
    const r = step(state, gatherBatch(x, y, order, b * batchSize, batchSize));
    if (E.isLeft(r)) throw new Error(`quick training diverged: ${r.left.message}`);
    state = r.right.state;
    await opts.onStep?.(b + 1, total, r.right.report.loss);
  }
  state = Object.freeze({ ...state, epoch: 1, batch: 0 });
  const config = { ...DEFAULT_TRAIN_CONFIG, epochs: 1, batchSize, limit: n, schedule: "constant" };
  const model = lenetDemoModel({ variant: modern, normalization, state, config });
  return {
    ...model,
    name: `LeNet-5 "modern" (trained in this page on ${n} digits, 1 epoch)`,
    description: `A LeNet-5 trained just now in this page (${total} steps of Adam on the first ` +
      `${n} MNIST training digits) with gradproof's ops: the prediction and its probabilities, ` +
      "each layer's feature maps, and (toggle) the delta maps. For a better model: " +
      `${TRAIN_FOR_DEMO.train}, then ${TRAIN_FOR_DEMO.serve}`,
  };
}
