import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import { grad, gradcheck, ref, Tensor, TensorError, vjp } from "../../mod.ts";
import * as P from "../../src/autograd/primitives.ts";
import { assertClose, assertPasses, f64, normal } from "./helpers.ts";
import { conv2dNaive, outSize, type Pads, poolNaive, samePads } from "./naive.ts";

const arr = (t: Tensor): number[] => Array.from(t.data);
const pad03 = fc.integer({ min: 0, max: 3 });

Deno.test("ref.conv2d: the 3x3 * 2x2 worked example, z11 = a11 w11 + a12 w12 + a21 w21 + a22 w22", () => {
  const a = f64([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
  const w = f64([[[[0.5, -1], [2, 0.25]]]]);
  const z = ref.conv2d(a, w);
  assert.deepEqual(z.shape, [1, 1, 2, 2]);
  const zAt = (r: number, c: number) =>
    a.data[r * 3 + c] * 0.5 - a.data[r * 3 + c + 1] + 2 * a.data[(r + 1) * 3 + c] +
    0.25 * a.data[(r + 1) * 3 + c + 1];
  assertClose(z, [zAt(0, 0), zAt(0, 1), zAt(1, 0), zAt(1, 1)]);
  // dZ/dA: the zero-padded delta convolved with rot180(W) (full convolution), by the chain rule.
  const delta = f64([[[[1, 2], [3, 4]]]]);
  const [da] = vjp((a: Tensor) => ref.conv2d(a, w), a)[1](delta);
  const full = ref.conv2d(delta, f64([[[[0.25, 2], [-1, 0.5]]]]), null, { padding: "full" });
  assertClose(da, full);
});

Deno.test("ref.conv2d: output sizes for 28 -> 24, 12 -> 8, same and full padding", () => {
  const shapeOf = (h: number, k: number, opts: ref.Conv2dOptions) =>
    ref.conv2d(normal(1, [1, 1, h, h]), normal(2, [2, 1, k, k]), null, opts).shape;
  assert.deepEqual(shapeOf(28, 5, {}), [1, 2, 24, 24]);
  assert.deepEqual(shapeOf(12, 5, {}), [1, 2, 8, 8]);
  assert.deepEqual(shapeOf(28, 5, { padding: 2 }), [1, 2, 28, 28]);
  assert.deepEqual(shapeOf(28, 5, { padding: "same" }), [1, 2, 28, 28]);
  assert.deepEqual(shapeOf(28, 5, { padding: "same", stride: 2 }), [1, 2, 14, 14]);
  assert.deepEqual(shapeOf(7, 3, { padding: "full" }), [1, 2, 9, 9]);
  assert.deepEqual(shapeOf(7, 3, { padding: "full", dilation: 2 }), [1, 2, 11, 11]);
  assert.deepEqual(shapeOf(10, 3, { stride: 3 }), [1, 2, 3, 3]);
});

Deno.test("ref.conv2d: 'same' puts the odd padding row/column at the bottom/right (TF)", () => {
  // 4x4 input, 2x2 kernel, stride 1: total padding 1, all of it bottom/right.
  const x = normal(3, [1, 1, 4, 4]), w = normal(4, [1, 1, 2, 2]);
  const same = ref.conv2d(x, w, null, { padding: "same" });
  assertClose(same, ref.conv2d(x, w, null, { padding: [0, 1, 0, 1] }));
  assertClose(same, conv2dNaive(x, w, null, [1, 1], [0, 1, 0, 1], [1, 1]), { rtol: 1e-13 });
});

Deno.test("ref.conv2d forward equals a direct 7-loop convolution for every option", () => {
  fc.assert(
    fc.property(
      fc.record({
        n: fc.integer({ min: 1, max: 2 }),
        c: fc.integer({ min: 1, max: 3 }),
        o: fc.integer({ min: 1, max: 3 }),
        h: fc.integer({ min: 1, max: 9 }),
        w: fc.integer({ min: 1, max: 9 }),
        k: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })),
        s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        d: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
        padding: fc.oneof(
          fc.constantFrom("valid" as const, "same" as const, "full" as const),
          fc.integer({ min: 0, max: 2 }),
          fc.tuple(pad03, pad03, pad03, pad03),
        ),
        bias: fc.boolean(),
        seed: fc.nat(),
      }),
      ({ n, c, o, h, w, k, s, d, padding, bias, seed }) => {
        const pads: Pads = padding === "valid"
          ? [0, 0, 0, 0]
          : padding === "full"
          ? [(k[0] - 1) * d[0], (k[0] - 1) * d[0], (k[1] - 1) * d[1], (k[1] - 1) * d[1]]
          : padding === "same"
          ? [...samePads(h, k[0], s[0], d[0]), ...samePads(w, k[1], s[1], d[1])]
          : typeof padding === "number"
          ? [padding, padding, padding, padding]
          : [padding[0], padding[1], padding[2], padding[3]];
        fc.pre(outSize(h, k[0], s[0], d[0], pads[0] + pads[1]) >= 1);
        fc.pre(outSize(w, k[1], s[1], d[1], pads[2] + pads[3]) >= 1);
        const x = normal(seed, [n, c, h, w]), wt = normal(seed + 1, [o, c, ...k]);
        const b = bias ? normal(seed + 2, [o]) : null;
        const y = ref.conv2d(x, wt, b, { stride: s, padding, dilation: d });
        assertClose(y, conv2dNaive(x, wt, b, s, pads, d), { rtol: 1e-12, atol: 1e-12 });
      },
    ),
    { seed: 1234, numRuns: 150 },
  );
});

Deno.test("ref pools forward equal direct loops, with the first-maximum arg-max", () => {
  fc.assert(
    fc.property(
      fc.record({
        n: fc.integer({ min: 1, max: 2 }),
        c: fc.integer({ min: 1, max: 3 }),
        h: fc.integer({ min: 1, max: 9 }),
        w: fc.integer({ min: 1, max: 9 }),
        k: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
        s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        p: fc.tuple(pad03, pad03, pad03, pad03),
        seed: fc.nat(),
        rounded: fc.boolean(),
      }),
      ({ n, c, h, w, k, s, p, seed, rounded }) => {
        const pads: Pads = [p[0], p[1], p[2], p[3]];
        fc.pre(pads[0] < k[0] && pads[1] < k[0] && pads[2] < k[1] && pads[3] < k[1]);
        fc.pre(outSize(h, k[0], s[0], 1, p[0] + p[1]) >= 1);
        fc.pre(outSize(w, k[1], s[1], 1, p[2] + p[3]) >= 1);
        // Rounded values make ties common: the arg-max must still be the first maximum.
        let x = normal(seed, [n, c, h, w]);
        if (rounded) x = roundTo(x, 1);
        const opts = { stride: s, padding: pads };
        const mx = poolNaive("max", x, k, s, pads), av = poolNaive("avg", x, k, s, pads);
        assertClose(ref.maxPool2d(x, k, opts), mx.y, { rtol: 0, atol: 0 });
        assertClose(ref.avgPool2d(x, k, opts), av.y, { rtol: 1e-13, atol: 1e-15 });
        const g = normal(seed + 9, mx.y.shape);
        const [gx] = vjp((x: Tensor) => ref.maxPool2d(x, k, opts), x)[1](g);
        const routed = new Float64Array(x.size);
        mx.arg.forEach((at, o) => (routed[at] += g.data[o]));
        assertClose(gx, routed, { rtol: 1e-14, atol: 0 });
      },
    ),
    { seed: 4321, numRuns: 150 },
  );
});

function roundTo(x: Tensor, digits: number): Tensor {
  const f = 10 ** digits;
  return new Tensor(x.data.map((v) => Math.round(v * f) / f), x.shape);
}

Deno.test("ref.maxPool2d: the 4x4 worked example routes each delta to its window's maximum", () => {
  // Maxima top-left, bottom-right, top-right, bottom-left of the four 2x2 windows.
  const x = f64([[[[9, 1, 2, 3], [1, 1, 2, 9], [1, 9, 2, 3], [1, 1, 9, 3]]]]);
  const delta = f64([[[[2, 8], [4, 6]]]]);
  const [dx] = vjp((x: Tensor) => ref.maxPool2d(x, 2), x)[1](delta);
  assert.deepEqual(arr(dx), [2, 0, 0, 0, 0, 0, 0, 8, 0, 4, 0, 0, 0, 0, 6, 0]);
  const [da] = vjp((x: Tensor) => ref.avgPool2d(x, 2), x)[1](delta);
  assert.deepEqual(arr(da), [0.5, 0.5, 2, 2, 0.5, 0.5, 2, 2, 1, 1, 1.5, 1.5, 1, 1, 1.5, 1.5]);
});

Deno.test("ref.maxPool2d ties: the gradient goes to the first maximum in row-major window order", () => {
  const x = f64([[[[5, 5], [5, 5]]]]);
  assert.deepEqual(arr(grad((x: Tensor) => P.sum(ref.maxPool2d(x, 2)))(x)), [1, 0, 0, 0]);
  // Overlapping windows (stride 1): each window's first maximum gets its own delta.
  const y = f64([[[[1, 3, 3], [3, 3, 0]]]]);
  const [dy] = vjp((y: Tensor) => ref.maxPool2d(y, 2, { stride: 1 }), y)[1](f64([[[[10, 20]]]]));
  assert.deepEqual(arr(dy), [0, 30, 0, 0, 0, 0]);
  // Padding (-Infinity) never wins, even against negative values.
  const z = f64([[[[-3, -1]]]]);
  const pool = (z: Tensor) => ref.maxPool2d(z, 2, { stride: 1, padding: 1 });
  assert.deepEqual(arr(pool(z)), [-3, -1, -1, -3, -1, -1]);
  const [dz] = vjp(pool, z)[1](f64([[[[1, 1, 1], [1, 1, 1]]]]));
  assert.deepEqual(arr(dz), [2, 4]);
});

Deno.test("ref.relu: relu'(0) = 0, relu'(x) = 1 for x > 0", () => {
  const x = f64([-2, 0, 3, 0]);
  assert.deepEqual(arr(ref.relu(x)), [0, 0, 3, 0]);
  const [dx] = vjp(ref.relu, x)[1](f64([1, 1, 1, 1]));
  assert.deepEqual(arr(dx), [0, 0, 1, 0]);
});

Deno.test("ref activations, softmax and losses: values from their formulas", () => {
  const x = f64([[-1.5, 0, 0.7], [2, -0.3, 1]]);
  const map = (fn: (v: number) => number) => arr(x).map(fn);
  assertClose(ref.sigmoid(x), map((v) => 1 / (1 + Math.exp(-v))), { rtol: 1e-15, atol: 1e-16 });
  assertClose(ref.scaledTanh(x), map((v) => 1.7159 * Math.tanh((2 * v) / 3)), { rtol: 1e-15 });
  const rows = [arr(x).slice(0, 3), arr(x).slice(3)];
  const soft = rows.flatMap((r) => {
    const z = r.reduce((a, v) => a + Math.exp(v), 0);
    return r.map((v) => Math.exp(v) / z);
  });
  assertClose(ref.softmax(x), soft, { rtol: 1e-15 });
  assertClose(ref.logSoftmax(x), soft.map(Math.log), { rtol: 1e-14 });
  const cols = ref.softmax(x, 0);
  assertClose(cols, colSoftmax(arr(x)), { rtol: 1e-15 });
  // Large logits stay finite (max-subtraction).
  assert.ok(arr(ref.logSoftmax(f64([[1000, 0]]))).every(Number.isFinite));
  const t = f64([[0, 1, 0], [1, 1, 1]]);
  const sq = arr(x).reduce((a, v, i) => a + (v - t.data[i]) ** 2, 0);
  assertClose(ref.mse(x, t), [sq / 4], { rtol: 1e-15 });
  assertClose(ref.mse(x, t, { reduction: "sum" }), [sq / 2], { rtol: 1e-15 });
  const ce = -(Math.log(soft[2]) + Math.log(soft[3]));
  assertClose(ref.crossEntropy(x, [2, 0]), [ce / 2], { rtol: 1e-14 });
  assertClose(ref.crossEntropy(x, f64([2, 0]), { reduction: "sum" }), [ce], { rtol: 1e-14 });
  const d = ref.dense(x, f64([[1], [2], [3]]), f64([0.5]));
  assertClose(d, [-1.5 + 2.1 + 0.5, 2 - 0.6 + 3 + 0.5], { rtol: 1e-15 });
  // Softmax + cross-entropy: the chain rule over the primitives gives softmax(z) - onehot(t).
  const dz = grad((z: Tensor) => ref.crossEntropy(z, [2, 0], { reduction: "sum" }))(x);
  assertClose(dz, soft.map((s, i) => s - (i === 2 || i === 3 ? 1 : 0)), { atol: 1e-15 });
  // MSE: y - t, over N for "mean".
  assertClose(grad((y: Tensor) => ref.mse(y, t))(x), arr(x).map((v, i) => (v - t.data[i]) / 2));
});

function colSoftmax(v: number[]): number[] {
  const out = new Array<number>(6);
  for (let j = 0; j < 3; j++) {
    const z = Math.exp(v[j]) + Math.exp(v[3 + j]);
    out[j] = Math.exp(v[j]) / z;
    out[3 + j] = Math.exp(v[3 + j]) / z;
  }
  return out;
}

Deno.test("ref.upsample: a 4x4 delta becomes 8x8 with each value in a 2x2 block (Kronecker)", () => {
  const d = f64([[[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]]);
  const u = ref.upsample(d, 2);
  assert.deepEqual(u.shape, [1, 1, 8, 8]);
  for (let r = 0; r < 8; r++) {
    for (let c = 0; c < 8; c++) {
      assert.equal(u.data[r * 8 + c], d.data[Math.floor(r / 2) * 4 + Math.floor(c / 2)]);
    }
  }
  assert.deepEqual(ref.upsample(f64([[1, 2]]), [1, 3]).shape, [1, 6]);
  // Its gradient sums each block: the transpose of the Kronecker product.
  const [g] = vjp((x: Tensor) => ref.upsample(x, 2), f64([[1, 2]]))[1](
    f64([[1, 2, 3, 4], [5, 6, 7, 8]]),
  );
  assert.deepEqual(arr(g), [14, 22]);
});

Deno.test("ref errors: shapes and options are validated, naming the op and the fix", () => {
  const x = normal(1, [1, 2, 5, 5]);
  const err = (re: RegExp) => (e: unknown) => e instanceof TensorError && re.test(e.message);
  assert.throws(
    () => ref.conv2d(x, normal(2, [3, 1, 3, 3])),
    err(/ref\.conv2d: input \[1, 2, 5, 5\] has 2 channels but weights \[3, 1, 3, 3\] expect 1/),
  );
  assert.throws(() => ref.conv2d(x, normal(2, [3, 2, 7, 7])), err(/does not fit the 5x5 input/));
  assert.throws(
    () => ref.conv2d(x, normal(2, [3, 2, 3, 3]), normal(3, [2])),
    err(/bias \[2\] must be \[3\]/),
  );
  assert.throws(
    () => ref.conv2d(x, normal(2, [3, 2, 3, 3]), null, { stride: 0 }),
    err(/stride 0 must be an integer >= 1/),
  );
  assert.throws(
    () => ref.conv2d(x, normal(2, [3, 2, 3, 3]), null, { padding: [1, 1] as never }),
    err(/padding \[1,1\] must be/),
  );
  assert.throws(
    () => ref.conv2d(normal(1, [2, 5, 5]), normal(2, [3, 2, 3, 3])),
    err(/input must be NCHW/),
  );
  assert.throws(
    () => ref.maxPool2d(x, 2, { padding: 2 }),
    err(/ref\.maxPool2d: .*padding must be smaller than the window/),
  );
  assert.throws(
    () => ref.crossEntropy(normal(1, [2, 3]), [0, 3]),
    err(/label 3 at 1 is not a class index in 0\.\.2/),
  );
  assert.throws(() => ref.crossEntropy(normal(1, [2, 3]), [0]), err(/1 labels for 2 rows/));
  assert.throws(
    () => ref.mse(normal(1, [2, 3]), normal(1, [3, 2])),
    err(/ref\.mse: prediction \[2, 3\] and target \[3, 2\]/),
  );
  assert.throws(() => ref.softmax(normal(1, [2, 3]), 2), err(/axis 2 is out of range/));
  assert.throws(
    () => ref.dense(normal(1, [2, 3]), normal(1, [3, 4]), normal(1, [3])),
    err(/bias \[3\] must be \[4\]/),
  );
});

Deno.test("grad of grad through reference definitions: Hessian-vector products match FD", () => {
  const z = normal(40, [3, 4]), w = normal(41, [3, 4]);
  // x -> <w, dL/dz(x)> for L = cross-entropy and for a tanh-conv: the VJPs are primitives too.
  const hvp = (z: Tensor) =>
    P.sum(P.mul(grad((z: Tensor) => ref.crossEntropy(z, [0, 3, 1]))(z), w));
  assertPasses(gradcheck(hvp, [z], { label: "crossEntropy HVP" }));
  const x = normal(42, [1, 2, 5, 5]), k = normal(43, [2, 2, 3, 3]);
  const convHvp = (x: Tensor, k: Tensor) => {
    const [gx, gk] = grad(
      (x: Tensor, k: Tensor) => P.sum(ref.scaledTanh(ref.conv2d(x, k, null, { padding: "same" }))),
      [0, 1],
    )(x, k);
    return P.add(P.sum(P.mul(gx, gx)), P.sum(P.mul(gk, gk)));
  };
  assertPasses(gradcheck(convHvp, [x, k], { label: "conv HVP" }));
});
