/**
 * Where our own trainer plugs into `deno task bench:peers`. Until src/lenet's training step is
 * on main this factory only explains what is missing; run `deno task bench:peers --only
 * tfjs-wasm` meanwhile.
 *
 * To plug it in, return a {@link PeerTrainer} named "gradproof" that, like the TF.js one:
 * - initializes LeNet-5 `modern` (61,706 parameters, assert it) from `config.seed`;
 * - converts `data` once here (outside any timing) to whatever layout it trains on;
 * - in `warmup(b)` / `trainChunk(b)` runs `b` SGD steps (batch `config.batchSize`, momentum
 *   `config.momentum`, lr `config.lr`, mean softmax cross-entropy) on batches i*B..(i+1)*B of
 *   `data` in order, wrapping around after the last full batch, and returns the seconds they
 *   took with all their work finished (workers joined);
 * - reports the last batch's loss from `lastLoss()`;
 * - offers `predict(images, n, batch)` ({@link PeerPredictor}) so the runner also compares
 *   inference images/s and test accuracy;
 * - is added to `FACTORIES` in run.ts (already done: it calls this function).
 *
 * @module
 */

import type { PeerPredictor, PeerTrainer, TrainData, TrainerConfig } from "./paired.ts";

/** Builds gradproof's trainer (not yet available: throws with what remains to do). */
export function createGradproofTrainer(
  _data: TrainData,
  _config: TrainerConfig,
): Promise<PeerTrainer & PeerPredictor> {
  return Promise.reject(
    new Error(
      "the gradproof trainer is not plugged in yet (bench/peers/gradproof_trainer.ts waits for " +
        "src/lenet's training step); run with --only tfjs-wasm for TF.js's figures",
    ),
  );
}
