import assert from "node:assert/strict";
import { grad, Tensor, TensorError, valueAndGrad, vjp, zeros } from "../../mod.ts";
import * as P from "../../src/autograd/primitives.ts";
import { recordOp, withRecorder } from "../../src/tensor/trace.ts";
import { assertClose, f64, normal } from "./helpers.ts";

const map = (t: Tensor, fn: (v: number) => number): number[] => Array.from(t.data, fn);

/** A "fast op" as src/tensor writes them: a plain loop, then recordOp with its own rule. */
function fastSquare(
  x: Tensor,
  name: string,
  rule: (g: Tensor) => readonly (Tensor | null)[],
): Tensor {
  const out = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) out[i] = x.data[i] * x.data[i];
  return recordOp(name, [x], new Tensor(out, x.shape), () => rule);
}

Deno.test("grad: trees of records and arrays come back in the same structure", () => {
  const params = {
    layer: { w: f64([[1, 2], [3, 4]]), b: f64([0.5, -0.5]) },
    extra: [f64([2]), f64(3)],
  };
  const x = f64([[1, -1]]);
  // L = sum(x W + b) * extra0 + extra1^2
  const loss = (p: typeof params, x: Tensor) =>
    P.add(
      P.mul(
        P.sum(P.add(P.matmul(x, p.layer.w), P.reshape(p.layer.b, [1, 2]))),
        P.reshape(p.extra[0], []),
      ),
      P.mul(p.extra[1], p.extra[1]),
    );
  const g = grad(loss)(params, x);
  assert.deepEqual(Object.keys(g), ["layer", "extra"]);
  assert.deepEqual(Object.keys(g.layer), ["w", "b"]);
  assert.equal(g.extra.length, 2);
  // dL/dW[i][j] = x[i] * extra0; dL/db = extra0; dL/dextra0 = sum(xW + b) = -4; dL/dextra1 = 6.
  assert.deepEqual(Array.from(g.layer.w.data), [2, 2, -2, -2]);
  assert.deepEqual(Array.from(g.layer.b.data), [2, 2]);
  assert.deepEqual(Array.from(g.extra[0].data), [-4]);
  assert.deepEqual(g.extra[1].shape, []);
  assert.deepEqual(Array.from(g.extra[1].data), [6]);
});

Deno.test("grad: argnums picks arguments; a list gives a tuple; others pass through", () => {
  const f = (a: Tensor, b: Tensor, scale: number) => P.sum(P.mul(P.mul(a, b), f64([scale, scale])));
  const a = f64([1, 2]), b = f64([3, 4]);
  assert.deepEqual(Array.from(grad(f)(a, b, 2).data), [6, 8]);
  assert.deepEqual(Array.from(grad(f, 1)(a, b, 2).data), [2, 4]);
  const [ga, gb] = grad(f, [1, 0])(a, b, 2);
  assert.deepEqual([Array.from(ga.data), Array.from(gb.data)], [[2, 4], [6, 8]]);
  assert.throws(() => grad(f, 2)(a, b, 2), /argument 2 is number, not a Tensor/);
  assert.throws(() => grad(f, [0, 0])(a, b, 2), /argnums \[0, 0\] must be distinct/);
  assert.throws(() => grad(f, 5)(a, b, 2), /argnums \[5\] must be distinct argument positions/);
});

Deno.test("valueAndGrad: returns f's value with the gradient from one forward pass", () => {
  let calls = 0;
  const f = (x: Tensor) => {
    calls++;
    return P.sum(P.exp(x));
  };
  const x = f64([0, 1, 2]);
  const [v, g] = valueAndGrad(f)(x);
  assert.equal(calls, 1);
  assertClose(v, f64(1 + Math.E + Math.exp(2)));
  assertClose(g, f64([1, Math.E, Math.exp(2)]));
});

Deno.test("engine: a tensor used several times accumulates every path's gradient", () => {
  const x = f64([1, -2, 3]);
  // L = sum(x*x + x*x*x + exp(x) - x): dL/dx = 2x + 3x^2 + e^x - 1.
  const f = (x: Tensor) =>
    P.sum(P.sub(P.add(P.add(P.mul(x, x), P.mul(P.mul(x, x), x)), P.exp(x)), x));
  assertClose(grad(f)(x), map(x, (v) => 2 * v + 3 * v * v + Math.exp(v) - 1), { rtol: 1e-14 });
  // The same argument passed twice is two inputs: each gets its own gradient.
  const [ga, gb] = grad((a: Tensor, b: Tensor) => P.sum(P.mul(a, b)), [0, 1])(x, x);
  assertClose(ga, x);
  assertClose(gb, x);
  // A tensor tied at two positions of one tree: one gradient per position.
  const tied = grad((p: { a: Tensor; b: Tensor }) => P.sum(P.mul(p.a, P.exp(p.b))))({ a: x, b: x });
  assertClose(tied.a, map(x, Math.exp));
  assertClose(tied.b, map(x, (v) => v * Math.exp(v)));
});

Deno.test("engine: inputs f does not use get zeros of their shape and dtype", () => {
  const used = f64([1, 2]);
  const unused = { w: zeros([3, 4], { dtype: "float64" }), v: zeros([2], { dtype: "float32" }) };
  const [gu, gn] = grad((a: Tensor, _p: typeof unused) => P.sum(a), [0, 1])(used, unused);
  assert.deepEqual(Array.from(gu.data), [1, 1]);
  assert.deepEqual(gn.w.shape, [3, 4]);
  assert.equal(gn.w.dtype, "float64");
  assert.ok(gn.w.data.every((v) => v === 0));
  assert.equal(gn.v.dtype, "float32");
  // An output that does not depend on the input at all (a constant made inside f).
  const g = grad((_x: Tensor) => P.sum(f64([1, 2, 3])))(f64([5, 6]));
  assert.deepEqual(Array.from(g.data), [0, 0]);
  // The identity: the cotangent itself.
  const [y, back] = vjp((x: Tensor) => x, used);
  assert.deepEqual(Array.from(y.data), [1, 2]);
  assert.deepEqual(Array.from(back(f64([7, 8]))[0].data), [7, 8]);
});

Deno.test("vjp: calling the pullback twice gives the same result (no hidden accumulation)", () => {
  const x = normal(1, [3, 4]), w = normal(2, [4, 2]);
  const [y, back] = vjp((x: Tensor, w: Tensor) => P.tanh(P.matmul(x, w)), x, w);
  assert.deepEqual(y.shape, [3, 2]);
  const g = normal(3, [3, 2]);
  const [dx1, dw1] = back(g);
  const [dx2, dw2] = back(g);
  assert.deepEqual(Array.from(dx1.data), Array.from(dx2.data));
  assert.deepEqual(Array.from(dw1.data), Array.from(dw2.data));
  // Linear in the cotangent: back(2g) = 2 back(g), not back(g) + accumulated state.
  const [dx3] = back(P.add(g, g));
  assertClose(dx3, map(dx1, (v) => 2 * v), { rtol: 1e-14 });
  assert.throws(() => back(f64([1, 2])), /the cotangent must match the output \[3, 2\] float64/);
});

Deno.test("grad of grad: second and third derivatives of x^3 e^x match the analytic ones", () => {
  const x = f64([-1.5, 0.25, 1, 2]);
  const f = (x: Tensor) => P.sum(P.mul(P.mul(P.mul(x, x), x), P.exp(x)));
  const d1 = grad(f);
  const d2 = grad((x: Tensor) => P.sum(d1(x)));
  const d3 = grad((x: Tensor) => P.sum(d2(x)));
  const e = (v: number) => Math.exp(v);
  assertClose(d1(x), map(x, (v) => (3 * v * v + v ** 3) * e(v)), { rtol: 1e-13 });
  assertClose(d2(x), map(x, (v) => (6 * v + 6 * v * v + v ** 3) * e(v)), { rtol: 1e-13 });
  assertClose(d3(x), map(x, (v) => (6 + 18 * v + 9 * v * v + v ** 3) * e(v)), {
    rtol: 1e-13,
    atol: 1e-13,
  });
});

Deno.test("nested grad: the inner and outer variables are not confused", () => {
  // d/dx [ x * d/dy (x * y) ] = d/dx x^2 = 2x (a classic perturbation-confusion trap).
  const x = f64(3), y = f64(5);
  const outer = grad((x: Tensor) => P.mul(x, grad((y: Tensor) => P.mul(x, y))(y)));
  assertClose(outer(x), f64(6));
  // d/dx [ d/dy (x y^2) at y ] = d/dx 2xy = 2y.
  const mixed = grad((x: Tensor) => grad((y: Tensor) => P.mul(x, P.mul(y, y)))(y));
  assertClose(mixed(x), f64(10));
});

Deno.test("engine: interleaved vjp calls and a pullback used inside another f stay independent", () => {
  const a = f64([1, 2]), b = f64([3, 4]);
  const [ya, backA] = vjp((x: Tensor) => P.mul(x, x), a);
  const [yb, backB] = vjp((x: Tensor) => P.exp(x), b);
  const ones = f64([1, 1]);
  const [db] = backB(ones);
  const [da] = backA(ones);
  assertClose(ya, f64([1, 4]));
  assertClose(yb, map(b, Math.exp));
  assertClose(da, f64([2, 4]));
  assertClose(db, map(b, Math.exp));
  // Differentiating through a pullback: d/dg sum(backA(g) * a) = 2a * a.
  const viaPullback = grad((g: Tensor) => P.sum(P.mul(backA(g)[0], a)))(ones);
  assertClose(viaPullback, f64([2, 8]));
  assertClose(backA(ones)[0], f64([2, 4]));
});

Deno.test("grad: a non-scalar output is an error naming its shape", () => {
  const x = f64([[1, 2], [3, 4]]);
  for (const fn of [grad, valueAndGrad]) {
    assert.throws(() => fn((x: Tensor) => P.exp(x))(x), (e: unknown) => {
      assert.ok(e instanceof TensorError);
      assert.match(
        e.message,
        /f must return a scalar tensor \(shape \[\]\), but it returned shape \[2, 2\]/,
      );
      assert.match(e.message, /use vjp for non-scalar outputs/);
      return true;
    });
  }
  assert.throws(() => grad((x: Tensor) => P.sum(x, 0, true))(f64([1])), /returned shape \[1\]/);
  assert.throws(
    () => grad((_x: Tensor) => 3 as unknown as Tensor)(x),
    /f must return a Tensor, but it returned number/,
  );
  const later = (x: Tensor) => Promise.resolve(x) as unknown as Tensor;
  assert.throws(() => grad(later)(x), /returned a Promise \(f must be synchronous\)/);
  assert.throws(
    () => grad((p: { w: Tensor; n: number }) => P.sum(p.w))({ w: x, n: 1 }),
    /argument 0\.n is number, not a Tensor/,
  );
});

Deno.test("engine: fast ops' recorded rules are their VJPs (custom_vjp), and shapes are checked", () => {
  const x = f64([1, 2, 3]);
  // A rule that is deliberately not the true derivative proves the engine uses the recorded one.
  const custom = (x: Tensor) => fastSquare(x, "fastSquare", (g) => [P.mul(g, f64([10, 20, 30]))]);
  assertClose(grad((x: Tensor) => P.sum(custom(x)))(x), f64([10, 20, 30]));
  const wrongShape = (x: Tensor) => fastSquare(x, "badRule", (g) => [P.sum(g, 0, true)]);
  assert.throws(
    () => grad((x: Tensor) => P.sum(wrongShape(x)))(x),
    /badRule: backward returned a float64 gradient of shape \[1\] for input 0 of shape \[3\]/,
  );
  const wrongCount = (x: Tensor) => fastSquare(x, "badCount", (g) => [g, g]);
  assert.throws(
    () => grad((x: Tensor) => P.sum(wrongCount(x)))(x),
    /badCount: backward returned 2 gradients for 1 inputs/,
  );
  // An op that hands back its input unchanged is the identity (no cycle, gradient flows).
  const ident = (x: Tensor) => recordOp("noop", [x], x, () => (g) => [P.neg(g)]);
  assertClose(grad((x: Tensor) => P.sum(P.mul(ident(x), x)))(x), f64([2, 4, 6]));
});

Deno.test("engine: pullbacks are built only for ops on traced tensors; `needed` marks them", () => {
  const seen: { name: string; needed?: readonly boolean[] }[] = [];
  let built = 0;
  const spyOp = (name: string, inputs: Tensor[]) => {
    const y = P.stopGradient(P.add(inputs[0], inputs[1]));
    return recordOp(name, inputs, y, () => {
      built++;
      return (g, needed) => {
        seen.push({ name, needed });
        return [g, g];
      };
    });
  };
  const x = f64([1, 2]);
  const g = grad((x: Tensor) => {
    const c = spyOp("constants", [f64([1, 1]), f64([2, 2])]); // made inside f: not traced
    return P.sum(spyOp("mixed", [x, c]));
  })(x);
  assert.deepEqual(Array.from(g.data), [1, 1]);
  assert.equal(built, 1);
  assert.deepEqual(seen, [{ name: "mixed", needed: [true, false] }]);
  // With no differentiation under way, recordOp builds nothing at all.
  spyOp("outside", [x, x]);
  assert.equal(built, 1);
  // A recorder that tracks nothing never sees ops either.
  const silent = { tracks: () => false, record: () => assert.fail("recorded") };
  withRecorder(silent, () => spyOp("silent", [x, x]));
  assert.equal(built, 1);
});
