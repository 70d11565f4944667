import assert from "node:assert/strict";
import {
  connectedConv2d,
  connectedConv2dBackward,
  conv2d,
  correlate2d,
  LECUN_C3_TABLE,
  ones,
  prngKey,
  randomNormal,
  reshape,
  Tensor,
  TensorError,
} from "../../mod.ts";
import { type Pullback, withRecorder } from "../../src/tensor/trace.ts";
import { assertBackwardMatchesFd } from "../autograd/helpers.ts";

const normal = (seed: number, shape: number[], dtype: "float32" | "float64" = "float64") =>
  randomNormal(prngKey(seed), shape, { dtype });
/** Map `c` of image `n` of an NCHW tensor, as `[H, W]`. */
const map = (t: Tensor, n: number, c: number): Tensor => {
  const [, C, H, W] = t.shape;
  const at = (n * C + c) * H * W;
  return new Tensor(t.data.slice(at, at + H * W), [H, W]);
};

Deno.test("LeCun 1998 Table I: 60 connections, the stated pattern, 1,516 parameters", () => {
  const t = LECUN_C3_TABLE;
  assert.equal(t.length, 16);
  const cyclicRun = (row: readonly number[], len: number) =>
    row.length === len && Array.from({ length: 6 }, (_, s) => s).some((s) => {
      const run = Array.from({ length: len }, (_, i) => (s + i) % 6).sort();
      return run.join() === [...row].sort().join();
    });
  for (let j = 0; j < 6; j++) assert.ok(cyclicRun(t[j], 3), `map ${j}: 3 contiguous`);
  for (let j = 6; j < 12; j++) assert.ok(cyclicRun(t[j], 4), `map ${j}: 4 contiguous`);
  for (let j = 12; j < 15; j++) {
    assert.ok(t[j].length === 4 && !cyclicRun(t[j], 4), `map ${j}: 4 non-contiguous`);
  }
  assert.deepEqual(t[15], [0, 1, 2, 3, 4, 5]);
  // Every S2 map feeds 10 of the 16 C3 maps (the table's rows each hold 10 X's).
  for (let i = 0; i < 6; i++) assert.equal(t.filter((row) => row.includes(i)).length, 10);
  const connections = t.flat().length;
  assert.equal(connections, 60);
  assert.equal(connections * 25 + 16, 1516);
  // Row 0 of the paper's Table I: S2 map 0 feeds C3 maps 0, 4, 5, 6, 9, 10, 11, 12, 14, 15.
  assert.deepEqual(t.flatMap((row, j) => (row.includes(0) ? [j] : [])), [
    0,
    4,
    5,
    6,
    9,
    10,
    11,
    12,
    14,
    15,
  ]);
});

Deno.test("C3 on S2-shaped input: each output is the sum of its connections' correlations", () => {
  const x = normal(1, [2, 6, 14, 14]), kernels = normal(2, [60, 5, 5]), bias = normal(3, [16]);
  const y = connectedConv2d(x, kernels, bias, LECUN_C3_TABLE);
  assert.deepEqual(y.shape, [2, 16, 10, 10]);
  let c = 0;
  LECUN_C3_TABLE.forEach((row, j) => {
    const expected = new Float64Array(100).fill(bias.data[j]);
    const mine = row.map((i) => [i, c++] as const);
    for (const n of [0, 1]) {
      const e = expected.slice();
      for (const [i, k] of mine) {
        const kk = new Tensor(kernels.data.slice(k * 25, k * 25 + 25), [5, 5]);
        const corr = correlate2d(map(x, n, i), kk);
        for (let t = 0; t < 100; t++) e[t] += corr.data[t];
      }
      const got = map(y, n, j).data;
      for (let t = 0; t < 100; t++) assert.ok(Math.abs(got[t] - e[t]) < 1e-12, `map ${j}`);
    }
  });
});

Deno.test("a full table is conv2d; gradients match finite differences with stride and padding", () => {
  const x = normal(4, [2, 3, 5, 6]), w = normal(5, [2, 3, 3, 3]), b = normal(6, [2]);
  const full = [[0, 1, 2], [0, 1, 2]];
  const kernels = reshape(w, [6, 3, 3]);
  const opts = { stride: 2, padding: 1 } as const;
  const y = connectedConv2d(x, kernels, b, full, opts);
  assert.deepEqual(Array.from(y.data), Array.from(conv2d(x, w, b, opts).data));

  const table = [[2, 0], [1]];
  const ks = normal(7, [3, 3, 2]);
  const f = ([x, k, b]: Tensor[]) => connectedConv2d(x, k, b, table, opts);
  const g = normal(8, f([x, ks, b]).shape as number[]);
  const { dx, dkernels, dbias } = connectedConv2dBackward(g, x, ks, table, opts);
  assertBackwardMatchesFd("connectedConv2d", (...xs) => f(xs), (g, [x, k]) => {
    const d = connectedConv2dBackward(g, x, k, table, opts);
    return [d.dx, d.dkernels, d.dbias];
  }, [x, ks, b]);
  let pullback: Pullback | undefined;
  withRecorder({ record: (_n, _i, _o, p) => (pullback = p) }, () => f([x, ks, b]));
  assert.deepEqual(
    pullback!(g).map((t) => Array.from(t!.data)),
    [dx, dkernels, dbias].map((t) => Array.from(t.data)),
  );
});

Deno.test("float32 in, float32 out; inputs never mutated; no bias", () => {
  const x = normal(9, [1, 2, 4, 4], "float32"), k = normal(10, [3, 2, 2], "float32");
  const before = [x, k].map((t) => Array.from(t.data));
  const y = connectedConv2d(x, k, null, [[0, 1], [1]]);
  const g = connectedConv2dBackward(ones([1, 2, 3, 3]), x, k, [[0, 1], [1]]);
  assert.equal(y.dtype, "float32");
  for (const t of [g.dx, g.dkernels, g.dbias]) assert.equal(t.dtype, "float32");
  assert.deepEqual([x, k].map((t) => Array.from(t.data)), before);
});

Deno.test("errors name the op, the table and the fix", () => {
  const x = ones([1, 3, 4, 4]);
  const expectError = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof TensorError && re.test(e.message));
  expectError(
    () => connectedConv2d(x, ones([3, 2, 2]), null, [[0, 3]]),
    /table\[0\] = \[0,3\] must list distinct input maps in 0\.\.2/,
  );
  expectError(() => connectedConv2d(x, ones([2, 2, 2]), null, [[1, 1]]), /distinct/);
  expectError(() => connectedConv2d(x, ones([2, 2, 2]), null, [[]]), /at least one/);
  expectError(
    () => connectedConv2d(x, ones([4, 2, 2]), null, [[0, 1], [2]]),
    /3 connections but kernels has 4/,
  );
  expectError(
    () => connectedConv2d(x, ones([3, 2, 2]), ones([3]), [[0, 1], [2]]),
    /bias must be \[2\]/,
  );
  expectError(
    () => connectedConv2d(x, ones([3, 2, 2, 1]), null, [[0, 1], [2]]),
    /kernels must be \[connections, kh, kw\]/,
  );
  expectError(
    () => connectedConv2d(x, ones([3, 5, 5]), null, [[0, 1], [2]]),
    /kernel larger than padded input/,
  );
  expectError(
    () => connectedConv2dBackward(ones([1, 2, 4, 4]), x, ones([3, 2, 2]), [[0, 1], [2]]),
    /connectedConv2dBackward: delta \[1, 2, 4, 4\] must have the forward output's shape \[1, 2, 3, 3\] \(x \[1, 3, 4, 4\], kernels \[3, 2, 2\]\); pass the gradient/,
  );
});

Deno.test("float32 (the active kernel path, WebAssembly if available) agrees with float64", () => {
  const x = normal(12, [3, 6, 14, 14]), k = normal(13, [60, 5, 5]), b = normal(14, [16]);
  const g = normal(15, [3, 16, 10, 10]);
  const to32 = (t: Tensor) => new Tensor(Float32Array.from(t.data), t.shape);
  const close = (a: Tensor, e: Tensor, what: string) => {
    const scale = Math.max(...Array.from(e.data, Math.abs));
    for (let i = 0; i < a.size; i++) {
      assert.ok(Math.abs(a.data[i] - e.data[i]) <= 1e-5 * scale, `${what}[${i}]`);
    }
  };
  close(
    connectedConv2d(to32(x), to32(k), to32(b), LECUN_C3_TABLE),
    connectedConv2d(x, k, b, LECUN_C3_TABLE),
    "y",
  );
  const d32 = connectedConv2dBackward(to32(g), to32(x), to32(k), LECUN_C3_TABLE);
  const d64 = connectedConv2dBackward(g, x, k, LECUN_C3_TABLE);
  close(d32.dx, d64.dx, "dx");
  close(d32.dkernels, d64.dkernels, "dkernels");
  close(d32.dbias, d64.dbias, "dbias");
});
