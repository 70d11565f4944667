import assert from "node:assert/strict";
import {
  checkTrainConfig,
  DEFAULT_TRAIN_CONFIG,
  flagName,
  optimizerFor,
  parseInit,
  parseTrainConfig,
} from "../../src/lenet/config.ts";

Deno.test("config: the defaults are valid and survive a JSON round trip", () => {
  const back = parseTrainConfig(JSON.stringify(DEFAULT_TRAIN_CONFIG));
  assert.ok(back._tag === "Right");
  assert.deepEqual(back.right, DEFAULT_TRAIN_CONFIG);
  assert.equal(flagName("batchSize"), "batch-size");
  assert.equal(flagName("testLimit"), "test-limit");
});

Deno.test("config: each bad value is rejected with its flag named", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ epochs: 0 }, /--epochs 0 is invalid: need an integer >= 1/],
    [{ batchSize: 2.5 }, /--batch-size 2.5/],
    [{ lr: -1 }, /--lr -1/],
    [{ optimizer: "rmsprop" }, /--optimizer "rmsprop".*adam, sgd or momentum/],
    [{ momentum: 1 }, /--momentum 1/],
    [{ schedule: "linear" }, /unknown schedule "linear"/],
    [{ init: "he-cauchy" }, /--init "he-cauchy"/],
    [{ dtype: "float16" }, /--dtype "float16"/],
    [{ validation: 60000 }, /--validation 60000/],
    [{ patience: 3 }, /--patience needs a validation split/],
  ];
  for (const [change, msg] of cases) {
    const r = checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, ...change });
    assert.ok(r._tag === "Left", JSON.stringify(change));
    assert.match(r.left, msg);
  }
  assert.equal(
    checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, patience: 3, validation: 5000 })._tag,
    "Right",
  );
  const { epochs: _, ...missing } = DEFAULT_TRAIN_CONFIG;
  assert.match((checkTrainConfig(missing) as { left: string }).left, /no "epochs"/);
  assert.match(
    (checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, colour: "red" }) as { left: string }).left,
    /unknown configuration entries: colour/,
  );
  assert.equal(
    parseTrainConfig("{")
      ._tag,
    "Left",
  );
});

Deno.test("config: a stored configuration from before shards existed reads as unsharded", () => {
  const { shards: _, ...old } = DEFAULT_TRAIN_CONFIG;
  const back = parseTrainConfig(JSON.stringify(old));
  assert.ok(back._tag === "Right");
  assert.equal(back.right.shards, 1);
  const bad = checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, shards: 0 });
  assert.ok(bad._tag === "Left" && /--shards 0 is invalid/.test(bad.left));
});

Deno.test("config: --init parsing", () => {
  assert.deepEqual(parseInit("he"), {
    _tag: "Right",
    right: { scheme: "he", distribution: "uniform" },
  });
  assert.deepEqual(parseInit("lecun-normal"), {
    _tag: "Right",
    right: { scheme: "lecun", distribution: "normal" },
  });
  for (const bad of ["xavier", "he-normal-x", "he-", ""]) assert.equal(parseInit(bad)._tag, "Left");
});

Deno.test("config: the optimizer and schedule it describes", () => {
  const { optimizer, schedule } = optimizerFor(DEFAULT_TRAIN_CONFIG, 100);
  assert.equal(optimizer.name, "adam");
  // linear warmup over 300 steps, then cosine decay from the peak
  assert.ok(Math.abs(schedule(0) - DEFAULT_TRAIN_CONFIG.lr / 300) < 1e-18);
  const T = 100 * DEFAULT_TRAIN_CONFIG.epochs,
    cosine = (t: number) => (1 + Math.cos(Math.PI * t / T)) / 2;
  assert.ok(Math.abs(schedule(299) - DEFAULT_TRAIN_CONFIG.lr * cosine(299)) < 1e-15);
  assert.ok(Math.abs(schedule(150) - DEFAULT_TRAIN_CONFIG.lr * cosine(150) * (151 / 300)) < 1e-15);
  assert.ok(Math.abs(schedule(100 * DEFAULT_TRAIN_CONFIG.epochs)) < 1e-15); // cosine reaches 0
  const m = optimizerFor(
    { ...DEFAULT_TRAIN_CONFIG, optimizer: "momentum", schedule: "step:2:0.5", lr: 0.1 },
    10,
  );
  assert.deepEqual(m.optimizer.momentNames, ["velocity"]);
  assert.deepEqual([m.schedule(19), m.schedule(20)], [0.1, 0.05]);
});

Deno.test("config: --head is stored; a configuration saved before it existed reads as head null", () => {
  const soft = parseTrainConfig(JSON.stringify({ ...DEFAULT_TRAIN_CONFIG, head: "softmax" }));
  assert.ok(soft._tag === "Right");
  assert.equal(soft.right.head, "softmax");
  const { head: _, ...older } = DEFAULT_TRAIN_CONFIG;
  const back = parseTrainConfig(JSON.stringify(older));
  assert.ok(back._tag === "Right");
  assert.deepEqual(back.right, DEFAULT_TRAIN_CONFIG);
  // checkTrainConfig itself still wants every entry.
  assert.match((checkTrainConfig(older) as { left: string }).left, /no "head"/);
  const bad = checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, head: 3 });
  assert.ok(bad._tag === "Left");
  assert.match(bad.left, /--head 3 is invalid: need a name/);
});
