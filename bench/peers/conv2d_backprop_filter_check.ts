/**
 * Checks the wasm Conv2DBackpropFilter shim against TF.js's own cpu kernel on random inputs of
 * the LeNet-5 shapes (and a few strided/padded ones that take the slice path). Not a `*_test.ts`
 * so `deno task test` stays free of the TF.js download; run it with `deno task bench:peers:check`.
 */

import assert from "node:assert/strict";
import { tf, useTfjsCpu, useTfjsWasm } from "./tfjs_setup.ts";

type Shape4 = [number, number, number, number];
type Case = {
  name: string;
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: "same" | "valid" | number;
};

const cases: Case[] = [
  { name: "LeNet conv1 (same)", x: [64, 28, 28, 1], filter: [5, 5, 1, 6], strides: 1, pad: "same" },
  {
    name: "LeNet conv2 (valid)",
    x: [64, 14, 14, 6],
    filter: [5, 5, 6, 16],
    strides: 1,
    pad: "valid",
  },
  {
    name: "stride 2, valid, leftover row",
    x: [3, 12, 13, 4],
    filter: [3, 3, 4, 5],
    strides: 2,
    pad: "valid",
  },
  { name: "stride 2, same", x: [2, 9, 10, 3], filter: [3, 3, 3, 2], strides: 2, pad: "same" },
  {
    name: "strides [1, 2], valid",
    x: [2, 8, 9, 2],
    filter: [3, 2, 2, 3],
    strides: [1, 2],
    pad: "valid",
  },
  {
    name: "strides [2, 1], same",
    x: [2, 9, 8, 2],
    filter: [2, 3, 2, 3],
    strides: [2, 1],
    pad: "same",
  },
  { name: "pad 1 (numeric)", x: [2, 8, 8, 2], filter: [3, 3, 2, 3], strides: 1, pad: 1 },
];

/** mulberry32: a tiny seeded generator, enough for test data. */
function uniforms(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 * 2 - 1;
  }
  return out;
}

function size(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

function backpropFilter(c: Case, x: Float32Array, dy: Float32Array, dyShape: number[]) {
  return tf.tidy(() => {
    const out = tf.engine().runKernel(
      tf.Conv2DBackpropFilter,
      { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) },
      { strides: c.strides, pad: c.pad, dataFormat: "NHWC", filterShape: c.filter },
    ) as tf.Tensor;
    assert.deepEqual(out.shape, c.filter);
    return out.dataSync() as Float32Array;
  });
}

/** Max |a - b| relative to max |ref|: float32 sums over N*OH*OW terms in different orders. */
function relErr(got: Float32Array, ref: Float32Array): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  assert.ok(scale > 0, "reference gradient is all zeros: the check would be vacuous");
  return diff / scale;
}

for (const [i, c] of cases.entries()) {
  Deno.test(`Conv2DBackpropFilter shim == cpu kernel: ${c.name}`, async () => {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
    const x = uniforms(2 * i + 1, size(c.x));
    const dy = uniforms(2 * i + 2, size(info.outShape));
    await useTfjsCpu();
    const ref = backpropFilter(c, x, dy, info.outShape);
    await useTfjsWasm();
    const got = backpropFilter(c, x, dy, info.outShape);
    const err = relErr(got, ref);
    assert.ok(err < 1e-4, `${c.name}: relative error ${err}`);
  });
}

Deno.test("tf.grad through conv2d on wasm (shim) == on cpu, LeNet conv2", async () => {
  const xs: Shape4 = [8, 14, 14, 6], ws: Shape4 = [5, 5, 6, 16];
  const x = uniforms(101, size(xs)), w = uniforms(102, size(ws)), r = uniforms(103, 8 * 100 * 16);
  const dw = () =>
    tf.tidy(() => {
      const xt = tf.tensor4d(x, xs), rt = tf.tensor4d(r, [8, 10, 10, 16]);
      const g = tf.grad((wt: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(xt, wt as tf.Tensor4D, 1, "valid"), rt))
      );
      return g(tf.tensor4d(w, ws)).dataSync() as Float32Array;
    });
  await useTfjsCpu();
  const ref = dw();
  await useTfjsWasm();
  assert.equal(tf.getBackend(), "wasm");
  const err = relErr(dw(), ref);
  assert.ok(err < 1e-4, `relative error ${err}`);
});

Deno.test("the shim rejects TF.js's numeric-pad geometry it cannot express", async () => {
  await useTfjsWasm();
  // TF.js sizes this output as [2, 8, 9, 3] (height's stride for both axes): past the input.
  const x = tf.zeros([2, 8, 9, 2]), dy = tf.zeros([2, 8, 9, 3]);
  assert.throws(
    () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
        strides: [1, 2],
        pad: 1,
        dataFormat: "NHWC",
        filterShape: [3, 2, 2, 3],
      }),
    /reaches past the padded input/,
  );
  tf.dispose([x, dy]);
});

Deno.test("the shim leaks no wasm tensors", async () => {
  await useTfjsWasm();
  const x = tf.randomUniform([4, 14, 14, 6]), dy = tf.randomUniform([4, 10, 10, 16]);
  // Backend-level count: the shim's intermediates are backend data, invisible to tf.memory().
  const backend = tf.engine().backend;
  const before = backend.numDataIds();
  const out = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
    strides: 1,
    pad: "valid",
    dataFormat: "NHWC",
    filterShape: [5, 5, 6, 16],
  }) as tf.Tensor;
  assert.equal(backend.numDataIds(), before + 1);
  out.dispose();
  assert.equal(backend.numDataIds(), before);
  tf.dispose([x, dy]);
});
