import assert from "node:assert/strict";
import {
  adam,
  createOptimizer,
  momentum,
  type Optimizer,
  type OptimizerState,
  sgd,
} from "../../src/lenet/optim.ts";
import type { Params } from "../../src/lenet/params.ts";
import { stepSchedule } from "../../src/lenet/schedule.ts";
import { TensorError } from "../../src/tensor/errors.ts";
import { tensor } from "../../src/tensor/tensor.ts";

type P = { w: ReturnType<typeof tensor> };
const f64 = { dtype: "float64" } as const;

/** Runs `opt` from p = [1] over the gradient sequence; returns each step's params and state. */
function run(opt: Optimizer, grads: number[], p0 = 1) {
  let params: P = { w: tensor([p0], f64) };
  let state: OptimizerState<P> = opt.init(params);
  const out: { p: number; state: OptimizerState<P> }[] = [];
  for (const g of grads) {
    ({ params, state } = opt.step(params, { w: tensor([g], f64) }, state));
    out.push({ p: params.w.data[0], state });
  }
  return out;
}

const close = (got: number, want: number, what: string) =>
  assert.ok(
    Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)),
    `${what}: ${got} != ${want}`,
  );

const G = [1, -0.5, 2]; // the gradient sequence of the worked examples below

Deno.test("SGD: p <- p - lr (g + wd p), per element, several steps", () => {
  const opt = sgd({ lr: 0.1 });
  const params = { w: tensor([1, -2], f64) };
  const g = { w: tensor([0.5, 1], f64) };
  const s1 = opt.step(params, g, opt.init(params));
  assert.deepEqual(Array.from(s1.params.w.data), [0.95, -2.1]);
  const s2 = opt.step(s1.params, g, s1.state);
  close(s2.params.w.data[0], 0.9, "step 2");
  close(s2.params.w.data[1], -2.2, "step 2");
  assert.equal(s2.state.step, 2);
  assert.deepEqual(s2.state.moments, {});
  // L2 weight decay: g' = g + 0.01 p -> 1 - 0.1 (0.5 + 0.01) = 0.949; -2 - 0.1 (1 - 0.02) = -2.098
  const wd = sgd({ lr: 0.1, weightDecay: 0.01 });
  const d = wd.step(params, g, wd.init(params));
  close(d.params.w.data[0], 0.949, "wd");
  close(d.params.w.data[1], -2.098, "wd");
});

Deno.test("momentum (classic): v <- 0.9 v + g; p <- p - 0.1 v", () => {
  // v: 1, 0.9 - 0.5 = 0.4, 0.36 + 2 = 2.36; p: 0.9, 0.86, 0.624
  const steps = run(momentum({ lr: 0.1, momentum: 0.9 }), G);
  [0.9, 0.86, 0.624].forEach((p, i) => close(steps[i].p, p, `p${i + 1}`));
  [1, 0.4, 2.36].forEach((v, i) =>
    close(steps[i].state.moments.velocity.w.data[0], v, `v${i + 1}`)
  );
});

Deno.test("momentum (Nesterov, PyTorch form): p <- p - lr (g + mu v)", () => {
  // p1 = 1 - 0.1 (1 + 0.9) = 0.81; p2 = 0.81 - 0.1 (-0.5 + 0.36) = 0.824;
  // p3 = 0.824 - 0.1 (2 + 0.9 * 2.36) = 0.4116
  const steps = run(momentum({ lr: 0.1, momentum: 0.9, nesterov: true }), G);
  [0.81, 0.824, 0.4116].forEach((p, i) => close(steps[i].p, p, `p${i + 1}`));
  // With L2 decay 0.1: g1 = 1.1, v1 = 1.1, p1 = 1 - 0.1 (1.1 + 0.99) = 0.791; then
  // g2 = -0.5 + 0.0791, v2 = 0.99 - 0.4209 = 0.5691, p2 = 0.791 - 0.1 (-0.4209 + 0.51219)
  const wd = run(momentum({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1 }), G);
  close(wd[0].p, 0.791, "wd p1");
  close(wd[1].state.moments.velocity.w.data[0], 0.5691, "wd v2");
  close(wd[1].p, 0.781871, "wd p2");
  close(wd[2].p, 0.34091835099999973, "wd p3");
});

Deno.test("Adam: bias-corrected moments, eps 1e-8", () => {
  // t=1: m = 0.1, v = 0.001, mhat = 1, vhat = 1: p = 1 - 0.1 / (1 + 1e-8)
  // t=2: m = 0.04, v = 0.001249; mhat = 0.04 / 0.19, vhat = 0.001249 / 0.001999
  const steps = run(adam({ lr: 0.1 }), G);
  close(steps[0].p, 1 - 0.1 / (1 + 1e-8), "p1");
  close(steps[0].state.moments.m.w.data[0], 0.1, "m1");
  close(steps[0].state.moments.v.w.data[0], 0.001, "v1");
  const p2 = steps[0].p - 0.1 * (0.04 / 0.19) / (Math.sqrt(0.001249 / 0.001999) + 1e-8);
  close(steps[1].p, p2, "p2");
  close(steps[1].p, 0.8733662973709032, "p2 (pinned)");
  close(steps[2].p, 0.8075551378428033, "p3");
  close(steps[2].state.moments.m.w.data[0], 0.236, "m3");
  close(steps[2].state.moments.v.w.data[0], 0.005247751, "v3");
  assert.equal(steps[2].state.step, 3);
});

Deno.test("Adam weight decay: L2 by default, decoupled (AdamW) on request", () => {
  // L2: g1 = 1 + 0.1 * 1 = 1.1, so m1 = 0.11; the first step still moves p by ~lr.
  const l2 = run(adam({ lr: 0.1, weightDecay: 0.1 }), G);
  close(l2[0].state.moments.m.w.data[0], 0.11, "m1");
  close(l2[2].p, 0.793599917164395, "p3");
  // AdamW: p <- p (1 - lr wd) first: 0.99 - 0.1 / (1 + 1e-8); moments see the raw gradient.
  const w = run(adam({ lr: 0.1, weightDecay: 0.1, decoupledWeightDecay: true }), G);
  close(w[0].p, 0.99 - 0.1 / (1 + 1e-8), "p1");
  close(w[0].state.moments.m.w.data[0], 0.1, "m1");
  close(w[2].p, 0.7801104748591943, "p3");
});

Deno.test("a schedule sets the rate from state.step", () => {
  // lr 0.1 for steps 0 and 1, then 0.05: p = 1 - 0.1 - 0.1 - 0.05 with g = 1
  const steps = run(sgd({ lr: stepSchedule(0.1, 2, 0.5) }), [1, 1, 1]);
  close(steps[2].p, 0.75, "p3");
  const bad = sgd({ lr: () => NaN });
  const params = { w: tensor([1]) };
  assert.throws(
    () => bad.step(params, params, bad.init(params)),
    /sgd: the learning rate at step 0 is NaN/,
  );
});

Deno.test("optimizers never mutate their inputs and are deterministic (float32)", () => {
  for (const opt of [sgd({ lr: 0.1 }), momentum({ lr: 0.1, nesterov: true }), adam({ lr: 0.01 })]) {
    const params = { a: { w: tensor([[1, 2], [3, 4]]), b: tensor([0.5]) } };
    const grads = { a: { b: tensor([1]), w: tensor([[0.1, -0.2], [0.3, -0.4]]) } };
    const snapshot = (t: Params) =>
      JSON.stringify(t, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));
    const before = [snapshot(params), snapshot(grads)];
    const s0 = opt.init(params);
    const s1 = opt.step(params, grads, s0);
    const s0Copy = snapshot(s0.moments as unknown as Params);
    const s2 = opt.step(s1.params, grads, s1.state);
    assert.deepEqual([snapshot(params), snapshot(grads)], before, opt.name);
    assert.equal(snapshot(s0.moments as unknown as Params), s0Copy);
    assert.notEqual(s1.params.a.w.data, params.a.w.data, "fresh output arrays");
    assert.equal(s2.params.a.w.dtype, "float32");
    const again = opt.step(opt.step(params, grads, opt.init(params)).params, grads, s1.state);
    assert.deepEqual(again.params.a.w.data, s2.params.a.w.data, `${opt.name} deterministic`);
    assert.ok(Object.isFrozen(s2.state));
  }
});

Deno.test("optimizers check trees, state and options with clear errors", () => {
  const opt = adam({ lr: 0.01 });
  const params = { w: tensor([1, 2]) };
  assert.throws(
    () => opt.step(params, { w: tensor([1, 2, 3]) }, opt.init(params)),
    (e: unknown) =>
      e instanceof TensorError &&
      e.message === 'adam: params and grads differ at "w": params shape [2], grads [3]; ' +
          "pass trees of one model",
  );
  assert.throws(
    () => opt.step(params, params, { step: 0, moments: {} }),
    /adam: state has no "m" moments; make it with adam.init/,
  );
  assert.throws(
    () => opt.step(params, { w: tensor([1, 2], f64) }, opt.init(params)),
    /grads differ at "w": params dtype float32, grads float64/,
  );
  assert.throws(() => momentum({ lr: 0.1, momentum: 1 }), /momentum 1 must be in \[0, 1\)/);
  assert.throws(() => adam({ lr: 0.1, beta2: 1 }), /beta2 1 must be in \[0, 1\)/);
  assert.throws(() => sgd({ lr: -1 }), /lr -1 must be finite and >= 0/);
  assert.throws(() => sgd({ lr: 0.1, weightDecay: -0.1 }), /weightDecay -0.1/);
  const m = createOptimizer({ name: "momentum", lr: 0.1 });
  assert.deepEqual([m.name, m.momentNames], ["momentum", ["velocity"]]);
  assert.deepEqual(createOptimizer({ name: "adam", lr: 0.1 }).momentNames, ["m", "v"]);
});
