/**
 * The side-by-side protocol of `deno task bench:peers`, independent of any ML library: warm
 * both systems up, then alternate equal chunks of training batches (on the same data, in the
 * same order) and take the median of the per-pair throughput ratios. Alternating, and swapping
 * who goes first in every other pair, spreads the noise of a shared machine over both systems.
 *
 * @module
 */

/** Training data already in the order to train on: images [n, 1, 28, 28] in [0, 1]. */
export type TrainData = { images: Float32Array; labels: Uint8Array; n: number };

/** Hyper-parameters both systems must use. */
export type TrainerConfig = { batchSize: number; lr: number; momentum: number; seed: number };

/** The benchmark's fixed configuration: LeNet-5 `modern`, batch 64, SGD momentum 0.9. */
export const LENET_CONFIG: TrainerConfig = { batchSize: 64, lr: 0.01, momentum: 0.9, seed: 1 };

/**
 * One system under test. Both methods train on the next `batches` batches of its data
 * (wrapping around) and return the seconds the training took, measured after all of its work
 * is complete (no deferred computation). The runner checks those seconds against its own clock.
 */
export interface PeerTrainer {
  readonly name: string;
  readonly batchSize: number;
  warmup(batches: number): Promise<number>;
  trainChunk(batches: number): Promise<number>;
  /** Mean loss of the last batch trained, to show that training happens. */
  lastLoss(): number;
}

/** Predicted classes of `n` images [n, 1, 28, 28] (current weights), `batch` at a time. */
export type PeerPredictor = {
  predict(images: Float32Array, n: number, batch: number): Promise<Uint8Array>;
};

/** Builds a fresh trainer (freshly initialized weights) over `data`. */
export type TrainerFactory = (
  data: TrainData,
  config: TrainerConfig,
) => Promise<PeerTrainer & PeerPredictor>;

/** Protocol sizes, an injectable clock (milliseconds) and a line printer. */
export type PairedOptions = {
  warmupBatches: number;
  chunks: number;
  chunkBatches: number;
  log: (line: string) => void;
  clock?: () => number;
};

/** One timed chunk of one system. */
export type ChunkTiming = { name: string; seconds: number; examplesPerSec: number };

/** Per-pair timings of both systems, their ratios (a over b) and the median ratio. */
export type PairedResult = {
  pairs: { a: ChunkTiming; b: ChunkTiming; ratio: number }[];
  median: number;
};

/** The median of a non-empty list (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of an empty list");
  const s = [...xs].sort((p, q) => p - q);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** `speedup_vs_<baseline>`: the name with every non-alphanumeric character as `_`. */
export function speedupKey(baseline: string): string {
  return `speedup_vs_${baseline.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** Formats examples/s with thousands separators, e.g. `12,345`. */
export function fmtRate(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}

/**
 * Runs one chunk and checks the trainer's reported seconds against the runner's clock: more
 * than the wall time is impossible; much less means the trainer left work out of its timing.
 */
export async function timeChunk(
  t: PeerTrainer,
  batches: number,
  clock: () => number,
  log: (line: string) => void,
): Promise<ChunkTiming> {
  const t0 = clock();
  const seconds = await t.trainChunk(batches);
  const wall = (clock() - t0) / 1000;
  if (!(seconds > 0) || seconds > wall * 1.01 + 1e-3) {
    throw new Error(
      `${t.name}: reported ${seconds} s for a chunk that took ${wall} s of wall time`,
    );
  }
  if (seconds < 0.95 * wall) {
    log(`  note: ${t.name} timed ${seconds.toFixed(3)} s of a ${wall.toFixed(3)} s chunk`);
  }
  return { name: t.name, seconds, examplesPerSec: (batches * t.batchSize) / seconds };
}

/** Warm-up, then `chunks` pairs of alternating chunks; logs each pair and the median ratio. */
export async function runPaired(
  a: PeerTrainer,
  b: PeerTrainer,
  o: PairedOptions,
): Promise<PairedResult> {
  const clock = o.clock ?? (() => performance.now());
  if (a.batchSize !== b.batchSize) {
    throw new Error(`batch sizes differ: ${a.name} ${a.batchSize}, ${b.name} ${b.batchSize}`);
  }
  await a.warmup(o.warmupBatches);
  await b.warmup(o.warmupBatches);
  const pairs: PairedResult["pairs"] = [];
  for (let i = 0; i < o.chunks; i++) {
    const order = i % 2 === 0 ? [a, b] : [b, a];
    const first = await timeChunk(order[0], o.chunkBatches, clock, o.log);
    const second = await timeChunk(order[1], o.chunkBatches, clock, o.log);
    const [ta, tb] = i % 2 === 0 ? [first, second] : [second, first];
    const ratio = ta.examplesPerSec / tb.examplesPerSec;
    pairs.push({ a: ta, b: tb, ratio });
    o.log(
      `pair ${i + 1}/${o.chunks}: ${a.name} ${fmtRate(ta.examplesPerSec)} ex/s, ` +
        `${b.name} ${fmtRate(tb.examplesPerSec)} ex/s, ratio ${ratio.toFixed(2)}`,
    );
  }
  const m = median(pairs.map((p) => p.ratio));
  o.log(`${a.name}: median ${fmtRate(median(pairs.map((p) => p.a.examplesPerSec)))} ex/s`);
  o.log(`${b.name}: median ${fmtRate(median(pairs.map((p) => p.b.examplesPerSec)))} ex/s`);
  o.log(`${a.name} / ${b.name}: median of paired ratios ${m.toFixed(2)}`);
  return { pairs, median: m };
}

/** Warm-up, then `chunks` timed chunks of one system; logs each and the median examples/s. */
export async function runSolo(t: PeerTrainer, o: PairedOptions): Promise<ChunkTiming[]> {
  const clock = o.clock ?? (() => performance.now());
  await t.warmup(o.warmupBatches);
  const out: ChunkTiming[] = [];
  for (let i = 0; i < o.chunks; i++) {
    const c = await timeChunk(t, o.chunkBatches, clock, o.log);
    out.push(c);
    o.log(
      `chunk ${i + 1}/${o.chunks}: ${t.name} ${fmtRate(c.examplesPerSec)} ex/s ` +
        `(${o.chunkBatches} batches in ${c.seconds.toFixed(2)} s, loss ${t.lastLoss().toFixed(3)})`,
    );
  }
  o.log(`${t.name}: median ${fmtRate(median(out.map((c) => c.examplesPerSec)))} ex/s (train)`);
  return out;
}

/**
 * Inference images/s of each system on one `batch` of images, `repeats` times after one
 * warm-up pass, round-robin (the first system rotates every repeat). Result [system][repeat].
 */
export async function inferenceRates(
  systems: readonly (PeerPredictor & { name: string })[],
  images: Float32Array,
  batch: number,
  repeats: number,
  clock: () => number = () => performance.now(),
): Promise<number[][]> {
  const rates = systems.map(() => [] as number[]);
  for (const s of systems) await s.predict(images, batch, batch);
  for (let r = 0; r < repeats; r++) {
    for (let k = 0; k < systems.length; k++) {
      const i = (r + k) % systems.length;
      const t0 = clock();
      await systems[i].predict(images, batch, batch);
      rates[i].push(batch / ((clock() - t0) / 1000));
    }
  }
  return rates;
}

/** Fraction of `predicted` equal to `labels` over the first `n`. */
export function accuracy(predicted: Uint8Array, labels: Uint8Array, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) ok += predicted[i] === labels[i] ? 1 : 0;
  return ok / n;
}
