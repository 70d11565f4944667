/**
 * Data-parallel scaling of the training step: examples/s at batch 32..256 for the plain step
 * (one thread, unsharded), 2 gradient shards on 1 thread, and 2 shards on 2 threads (this one
 * plus a Worker), interleaved round by round on the same real MNIST batches; medians of wall
 * time (threads only help wall time). The weights of the two sharded modes are checked to be
 * bit-identical after every round.
 *
 * ```sh
 * deno run --allow-read --allow-env bench/workers_bench.ts [--batches 32,64,128,256] [--steps 40] [--rounds 5]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { loadMnist } from "../src/lenet/mnist.ts";
import { type LeNetParams, modern } from "../src/lenet/model.ts";
import { momentum } from "../src/lenet/optim.ts";
import { flattenParams } from "../src/lenet/params.ts";
import { createGradientPool, makeShardedTrainStep } from "../src/lenet/shards.ts";
import {
  type Batch,
  epochOrder,
  gatherBatch,
  initTrainState,
  makeTrainStep,
  type TrainState,
} from "../src/lenet/train.ts";

/** Prints the table (a script, not a `deno bench` file: it times threads by wall clock). */
async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      batches: { type: "string", default: "32,64,128,256" },
      steps: { type: "string", default: "40" },
      rounds: { type: "string", default: "5" },
    },
  });
  const sizes = values.batches.split(",").map(Number);
  const steps = Number(values.steps), rounds = Number(values.rounds);
  const dir = Deno.env.get("MNIST_DIR") ||
    fileURLToPath(new URL("../../shared/mnist/", import.meta.url));
  const r = await loadMnist({ dir, offline: true, standardize: true, env: () => undefined })();
  if (r._tag === "Left") throw new Error(r.left.message);
  const train = r.right.train;
  const opt = momentum({ lr: 0.01, momentum: 0.9 });
  const one = createGradientPool(1), two = createGradientPool(2);

  type Mode = {
    name: string;
    step: (s: TrainState<LeNetParams>, b: Batch) => Promise<TrainState<LeNetParams>>;
  };
  const unwrap = <T>(
    e: { _tag: "Left"; left: { message: string } } | { _tag: "Right"; right: T },
  ) => {
    if (e._tag === "Left") throw new Error(e.left.message);
    return e.right;
  };
  const plain = makeTrainStep(modern, opt);
  const s1 = makeShardedTrainStep(modern, opt, one, 2),
    s2 = makeShardedTrainStep(modern, opt, two, 2);
  const modes: Mode[] = [
    { name: "plain (1 thread)", step: (s, b) => Promise.resolve(unwrap(plain(s, b)).state) },
    { name: "2 shards, 1 thread", step: async (s, b) => unwrap(await s1(s, b)).state },
    { name: "2 shards, 2 threads", step: async (s, b) => unwrap(await s2(s, b)).state },
  ];
  const order = epochOrder(initTrainState(modern, opt, 0).key, 0, train.count);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const bits = (s: TrainState<LeNetParams>) =>
    flattenParams(s.params).map(([, t]) => Array.from(new Uint32Array(t.data.slice().buffer)));

  console.log(
    `LeNet-5 modern, SGD momentum 0.9, ${steps} steps per sample, ${rounds} interleaved rounds; ` +
      `load avg ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
  );
  console.log(
    `${"batch".padEnd(7)}${modes.map((m) => m.name.padStart(22)).join("")}   (examples/s)`,
  );
  try {
    for (const B of sizes) {
      const batches = Array.from(
        { length: steps },
        (_, i) => gatherBatch(train, undefined, order, (i * B) % (train.count - B), B),
      );
      const rates = modes.map(() => [] as number[]);
      for (let round = -1; round < rounds; round++) { // round -1: warm-up
        const finals: TrainState<LeNetParams>[] = [];
        for (const [k, m] of modes.entries()) {
          let s: TrainState<LeNetParams> = initTrainState(modern, opt, 0);
          const t0 = performance.now();
          for (const b of batches) s = await m.step(s, b);
          const sec = (performance.now() - t0) / 1000;
          if (round >= 0) rates[k].push(steps * B / sec);
          finals.push(s);
        }
        if (JSON.stringify(bits(finals[1])) !== JSON.stringify(bits(finals[2]))) {
          throw new Error(`batch ${B}: 1 and 2 threads gave different weights`);
        }
      }
      console.log(
        `${String(B).padEnd(7)}${
          rates.map((x) => Math.round(median(x)).toLocaleString("en-US").padStart(22)).join("")
        }   2 threads / plain: ${(median(rates[2]) / median(rates[0])).toFixed(2)}x`,
      );
    }
  } finally {
    one.close();
    two.close();
  }
}

if (import.meta.main) await main();
