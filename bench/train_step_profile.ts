/**
 * Where one LeNet-5 training step (batch 64, float32, Adam) of the trainer spends its time: each
 * op of `modern.forward` (its conv blocks fused), each op's hand-derived backward rule (the
 * pullback the op records, called as the engine calls it, on the active kernel path), the
 * optimizer, the guard, and the whole step through `valueAndGrad`. The difference between the
 * whole step and the sum of its parts is the autograd's own overhead (tape, input aliases,
 * cotangent bookkeeping).
 *
 *   deno run --allow-env bench/train_step_profile.ts [--batch 64] [--augment]
 *   GRADPROOF_KERNELS=js deno run --allow-env bench/train_step_profile.ts   (plain TypeScript)
 *
 * The machine is shared: every row is a median of interleaved runs; compare rows of one run.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { augmentBatch } from "../src/lenet/augment.ts";
import { modern } from "../src/lenet/model.ts";
import { adam } from "../src/lenet/optim.ts";
import { flattenParams } from "../src/lenet/params.ts";
import { countCorrect, gatherBatch, initTrainState, makeTrainStep } from "../src/lenet/train.ts";
import { valueAndGrad } from "../src/autograd/engine.ts";
import { relu } from "../src/tensor/activations.ts";
import { conv2dReluMaxPool } from "../src/tensor/conv_block.ts";
import { kernelPath } from "../src/tensor/kernels/wasm/runtime.ts";
import { flatten, reshape } from "../src/tensor/layout.ts";
import { crossEntropy } from "../src/tensor/losses.ts";
import { dense } from "../src/tensor/matmul.ts";
import { type Pullback, withRecorder } from "../src/tensor/trace.ts";
import { prngKey, randomNormal, randomPermutation } from "../src/tensor/random.ts";
import { Tensor, tensor } from "../src/tensor/tensor.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { batch: { type: "string" }, augment: { type: "boolean" }, rounds: { type: "string" } },
});
const B = Number(values.batch ?? 64), ROUNDS = Number(values.rounds ?? 25);

const opt = adam({ lr: 1e-3 });
const state = initTrainState(modern, opt, 0);
const p = state.params;
const data = randomNormal(prngKey(1), [B * 4, 1, 28, 28]);
const dataLabels = Uint8Array.from({ length: B * 4 }, (_, i) => i % 10);
const order = randomPermutation(prngKey(2), B * 4);
const { x, labels } = gatherBatch(data, dataLabels, order, 0, B);

// One forward by hand, op by op as modern.forward runs them, capturing each op's pullback (its
// hand-derived rule, dispatched to the active kernel path) with the inputs it needs.
const recorded: { name: string; pullback: Pullback; needed: boolean[] }[] = [];
const capture = <T extends Tensor>(f: () => T, needed: boolean[]): T =>
  withRecorder({
    record: (name, _inputs, _y, pullback) => void recorded.push({ name, pullback, needed }),
  }, f);
const c1 = () => conv2dReluMaxPool(x, p.c1.w, p.c1.b, { padding: 2 }, { kernel: 2 });
const s2 = capture(c1, [false, true, true]); // the images need no gradient
const c3 = () => conv2dReluMaxPool(s2, p.c3.w, p.c3.b, {}, { kernel: 2 });
const s4 = capture(c3, [true, true, true]);
const f = flatten(s4, 1);
const z5 = capture(() => dense(f, p.c5.w, p.c5.b), [true, true, true]);
const a5 = capture(() => relu(z5), [true]);
const z6 = capture(() => dense(a5, p.f6.w, p.f6.b), [true, true, true]);
const a6 = capture(() => relu(z6), [true]);
const z7 = capture(() => dense(a6, p.out.w, p.out.b), [true, true, true]);
capture(() => crossEntropy(z7, labels), [true]);
const [bc1, bc3, bd5, br5, bd6, br6, bd7, bce] = recorded;
// the upstream gradient of each op, as the engine hands it over
const g7 = bce.pullback(tensor(1), bce.needed)[0]!;
const [g6] = bd7.pullback(g7, bd7.needed);
const [g6r] = br6.pullback(g6!, br6.needed);
const [g5] = bd6.pullback(g6r!, bd6.needed);
const [g5r] = br5.pullback(g5!, br5.needed);
const [gf] = bd5.pullback(g5r!, bd5.needed);
const gs4 = reshape(gf!, s4.shape);
const [gs2] = bc3.pullback(gs4, bc3.needed);

const vg = valueAndGrad(modern.loss);
const [, grads] = vg(p, x, labels);
const step = makeTrainStep(modern, opt);
const allFinite = (t: Tensor) => {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return false;
  return true;
};

type Row = [phase: string, what: string, fn: () => unknown];
const rows: Row[] = [
  ["data", "gather batch", () => gatherBatch(data, dataLabels, order, B, B)],
  ...(values.augment
    ? [["data", "augment batch (outside the step)", () => augmentBatch(x, prngKey(3))] as Row]
    : []),
  ["forward", "c1+s2: conv2dReluMaxPool 1->6 5x5 pad 2", c1],
  ["forward", "c3+s4: conv2dReluMaxPool 6->16 5x5", c3],
  ["forward", "c5: dense 400->120 + relu", () => relu(dense(f, p.c5.w, p.c5.b))],
  [
    "forward",
    "f6, out: dense 120->84 + relu, 84->10",
    () => dense(relu(dense(a5, p.f6.w, p.f6.b)), p.out.w, p.out.b),
  ],
  ["forward", "crossEntropy", () => crossEntropy(z7, labels)],
  ["backward", "crossEntropy", () => bce.pullback(tensor(1), bce.needed)],
  ["backward", "out, f6: dense + relu", () => {
    bd7.pullback(g7, bd7.needed);
    br6.pullback(g6!, br6.needed);
    bd6.pullback(g6r!, bd6.needed);
    br5.pullback(g5!, br5.needed);
  }],
  ["backward", "c5: dense (dX, dW, db)", () => bd5.pullback(g5r!, bd5.needed)],
  ["backward", "c3+s4: block (dX, dW, db)", () => bc3.pullback(gs4, bc3.needed)],
  ["backward", "c1+s2: block (dW, db; no dX)", () => bc1.pullback(gs2!, bc1.needed)],
  ["update", "Adam (61,706 params)", () => opt.step(p, grads, state.opt)],
  ["update", "guard: finite grads + params", () => {
    for (const [, t] of flattenParams(grads)) allFinite(t);
    for (const [, t] of flattenParams(p)) allFinite(t);
  }],
  ["update", "running accuracy", () => countCorrect(z7, labels)],
];
const whole: Row[] = [
  ["total", "forward alone (modern.forward + loss)", () => modern.loss(p, x, labels)],
  ["total", "valueAndGrad(loss)", () => vg(p, x, labels)],
  ["total", "whole train step (makeTrainStep)", () => step(state, { x, labels })],
];

// Interleaved rounds: each round times every row once; report medians.
const all = [...rows, ...whole];
const times = all.map(() => [] as number[]);
for (let r = 0; r < ROUNDS + 5; r++) {
  all.forEach(([, , fn], i) => {
    const t0 = performance.now();
    fn();
    if (r >= 5) times[i].push(performance.now() - t0); // 5 warm-up rounds
  });
}
const median = (a: number[]) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const med = times.map(median);
const stepMs = med[all.length - 1], vgMs = med[all.length - 2], fwdMs = med[all.length - 3];
const sum = (phase: string) => rows.reduce((s, row, i) => (row[0] === phase ? s + med[i] : s), 0);
const pct = (ms: number) => `${((100 * ms) / stepMs).toFixed(1)}%`;

console.log(
  `LeNet-5 modern, batch ${B}, float32, Adam, kernel path ${kernelPath()}; medians of ${ROUNDS} ` +
    `interleaved rounds (wall time)\n`,
);
console.log("| phase | op | ms | share of step |");
console.log("| --- | --- | ---: | ---: |");
rows.forEach(([phase, what], i) =>
  console.log(`| ${phase} | ${what} | ${med[i].toFixed(2)} | ${pct(med[i])} |`)
);
const fw = sum("forward"), bw = sum("backward");
const overhead = vgMs - fw - bw;
console.log(`| **sum** | forward ops | ${fw.toFixed(2)} | ${pct(fw)} |`);
console.log(`| **sum** | backward rules | ${bw.toFixed(2)} | ${pct(bw)} |`);
console.log(
  `| **sum** | optimizer + guard + accuracy | ${sum("update").toFixed(2)} | ${
    pct(sum("update"))
  } |`,
);
console.log(
  `| autograd | valueAndGrad minus forward and backward ops (tape, aliases, cotangents) | ${
    overhead.toFixed(2)
  } | ${pct(overhead)} |`,
);
console.log(`| total | forward alone (modern.loss) | ${fwdMs.toFixed(2)} | ${pct(fwdMs)} |`);
console.log(`| total | valueAndGrad(loss) | ${vgMs.toFixed(2)} | ${pct(vgMs)} |`);
console.log(`| total | whole train step | ${stepMs.toFixed(2)} | 100% |`);
console.log(
  `\n${Math.round((1000 * B) / stepMs).toLocaleString("en-US")} examples/s in the step alone`,
);
