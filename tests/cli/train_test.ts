import assert from "node:assert/strict";
import { trainMain } from "../../src/cli/train.ts";
import { flattenParams } from "../../src/lenet/params.ts";
import { loadRun } from "../../src/lenet/run_checkpoint.ts";
import {
  checkpointStep,
  finish,
  metricsWithoutTimes,
  MNIST,
  runMain,
  spawnCli,
  tensorBytes,
  waitForStep,
} from "./helpers.ts";

/**
 * 1,920 examples, batch 32: 60 steps per epoch, 180 in all (a few ms each on the wasm kernels,
 * so the runs last long enough to be killed mid-way); a checkpoint every 2 steps.
 */
const TOTAL = 180;
const RUN = [
  "--limit",
  "1920",
  "--test-limit",
  "200",
  "--epochs",
  "3",
  "--batch-size",
  "32",
  "--seed",
  "7",
  "--data",
  MNIST,
  "--offline",
];
const EVERY = ["--checkpoint-every", "2"];

Deno.test("train cli: killed (SIGKILL at a random step) or interrupted (SIGINT), then resumed: bit-identical to an uninterrupted run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = (name: string) => `${dir}/${name}/checkpoint.safetensors`;
    // A random step to kill at, logged so a failure can be replayed.
    const killAt = 2 + 2 * Math.floor(Math.random() * 60); // 2..120, a checkpoint step
    console.log(`SIGKILL once the checkpoint reaches step ${killAt}`);
    const whole = spawnCli("train", [...RUN, ...EVERY, "--out", `${dir}/whole`]);
    const killed = spawnCli("train", [...RUN, ...EVERY, "--out", `${dir}/killed`]);
    const interrupted = spawnCli("train", [...RUN, ...EVERY, "--out", `${dir}/int`]);

    await waitForStep(ckpt("killed"), killAt, killed);
    killed.kill("SIGKILL");
    const k = await finish(killed);
    assert.equal(k.signal, "SIGKILL");
    const keptStep = await checkpointStep(ckpt("killed"));
    assert.ok(
      keptStep >= killAt && keptStep < TOTAL,
      `killed mid-run: checkpoint at step ${keptStep}`,
    );

    await waitForStep(ckpt("int"), 6, interrupted);
    interrupted.kill("SIGINT");
    const i = await finish(interrupted);
    assert.equal(i.code, 130, i.stderr);
    const resumeLine = i.stdout.split("\n").find((l) => l.startsWith("Resume with: "));
    assert.equal(
      resumeLine,
      `Resume with: deno task train --resume ${ckpt("int")} --data ${MNIST} --offline`,
    );
    assert.match(i.stdout, /Interrupted at epoch \d, batch \d+ \(step \d+\)\. Checkpoint saved: /);
    const intStep = await checkpointStep(ckpt("int"));
    assert.ok(intStep >= 6 && intStep < TOTAL, `interrupted mid-run at step ${intStep}`);

    const w = await finish(whole);
    assert.equal(w.code, 0, w.stderr);

    // Resume both: the killed one by hand, the interrupted one with the printed command.
    const args = resumeLine!.replace("Resume with: deno task train ", "").split(" ");
    const [r1, r2] = await Promise.all([
      finish(
        spawnCli("train", ["--resume", ckpt("killed"), "--data", MNIST, "--offline", ...EVERY]),
      ),
      finish(spawnCli("train", args)),
    ]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r1.stdout, new RegExp(`Resuming ${ckpt("killed")} at epoch \\d`));

    const reference = await tensorBytes(ckpt("whole"));
    assert.equal(reference.size, 30); // 10 parameters + Adam's m and v for each
    for (const name of ["killed", "int"]) {
      const got = await tensorBytes(ckpt(name));
      assert.deepEqual([...got.keys()].sort(), [...reference.keys()].sort());
      for (const [t, bytes] of reference) assert.deepEqual(got.get(t), bytes, `${name}: ${t}`);
      assert.deepEqual(
        await metricsWithoutTimes(`${dir}/${name}/metrics.jsonl`),
        await metricsWithoutTimes(`${dir}/whole/metrics.jsonl`),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train cli: a huge --lr stops with the step and layer named and keeps the last good checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await finish(spawnCli("train", [
      "--limit",
      "128",
      "--test-limit",
      "50",
      "--batch-size",
      "32",
      "--lr",
      "1e30",
      "--checkpoint-every",
      "1",
      "--data",
      MNIST,
      "--offline",
      "--out",
      dir,
    ]));
    assert.equal(r.code, 1);
    const line = r.stderr.trim();
    assert.match(
      line,
      /^deno task train: training diverged at step (\d+) \(epoch 1, batch \1\): .*layer (c1|c3|c5|f6|out)\b/,
    );
    assert.ok(!/\n/.test(line) && !/ at .*\.ts:\d+/.test(line), "one line, no stack trace");
    const failedStep = Number(/at step (\d+)/.exec(line)![1]);
    assert.ok(failedStep >= 2, "the first update is finite; a later one overflows");
    assert.match(
      line,
      new RegExp(`The last good checkpoint is kept: ${dir}/checkpoint\\.safetensors\\.$`),
    );
    const kept = await loadRun(`${dir}/checkpoint.safetensors`)();
    assert.ok(kept._tag === "Right");
    assert.equal(kept.right.state.step, failedStep - 1);
    for (const [path, t] of flattenParams(kept.right.state.params)) {
      assert.ok(t.data.every(Number.isFinite), path);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train cli: usage errors: one line naming the problem, the usage, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string[], RegExp][] = [
      [["--epoch", "3"], /^deno task train: Unknown option '--epoch'/],
      [["--epochs", "zero"], /^deno task train: --epochs "zero" is invalid: need an integer >= 1/],
      [["--epochs"], /^deno task train: Option '--epochs <value>' argument missing/],
      [["--lr=-0.1"], /^deno task train: --lr "-0\.1" is invalid: need a number > 0/],
      [
        ["--lr", "-0.1"],
        /^deno task train: Option '--lr' argument is ambiguous\. Did you .* '--lr=-XYZ'\.$/,
      ],
      [["--optimizer", "rmsprop"], /--optimizer "rmsprop" is invalid: use adam, sgd, momentum/],
      [["--schedule", "linear"], /invalid --schedule "linear": unknown schedule "linear"/],
      [["--variant", "resnet"], /--variant "resnet" is invalid: use modern/],
      [["--init", "zeros"], /invalid --init "zeros"/],
      [["--dtype", "int8"], /--dtype "int8" is invalid: use float32, float64/],
      [["--patience", "2"], /--patience needs a validation split to watch: add --validation N/],
      [["positional"], /Unexpected argument 'positional'/],
      [["--resume", `${dir}/nope.safetensors`], /--resume .*nope\.safetensors: no such file/],
    ];
    for (const [args, msg] of cases) {
      const r = await runMain(trainMain, args);
      assert.equal(r.code, 2, args.join(" "));
      const [first, blank, usage] = r.stderr.split("\n");
      assert.match(first, msg);
      assert.equal(blank, "");
      assert.match(usage, /^Usage: deno task train/);
      assert.equal(r.stdout, "");
    }
    // A resumed run keeps its settings: a contradicting flag is an error.
    await Deno.writeFile(`${dir}/junk.safetensors`, new Uint8Array([1, 2, 3]));
    const junk = await runMain(trainMain, ["--resume", `${dir}/junk.safetensors`]);
    assert.equal(junk.code, 2);
    assert.match(junk.stderr, /^deno task train: cannot resume: .*junk\.safetensors: byte 0: /);
    // the real process: no stack trace, exit 2
    const spawned = await finish(spawnCli("train", ["--batch-size", "0"]));
    assert.equal(spawned.code, 2);
    assert.match(spawned.stderr, /^deno task train: --batch-size "0" is invalid/);
    assert.ok(!spawned.stderr.includes("    at "), spawned.stderr);
    const help = await runMain(trainMain, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: deno task train \[options\]/);
    assert.match(help.stdout, /--checkpoint-every K/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train cli: resuming refuses flags that contradict the run; a used --out is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await runMain(trainMain, [
      "--limit",
      "64",
      "--test-limit",
      "20",
      "--batch-size",
      "32",
      "--data",
      MNIST,
      "--offline",
      "--out",
      dir,
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Done: 12 epochs in /);
    const ckpt = `${dir}/checkpoint.safetensors`;
    const bad = await runMain(trainMain, ["--resume", ckpt, "--lr", "0.5"]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^deno task train: --lr 0\.5 differs from the resumed run's 0\.004; a resumed run keeps its settings: drop the flag/,
    );
    // the same value as stored is fine (and the run is complete: nothing left to do)
    const same = await runMain(trainMain, [
      "--resume",
      ckpt,
      "--lr",
      "0.004",
      "--data",
      MNIST,
      "--offline",
    ]);
    assert.equal(same.code, 0, same.stderr);
    const reuse = await runMain(trainMain, ["--out", dir, "--data", MNIST, "--offline"]);
    assert.equal(reuse.code, 2);
    assert.match(
      reuse.stderr,
      /already holds a run \(checkpoint\.safetensors\); continue it with --resume/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
