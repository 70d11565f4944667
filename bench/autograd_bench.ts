/**
 * The autograd engine's own cost per op: a chain of 1000 ops that compute nothing (a fresh
 * tensor over the input's buffer, identity pullback), untraced vs recorded on a tape and
 * walked back. Divide the difference by 1000 for the bookkeeping per op.
 *
 *   deno bench --allow-read --allow-env bench/autograd_bench.ts
 */

import { grad, Tensor, tensor, valueAndGrad } from "../mod.ts";
import { recordOp } from "../src/tensor/trace.ts";
import { dense, relu } from "../mod.ts";
import { crossEntropy } from "../mod.ts";
import { prngKey, randomNormal } from "../mod.ts";

const N = 1000;

/** An op with no arithmetic: only the cost of recording and replaying it remains. */
function nop(x: Tensor): Tensor {
  return recordOp("nop", [x], new Tensor(x.data, x.shape), () => (g) => [g]);
}

function chain(x: Tensor): Tensor {
  for (let i = 0; i < N; i++) x = nop(x);
  return x;
}

const x0 = tensor(1.5);

Deno.bench("1000 no-op ops, untraced", { group: "engine", baseline: true }, () => {
  chain(x0);
});

Deno.bench("1000 no-op ops, traced + backward (grad)", { group: "engine" }, () => {
  grad(chain)(x0);
});

// A LeNet-sized dense head at batch 64, float32: engine bookkeeping next to real work.
const key = prngKey(0);
const p = {
  w1: randomNormal(key, [400, 120], { std: 0.05 }),
  b1: randomNormal(key, [120], { std: 0.05 }),
  w2: randomNormal(key, [120, 10], { std: 0.05 }),
  b2: randomNormal(key, [10], { std: 0.05 }),
};
const xb = randomNormal(key, [64, 400]);
const labels = Array.from({ length: 64 }, (_, i) => i % 10);
const head = (q: typeof p, x: Tensor) =>
  crossEntropy(dense(relu(dense(x, q.w1, q.b1)), q.w2, q.b2), labels);

Deno.bench("dense head 64x400->120->10, forward only", { group: "head", baseline: true }, () => {
  head(p, xb);
});

Deno.bench("dense head 64x400->120->10, valueAndGrad", { group: "head" }, () => {
  valueAndGrad(head)(p, xb);
});
