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
