/**
 * Every `--variant` end to end through the commands: a one-epoch training on 600 digits, its
 * checkpoint re-read by `eval` (same accuracy) and `predict`, the variant's defaults under the
 * flags, the lecun1998 counts table at the start and the learned table at the end.
 */

import assert from "node:assert/strict";
import { evalMain } from "../../src/cli/eval.ts";
import { predictMain } from "../../src/cli/predict.ts";
import { resolveConfig, trainMain } from "../../src/cli/train.ts";
import { DEFAULT_TRAIN_CONFIG } from "../../src/lenet/config.ts";
import { formatCombinationTable } from "../../src/lenet/learned_combinations.ts";
import type { LearnedCombinationsParams } from "../../src/lenet/learned_combinations.ts";
import { loadRun } from "../../src/lenet/run_checkpoint.ts";
import { encodePgm } from "../../src/lenet/pnm.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import { mnistTestDigits } from "../lenet/mnist_sample.ts";
import { MNIST, runMain } from "./helpers.ts";

const dir = await Deno.makeTempDir();

/** One epoch on the first 600 training digits, tested on the first 300 test digits. */
function trainVariant(name: string, extra: string[] = []) {
  const out = `${dir}/${[name, ...extra].join("_").replace(/[^\w.-]/g, "")}`;
  const run = runMain(trainMain, [
    "--variant",
    name,
    ...extra,
    "--epochs",
    "1",
    "--limit",
    "600",
    "--test-limit",
    "300",
    "--data",
    MNIST,
    "--offline",
    "--out",
    out,
  ]);
  return { out, run };
}

/** The CLI's final test accuracy line: percent and correct count. */
function finalAccuracy(stdout: string): [string, number] {
  const m = /final test accuracy (\d+\.\d\d)% \((\d+)\/300,/.exec(stdout);
  assert.ok(m !== null, stdout);
  return [m[1], Number(m[2])];
}

async function evalAndPredict(
  out: string,
  accuracy: [string, number],
  variant: string,
  head: string,
) {
  const ckpt = `${out}/checkpoint.safetensors`;
  const e = await runMain(evalMain, [
    "--checkpoint",
    ckpt,
    "--data",
    MNIST,
    "--offline",
    "--limit",
    "300",
    "--json",
  ]);
  assert.equal(e.code, 0, e.stderr);
  const o = JSON.parse(e.stdout);
  assert.equal(o.variant, variant);
  assert.equal(o.head, head);
  assert.equal(o.correct, accuracy[1], "eval re-reads the trained weights");
  const { images } = await mnistTestDigits(2);
  const files = images.map((_, i) => `${out}/d${i}.pgm`);
  for (let i = 0; i < images.length; i++) {
    const t = new Tensor(Float32Array.from(images[i], (p) => p / 255), [28, 28]);
    await Deno.writeFile(files[i], encodePgm(t));
  }
  const p = await runMain(predictMain, ["--checkpoint", ckpt, "--json", ...files]);
  assert.equal(p.code, 0, p.stderr);
  const preds = JSON.parse(p.stdout) as { digit: number; probabilities: number[] }[];
  assert.equal(preds.length, 2);
  for (const q of preds) {
    assert.equal(q.probabilities.length, 10);
    assert.equal(Math.max(...q.probabilities), q.probabilities[q.digit]);
  }
}

Deno.test("lecun1998: trains from the CLI (RBF head, eq. 9), prints the counts table, evaluates and predicts", async () => {
  const { out, run } = trainVariant("lecun1998");
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  // The variant's defaults: Adam 1e-3, warmup + cosine, batch 32 (epochs 1 from the flag).
  assert.match(
    r.stdout,
    /^LeNet-5 "lecun1998" \(60,000 parameters\), Adam lr 0\.001 warmup:300\+cosine, batch 32, 1 epoch,/,
  );
  assert.match(r.stdout, /^C1 .* 156 +122,304 +156 +122,304$/m);
  assert.match(r.stdout, /^C3 .* 1,516 +151,600 +1,516 +151,600$/m);
  assert.match(r.stdout, /^F6 .* 10,164 +10,164 +10,164 +10,164$/m);
  // (19 steps inside the 300-step warmup learn little; the accuracy is checked by eval below and
  // the real training is measured in the README.)
  const acc = finalAccuracy(r.stdout);
  const ckpt = await loadRun(`${out}/checkpoint.safetensors`)();
  assert.ok(ckpt._tag === "Right");
  assert.equal(ckpt.right.config.variant, "lecun1998");
  assert.equal(ckpt.right.config.head, null);
  assert.equal(ckpt.right.variant.head, "rbf");
  await evalAndPredict(out, acc, "lecun1998", "rbf");
});

Deno.test("lecun1998 --head softmax: a dense softmax head, recorded in the checkpoint", async () => {
  const { out, run } = trainVariant("lecun1998", ["--head", "softmax"]);
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^LeNet-5 "lecun1998" \(60,850 parameters\), .*, head softmax$/m);
  assert.match(r.stdout, /^OUTPUT +dense 84 -> 10, softmax cross-entropy +850 +850 +- +-$/m);
  const acc = finalAccuracy(r.stdout);
  const ckpt = await loadRun(`${out}/checkpoint.safetensors`)();
  assert.ok(ckpt._tag === "Right");
  assert.equal(ckpt.right.config.head, "softmax");
  assert.equal(ckpt.right.variant.head, "softmax");
  assert.deepEqual((ckpt.right.state.params as { out: { w: Tensor } }).out.w.shape, [84, 10]);
  await evalAndPredict(out, acc, "lecun1998", "softmax");
  const text = await runMain(evalMain, [
    "--checkpoint",
    `${out}/checkpoint.safetensors`,
    "--data",
    MNIST,
    "--offline",
    "--limit",
    "300",
  ]);
  assert.match(text.stdout, /^Checkpoint .*: LeNet-5 "lecun1998" \(head softmax\), 1 epoch /m);
});

Deno.test("notes-sigmoid: trains with the notes' SGD (alpha 1, batch 50, constant) by default", async () => {
  const { out, run } = trainVariant("notes-sigmoid");
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^LeNet-5 "notes-sigmoid" \(3,898 parameters\), SGD lr 1 constant, batch 50, 1 epoch,/,
  );
  const ckpt = await loadRun(`${out}/checkpoint.safetensors`)();
  assert.ok(ckpt._tag === "Right");
  const c = ckpt.right.config;
  assert.deepEqual(
    [c.optimizer, c.lr, c.batchSize, c.schedule, c.weightDecay],
    ["sgd", 1, 50, "constant", 0],
  );
  assert.equal(ckpt.right.state.step, 12, "600 / 50 steps");
  await evalAndPredict(out, finalAccuracy(r.stdout), "notes-sigmoid", "sigmoid-mse");
});

Deno.test("learned-combinations: trains, prints its learned table and writes it to the run folder", async () => {
  const { out, run } = trainVariant("learned-combinations");
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^LeNet-5 "learned-combinations" \(61,802 parameters\), Adam lr 0\.004/);
  const file = await Deno.readTextFile(`${out}/combinations.txt`);
  const ckpt = await loadRun(`${out}/checkpoint.safetensors`)();
  assert.ok(ckpt._tag === "Right");
  // The table is the trained parameters' (the final checkpoint), beside the paper's Table I.
  const table = formatCombinationTable(ckpt.right.state.params as LearnedCombinationsParams);
  assert.equal(file, `${table}\n`);
  assert.ok(r.stdout.includes(table), r.stdout);
  assert.match(file, /^LeCun 1998 Table I \(X = connected\):$/m);
  assert.match(r.stdout, new RegExp(`\\(written to ${out}/combinations\\.txt\\)`));
  // Training moved the combination weights away from the uniform 1/6 of the initialization.
  assert.doesNotMatch(file, /^ {2}0 {2}( {2}17\*){16}$/m);
  await evalAndPredict(out, finalAccuracy(r.stdout), "learned-combinations", "softmax");
});

Deno.test("variant defaults: under the flags, over the plain defaults; modern keeps its own", () => {
  const notes = resolveConfig({ variant: "notes-sigmoid" });
  assert.ok(notes._tag === "Right");
  assert.deepEqual(notes.right, {
    ...DEFAULT_TRAIN_CONFIG,
    variant: "notes-sigmoid",
    optimizer: "sgd",
    lr: 1,
    batchSize: 50,
    schedule: "constant",
    weightDecay: 0,
  });
  const overridden = resolveConfig({
    variant: "notes-sigmoid",
    lr: 0.5,
    optimizer: "momentum",
    batchSize: 10,
  });
  assert.ok(overridden._tag === "Right");
  assert.deepEqual(
    [overridden.right.optimizer, overridden.right.lr, overridden.right.batchSize],
    ["momentum", 0.5, 10],
  );
  assert.equal(overridden.right.schedule, "constant", "defaults the flags do not touch stay");
  assert.deepEqual(resolveConfig({}), { _tag: "Right", right: DEFAULT_TRAIN_CONFIG });
  assert.deepEqual(resolveConfig({ variant: "modern" }), {
    _tag: "Right",
    right: DEFAULT_TRAIN_CONFIG,
  });
  const lecun = resolveConfig({ variant: "lecun1998", epochs: 3 });
  assert.ok(lecun._tag === "Right");
  assert.deepEqual([lecun.right.epochs, lecun.right.lr], [3, 1e-3]);
  // A resumed run keeps its stored configuration; the variant's defaults do not apply again.
  const stored = { ...DEFAULT_TRAIN_CONFIG, variant: "notes-sigmoid", lr: 0.25 };
  assert.deepEqual(resolveConfig({}, stored), { _tag: "Right", right: stored });
});

Deno.test("--init: modern takes it; the variants that initialize as their sources did refuse it", async () => {
  const modernInit = resolveConfig({ variant: "modern", init: "lecun-normal" });
  assert.ok(modernInit._tag === "Right");
  assert.equal(modernInit.right.init, "lecun-normal");
  for (const variant of ["lecun1998", "notes-sigmoid", "learned-combinations"]) {
    assert.deepEqual(resolveConfig({ variant, init: "glorot" }), {
      _tag: "Left",
      left: `--init glorot does not apply to --variant ${variant}: it initializes as its source ` +
        `did; drop --init`,
    });
  }
  const r = await runMain(trainMain, [
    "--variant",
    "notes-sigmoid",
    "--init",
    "he",
    "--out",
    `${dir}/never`,
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr.split("\n")[0], /--init he does not apply to --variant notes-sigmoid/);
});

Deno.test("--head: unknown heads are usage errors naming the variant's heads", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--variant", "modern", "--head", "rbf"],
      /variant "modern" has no head "rbf"; its heads: softmax/,
    ],
    [
      ["--variant", "lecun1998", "--head", "svm"],
      /variant "lecun1998" has no head "svm"; its heads: rbf, softmax/,
    ],
    [["--head", ""], /--head needs a name/],
  ];
  for (const [args, msg] of cases) {
    const r = await runMain(trainMain, [...args, "--out", `${dir}/never`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr.split("\n")[0], msg);
  }
  const help = await runMain(trainMain, ["--help"]);
  assert.match(help.stdout, /--head NAME .*\(lecun1998: rbf or softmax\)/);
  assert.match(help.stdout, /^ {2}notes-sigmoid +--optimizer sgd --lr 1 --batch-size 50 /m);
});

Deno.test("cleanup", async () => {
  await Deno.remove(dir, { recursive: true });
});
