import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import {
  conv2d,
  conv2dBackward,
  conv2dOutputShape,
  correlate2d,
  fromData,
  ones,
  rot180,
  Tensor,
  tensor,
  TensorError,
  zeros,
} from "../../mod.ts";
import { type Pullback, withRecorder } from "../../src/tensor/trace.ts";
import { convCaseArb, fits, pair, refConv2d, refPadding } from "./conv_ref.ts";
import {
  assertBackwardMatchesFd,
  maxRelDiff as maxRelError,
  rand,
  snapshot,
} from "../autograd/helpers.ts";

Deno.test("worked example: 3x3 input, 2x2 kernel, stride 1", () => {
  const [a11, a12, a13, a21, a22, a23, a31, a32, a33] = [2, 3, 5, 7, 11, 13, 17, 19, 23];
  const [w11, w12, w21, w22] = [1, -2, 3, 4];
  const x = tensor([[[[a11, a12, a13], [a21, a22, a23], [a31, a32, a33]]]], { dtype: "float64" });
  const w = tensor([[[[w11, w12], [w21, w22]]]], { dtype: "float64" });
  const z = conv2d(x, w);
  assert.deepEqual(z.shape, [1, 1, 2, 2]);
  assert.deepEqual(Array.from(z.data), [
    a11 * w11 + a12 * w12 + a21 * w21 + a22 * w22, // z11
    a12 * w11 + a13 * w12 + a22 * w21 + a23 * w22, // z12
    a21 * w11 + a22 * w12 + a31 * w21 + a32 * w22, // z21
    a22 * w11 + a23 * w12 + a32 * w21 + a33 * w22, // z22
  ]);

  // The input gradient: each a_uv collects delta_ij * w over the outputs it fed...
  const [d11, d12, d21, d22] = [0.5, -1, 2, 3];
  const delta = tensor([[[[d11, d12], [d21, d22]]]], { dtype: "float64" });
  const { dx, dw, db } = conv2dBackward(delta, x, w);
  assert.deepEqual(Array.from(dx.data), [
    d11 * w11,
    d11 * w12 + d12 * w11,
    d12 * w12,
    d11 * w21 + d21 * w11,
    d11 * w22 + d12 * w21 + d21 * w12 + d22 * w11,
    d12 * w22 + d22 * w12,
    d21 * w21,
    d21 * w22 + d22 * w21,
    d22 * w22,
  ]);
  // ...which is the zero-padded delta convolved (network sense) with rot180(W).
  const padded = tensor([[0, 0, 0, 0], [0, d11, d12, 0], [0, d21, d22, 0], [0, 0, 0, 0]], {
    dtype: "float64",
  });
  const rotW = rot180(tensor([[w11, w12], [w21, w22]], { dtype: "float64" }));
  assert.deepEqual(Array.from(rotW.data), [w22, w21, w12, w11]);
  assert.deepEqual(Array.from(dx.data), Array.from(correlate2d(padded, rotW, "valid").data));
  // dW = valid correlation of the input with delta; db = sum of delta.
  assert.deepEqual(Array.from(dw.data), Array.from(correlate2d(reshape2(x), reshape2(delta)).data));
  assert.deepEqual(Array.from(db.data), [d11 + d12 + d21 + d22]);
});

/** The single map of a [1, 1, H, W] tensor as [H, W]. */
function reshape2(t: Tensor): Tensor {
  return new Tensor(t.data, t.shape.slice(2));
}

Deno.test("output size o = (n + 2p - k)/s + 1, and same/full", () => {
  const cases: [number[], number[], Parameters<typeof conv2d>[3], number[]][] = [
    [[64, 1, 28, 28], [6, 1, 5, 5], {}, [64, 6, 24, 24]], // 28 -> 24, k = 5
    [[1, 6, 12, 12], [16, 6, 5, 5], { padding: "valid" }, [1, 16, 8, 8]], // 12 -> 8
    [[2, 1, 28, 28], [6, 1, 5, 5], { padding: 2 }, [2, 6, 28, 28]], // (28 + 4 - 5)/1 + 1
    [[1, 1, 28, 28], [1, 1, 5, 5], { padding: "same" }, [1, 1, 28, 28]],
    [[1, 1, 28, 28], [1, 1, 5, 5], { padding: "full" }, [1, 1, 32, 32]], // 28 + 2*4 - 5 + 1
    [[1, 1, 7, 9], [1, 1, 3, 3], { stride: 2, padding: 1 }, [1, 1, 4, 5]], // (7+2-3)/2+1, (9+2-3)/2+1
    [[1, 1, 7, 8], [1, 1, 3, 2], { stride: [2, 3], padding: "same" }, [1, 1, 4, 3]], // ceil(n/s)
    [[1, 1, 10, 10], [1, 1, 3, 3], { dilation: 2 }, [1, 1, 6, 6]], // effective k = 5
    [[1, 1, 5, 5], [1, 1, 3, 3], { dilation: 2, padding: "full" }, [1, 1, 9, 9]],
    [[1, 1, 6, 6], [1, 1, 3, 3], { stride: 2 }, [1, 1, 2, 2]], // floor((6 - 3)/2) + 1
  ];
  for (const [xs, ws, opts, expected] of cases) {
    assert.deepEqual(conv2dOutputShape(xs, ws, opts), expected, JSON.stringify({ xs, ws, opts }));
    const y = conv2d(zeros(xs), zeros(ws), null, opts);
    assert.deepEqual(y.shape, expected);
  }
  for (const [n, p, k, s] of [[28, 0, 5, 1], [12, 0, 5, 1], [28, 2, 5, 1], [32, 1, 4, 2]]) {
    const [, , ho] = conv2dOutputShape([1, 1, n, n], [1, 1, k, k], { padding: p, stride: s });
    assert.equal(ho, (n + 2 * p - k) / s + 1);
  }
});

Deno.test("mismatched conv: the error names conv2d, both shapes, the options and the fix", () => {
  const x = zeros([2, 3, 8, 8]), w = zeros([4, 2, 3, 3]);
  assert.throws(() => conv2d(x, w, null, { padding: "same" }), (e: unknown) => {
    assert.ok(e instanceof TensorError);
    assert.equal(e.op, "conv2d");
    assert.match(e.message, /^conv2d: channel mismatch/);
    assert.ok(e.message.includes("x [2, 3, 8, 8]"), e.message);
    assert.ok(e.message.includes("w [4, 2, 3, 3]"), e.message);
    assert.ok(e.message.includes('padding: "same"'), e.message);
    assert.match(e.message, /make w's second extent equal x's channel count/);
    return true;
  });
});

Deno.test("conv2d validates ranks, stride, dilation, padding, fit, bias and dtypes first", () => {
  const x = zeros([1, 1, 4, 4]), w = zeros([2, 1, 3, 3]);
  const fails = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof TensorError && re.test(e.message));
  fails(
    () => conv2d(zeros([4, 4]), w),
    /input must be NCHW .* rank 2 .*x \[4, 4\], w \[2, 1, 3, 3\]/,
  );
  fails(() => conv2d(x, zeros([3, 3])), /weights must be OIHW .* rank 2/);
  fails(() => conv2d(x, w, null, { stride: 0 }), /stride 0 is invalid .*positive integer/);
  fails(() => conv2d(x, w, null, { stride: -1 }), /stride -1 is invalid/);
  fails(() => conv2d(x, w, null, { stride: [1, 1.5] }), /stride \[1,1.5\] is invalid/);
  fails(() => conv2d(x, w, null, { dilation: 0 }), /dilation 0 is invalid/);
  fails(
    () => conv2d(x, w, null, { padding: "wide" as never }),
    /padding "wide" is invalid .*"valid", "same", "full"/,
  );
  fails(() => conv2d(x, w, null, { padding: -1 }), /padding -1 is invalid/);
  fails(
    () => conv2d(x, w, null, { padding: [1, 1] as never }),
    /padding \[1,1\] is invalid .*\[top, bottom, left, right\]/,
  );
  fails(
    () => conv2d(zeros([1, 1, 2, 2]), w),
    /kernel larger than padded input: the 3x3 kernel .* 2x2 padded input/,
  );
  fails(
    () => conv2d(x, w, null, { dilation: 2 }),
    /dilated extent 5x5\) does not fit the 4x4 padded input/,
  );
  fails(() => conv2d(x, w, zeros([3])), /bias b \[3\] must be \[2\]/);
  fails(
    () => conv2d(x, zeros([2, 1, 3, 3], { dtype: "float64" })),
    /mixed dtypes: x \[1, 1, 4, 4\] is float32, w \[2, 1, 3, 3\] is float64/,
  );
  fails(
    () => conv2dBackward(zeros([1, 2, 3, 3]), x, w),
    /delta \[1, 2, 3, 3\] must have the forward output's shape \[1, 2, 2, 2\]/,
  );
  // Padding makes a large kernel fit.
  assert.deepEqual(conv2d(zeros([1, 1, 2, 2]), w, null, { padding: 1 }).shape, [1, 2, 2, 2]);
});

Deno.test("conv2d matches the direct 7-loop definition on random shapes and every option", () => {
  fc.assert(
    fc.property(convCaseArb({ batch: 3, channels: 4, spatial: 10, kernel: 5 }), (k) => {
      const x = rand(k.seed, [k.n, k.c, k.h, k.w]);
      const w = rand(k.seed + 1, [k.o, k.c, k.kh, k.kw]);
      const b = k.bias ? rand(k.seed + 2, [k.o]) : null;
      if (!fits(k)) {
        assert.throws(() => conv2d(x, w, b, k.opts), /kernel larger than padded input/);
        return;
      }
      const ref = refConv2d(x, w, b, k.opts);
      const y = conv2d(x, w, b, k.opts);
      assert.deepEqual(y.shape, ref.shape);
      assert.equal(y.dtype, "float64");
      assert.ok(maxRelError(y.data, ref.data) <= 1e-12);
    }),
    { seed: 20240601, numRuns: 400 },
  );
});

Deno.test("conv2dBackward dx, dw, db match central finite differences (float64)", () => {
  fc.assert(
    fc.property(convCaseArb({ batch: 2, channels: 3, spatial: 7, kernel: 4 }), (k) => {
      fc.pre(fits(k));
      const x = rand(k.seed, [k.n, k.c, k.h, k.w]);
      const w = rand(k.seed + 1, [k.o, k.c, k.kh, k.kw]);
      const b = rand(k.seed + 2, [k.o]);
      assertBackwardMatchesFd(
        `conv2dBackward ${JSON.stringify(k)}`,
        (xx, ww, bb) => conv2d(xx, ww, bb, k.opts),
        (delta, [xx, ww]) => {
          const { dx, dw, db } = conv2dBackward(delta, xx, ww, k.opts);
          return [dx, dw, db];
        },
        [x, w, b],
        { seed: k.seed },
      );
    }),
    { seed: 7, numRuns: 150 },
  );
});

/** `t` with `s-1` zeros inserted between neighbouring cells of each [H, W] map (stride dilation). */
function dilate(t: Tensor, [sh, sw]: [number, number]): Tensor {
  const [h, w] = t.shape;
  const H = (h - 1) * sh + 1, W = (w - 1) * sw + 1;
  const out = new Float64Array(H * W);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) out[i * sh * W + j * sw] = t.data[i * w + j];
  }
  return new Tensor(out, [H, W]);
}

/** Map `(n, c)` of an NCHW tensor as its own [H, W] tensor. */
function map(t: Tensor, n: number, c: number): Tensor {
  const [, C, H, W] = t.shape;
  const off = (n * C + c) * H * W;
  return new Tensor(Float64Array.from(t.data.subarray(off, off + H * W)), [H, W]);
}

Deno.test("dX = full_corr(stride-dilated delta, rot180(dilated W)) summed over maps, cropped", () => {
  fc.assert(
    fc.property(convCaseArb({ batch: 2, channels: 3, spatial: 8, kernel: 4 }), (k) => {
      fc.pre(fits(k));
      const x = rand(k.seed, [k.n, k.c, k.h, k.w]);
      const w = rand(k.seed + 1, [k.o, k.c, k.kh, k.kw]);
      const [, , ho, wo] = conv2dOutputShape(x.shape, w.shape, k.opts);
      const delta = rand(k.seed + 3, [k.n, k.o, ho, wo]);
      const { dx } = conv2dBackward(delta, x, w, k.opts);
      const s = pair(k.opts.stride), d = pair(k.opts.dilation);
      const [pt, , pl] = refPadding(k.opts.padding, k.h, k.w, k.kh, k.kw, s, d);
      const expected = new Float64Array(dx.size);
      for (let n = 0; n < k.n; n++) {
        for (let c = 0; c < k.c; c++) {
          for (let o = 0; o < k.o; o++) {
            const full = correlate2d(
              dilate(map(delta, n, o), s),
              rot180(dilate(map(w, o, c), d)),
              "full",
            );
            // full[r, t] is the gradient of padded-input cell (r, t); crop the padding away.
            const [FH, FW] = full.shape;
            for (let a = 0; a < k.h; a++) {
              for (let bb = 0; bb < k.w; bb++) {
                const r = a + pt, t = bb + pl;
                if (r < FH && t < FW) {
                  expected[((n * k.c + c) * k.h + a) * k.w + bb] += full.data[r * FW + t];
                }
              }
            }
          }
        }
      }
      assert.ok(maxRelError(dx.data, expected) <= 1e-12);
    }),
    { seed: 99, numRuns: 150 },
  );
});

Deno.test("conv2d records its hand-derived pullback: [dx, dw, db] with a bias, [dx, dw] without", () => {
  const x = rand(1, [2, 2, 5, 5]), w = rand(2, [3, 2, 3, 3]), b = rand(3, [3]);
  const opts = { stride: 2, padding: "same" } as const;
  const seen: { name: string; inputs: readonly Tensor[]; output: Tensor; pullback: Pullback }[] =
    [];
  const rec = {
    tracks: () => true, // every input is traced (a later trace.ts asks first)
    record: (name: string, inputs: readonly Tensor[], output: Tensor, pullback: Pullback) =>
      void seen.push({ name, inputs, output, pullback }),
  };
  const y1 = withRecorder(rec, () => conv2d(x, w, b, opts));
  const y2 = withRecorder(rec, () => conv2d(x, w, null, opts));
  assert.equal(seen.length, 2);
  assert.equal(seen[0].name, "conv2d");
  assert.equal(seen[0].output, y1);
  assert.deepEqual(seen[0].inputs, [x, w, b]);
  assert.deepEqual(seen[1].inputs, [x, w]);
  assert.equal(seen[1].output, y2);
  const delta = rand(4, y1.shape);
  const { dx, dw, db } = conv2dBackward(delta, x, w, opts);
  const withBias = seen[0].pullback(delta);
  assert.equal(withBias.length, 3);
  assert.deepEqual(Array.from(withBias[0]!.data), Array.from(dx.data));
  assert.deepEqual(Array.from(withBias[1]!.data), Array.from(dw.data));
  assert.deepEqual(Array.from(withBias[2]!.data), Array.from(db.data));
  assert.equal(seen[1].pullback(delta).length, 2);
  // An engine may say which gradients it needs (e.g. not dL/dx for the input images).
  type WithNeeds = (g: Tensor, needed?: readonly boolean[]) => readonly (Tensor | null)[];
  const partial = (seen[0].pullback as WithNeeds)(delta, [false, true, false]);
  assert.equal(partial[0], null);
  assert.deepEqual(Array.from(partial[1]!.data), Array.from(dw.data));
  assert.equal(partial[2], null);
});

Deno.test("conv2d: inputs never mutated, dtype preserved, bias added per output map", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const x = fromData(Array.from({ length: 2 * 2 * 4 * 4 }, (_, i) => (i % 7) - 3), [2, 2, 4, 4], {
      dtype,
    });
    const w = fromData(Array.from({ length: 3 * 2 * 2 * 2 }, (_, i) => (i % 5) - 2), [3, 2, 2, 2], {
      dtype,
    });
    const b = fromData([10, 20, 30], [3], { dtype });
    const before = [snapshot(x), snapshot(w), snapshot(b)];
    const y = conv2d(x, w, b, { padding: [1, 0, 0, 1], stride: [1, 2] });
    const noBias = conv2d(x, w, undefined, { padding: [1, 0, 0, 1], stride: [1, 2] });
    assert.equal(y.dtype, dtype);
    for (let o = 0; o < 3; o++) {
      for (let t = 0; t < 4 * 2; t++) {
        const idx = o * 8 + t;
        assert.equal(y.data[idx], noBias.data[idx] + b.data[o]);
      }
    }
    const g = conv2dBackward(ones(y.shape, { dtype }), x, w, {
      padding: [1, 0, 0, 1],
      stride: [1, 2],
    });
    for (const t of [g.dx, g.dw, g.db]) assert.equal(t.dtype, dtype);
    assert.deepEqual([snapshot(x), snapshot(w), snapshot(b)], before);
  }
});

Deno.test("conv2d: float32 LeNet-sized layer agrees with the float64 reference", () => {
  const x64 = rand(11, [2, 6, 14, 14]), w64 = rand(12, [16, 6, 5, 5]), b64 = rand(13, [16]);
  const [x, w, b] = [x64, w64, b64].map((t) => fromData(t.data, t.shape));
  const y = conv2d(x, w, b);
  const ref = refConv2d(x, w, b, {}); // float64 sums of the same float32 values
  assert.equal(y.dtype, "float32");
  // A float32 sum of n terms in any order (fused or not) is within (n + 2) 2^-23 sum|terms| of
  // the exact sum (gamma_n bound, u = 2^-24, doubled for the products' rounding); the plain
  // path accumulates in float64 and lands far inside it.
  const abs = (t: typeof x64) => fromData(t.data.map(Math.abs), t.shape, { dtype: "float64" });
  const mag = refConv2d(abs(x64), abs(w64), abs(b64), {});
  const terms = 6 * 5 * 5 + 1;
  for (let i = 0; i < y.size; i++) {
    const err = Math.abs(y.data[i] - ref.data[i]);
    assert.ok(err <= (terms + 2) * 2 ** -23 * mag.data[i], `element ${i}: error ${err}`);
  }
  assert.ok(maxRelError(y.data, ref.data) < 1e-5);
});
