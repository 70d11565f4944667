import assert from "node:assert/strict";
import { createProgress } from "../../src/cli/progress.ts";
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from "../../src/lenet/config.ts";
import { getVariant, type LeNetParams, modern, VARIANTS } from "../../src/lenet/model.ts";
import { momentum } from "../../src/lenet/optim.ts";
import { flattenParams, type Params } from "../../src/lenet/params.ts";
import {
  createGradientPool,
  makeShardedTrainStep,
  reduceShards,
  shardRanges,
} from "../../src/lenet/shards.ts";
import {
  type Batch,
  initTrainState,
  makeTrainStep,
  type TrainState,
} from "../../src/lenet/train.ts";
import { train } from "../../src/lenet/trainer.ts";
import { prngKey, randomNormal } from "../../src/tensor/random.ts";
import { tensor } from "../../src/tensor/tensor.ts";

const MNIST = Deno.env.get("MNIST_DIR") ??
  new URL("../../../shared/mnist/", import.meta.url).pathname;

/** Every parameter's raw bytes (bit-for-bit comparisons). */
const bitsOf = (p: Params) =>
  flattenParams(p).map(([path, t]) => [
    path,
    Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
  ]);

function batches(count: number, size: number): Batch[] {
  return Array.from({ length: count }, (_, b) => ({
    x: randomNormal(prngKey(100 + b), [size, 1, 28, 28]),
    labels: Uint8Array.from({ length: size }, (_, i) => (i * 7 + b) % 10),
  }));
}

Deno.test("shards: row ranges cover the batch in order, sizes differ by at most one", () => {
  assert.deepEqual(shardRanges(64, 2), [[0, 32], [32, 64]]);
  assert.deepEqual(shardRanges(5, 2), [[0, 2], [2, 5]]);
  assert.deepEqual(shardRanges(1, 2), [[0, 0], [0, 1]]);
  assert.deepEqual(shardRanges(7, 3), [[0, 2], [2, 4], [4, 7]]);
});

Deno.test("shards: the reduction weights each shard by its size, in shard order", () => {
  const template = { w: tensor([0, 0]) };
  const r = reduceShards(
    template,
    [
      { loss: 1, correct: 1, grads: [new Float32Array([3, 6])] },
      null,
      { loss: 4, correct: 2, grads: [new Float32Array([1, 1])] },
    ],
    [1, 0, 3],
    4,
  );
  assert.equal(r.loss, 0.25 * 1 + 0.75 * 4);
  assert.equal(r.correct, 3);
  assert.deepEqual(Array.from(r.grads.w.data), [0.25 * 3 + 0.75, 0.25 * 6 + 0.75]);
});

Deno.test("shards: one shard is exactly the plain step", async () => {
  const opt = momentum({ lr: 0.01, momentum: 0.9 });
  const pool = createGradientPool(1);
  try {
    const plain = makeTrainStep(modern, opt), sharded = makeShardedTrainStep(modern, opt, pool, 1);
    let a: TrainState<LeNetParams> = initTrainState(modern, opt, 3), b = a;
    for (const batch of batches(2, 12)) {
      const ra = plain(a, batch), rb = await sharded(b, batch);
      assert.ok(ra._tag === "Right" && rb._tag === "Right");
      assert.equal(ra.right.report.loss, rb.right.report.loss);
      a = ra.right.state;
      b = rb.right.state;
    }
    assert.deepEqual(bitsOf(a.params), bitsOf(b.params));
  } finally {
    pool.close();
  }
});

Deno.test("shards: 1 thread and 2 threads (a Worker) give bit-identical steps", async () => {
  const opt = momentum({ lr: 0.01, momentum: 0.9 });
  const one = createGradientPool(1), two = createGradientPool(2);
  try {
    const s1 = makeShardedTrainStep(modern, opt, one, 2);
    const s2 = makeShardedTrainStep(modern, opt, two, 2);
    let a: TrainState<LeNetParams> = initTrainState(modern, opt, 5), b = a;
    // the last batch is odd-sized: unequal shards
    for (const batch of [...batches(3, 16), ...batches(1, 7)]) {
      const ra = await s1(a, batch), rb = await s2(b, batch);
      assert.ok(ra._tag === "Right" && rb._tag === "Right");
      assert.equal(ra.right.report.loss, rb.right.report.loss);
      assert.equal(ra.right.report.correct, rb.right.report.correct);
      a = ra.right.state;
      b = rb.right.state;
    }
    assert.equal(a.step, 4);
    assert.deepEqual(bitsOf(a.params), bitsOf(b.params));
    // and the shards really changed the arithmetic: the plain step's weights differ
    let c: TrainState<LeNetParams> = initTrainState(modern, opt, 5);
    const plain = makeTrainStep(modern, opt);
    for (const batch of [...batches(3, 16), ...batches(1, 7)]) {
      const r = plain(c, batch);
      assert.ok(r._tag === "Right");
      c = r.right.state;
    }
    assert.notDeepEqual(bitsOf(a.params), bitsOf(c.params));
  } finally {
    one.close();
    two.close();
  }
});

Deno.test("shards: a Worker builds the same network for every variant and head", async () => {
  const opt = momentum({ lr: 0.01, momentum: 0.9 });
  const one = createGradientPool(1), two = createGradientPool(2);
  try {
    const networks = Object.values(VARIANTS).flatMap((v) => [v, ...Object.values(v.heads ?? {})]);
    assert.ok(networks.some((v) => getVariant(v.name)._tag === "Right" && v.head === "softmax"));
    for (const variant of networks) {
      const s1 = makeShardedTrainStep(variant, opt, one, 2);
      const s2 = makeShardedTrainStep(variant, opt, two, 2);
      const start = initTrainState(variant, opt, 3);
      const [batch] = batches(1, 6);
      const ra = await s1(start, batch), rb = await s2(start, batch);
      assert.ok(ra._tag === "Right" && rb._tag === "Right", `${variant.name} ${variant.head}`);
      assert.equal(ra.right.report.loss, rb.right.report.loss, `${variant.name} ${variant.head}`);
      assert.deepEqual(bitsOf(ra.right.state.params), bitsOf(rb.right.state.params));
    }
  } finally {
    one.close();
    two.close();
  }
});

Deno.test("trainer: --workers 1 and --workers 2 train bit-identical weights on an MNIST subset", async () => {
  const dir = await Deno.makeTempDir();
  const config: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    epochs: 1,
    batchSize: 32,
    optimizer: "momentum",
    lr: 0.01,
    limit: 192,
    testLimit: 64,
    augment: true,
    shards: 2,
  };
  const quiet = createProgress({ out: { writeSync: (b) => b.length }, live: false });
  const run = async (workers: number, out: string) => {
    const r = await train({ config, out, dataDir: MNIST, offline: true, workers }, {
      progress: quiet,
    });
    if (r._tag === "Left") throw new Error(r.left.message);
    return r.right;
  };
  try {
    const a = await run(1, `${dir}/a`), b = await run(2, `${dir}/b`);
    assert.equal(a.state.step, 6);
    assert.deepEqual(bitsOf(a.state.params), bitsOf(b.state.params));
    assert.equal(a.finalTest?.correct, b.finalTest?.correct);
    // more workers than shards is refused before any work
    const bad = await train(
      { config, out: `${dir}/c`, dataDir: MNIST, offline: true, workers: 3 },
      {
        progress: quiet,
      },
    );
    assert.ok(
      bad._tag === "Left" &&
        /workers must be an integer from 1 to the run's 2/.test(bad.left.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
