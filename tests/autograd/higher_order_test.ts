/**
 * Higher-order safety. A fast op's hand-derived rule is a plain kernel: an enclosing `grad`
 * that differentiates THROUGH it would see its gradient as a constant and silently return a
 * wrong answer. The engine turns that into an error naming the op and pointing at `ref.*`;
 * primitive pullbacks (and rules built from recorded ops) keep working for grad-of-grad.
 */

import assert from "node:assert/strict";
import {
  conv2d,
  crossEntropy,
  grad,
  maxPool2d,
  ref,
  relu,
  reshape,
  softmax,
  sum,
  tanh,
  type Tensor,
  TensorError,
  valueAndGrad,
  vjp,
} from "../../mod.ts";
import * as P from "../../src/autograd/primitives.ts";
import { assertClose, f64, normal } from "./helpers.ts";

/** Asserts that `f` throws the engine's higher-order error for op `name`. */
function throwsFirstOrderOnly(f: () => unknown, name: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof TensorError, String(e));
    assert.equal(e.op, name);
    assert.match(e.message, new RegExp(`^${name}: cannot differentiate through this op's hand-`));
    assert.match(e.message, /higher-order derivative/);
    assert.match(e.message, new RegExp(`use the reference definition ref\\.${name} `));
    return true;
  });
}

Deno.test("grad of grad through a fast op's hand rule is an error naming the op (not a wrong answer)", () => {
  // d2/dx2 sum(tanh x) = -2 tanh(x) (1 - tanh^2 x). Before the check, the inner gradient
  // (1 - tanh^2 x, a plain kernel) was a constant to the outer grad, which returned zeros.
  const x = f64([0.3, -0.7, 1.1]);
  const d1 = grad((x: Tensor) => P.sum(tanh(x)));
  throwsFirstOrderOnly(() => grad((x: Tensor) => P.sum(d1(x)))(x), "tanh");
  // The engine cannot tell a rule whose plain-kernel gradient happens to be right (sum's: 1
  // whatever x is) from a wrong one: any fast op met on the way back refuses.
  const viaSum = grad((x: Tensor) => sum(P.tanh(x)));
  throwsFirstOrderOnly(() => grad((x: Tensor) => P.sum(viaSum(x)))(x), "sum");
  // The reference definition gives the true second derivative.
  const r1 = grad((x: Tensor) => ref.sum(ref.tanh(x)));
  const d2 = grad((x: Tensor) => ref.sum(r1(x)))(x);
  assertClose(d2, Array.from(x.data, (v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)), {
    rtol: 1e-14,
  });
});

Deno.test("a mixed second derivative through conv2d's rule (weights -> input gradient) is an error", () => {
  const x = normal(1, [1, 2, 5, 5]), w = normal(2, [3, 2, 3, 3]);
  const inputGrad = (w: Tensor) => grad((x: Tensor) => P.sum(relu(conv2d(x, w, null))))(x);
  throwsFirstOrderOnly(() => grad((w: Tensor) => P.sum(P.mul(inputGrad(w), x)))(w), "relu");
  // Without the relu the first rule met on the way back is conv2d's own.
  const linear = (w: Tensor) => grad((x: Tensor) => P.sum(P.mul(conv2d(x, w), conv2d(x, w))))(x);
  throwsFirstOrderOnly(() => grad((w: Tensor) => P.sum(P.mul(linear(w), x)))(w), "conv2d");
  // The same with the reference definitions works, and agrees with central differences.
  const refGrad = (w: Tensor) =>
    grad((x: Tensor) => ref.sum(P.mul(ref.conv2d(x, w), ref.conv2d(x, w))))(x);
  const outer = (w: Tensor) => P.sum(P.mul(refGrad(w), x));
  const g = grad(outer)(w);
  const i = 7, eps = 1e-5;
  const bump = (d: number) => {
    const data = w.data.slice();
    data[i] += d;
    return outer(reshape(f64(Array.from(data)), w.shape)).data[0];
  };
  assertClose([g.data[i]], [(bump(eps) - bump(-eps)) / (2 * eps)], { rtol: 1e-7, atol: 1e-9 });
});

Deno.test("differentiating a pullback with respect to its cotangent through a hand rule is an error", () => {
  const z = normal(3, [2, 4]);
  const [, pull] = vjp((z: Tensor) => softmax(z), z);
  throwsFirstOrderOnly(
    () => grad((g: Tensor) => sum(P.mul(pull(g)[0], z)))(normal(4, [2, 4])),
    "softmax",
  );
  // crossEntropy and max-pooling likewise.
  const [, pullCe] = vjp((z: Tensor) => crossEntropy(z, [1, 3]), z);
  throwsFirstOrderOnly(() => grad((g: Tensor) => sum(pullCe(g)[0]))(f64(1)), "crossEntropy");
  const x = normal(5, [1, 1, 4, 4]);
  const [, pullPool] = vjp((x: Tensor) => maxPool2d(x, { kernel: 2 }), x);
  throwsFirstOrderOnly(
    () => grad((g: Tensor) => sum(P.mul(pullPool(g)[0], x)))(normal(6, [1, 1, 2, 2])),
    "maxPool2d",
  );
});

Deno.test("rules built from recorded ops stay differentiable: no error, the right answer", () => {
  // reshape's rule is a reshape of the cotangent (a recorded op): the enclosing grad sees it.
  const x = normal(7, [2, 3]);
  const [, pull] = vjp((x: Tensor) => reshape(x, [3, 2]), x);
  const c = normal(8, [2, 3]);
  const viaPullback = grad((g: Tensor) => P.sum(P.mul(pull(g)[0], c)))(normal(9, [3, 2]));
  assertClose(viaPullback, ref.reshape(c, [3, 2]));
});

Deno.test("first-order use inside an enclosing grad is fine when the enclosing call does not see through it", () => {
  // The inner gradient is of a constant x0: the outer grad (over y) traces nothing the fast
  // op's rule touches, so the rule's plain kernel is exactly right.
  const x0 = f64([0.5, -1]), y = f64(3);
  const inner = grad((x: Tensor) => sum(tanh(x)))(x0); // 1 - tanh^2
  const g = grad((y: Tensor) => P.mul(y, P.sum(grad((x: Tensor) => sum(tanh(x)))(x0))))(y);
  assertClose(g, f64(inner.data[0] + inner.data[1]));
});

Deno.test("primitive pullbacks keep working for grad of grad (and grad of grad of grad)", () => {
  const x = f64([-1.2, 0.4, 2]);
  const f = (x: Tensor) => P.sum(P.mul(P.tanh(x), P.exp(x)));
  const d1 = grad(f), d2 = grad((x: Tensor) => P.sum(d1(x)));
  const d3 = grad((x: Tensor) => P.sum(d2(x)));
  const fd = (h: (x: Tensor) => Tensor, i: number) => {
    const at = (d: number) => h(f64(Array.from(x.data, (v, j) => (j === i ? v + d : v)))).data[0];
    return (at(1e-5) - at(-1e-5)) / 2e-5;
  };
  for (let i = 0; i < 3; i++) {
    // d2 = derivative of sum(d1); d3 = derivative of sum(d2).
    assertClose([d2(x).data[i]], [fd((x) => P.sum(d1(x)), i)], { rtol: 1e-8, atol: 1e-9 });
    assertClose([d3(x).data[i]], [fd((x) => P.sum(d2(x)), i)], { rtol: 1e-8, atol: 1e-9 });
  }
  // Reference definitions are compositions of primitives: valueAndGrad of a grad works too.
  const [v, h] = valueAndGrad((x: Tensor) => ref.sum(grad((x: Tensor) => ref.logSumExp(x))(x)))(x);
  assertClose(v, f64(1), { rtol: 1e-14 }); // softmax sums to 1 ...
  assertClose(h, [0, 0, 0], { atol: 1e-15 }); // ... whatever x is
});
