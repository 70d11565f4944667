/**
 * Our own trainer in `deno task bench:peers`: LeNet-5 `modern` (61,706 parameters) trained with
 * src/lenet's pure step (`makeTrainStep`: forward, the hand-derived backward rules through
 * `valueAndGrad`, the non-finite guard and the optimizer), SGD with momentum as the benchmark's
 * config says, mean softmax cross-entropy, on batches i*B..(i+1)*B of `data` in order, wrapping
 * around after the last full batch (as the TF.js side does).
 *
 * @module
 */

import { modern } from "../../src/lenet/model.ts";
import { momentum } from "../../src/lenet/optim.ts";
import { countParams } from "../../src/lenet/params.ts";
import { initTrainState, makeTrainStep, type TrainState } from "../../src/lenet/train.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import type { PeerPredictor, PeerTrainer, TrainData, TrainerConfig } from "./paired.ts";

/** Builds gradproof's trainer over `data` (which must hold at least one full batch). */
export function createGradproofTrainer(
  data: TrainData,
  config: TrainerConfig,
): Promise<PeerTrainer & PeerPredictor> {
  const bs = config.batchSize, full = Math.floor(data.n / bs);
  if (full < 1) return Promise.reject(new Error(`need >= ${bs} training images`));
  const opt = momentum({ lr: config.lr, momentum: config.momentum });
  const step = makeTrainStep(modern, opt);
  let state: TrainState<ReturnType<typeof modern.init>> = initTrainState(modern, opt, config.seed);
  const n = countParams(state.params);
  if (n !== 61_706) return Promise.reject(new Error(`LeNet-5 modern has ${n} parameters`));
  let next = 0, lastLoss = NaN;
  const timed = (batches: number) => {
    const t0 = performance.now();
    for (let i = 0; i < batches; i++) {
      const at = (next++ % full) * bs;
      // A view of the data (the step never writes its inputs), labels likewise.
      const x = new Tensor(data.images.subarray(at * 784, (at + bs) * 784), [bs, 1, 28, 28]);
      const r = step(state, { x, labels: data.labels.subarray(at, at + bs) });
      if (r._tag === "Left") throw new Error(r.left.message);
      state = r.right.state;
      lastLoss = r.right.report.loss;
    }
    return Promise.resolve((performance.now() - t0) / 1000);
  };
  return Promise.resolve({
    name: "gradproof",
    batchSize: bs,
    warmup: timed,
    trainChunk: timed,
    lastLoss: () => lastLoss,
    predict(images: Float32Array, count: number, batch: number) {
      const out = new Uint8Array(count);
      for (let at = 0; at < count; at += batch) {
        const m = Math.min(batch, count - at);
        const z = modern.forward(
          state.params,
          new Tensor(images.subarray(at * 784, (at + m) * 784), [m, 1, 28, 28]),
        ).data;
        for (let i = 0; i < m; i++) {
          let best = 0;
          for (let j = 1; j < 10; j++) if (z[i * 10 + j] > z[i * 10 + best]) best = j;
          out[at + i] = best;
        }
      }
      return Promise.resolve(out);
    },
  });
}
