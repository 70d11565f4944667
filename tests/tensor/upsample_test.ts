import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import {
  avgPool2dBackward,
  reshape,
  type Tensor,
  tensor,
  TensorError,
  upsample,
  upsampleBackward,
} from "../../mod.ts";
import { type Pullback, withRecorder } from "../../src/tensor/trace.ts";
import { assertBackwardMatchesFd, rand, snapshot } from "../autograd/helpers.ts";

const rows = (t: Tensor): number[][] => {
  const h = t.shape[t.rank - 2], w = t.shape[t.rank - 1];
  return Array.from({ length: h }, (_, i) => Array.from(t.data.subarray(i * w, i * w + w)));
};

Deno.test("worked example: upsample a 4x4 delta to 8x8, each value filling a 2x2 block", () => {
  const d = tensor([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]);
  assert.deepEqual(rows(upsample(d, 2)), [
    [1, 1, 2, 2, 3, 3, 4, 4],
    [1, 1, 2, 2, 3, 3, 4, 4],
    [5, 5, 6, 6, 7, 7, 8, 8],
    [5, 5, 6, 6, 7, 7, 8, 8],
    [9, 9, 10, 10, 11, 11, 12, 12],
    [9, 9, 10, 10, 11, 11, 12, 12],
    [13, 13, 14, 14, 15, 15, 16, 16],
    [13, 13, 14, 14, 15, 15, 16, 16],
  ]);
  // The same on an NCHW batch, per map.
  const batch = reshape(tensor([[1, 2, 3, 4], [5, 6, 7, 8]]), [2, 1, 2, 2]);
  const up = upsample(batch, 2);
  assert.deepEqual(up.shape, [2, 1, 4, 4]);
  assert.deepEqual(Array.from(up.data.subarray(16, 20)), [5, 5, 6, 6]);
});

Deno.test("upsample with unequal factors; backward sums each block", () => {
  const x = tensor([[[1, 2], [3, 4]]]);
  const y = upsample(x, [1, 3]);
  assert.deepEqual(y.shape, [1, 2, 6]);
  assert.deepEqual(rows(y), [[1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4]]);
  const g = tensor([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]);
  assert.deepEqual(rows(upsampleBackward(g, [1, 3])), [[6, 15], [24, 33]]);
  assert.deepEqual(rows(upsampleBackward(g, 2)), [[18, 26, 34]]);
});

Deno.test("avg-pool backward with tiling windows is Kronecker upsampling of delta / (k*k)", () => {
  const d = rand(3, [2, 3, 4, 5]);
  const viaPool = avgPool2dBackward(d, [2, 3, 8, 10], { kernel: 2 });
  const viaUpsample = upsample(d, 2);
  for (let i = 0; i < viaPool.size; i++) assert.equal(viaPool.data[i], viaUpsample.data[i] / 4);
});

Deno.test("upsample backward matches finite differences (float64)", () => {
  fc.assert(
    fc.property(
      fc.record({
        lead: fc.constantFrom<number[]>([], [3], [2, 2]),
        h: fc.integer({ min: 1, max: 5 }),
        w: fc.integer({ min: 1, max: 5 }),
        kh: fc.integer({ min: 1, max: 3 }),
        kw: fc.integer({ min: 1, max: 3 }),
        seed: fc.nat(),
      }),
      ({ lead, h, w, kh, kw, seed }) => {
        assertBackwardMatchesFd(
          `upsampleBackward ${JSON.stringify({ lead, h, w, kh, kw })}`,
          (t) => upsample(t, [kh, kw]),
          (d) => [upsampleBackward(d, [kh, kw])],
          [rand(seed, [...lead, h, w])],
          { seed },
        );
      },
    ),
    { seed: 13, numRuns: 100 },
  );
});

Deno.test("upsample records its backward, keeps dtype, leaves input alone, validates", () => {
  const seen: [string, Pullback][] = [];
  const rec = {
    tracks: () => true, // every input is traced (a later trace.ts asks first)
    record: (name: string, _i: readonly Tensor[], _o: Tensor, pb: Pullback) =>
      void seen.push([name, pb]),
  };
  const x = tensor([[1, 2]], { dtype: "float64" });
  const before = snapshot(x);
  const y = withRecorder(rec, () => upsample(x, 2));
  assert.equal(y.dtype, "float64");
  assert.equal(seen[0][0], "upsample");
  assert.deepEqual(Array.from(seen[0][1](y)[0]!.data), [4, 8]);
  assert.deepEqual(snapshot(x), before);
  const fails = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof TensorError && re.test(e.message));
  fails(() => upsample(tensor([1, 2]), 2), /upsample: input must have rank >= 2/);
  fails(() => upsample(x, 0), /factor k 0 is invalid/);
  fails(
    () => upsampleBackward(tensor([[1, 2, 3]]), 2),
    /delta \[1, 3\] is not a whole number of 2x2 blocks/,
  );
});
