import assert from "node:assert/strict";
import { createProgress, type Progress } from "../../src/cli/progress.ts";
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from "../../src/lenet/config.ts";
import { flattenParams, type Params } from "../../src/lenet/params.ts";
import { loadRun } from "../../src/lenet/run_checkpoint.ts";
import { train, type TrainRun } from "../../src/lenet/trainer.ts";
import { formatRunError, readRun } from "../../src/lenet/run_files.ts";
import { renderReport } from "../../src/cli/report/render.ts";

const MNIST = Deno.env.get("MNIST_DIR") ??
  new URL("../../../shared/mnist/", import.meta.url).pathname;

const TINY: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  epochs: 2,
  batchSize: 32,
  lr: 2e-3,
  schedule: "cosine",
  limit: 256,
  testLimit: 100,
};

const quiet = (): Progress => createProgress({ out: { writeSync: (b) => b.length }, live: false });

async function run(
  config: TrainConfig,
  out: string,
  extra: Partial<TrainRun> = {},
  progress = quiet(),
  signal?: AbortSignal,
) {
  const r = await train({ config, out, dataDir: MNIST, offline: true, ...extra }, {
    progress,
    signal,
  });
  if (r._tag === "Left") throw new Error(r.left.message);
  return r.right;
}

/** Every parameter's raw bytes, by path (bit-for-bit comparisons, any dtype). */
const bitsOf = (p: Params) =>
  flattenParams(p).map((
    [path, t],
  ) => [path, Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))]);

Deno.test("trainer: same seed, bit-identical weights (with augmentation); another seed differs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg = { ...TINY, augment: true };
    const a = await run(cfg, `${dir}/a`), b = await run(cfg, `${dir}/b`);
    const c = await run({ ...cfg, seed: 1 }, `${dir}/c`);
    assert.equal(a.status, "completed");
    assert.deepEqual(bitsOf(a.state.params), bitsOf(b.state.params));
    assert.notDeepEqual(bitsOf(a.state.params), bitsOf(c.state.params));
    // and without augmentation the weights differ again: augmentation really ran
    const d = await run(TINY, `${dir}/d`);
    assert.notDeepEqual(bitsOf(a.state.params), bitsOf(d.state.params));
    // the saved checkpoint holds exactly the final weights
    const saved = await loadRun(`${dir}/a/checkpoint.safetensors`)();
    assert.ok(saved._tag === "Right");
    assert.deepEqual(bitsOf(saved.right.state.params), bitsOf(a.state.params));
    assert.deepEqual([saved.right.state.epoch, saved.right.state.batch, saved.right.state.step], [
      2,
      0,
      16,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainer: run folder: metrics.jsonl per epoch, report.json, best and last checkpoints", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = await run(TINY, dir);
    const lines = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(lines.length, 2);
    for (const [i, m] of lines.entries()) {
      assert.deepEqual(Object.keys(m).slice(0, 7), [
        "epoch",
        "train_loss",
        "train_accuracy",
        "test_loss",
        "test_accuracy",
        "examples_per_s",
        "epoch_seconds",
      ]);
      assert.equal(m.epoch, i + 1);
      assert.equal(m.step, 8 * (i + 1));
      assert.ok(m.test_accuracy >= 0 && m.test_accuracy <= 1 && m.train_loss > 0);
      assert.ok(m.examples_per_s > 0 && m.epoch_seconds > 0);
    }
    assert.equal(lines[1].test_accuracy, s.finalTest!.accuracy);
    assert.equal(s.finalTest!.count, 100);
    // report.json and metrics.jsonl read back through `deno task report`'s own reader
    const read = await readRun(dir);
    assert.ok(read._tag === "Right", read._tag === "Left" ? formatRunError(read.left) : "");
    assert.equal(read.right.metrics.length, 2);
    const report = read.right.report!;
    assert.equal(report.test_examples, 100);
    assert.equal(report.confusion.flat().reduce((x, y) => x + y, 0), 100);
    assert.ok(report.wrong.length > 0 && report.wrong.every((d) => d.prediction !== d.label));
    assert.deepEqual(report.filters.map((f) => [f.layer, f.shape]), [["c1", [6, 1, 5, 5]], [
      "c3",
      [16, 6, 5, 5],
    ]]);
    assert.equal(report.digits.length, 10);
    assert.deepEqual(report.digits.map((d) => d.label), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const d = report.digits[0];
    assert.deepEqual(d.layers.map((l) => `${l.name} ${l.shape.join("x")}`), [
      "c1 6x28x28",
      "s2 6x14x14",
      "c3 16x10x10",
      "s4 16x5x5",
      "c5 120",
      "f6 84",
      "out 10",
    ]);
    assert.ok(d.layers[0].delta.some((v) => v !== 0));
    const html = renderReport(read.right, d);
    assert.match(html, /^<!DOCTYPE html>/i);
    assert.ok(html.includes("<svg"));
    for (const f of ["checkpoint.safetensors", "best.safetensors"]) {
      assert.ok((await Deno.stat(`${dir}/${f}`)).size > 4 * 61_706 * 3, f); // params + Adam m, v
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainer: aborted mid-epoch, then resumed: the same weights and metrics as uninterrupted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const whole = await run(TINY, `${dir}/whole`);
    // Abort after the 5th step of epoch 2 (step 13 of 16) from inside the progress callback.
    const ctl = new AbortController();
    let steps = 0;
    const inner = quiet();
    const progress: Progress = {
      live: false,
      update(u) {
        if (++steps === 13) ctl.abort();
        inner.update(u);
      },
      done: (u, note) => inner.done(u, note),
      log: (l) => inner.log(l),
    };
    const stopped = await run(TINY, `${dir}/part`, {}, progress, ctl.signal);
    assert.equal(stopped.status, "interrupted");
    const ckpt = await loadRun(`${dir}/part/checkpoint.safetensors`)();
    assert.ok(ckpt._tag === "Right");
    assert.deepEqual([ckpt.right.state.step, ckpt.right.state.epoch, ckpt.right.state.batch], [
      13,
      1,
      5,
    ]);
    // stop signal handled: the run must not have continued
    assert.equal(stopped.state.step, 13);
    const resumed = await run(TINY, `${dir}/part`, { resume: ckpt.right });
    assert.equal(resumed.status, "completed");
    assert.deepEqual(bitsOf(resumed.state.params), bitsOf(whole.state.params));
    const strip = async (p: string) =>
      (await Deno.readTextFile(p)).trim().split("\n").map((l) => {
        const { examples_per_s: _, epoch_seconds: __, ...rest } = JSON.parse(l);
        return rest;
      });
    assert.deepEqual(
      await strip(`${dir}/part/metrics.jsonl`),
      await strip(`${dir}/whole/metrics.jsonl`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainer: early stopping on the validation loss with --patience", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // After epoch 1 the rate drops to ~1e-12: updates fall below float32 resolution, the
    // validation loss stops falling, and patience 1 stops the run after epoch 2 of 5.
    const cfg = { ...TINY, epochs: 5, validation: 200, patience: 1, schedule: "step:1:1e-9" };
    const s = await run(cfg, dir);
    assert.equal(s.status, "early-stopped");
    assert.equal(s.state.epoch, 2);
    const lines = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(lines.length, 2);
    assert.ok(lines[1].validation_loss >= lines[0].validation_loss);
    assert.ok(typeof lines[0].validation_accuracy === "number");
    assert.equal(s.progress.best?.metric, "validation_accuracy");
    // resuming a finished run trains no further
    const ckpt = await loadRun(`${dir}/checkpoint.safetensors`)();
    assert.ok(ckpt._tag === "Right");
    const again = await run(cfg, dir, { resume: ckpt.right });
    assert.equal(again.state.step, s.state.step);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainer: --dtype float64 trains float64 parameters and resumes from them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg: TrainConfig = { ...TINY, dtype: "float64", epochs: 1, limit: 64 };
    const s = await run(cfg, dir);
    for (const [path, t] of flattenParams(s.state.params)) assert.equal(t.dtype, "float64", path);
    const back = await loadRun(`${dir}/checkpoint.safetensors`)();
    assert.ok(back._tag === "Right");
    assert.equal(back.right.config.dtype, "float64");
    assert.deepEqual(bitsOf(back.right.state.params), bitsOf(s.state.params));
    assert.ok(s.finalTest!.accuracy >= 0 && s.finalTest!.count === 100);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
