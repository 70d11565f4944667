import assert from "node:assert/strict";
import { evalMain } from "../../src/cli/eval.ts";
import { predictMain } from "../../src/cli/predict.ts";
import { trainMain } from "../../src/cli/train.ts";
import { encodePng } from "../../src/lenet/png.ts";
import { encodePgm } from "../../src/lenet/pnm.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import { mnistTestDigits } from "../lenet/mnist_sample.ts";
import { finish, MNIST, runMain, spawnCli } from "./helpers.ts";

/**
 * One short training for the whole file: 2,000 training images, 4 epochs of batch 32 at
 * lr 3e-3 with cosine decay (250 steps, a few seconds), tested on the first 1,000 test images.
 */
const dir = await Deno.makeTempDir();
const ckpt = `${dir}/run/checkpoint.safetensors`;
const trained = runMain(trainMain, [
  "--limit",
  "2000",
  "--test-limit",
  "1000",
  "--epochs",
  "4",
  "--batch-size",
  "32",
  "--lr",
  "0.003",
  "--schedule",
  "cosine",
  "--data",
  MNIST,
  "--offline",
  "--out",
  `${dir}/run`,
]);

Deno.test("a short training on 2,000 images reaches >= 90% on 1,000 test images", async () => {
  const r = await trained;
  assert.equal(r.code, 0, r.stderr);
  const m = /final test accuracy (\d+\.\d+)% \((\d+)\/1000,/.exec(r.stdout);
  assert.ok(m !== null, r.stdout);
  assert.ok(Number(m[1]) >= 90, `test accuracy ${m[1]}%`);
  assert.match(
    r.stdout,
    /^LeNet-5 "modern" \(61,706 parameters\), Adam lr 0\.003 cosine, batch 32, 4 epochs/,
  );
  assert.match(r.stdout, /epoch 4\/4 .* test \d+\.\d\d% \(loss /);
  assert.match(r.stdout, /Evaluate: deno task eval --checkpoint /);
});

Deno.test("eval: accuracy as in training, per-class precision/recall, a confusion matrix summing to the count", async () => {
  const t = await trained;
  const trainedAcc = /final test accuracy (\d+\.\d+)% \((\d+)\/1000/.exec(t.stdout)!;
  const r = await runMain(evalMain, [
    "--checkpoint",
    ckpt,
    "--data",
    MNIST,
    "--offline",
    "--limit",
    "1000",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Accuracy ${trainedAcc[1]}% \\(${trainedAcc[2]}/1,000\\)`));
  assert.match(
    r.stdout,
    /digit {2}precision {2}recall {2}support\n\s+0\s+\d+\.\d\d%\s+\d+\.\d\d%\s+\d+\n/,
  );
  const matrix =
    r.stdout.split("Confusion matrix (rows: true digit, columns: predicted digit):\n")[1];
  const rows = matrix.trim().split("\n").slice(1).map((l) =>
    l.trim().split(/\s+/).slice(1).map(Number)
  );
  assert.equal(rows.length, 10);
  assert.ok(rows.every((row) => row.length === 10));
  assert.equal(rows.flat().reduce((a, b) => a + b, 0), 1000);
  assert.equal(rows.reduce((a, row, i) => a + row[i], 0), Number(trainedAcc[2]));
  const j = await runMain(evalMain, [
    "--checkpoint",
    ckpt,
    "--data",
    MNIST,
    "--offline",
    "--limit",
    "1000",
    "--json",
  ]);
  assert.equal(j.code, 0, j.stderr);
  const o = JSON.parse(j.stdout);
  assert.equal(o.count, 1000);
  assert.equal(o.correct, Number(trainedAcc[2]));
  assert.equal(o.confusion.flat().reduce((a: number, b: number) => a + b, 0), 1000);
  assert.equal(o.per_class.reduce((a: number, c: { support: number }) => a + c.support, 0), 1000);
});

Deno.test("predict: MNIST test digits written as PGM and PNG (and inverted, enlarged) get their labels", async () => {
  assert.equal((await trained).code, 0);
  const { images, labels } = await mnistTestDigits(6);
  const files: string[] = [];
  for (let i = 0; i < images.length; i++) {
    const img = new Tensor(Float32Array.from(images[i], (p) => p / 255), [28, 28]);
    await Deno.writeFile(`${dir}/d${i}.pgm`, encodePgm(img));
    // dark ink on white paper, three times larger: preprocessing must undo both
    const big = new Float32Array(84 * 84);
    for (let y = 0; y < 84; y++) {
      for (let x = 0; x < 84; x++) {
        big[y * 84 + x] = 1 - img.data[Math.floor(y / 3) * 28 + Math.floor(x / 3)];
      }
    }
    await Deno.writeFile(`${dir}/d${i}.png`, await encodePng(new Tensor(big, [84, 84])));
    files.push(`${dir}/d${i}.pgm`, `${dir}/d${i}.png`);
  }
  const r = await runMain(predictMain, ["--checkpoint", ckpt, "--json", ...files]);
  assert.equal(r.code, 0, r.stderr);
  const preds = JSON.parse(r.stdout) as { file: string; digit: number; probabilities: number[] }[];
  assert.deepEqual(preds.map((p) => p.file), files);
  assert.deepEqual(preds.map((p) => p.digit), labels.flatMap((l) => [l, l]));
  for (const p of preds) {
    assert.equal(p.probabilities.length, 10);
    assert.ok(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.equal(Math.max(...p.probabilities), p.probabilities[p.digit]);
  }
  const text = await runMain(predictMain, ["--checkpoint", ckpt, files[0]]);
  assert.match(
    text.stdout,
    new RegExp(`^${files[0]}  ${labels[0]}  \\(\\d+\\.\\d%\\)  0:\\d+\\.\\d% 1:`),
  );
});

Deno.test("eval and predict: usage errors exit 2 with one line and the usage", async () => {
  const cases: [typeof evalMain, string[], RegExp][] = [
    [evalMain, [], /^deno task eval: --checkpoint FILE is required$/],
    [
      evalMain,
      ["--checkpoint", `${dir}/none.safetensors`],
      /^deno task eval: --checkpoint .*none\.safetensors: no such file$/,
    ],
    [evalMain, ["--checkpoint", ckpt, "--limit", "0"], /^deno task eval: --limit "0" is invalid/],
    [evalMain, ["--bogus"], /^deno task eval: Unknown option '--bogus'/],
    [predictMain, ["--checkpoint", ckpt], /^deno task predict: no image given/],
    [
      predictMain,
      ["--checkpoint", ckpt, `${dir}/none.png`],
      /^deno task predict: image .*none\.png: no such file$/,
    ],
    [predictMain, ["x.png"], /^deno task predict: --checkpoint FILE is required$/],
    [predictMain, ["--jsn", "x.png"], /^deno task predict: Unknown option '--jsn'/],
  ];
  await trained;
  for (const [main, args, msg] of cases) {
    const r = await runMain(main, args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    const [first, blank, usage] = r.stderr.split("\n");
    assert.match(first, msg);
    assert.equal(blank, "");
    assert.match(usage, /^Usage: deno task (eval|predict) /);
  }
  // not an image: exit 1 naming the file
  await Deno.writeTextFile(`${dir}/notes.txt`, "hello");
  const notImage = await runMain(predictMain, ["--checkpoint", ckpt, `${dir}/notes.txt`]);
  assert.equal(notImage.code, 1);
  assert.match(notImage.stderr, /notes\.txt.*unknown image format/);
  for (const main of [evalMain, predictMain]) {
    const h = await runMain(main, ["--help"]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: deno task (eval|predict) --checkpoint FILE/);
  }
  const spawned = await finish(spawnCli("predict", ["--checkpoint"]));
  assert.equal(spawned.code, 2);
  assert.match(
    spawned.stderr,
    /^deno task predict: Option '--checkpoint <value>' argument missing/,
  );
});

Deno.test("cleanup", async () => {
  await trained.catch(() => {});
  await Deno.remove(dir, { recursive: true });
});
