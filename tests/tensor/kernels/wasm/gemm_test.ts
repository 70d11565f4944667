import assert from "node:assert/strict";
import type { GemmArgs } from "../../../../src/tensor/kernels/gemm.ts";
import { KC, MR, NARROW_N, NR } from "../../../../src/tensor/kernels/wasm/gemm_wasm.ts";
import { kernelsFor } from "../../../../src/tensor/kernels/wasm/kernels.ts";
import { KERNEL_PATHS, wasmKernels } from "../../../../src/tensor/kernels/wasm/runtime.ts";
import { sgemmPtr } from "../../../../src/tensor/kernels/wasm/wasm_ptr.ts";
import { assertClose, gemmRef, randomF32, rng } from "./reference.ts";

/** Runs one GEMM on every path and checks it against the float64 definition. */
function check(r: () => number, g: GemmArgs, label: string): void {
  const { m, n, k } = g;
  const [oa, ob, oc] = [g.offA ?? 0, g.offB ?? 0, g.offC ?? 0];
  const a = randomF32(r, oa + m * k + 3), b = randomF32(r, ob + k * n + 2);
  const c0 = randomF32(r, oc + m * n + 5);
  const want = gemmRef(a, b, c0, g);
  for (const path of KERNEL_PATHS) {
    const c = c0.slice();
    kernelsFor(path).sgemm(a, b, c, g);
    assertClose(c.subarray(oc, oc + m * n), want, `${path} ${label} ${JSON.stringify(g)}`);
    // Outside [offC, offC + m*n) C is untouched.
    assert.deepEqual(c.subarray(0, oc), c0.subarray(0, oc), `${path} ${label}: before offC`);
    assert.deepEqual(c.subarray(oc + m * n), c0.subarray(oc + m * n), `${path} ${label}: after`);
  }
}

Deno.test("sgemm: every path matches the definition on edge shapes, transposes, alpha, beta", () => {
  const r = rng(1);
  // Sizes straddling the tile (MR x NR), the in-place/packed B switch (NARROW_N) and the K
  // block (KC); degenerate m, n, k = 1.
  const sizes: [number, number, number][] = [
    [1, 1, 1],
    [1, 7, 1],
    [5, 1, 3],
    [MR, NR, 1],
    [MR + 1, NR + 1, 2],
    [2 * MR - 1, 3 * NR - 3, 17],
    [13, NARROW_N + 3, 9],
    [7, NARROW_N, 31],
    [9, 5, KC + 3],
    [3, NARROW_N + 5, 2 * KC + 1],
  ];
  for (const [m, n, k] of sizes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        check(r, { m, n, k, transA, transB }, "plain");
      }
    }
    check(r, { m, n, k, alpha: -0.75, beta: 1.5, transB: true }, "alpha beta");
    check(r, { m, n, k, alpha: 2, beta: 1, transA: true }, "beta=1");
  }
});

Deno.test("sgemm: offsets address slices of larger buffers", () => {
  const r = rng(2);
  check(r, { m: 7, n: 10, k: 5, offA: 3, offB: 11, offC: 6 }, "offsets");
  check(r, { m: 8, n: 70, k: 6, offA: 1, offB: 2, offC: 3, transA: true, transB: true }, "packed");
  check(r, { m: 4, n: 3, k: 300, offA: 5, offB: 1, offC: 2, beta: -1 }, "deep");
});

Deno.test("sgemm: random shapes on every path (seeded)", () => {
  const r = rng(3);
  const int = (lo: number, hi: number) => lo + Math.floor((r() + 1) / 2 * (hi - lo + 1));
  for (let t = 0; t < 40; t++) {
    const g: GemmArgs = {
      m: int(1, 40),
      n: int(1, 90),
      k: int(1, 70),
      transA: r() > 0,
      transB: r() > 0,
      alpha: r() > 0.5 ? r() * 3 : 1,
      beta: r() > 0 ? 0 : r() * 2,
      offA: int(0, 3),
      offB: int(0, 3),
      offC: int(0, 3),
    };
    check(r, g, `random #${t}`);
  }
});

Deno.test("sgemm: LeNet shapes (fc layers and their backward) on every path", () => {
  const r = rng(4);
  check(r, { m: 64, n: 120, k: 400 }, "fc1 forward");
  check(r, { m: 64, n: 400, k: 120, transB: true }, "fc1 dX = dY W^T");
  check(r, { m: 400, n: 120, k: 64, transA: true }, "fc1 dW = X^T dY");
  check(r, { m: 150, n: 16, k: 640, transA: true }, "conv2 weight grad as GEMM");
});

Deno.test("sgemm: beta = 0 ignores C (NaN there does not leak); NaN in A or B propagates", () => {
  for (const path of KERNEL_PATHS) {
    const c = new Float32Array(12).fill(NaN);
    const a = new Float32Array(6).fill(1), b = new Float32Array(8).fill(2);
    kernelsFor(path).sgemm(a, b, c, { m: 3, n: 4, k: 2 });
    assert.deepEqual(Array.from(c), Array(12).fill(4), path);
    b[1] = NaN;
    a.fill(0);
    kernelsFor(path).sgemm(a, b, c, { m: 3, n: 4, k: 2 });
    assert.deepEqual(
      Array.from(c, Number.isNaN),
      [0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0].map(Boolean),
    );
  }
});

Deno.test("sgemm: k = 0 gives beta * C; m or n = 0 touches nothing", () => {
  for (const path of KERNEL_PATHS) {
    const c = new Float32Array([1, 2, 3, 4]);
    kernelsFor(path).sgemm(new Float32Array(0), new Float32Array(0), c, {
      m: 2,
      n: 2,
      k: 0,
      beta: 2,
    });
    assert.deepEqual(Array.from(c), [2, 4, 6, 8], path);
    kernelsFor(path).sgemm(new Float32Array(0), new Float32Array(0), c, { m: 2, n: 2, k: 0 });
    assert.deepEqual(Array.from(c), [0, 0, 0, 0], path);
    kernelsFor(path).sgemm(new Float32Array(0), new Float32Array(6).fill(1), c, {
      m: 0,
      n: 2,
      k: 3,
    });
    assert.deepEqual(Array.from(c), [0, 0, 0, 0], path);
  }
});

Deno.test("sgemm: rejects operands too short for m, n, k and offsets", () => {
  for (const path of KERNEL_PATHS) {
    assert.throws(
      () =>
        kernelsFor(path).sgemm(new Float32Array(5), new Float32Array(6), new Float32Array(4), {
          m: 2,
          n: 2,
          k: 3,
        }),
      /A needs 6 elements/,
    );
    assert.throws(
      () =>
        kernelsFor(path).sgemm(new Float32Array(6), new Float32Array(6), new Float32Array(4), {
          m: 2,
          n: 2,
          k: 3,
          offC: 1,
        }),
      /C needs 4 elements from offset 1/,
    );
  }
});

Deno.test("sgemm: float64 operands run the plain kernel exactly on every path", () => {
  const a = Float64Array.from([1, 2, 3, 4]), b = Float64Array.from([0.1, 0.2, 0.3, 0.4]);
  for (const path of KERNEL_PATHS) {
    const c = new Float64Array(4);
    kernelsFor(path).sgemm(a, b, c, { m: 2, n: 2, k: 2 });
    assert.deepEqual(Array.from(c), [
      1 * 0.1 + 2 * 0.3,
      1 * 0.2 + 2 * 0.4,
      3 * 0.1 + 4 * 0.3,
      3 * 0.2 + 4 * 0.4,
    ]);
  }
});

Deno.test("sgemmPtr: leading dimensions address sub-matrices in wasm memory", () => {
  for (const flavor of ["relaxed", "simd"] as const) {
    const K = wasmKernels(flavor);
    K.reset();
    // A = rows 1..3, cols 2..5 of a 5 x 8 matrix; B = 4 x 3 block of a 4 x 10; C into a 3 x 6.
    const r = rng(5);
    const big = randomF32(r, 40), bigB = randomF32(r, 40);
    const pa = K.put(big), pb = K.put(bigB), pc = K.alloc(18);
    K.f32.fill(7, pc >> 2, (pc >> 2) + 18);
    sgemmPtr(K, pa + 4 * (8 + 2), pb, pc + 4 * 1, { m: 3, n: 3, k: 4, lda: 8, ldb: 10, ldc: 6 });
    const got = K.f32.slice(pc >> 2, (pc >> 2) + 18);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 6; j++) {
        if (j < 1 || j > 3) {
          assert.equal(got[i * 6 + j], 7);
          continue;
        }
        let s = 0;
        for (let p = 0; p < 4; p++) s += big[(1 + i) * 8 + 2 + p] * bigB[p * 10 + j - 1];
        assert.ok(Math.abs(got[i * 6 + j] - s) < 1e-5, `${flavor} ${i} ${j}`);
      }
    }
  }
});
