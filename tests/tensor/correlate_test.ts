import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import {
  convolve2d,
  convolve2dBackward,
  correlate2d,
  correlate2dBackward,
  type Correlate2dMode,
  rot180,
  rot180Backward,
  type Tensor,
  tensor,
  TensorError,
  zeros,
} from "../../mod.ts";
import { type Pullback, withRecorder } from "../../src/tensor/trace.ts";
import {
  assertBackwardMatchesFd,
  maxRelDiff as maxRelError,
  rand,
  snapshot,
} from "../autograd/helpers.ts";

const a = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]], { dtype: "float64" });
const k = tensor([[1, 2], [3, 4]], { dtype: "float64" });

/** Textbook definitions on plain loops: correlation `sum a[i+p-pt, j+q-pl] k[p,q]` per mode. */
function refCorrelate(x: Tensor, kk: Tensor, mode: Correlate2dMode, flip: boolean): number[][] {
  const [H, W] = x.shape, [kh, kw] = kk.shape;
  const [pt, pl] = mode === "valid"
    ? [0, 0]
    : mode === "full"
    ? [kh - 1, kw - 1]
    : [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2)];
  const [Ho, Wo] = mode === "valid"
    ? [H - kh + 1, W - kw + 1]
    : mode === "full"
    ? [H + kh - 1, W + kw - 1]
    : [H, W];
  const out: number[][] = [];
  for (let i = 0; i < Ho; i++) {
    const row: number[] = [];
    for (let j = 0; j < Wo; j++) {
      let s = 0;
      for (let p = 0; p < kh; p++) {
        for (let q = 0; q < kw; q++) {
          const u = i + p - pt, v = j + q - pl;
          if (u < 0 || u >= H || v < 0 || v >= W) continue;
          const kv = flip ? kk.data[(kh - 1 - p) * kw + (kw - 1 - q)] : kk.data[p * kw + q];
          s += x.data[u * W + v] * kv;
        }
      }
      row.push(s);
    }
    out.push(row);
  }
  return out;
}

const rows = (t: Tensor): number[][] => {
  const [h, w] = t.shape;
  return Array.from({ length: h }, (_, i) => Array.from(t.data.subarray(i * w, i * w + w)));
};

Deno.test("rot180 flips the last two axes of any rank >= 2, and is its own inverse", () => {
  assert.deepEqual(rows(rot180(tensor([[1, 2, 3], [4, 5, 6]]))), [[6, 5, 4], [3, 2, 1]]);
  const t3 = tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
  assert.deepEqual(Array.from(rot180(t3).data), [4, 3, 2, 1, 8, 7, 6, 5]);
  const t4 = rand(5, [2, 3, 4, 5]);
  assert.deepEqual(rot180(rot180(t4)).data, t4.data);
  assert.deepEqual(rot180(t4).shape, [2, 3, 4, 5]);
  assert.deepEqual(rot180Backward(rot180(t4)).data, t4.data);
  assert.deepEqual(rot180(zeros([2, 0, 3])).shape, [2, 0, 3]);
  assert.throws(() => rot180(tensor([1, 2])), /rot180: input \[2\] has rank 1.*rank >= 2/);
});

Deno.test("correlate2d: the textbook sums in valid, full and same modes", () => {
  assert.deepEqual(rows(correlate2d(a, k)), [[37, 47], [67, 77]]);
  assert.deepEqual(rows(correlate2d(a, k, "full")), [
    [4, 11, 18, 9],
    [18, 37, 47, 21],
    [36, 67, 77, 33],
    [14, 23, 26, 9],
  ]);
  // "same": 2x2 kernel, padding 0 before and 1 after (the extra at the bottom/right).
  assert.deepEqual(rows(correlate2d(a, k, "same")), [[37, 47, 21], [67, 77, 33], [23, 26, 9]]);
  fc.assert(
    fc.property(
      fc.record({
        h: fc.integer({ min: 1, max: 7 }),
        w: fc.integer({ min: 1, max: 7 }),
        kh: fc.integer({ min: 1, max: 5 }),
        kw: fc.integer({ min: 1, max: 5 }),
        mode: fc.constantFrom<Correlate2dMode>("valid", "full", "same"),
        seed: fc.nat(),
      }),
      ({ h, w, kh, kw, mode, seed }) => {
        fc.pre(mode !== "valid" || (kh <= h && kw <= w));
        const x = rand(seed, [h, w]), kk = rand(seed + 1, [kh, kw]);
        const y = correlate2d(x, kk, mode);
        assert.ok(maxRelError(y.data, refCorrelate(x, kk, mode, false).flat()) <= 1e-13);
        const z = convolve2d(x, kk, mode);
        assert.ok(maxRelError(z.data, refCorrelate(x, kk, mode, true).flat()) <= 1e-13);
        assert.deepEqual(z.data, correlate2d(x, rot180(kk), mode).data);
      },
    ),
    { seed: 3, numRuns: 200 },
  );
});

Deno.test("convolve2d is true convolution: full mode is sum_{p,q} a[i-p, j-q] k[p,q]", () => {
  const y = convolve2d(a, k, "full");
  const expected: number[] = [];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let p = 0; p < 2; p++) {
        for (let q = 0; q < 2; q++) {
          const u = i - p, v = j - q;
          if (u >= 0 && u < 3 && v >= 0 && v < 3) s += a.data[u * 3 + v] * k.data[p * 2 + q];
        }
      }
      expected.push(s);
    }
  }
  assert.deepEqual(Array.from(y.data), expected);
  assert.deepEqual(rows(convolve2d(a, k)), [[23, 33], [53, 63]]);
});

Deno.test("correlate2d, convolve2d and rot180 backward match finite differences", () => {
  fc.assert(
    fc.property(
      fc.record({
        h: fc.integer({ min: 1, max: 6 }),
        w: fc.integer({ min: 1, max: 6 }),
        kh: fc.integer({ min: 1, max: 4 }),
        kw: fc.integer({ min: 1, max: 4 }),
        mode: fc.constantFrom<Correlate2dMode>("valid", "full", "same"),
        seed: fc.nat(),
      }),
      ({ h, w, kh, kw, mode, seed }) => {
        fc.pre(mode !== "valid" || (kh <= h && kw <= w));
        const x = rand(seed, [h, w]), kk = rand(seed + 1, [kh, kw]);
        const label = JSON.stringify({ h, w, kh, kw, mode });
        assertBackwardMatchesFd(
          `correlate2dBackward ${label}`,
          (p, q) => correlate2d(p, q, mode),
          (delta, [p, q]) => {
            const { da, dk } = correlate2dBackward(delta, p, q, mode);
            return [da, dk];
          },
          [x, kk],
          { seed },
        );
        assertBackwardMatchesFd(
          `convolve2dBackward ${label}`,
          (p, q) => convolve2d(p, q, mode),
          (delta, [p, q]) => {
            const { da, dk } = convolve2dBackward(delta, p, q, mode);
            return [da, dk];
          },
          [x, kk],
          { seed },
        );
        assertBackwardMatchesFd(`rot180Backward ${label}`, rot180, (g) => [rot180Backward(g)], [
          x,
        ], { seed });
      },
    ),
    { seed: 11, numRuns: 100 },
  );
});

Deno.test("correlate2d backward is the derivation: da = full_corr(delta, rot180(k)), dk = valid_corr(a, delta)", () => {
  const delta = tensor([[1, -1], [2, 0.5]], { dtype: "float64" });
  const { da, dk } = correlate2dBackward(delta, a, k);
  assert.deepEqual(da.data, correlate2d(delta, rot180(k), "full").data);
  assert.deepEqual(dk.data, correlate2d(a, delta, "valid").data);
});

Deno.test("correlate2d/convolve2d/rot180 record their pullbacks; inputs unchanged; dtype kept", () => {
  const seen: [string, Pullback][] = [];
  const rec = {
    tracks: () => true, // every input is traced (a later trace.ts asks first)
    record: (name: string, _i: readonly Tensor[], _o: Tensor, pb: Pullback) =>
      void seen.push([name, pb]),
  };
  const before = [snapshot(a), snapshot(k)];
  withRecorder(rec, () => [correlate2d(a, k, "same"), convolve2d(a, k, "full"), rot180(k)]);
  assert.deepEqual(seen.map(([n]) => n), ["correlate2d", "convolve2d", "rot180"]);
  const d = rand(1, [3, 3]);
  const [da, dk] = seen[0][1](d);
  assert.deepEqual(da!.data, correlate2dBackward(d, a, k, "same").da.data);
  assert.deepEqual(dk!.data, correlate2dBackward(d, a, k, "same").dk.data);
  assert.deepEqual(seen[2][1](k)[0]!.data, rot180(k).data);
  assert.deepEqual([snapshot(a), snapshot(k)], before);
  const a32 = tensor([[1, 2], [3, 4]]);
  assert.equal(correlate2d(a32, tensor([[1]]), "full").dtype, "float32");
  assert.equal(convolve2dBackward(tensor([[1]]), a32, a32).dk.dtype, "float32");
});

Deno.test("correlate2d validates ranks, modes, sizes and dtypes", () => {
  const fails = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof TensorError && re.test(e.message));
  fails(
    () => correlate2d(zeros([1, 3, 3]), k),
    /correlate2d: a and k must both be rank-2 .*a \[1, 3, 3\], k \[2, 2\]/,
  );
  fails(
    () => correlate2d(zeros([2, 2]), zeros([3, 3])),
    /kernel larger than input in "valid" mode/,
  );
  fails(
    () => convolve2d(zeros([2, 2]), zeros([3]), "full"),
    /convolve2d: a and k must both be rank-2/,
  );
  fails(() => correlate2d(a, k, "circular" as never), /unknown mode .*"valid", "full" or "same"/);
  fails(
    () => correlate2d(a, tensor([[1]])),
    /mixed dtypes: a \[3, 3\] is float64, k \[1, 1\] is float32/,
  );
  fails(
    () => correlate2dBackward(zeros([3, 3], { dtype: "float64" }), a, k),
    /delta \[3, 3\] must have the forward output's shape \[2, 2\]/,
  );
  assert.deepEqual(correlate2d(zeros([2, 2]), zeros([3, 3]), "full").shape, [4, 4]);
});
