import assert from "node:assert/strict";
import {
  accuracy,
  inferenceRates,
  median,
  type PeerPredictor,
  type PeerTrainer,
  runPaired,
  runSolo,
  speedupKey,
} from "../../../bench/peers/paired.ts";

/** A fake trainer on a fake clock: each batch "takes" `msPerBatch`, reported as `reportScale`. */
function fake(
  name: string,
  clock: { now: number },
  msPerBatch: number[],
  calls: string[],
  reportScale = 1,
): PeerTrainer & PeerPredictor {
  let chunk = 0;
  const run = (kind: string, batches: number) => {
    calls.push(`${name}:${kind}:${batches}`);
    const ms = batches * msPerBatch[Math.min(chunk++, msPerBatch.length - 1)];
    clock.now += ms;
    return Promise.resolve((ms / 1000) * reportScale);
  };
  return {
    name,
    batchSize: 64,
    warmup: (b) => run("warmup", b),
    trainChunk: (b) => run("chunk", b),
    lastLoss: () => 0.5,
    predict: (_images, n) => {
      clock.now += n * msPerBatch[0] / 1000;
      return Promise.resolve(new Uint8Array(n));
    },
  };
}

Deno.test("median: odd, even, unsorted input left untouched", () => {
  const xs = [5, 1, 3];
  assert.equal(median(xs), 3);
  assert.deepEqual(xs, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /empty/);
});

Deno.test("speedupKey names the baseline with underscores", () => {
  assert.equal(speedupKey("tfjs-wasm"), "speedup_vs_tfjs_wasm");
});

Deno.test("runPaired alternates who goes first and reports the median of paired ratios", async () => {
  const clock = { now: 0 }, calls: string[] = [], lines: string[] = [];
  // b's per-batch time varies by chunk (warm-up is its first entry); a is steady at 10 ms.
  const a = fake("a", clock, [10], calls);
  const b = fake("b", clock, [99, 40, 20, 30], calls);
  const r = await runPaired(a, b, {
    warmupBatches: 2,
    chunks: 3,
    chunkBatches: 5,
    log: (l) => lines.push(l),
    clock: () => clock.now,
  });
  assert.deepEqual(calls, [
    "a:warmup:2",
    "b:warmup:2",
    "a:chunk:5",
    "b:chunk:5",
    "b:chunk:5",
    "a:chunk:5",
    "a:chunk:5",
    "b:chunk:5",
  ]);
  assert.deepEqual(r.pairs.map((p) => p.ratio), [4, 2, 3]);
  assert.equal(r.median, 3);
  assert.equal(r.pairs[0].a.examplesPerSec, 5 * 64 / 0.05);
  assert.match(lines.at(-1)!, /median of paired ratios 3\.00/);
});

Deno.test("a trainer that reports more seconds than elapsed is rejected", async () => {
  const clock = { now: 0 }, calls: string[] = [];
  const cheat = fake("cheat", clock, [10], calls, 2);
  await assert.rejects(
    runSolo(cheat, {
      warmupBatches: 1,
      chunks: 1,
      chunkBatches: 3,
      log: () => {},
      clock: () => clock.now,
    }),
    /reported 0\.06 s for a chunk that took 0\.03 s/,
  );
});

Deno.test("a trainer that times only part of its chunk is flagged", async () => {
  const clock = { now: 0 }, calls: string[] = [], lines: string[] = [];
  const partial = fake("partial", clock, [10], calls, 0.5);
  const out = await runSolo(partial, {
    warmupBatches: 1,
    chunks: 2,
    chunkBatches: 4,
    log: (l) => lines.push(l),
    clock: () => clock.now,
  });
  assert.equal(out.length, 2);
  assert.equal(
    lines.filter((l) => l.includes("note: partial timed 0.020 s of a 0.040 s")).length,
    2,
  );
});

Deno.test("inferenceRates rotates the first system and measures each repeat", async () => {
  const clock = { now: 0 }, order: string[] = [];
  const sys = (name: string, msPerImage: number) => ({
    name,
    predict: (_i: Float32Array, n: number) => {
      order.push(name);
      clock.now += n * msPerImage;
      return Promise.resolve(new Uint8Array(n));
    },
  });
  const rates = await inferenceRates(
    [sys("a", 0.1), sys("b", 0.2)],
    new Float32Array(0),
    1000,
    2,
    () => clock.now,
  );
  assert.deepEqual(order, ["a", "b", "a", "b", "b", "a"]);
  assert.deepEqual(rates, [[10_000, 10_000], [5_000, 5_000]]);
});

Deno.test("accuracy counts matches over the first n", () => {
  assert.equal(accuracy(Uint8Array.of(1, 2, 3, 9), Uint8Array.of(1, 0, 3, 0), 3), 2 / 3);
});
