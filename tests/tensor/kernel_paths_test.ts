/**
 * The ops on every kernel path: float32 results of each path agree with the float64 result of
 * the same op (which always runs the plain kernels), float64 results are bit-identical on
 * every path, and the focused op test files pass with `GRADPROOF_KERNELS=js` and
 * `=wasm-simd` in a subprocess (the main run covers the detected path).
 */

import assert from "node:assert/strict";
import {
  conv2d,
  conv2dBackward,
  type Conv2dOptions,
  conv2dRelu,
  conv2dReluBackward,
  conv2dReluMaxPool,
  conv2dReluMaxPoolBackward,
  dense,
  denseBackward,
  fromData,
  matmul,
  matmulBackward,
  maxPool2dBackward,
  maxPool2dWithArgmax,
  type Pool2dOptions,
  relu,
  reluBackward,
  type Tensor,
} from "../../mod.ts";
import {
  isSupported,
  KERNEL_PATHS,
  type KernelPath,
  setKernelPath,
} from "../../src/tensor/kernels/wasm/runtime.ts";
import { rand } from "../autograd/helpers.ts";

const PATHS = KERNEL_PATHS.filter(isSupported);

/** The same values in float32 (rounded) and float64 (the rounded values, widened). */
function pairOf(seed: number, shape: number[]): [Tensor, Tensor] {
  const f32 = fromData(rand(seed, shape).data, shape);
  return [f32, fromData(f32.data, shape, { dtype: "float64" })];
}

/** Every result an op family produces, float32 and float64 side by side. */
type Results = Record<string, Tensor>;

const CONVS: [number[], number[], Conv2dOptions][] = [
  [[3, 1, 12, 12], [6, 1, 5, 5], { padding: 2 }], // LeNet conv1 (wasm)
  [[2, 6, 9, 10], [16, 6, 5, 5], {}], // LeNet conv2, valid (wasm)
  [[2, 3, 7, 8], [5, 3, 4, 4], { padding: "same" }], // asymmetric padding (wasm)
  [[2, 2, 9, 9], [4, 2, 3, 3], { stride: 2, padding: 1 }], // strided (plain)
  [[1, 2, 9, 9], [3, 2, 3, 3], { dilation: 2 }], // dilated (plain)
];

const POOLS: [number[], Pool2dOptions][] = [
  [[2, 6, 12, 12], { kernel: 2 }], // LeNet (wasm)
  [[1, 3, 7, 9], { kernel: 2 }], // odd extents: floor (wasm)
  [[1, 2, 9, 9], { kernel: 3, stride: 2, padding: 1 }], // overlapping (plain)
];

/** Runs every wired op on inputs of `dtype` (seeded) with `path` active. */
function runOps(path: KernelPath, dtype: "float32" | "float64"): Results {
  setKernelPath(path);
  try {
    const pick = ([a, b]: [Tensor, Tensor]) => dtype === "float32" ? a : b;
    const out: Results = {};
    let seed = 100;
    CONVS.forEach(([xs, ws, opts], i) => {
      const x = pick(pairOf(seed++, xs)), w = pick(pairOf(seed++, ws));
      const b = pick(pairOf(seed++, [ws[0]]));
      const y = conv2d(x, w, b, opts);
      const delta = pick(pairOf(seed++, y.shape as number[]));
      const g = conv2dBackward(delta, x, w, opts);
      Object.assign(out, { [`conv${i}`]: y, [`conv${i} dx`]: g.dx, [`conv${i} dw`]: g.dw });
      out[`conv${i} db`] = g.db;
      const r = conv2dRelu(x, w, b, opts);
      const gr = conv2dReluBackward(delta, r, x, w, opts);
      Object.assign(out, { [`convRelu${i}`]: r, [`convRelu${i} dx`]: gr.dx });
      Object.assign(out, { [`convRelu${i} dw`]: gr.dw, [`convRelu${i} db`]: gr.db });
      if (r.shape[2] >= 2 && r.shape[3] >= 2) {
        const pool = { kernel: 2 };
        const blk = conv2dReluMaxPool(x, w, b, opts, pool);
        const gb = pick(pairOf(seed++, blk.shape as number[]));
        const bg = conv2dReluMaxPoolBackward(gb, x, w, b, opts, pool);
        Object.assign(out, { [`block${i}`]: blk, [`block${i} dx`]: bg.dx });
        Object.assign(out, { [`block${i} dw`]: bg.dw, [`block${i} db`]: bg.db });
      }
    });
    POOLS.forEach(([xs, opts], i) => {
      const x = pick(pairOf(seed++, xs));
      const { y, argmax } = maxPool2dWithArgmax(x, opts);
      const dx = maxPool2dBackward(pick(pairOf(seed++, y.shape as number[])), argmax, x.shape);
      out[`pool${i}`] = y;
      out[`pool${i} argmax`] = fromData(argmax, [argmax.length], { dtype });
      out[`pool${i} dx`] = dx;
    });
    const r = relu(pick(pairOf(seed++, [3, 37])));
    out.relu = r;
    out["relu dx"] = reluBackward(pick(pairOf(seed++, [3, 37])), r);
    const a = pick(pairOf(seed++, [2, 7, 33])), m = pick(pairOf(seed++, [33, 12]));
    const mm = matmul(a, m);
    const [da, dm] = matmulBackward(pick(pairOf(seed++, mm.shape as number[])), a, m);
    Object.assign(out, { matmul: mm, "matmul da": da, "matmul dm": dm });
    const x = pick(pairOf(seed++, [9, 40])), w = pick(pairOf(seed++, [40, 13]));
    const bias = pick(pairOf(seed++, [13]));
    const y = dense(x, w, bias);
    const [dx, dw, db] = denseBackward(pick(pairOf(seed++, [9, 13])), x, w, bias);
    Object.assign(out, { dense: y, "dense dx": dx, "dense dw": dw, "dense db": db });
    return out;
  } finally {
    setKernelPath("auto");
  }
}

Deno.test("kernel paths: float32 results of every path agree with the float64 op", () => {
  const want = runOps("js", "float64");
  for (const path of PATHS) {
    const got = runOps(path, "float32");
    for (const [name, t] of Object.entries(got)) {
      const w = want[name];
      assert.equal(t.dtype, "float32", `${path} ${name}`);
      assert.deepEqual(t.shape, w.shape, `${path} ${name}`);
      // Sums of up to ~150 float32 products of values in [-1, 1]: a few float32 ulps of their
      // magnitude. Selections (pool, relu, argmax) must be exact.
      const exact = /^(pool\d|pool\d argmax|relu)$/.test(name);
      for (let i = 0; i < t.size; i++) {
        const err = Math.abs(t.data[i] - w.data[i]);
        const tol = exact ? 0 : 2e-5 * (1 + Math.abs(w.data[i]));
        if (!(err <= tol)) {
          assert.fail(`${path} ${name}[${i}] = ${t.data[i]}, float64 op gives ${w.data[i]}`);
        }
      }
    }
  }
});

Deno.test("kernel paths: float64 always runs the plain kernels (bit-identical on every path)", () => {
  const want = runOps("js", "float64");
  for (const path of PATHS) {
    const got = runOps(path, "float64");
    for (const [name, t] of Object.entries(got)) {
      assert.equal(t.dtype, "float64");
      assert.deepEqual(Array.from(t.data), Array.from(want[name].data), `${path} ${name}`);
    }
  }
});

/** The op test files that run again on each forced path. */
const FOCUSED = [
  "tests/tensor/conv_test.ts",
  "tests/tensor/conv_relu_test.ts",
  "tests/tensor/conv_block_test.ts",
  "tests/tensor/pool_test.ts",
  "tests/tensor/matmul_test.ts",
  "tests/tensor/activations_test.ts",
  "tests/tensor/vjp_table_test.ts",
  "tests/autograd/fast_ops_test.ts",
];

for (const path of ["js", "wasm-simd"] as const) {
  Deno.test(`kernel paths: the op tests pass with GRADPROOF_KERNELS=${path}`, async () => {
    const root = new URL("../../", import.meta.url);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--no-check", "--no-prompt", "--allow-read", "--allow-env", ...FOCUSED],
      cwd: root,
      env: { GRADPROOF_KERNELS: path, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `deno test with GRADPROOF_KERNELS=${path} failed:\n${text}`);
    assert.match(text, /ok \| \d+ passed \| 0 failed/);
  });
}
