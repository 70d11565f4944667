import assert from "node:assert/strict";
import { gemm } from "../../src/tensor/kernels/gemm.ts";

/** Triple-loop reference on explicit (i, j) indexing of each operand's storage. */
function reference(
  a: number[],
  b: number[],
  c: number[],
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  alpha: number,
  beta: number,
): number[] {
  const out = c.slice();
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      }
      out[i * n + j] = alpha * s + beta * c[i * n + j];
    }
  }
  return out;
}

Deno.test("gemm matches a triple loop for every transpose, alpha and beta", () => {
  const [m, n, k] = [5, 7, 3];
  const a = Array.from({ length: m * k }, (_, i) => Math.sin(i + 1));
  const b = Array.from({ length: k * n }, (_, i) => Math.cos(2 * i));
  const c = Array.from({ length: m * n }, (_, i) => i / 10);
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const [alpha, beta] of [[1, 0], [0.5, 1], [2, -3]]) {
        const out = new Float64Array(c);
        gemm(new Float64Array(a), new Float64Array(b), out, {
          m,
          n,
          k,
          transA,
          transB,
          alpha,
          beta,
        });
        const want = reference(a, b, c, m, n, k, transA, transB, alpha, beta);
        for (let i = 0; i < want.length; i++) assert.ok(Math.abs(out[i] - want[i]) < 1e-12);
      }
    }
  }
});

Deno.test("gemm honours offsets and propagates NaN through zero coefficients", () => {
  const a = new Float32Array([9, 9, 1, 2, 3, 4]); // A = [[1, 2], [3, 4]] at offset 2
  const b = new Float32Array([0, 1, 0, 0, 1]); // B = I at offset 1
  const c = new Float32Array(6);
  gemm(a, b, c, { m: 2, n: 2, k: 2, offA: 2, offB: 1, offC: 2 });
  assert.deepEqual(Array.from(c), [0, 0, 1, 2, 3, 4]);
  const nan = new Float32Array(1);
  gemm(new Float32Array([0]), new Float32Array([NaN]), nan, { m: 1, n: 1, k: 1 });
  assert.ok(Number.isNaN(nan[0]));
});

/**
 * The summation order gemm promises in float64: each element starts from its seed (0, C, or
 * beta * C) and adds `(alpha * a_ip) * b_pj` for p = 0, 1, ..., k-1, one float64 rounding per
 * addition (the i-k-j loop the float64 gradient checks were first proven with).
 */
function ordered(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  { m, n, k, transA, transB, alpha, beta, offA, offB, offC }: {
    m: number;
    n: number;
    k: number;
    transA: boolean;
    transB: boolean;
    alpha: number;
    beta: number;
    offA: number;
    offB: number;
    offC: number;
  },
): Float64Array {
  const out = c.slice();
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const at = offC + i * n + j;
      let s = beta === 0 ? 0 : beta === 1 ? c[at] : beta * c[at];
      for (let p = 0; p < k; p++) {
        const av = transA ? a[offA + p * m + i] : a[offA + i * k + p];
        s += (alpha * av) * (transB ? b[offB + j * k + p] : b[offB + p * n + j]);
      }
      out[at] = s;
    }
  }
  return out;
}

Deno.test("gemm in float64 is bit-for-bit the ordered sum (tiles change no rounding)", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  for (let t = 0; t < 400; t++) {
    const m = 1 + (t % 11), n = 1 + ((t * 7) % 13), k = (t * 5) % 12;
    const args = {
      m,
      n,
      k,
      transA: t % 2 === 1,
      transB: (t >> 1) % 2 === 1,
      alpha: [1, 0.5, -2, 1.3][t % 4],
      beta: [0, 1, 0.7, -1][(t >> 2) % 4],
      offA: t % 3,
      offB: (t >> 1) % 3,
      offC: (t >> 2) % 3,
    };
    const a = Float64Array.from({ length: args.offA + m * k + 2 }, rnd);
    const b = Float64Array.from({ length: args.offB + k * n + 2 }, rnd);
    const c = Float64Array.from({ length: args.offC + m * n + 2 }, rnd);
    const want = ordered(a, b, c, args);
    const got = c.slice();
    gemm(a, b, got, args);
    for (let i = 0; i < got.length; i++) {
      if (!Object.is(got[i], want[i])) {
        assert.fail(`${JSON.stringify(args)}: element ${i} is ${got[i]}, want ${want[i]}`);
      }
    }
  }
});
