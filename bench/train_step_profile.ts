/**
 * Where one LeNet-5 training step (batch 64, float32, Adam) spends its time: each op of the
 * forward, each hand-derived backward rule (called directly, as the engine calls them), the
 * optimizer, the guard, and the whole step through `valueAndGrad`. The difference between the
 * whole step and the sum of its parts is the autograd's own overhead (tape, input aliases,
 * cotangent bookkeeping).
 *
 *   deno run bench/train_step_profile.ts [--batch 64] [--augment]
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
import { relu, reluBackward } from "../src/tensor/activations.ts";
import { conv2d, conv2dBackward } from "../src/tensor/conv.ts";
import { resolveConv2d } from "../src/tensor/conv_options.ts";
import { conv2dBiasGradKernel, conv2dWeightGradKernel } from "../src/tensor/kernels/conv.ts";
import { flatten, reshapeBackward } from "../src/tensor/layout.ts";
import { crossEntropy, crossEntropyBackward } from "../src/tensor/losses.ts";
import { dense, denseBackward } from "../src/tensor/matmul.ts";
import { maxPool2dBackward, maxPool2dWithArgmax } from "../src/tensor/pool.ts";
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

// One forward by hand, keeping every intermediate the backward rules need.
const fwd = () => {
  const z1 = conv2d(x, p.c1.w, p.c1.b, { padding: 2 });
  const a1 = relu(z1);
  const s2 = maxPool2dWithArgmax(a1, { kernel: 2 });
  const z3 = conv2d(s2.y, p.c3.w, p.c3.b);
  const a3 = relu(z3);
  const s4 = maxPool2dWithArgmax(a3, { kernel: 2 });
  const f = flatten(s4.y, 1);
  const z5 = dense(f, p.c5.w, p.c5.b);
  const a5 = relu(z5);
  const z6 = dense(a5, p.f6.w, p.f6.b);
  const a6 = relu(z6);
  const z7 = dense(a6, p.out.w, p.out.b);
  const loss = crossEntropy(z7, labels);
  return { a1, s2, a3, s4, f, a5, a6, z7, loss };
};
const v = fwd();
const one = tensor(1);
const g7 = crossEntropyBackward(one, v.z7, labels);
const [g6] = denseBackward(g7, v.a6, p.out.w, p.out.b);
const g6r = reluBackward(g6, v.a6);
const [g5] = denseBackward(g6r, v.a5, p.f6.w, p.f6.b);
const g5r = reluBackward(g5, v.a5);
const [gf] = denseBackward(g5r, v.f, p.c5.w, p.c5.b);
const gs4 = reshapeBackward(gf, v.s4.y.shape);
const ga3 = maxPool2dBackward(gs4, v.s4.argmax, v.a3.shape);
const gz3 = reluBackward(ga3, v.a3);
const { dx: gs2 } = conv2dBackward(gz3, v.s2.y, p.c3.w);
const ga1 = maxPool2dBackward(gs2, v.s2.argmax, v.a1.shape);
const gz1 = reluBackward(ga1, v.a1);
const g1 = resolveConv2d("conv2d", x.shape, p.c1.w.shape, { padding: 2 }).geometry;

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
  ["data", "gather batch (64 rows)", () => gatherBatch(data, dataLabels, order, B, B)],
  ...(values.augment ? [["data", "augment batch", () => augmentBatch(x, prngKey(3))] as Row] : []),
  ["forward", "conv2d c1 1->6 5x5 pad 2", () => conv2d(x, p.c1.w, p.c1.b, { padding: 2 })],
  ["forward", "relu c1", () => relu(v.a1)],
  ["forward", "maxPool2d s2", () => maxPool2dWithArgmax(v.a1, { kernel: 2 })],
  ["forward", "conv2d c3 6->16 5x5", () => conv2d(v.s2.y, p.c3.w, p.c3.b)],
  ["forward", "relu c3", () => relu(v.a3)],
  ["forward", "maxPool2d s4", () => maxPool2dWithArgmax(v.a3, { kernel: 2 })],
  ["forward", "dense c5 400->120", () => dense(v.f, p.c5.w, p.c5.b)],
  ["forward", "dense f6 120->84 + out 84->10 + relus", () => {
    relu(v.a5);
    dense(v.a5, p.f6.w, p.f6.b);
    relu(v.a6);
    dense(v.a6, p.out.w, p.out.b);
  }],
  ["forward", "crossEntropy", () => crossEntropy(v.z7, labels)],
  ["backward", "crossEntropy", () => crossEntropyBackward(one, v.z7, labels)],
  ["backward", "dense out + f6 + relus", () => {
    denseBackward(g7, v.a6, p.out.w, p.out.b);
    reluBackward(g6, v.a6);
    denseBackward(g6r, v.a5, p.f6.w, p.f6.b);
    reluBackward(g5, v.a5);
  }],
  ["backward", "dense c5 (dX, dW, db)", () => denseBackward(g5r, v.f, p.c5.w, p.c5.b)],
  ["backward", "maxPool2d s4 + relu c3", () => {
    maxPool2dBackward(gs4, v.s4.argmax, v.a3.shape);
    reluBackward(ga3, v.a3);
  }],
  ["backward", "conv2d c3 (dX, dW, db)", () => conv2dBackward(gz3, v.s2.y, p.c3.w)],
  ["backward", "maxPool2d s2 + relu c1", () => {
    maxPool2dBackward(gs2, v.s2.argmax, v.a1.shape);
    reluBackward(ga1, v.a1);
  }],
  ["backward", "conv2d c1 (dW, db; no dX)", () => {
    conv2dWeightGradKernel(x.data, gz1.data, new Float32Array(150), g1);
    conv2dBiasGradKernel(gz1.data, new Float32Array(6), g1);
  }],
  ["update", "Adam (61,706 params)", () => opt.step(p, grads, state.opt)],
  ["update", "guard: finite grads + params", () => {
    for (const [, t] of flattenParams(grads)) allFinite(t);
    for (const [, t] of flattenParams(p)) allFinite(t);
  }],
  ["update", "running accuracy", () => countCorrect(v.z7, labels)],
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

console.log(`LeNet-5 modern, batch ${B}, float32, Adam; medians of ${ROUNDS} interleaved rounds\n`);
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
