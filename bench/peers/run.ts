/**
 * `deno task bench:peers`: LeNet-5 training throughput of gradproof vs TensorFlow.js-wasm, side
 * by side on the same shuffled MNIST batches, ending with `speedup_vs_tfjs_wasm=<ratio>` (the
 * median of paired chunk ratios). Then inference images/s at batch 1000 and, with --epoch, one
 * full epoch from fresh weights per system with its test accuracy.
 *
 *   deno task bench:peers                      gradproof vs tfjs-wasm
 *   deno task bench:peers --only tfjs-wasm     TF.js's figures alone
 *   deno task bench:peers --systems tfjs-wasm,tfjs-wasm   A/A run: the protocol's noise
 *   options: --chunks 5 --chunk-batches 50 --warmup 10 --infer-repeats 5 --epoch --seed 1
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createGradproofTrainer } from "./gradproof_trainer.ts";
import { loadPeerData, mnistDir } from "./data.ts";
import {
  accuracy,
  fmtRate,
  inferenceRates,
  LENET_CONFIG,
  median,
  type PairedOptions,
  type PeerPredictor,
  type PeerTrainer,
  runPaired,
  runSolo,
  speedupKey,
  timeChunk,
  type TrainerConfig,
  type TrainerFactory,
} from "./paired.ts";
import { createTfjsWasmTrainer } from "./tfjs_lenet.ts";

const FACTORIES: Record<string, TrainerFactory> = {
  "gradproof": createGradproofTrainer,
  "tfjs-wasm": createTfjsWasmTrainer,
};
const CANDIDATE = "gradproof", BASELINE = "tfjs-wasm";

type System = PeerTrainer & PeerPredictor;

function load(): string {
  try {
    return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  } catch {
    return "n/a";
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      only: { type: "string" },
      systems: { type: "string", default: `${CANDIDATE},${BASELINE}` },
      chunks: { type: "string", default: "5" },
      "chunk-batches": { type: "string", default: "50" },
      warmup: { type: "string", default: "10" },
      "infer-repeats": { type: "string", default: "5" },
      epoch: { type: "boolean", default: false },
      seed: { type: "string", default: "1" },
    },
  });
  const int = (name: string, v: string, min: number) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return x;
  };
  const config: TrainerConfig = { ...LENET_CONFIG, seed: int("seed", values.seed, 0) };
  const names = values.only !== undefined ? [values.only] : values.systems.split(",");
  if (names.length < 1 || names.length > 2) throw new Error("--systems takes one or two names");
  for (const n of names) {
    if (!(n in FACTORIES)) {
      throw new Error(`unknown system "${n}"; known: ${Object.keys(FACTORIES)}`);
    }
  }
  const log = (line: string) => console.log(line);
  const opts: PairedOptions = {
    warmupBatches: int("warmup", values.warmup, 1),
    chunks: int("chunks", values.chunks, 1),
    chunkBatches: int("chunk-batches", values["chunk-batches"], 1),
    log,
  };
  const repeats = int("infer-repeats", values["infer-repeats"], 1);

  log(
    `LeNet-5 modern, batch ${config.batchSize}, SGD momentum ${config.momentum}, ` +
      `lr ${config.lr}, float32; systems: ${names.join(", ")}; load avg ${load()}`,
  );
  const t0 = performance.now();
  const { data, test } = await loadPeerData(config.seed);
  log(
    `MNIST from ${mnistDir()}: ${data.n} train (shuffled, seed ${config.seed}), ${test.n} ` +
      `test (${((performance.now() - t0) / 1000).toFixed(1)} s, not timed)`,
  );

  let systems: System[];
  try {
    systems = [];
    for (const n of names) systems.push(await FACTORIES[n](data, config));
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    return 2;
  }

  log(
    `-- training: ${opts.warmupBatches} warm-up batches each, then ${opts.chunks} chunks of ` +
      `${opts.chunkBatches} batches${systems.length === 2 ? ", alternating" : ""}`,
  );
  const paired = systems.length === 2
    ? await runPaired(systems[0], systems[1], opts)
    : (await runSolo(systems[0], opts), undefined);

  log(`-- inference: batch 1000, ${repeats} repeats after 1 warm-up`);
  const rates = await inferenceRates(systems, test.images, 1000, repeats);
  systems.forEach((s, i) => {
    const all = rates[i].map(fmtRate).join(", ");
    log(`${s.name}: median ${fmtRate(median(rates[i]))} images/s (${all})`);
  });
  if (systems.length === 2) {
    const ratios = rates[0].map((r, k) => r / rates[1][k]);
    log(`inference_${speedupKey(systems[1].name)}=${median(ratios).toFixed(2)}`);
  }

  if (values.epoch) {
    const batches = Math.floor(data.n / config.batchSize);
    log(
      `-- one epoch from fresh weights: ${batches} batches (${batches * config.batchSize} images)`,
    );
    for (const n of names) {
      const fresh = await FACTORIES[n](data, config);
      const { seconds } = await timeChunk(fresh, batches, () => performance.now(), log);
      const acc = accuracy(await fresh.predict(test.images, test.n, 1000), test.labels, test.n);
      log(
        `${n}: epoch ${seconds.toFixed(1)} s (${fmtRate(batches * config.batchSize / seconds)} ` +
          `ex/s), final loss ${fresh.lastLoss().toFixed(4)}, test accuracy ` +
          `${(acc * 100).toFixed(2)}%`,
      );
    }
  }
  const rss = (Deno.memoryUsage().rss / 2 ** 20).toFixed(0);
  log(`load avg ${load()}; rss ${rss} MiB`);
  // The contract of this task: its last line is the training speedup (median paired ratio).
  if (paired !== undefined) log(`${speedupKey(systems[1].name)}=${paired.median.toFixed(2)}`);
  return 0;
}

if (import.meta.main) {
  const code = await main(Deno.args).catch((e: unknown) => {
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    return 1;
  });
  Deno.exit(code);
}
