import assert from "node:assert/strict";
import { kernelsFor } from "../../../../src/tensor/kernels/wasm/kernels.ts";
import { KERNEL_PATHS } from "../../../../src/tensor/kernels/wasm/runtime.ts";
import { randomF32, rng } from "./reference.ts";

/** Max-pool by the definition: first maximum in row-major window order (strict `>`). */
function poolRef(x: ArrayLike<number>, n: number, c: number, h: number, w: number) {
  const oh = h >> 1, ow = w >> 1;
  const y: number[] = [], arg: number[] = [];
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let best = -1, v = NaN;
        for (const [di, dj] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          const k = (p * h + 2 * i + di) * w + 2 * j + dj;
          if (best < 0 || x[k] > v) [best, v] = [k, x[k]];
        }
        y.push(v);
        arg.push(best);
      }
    }
  }
  return { y, arg };
}

Deno.test("maxPool2x2: values and first-maximum arg-max on every path, odd sizes floor", () => {
  const r = rng(21);
  for (
    const [n, c, h, w] of [[2, 6, 28, 28], [1, 16, 10, 10], [2, 3, 7, 9], [1, 1, 2, 2], [
      1,
      2,
      5,
      19,
    ]]
  ) {
    const x = randomF32(r, n * c * h * w);
    // Ties: make some windows constant and some with a repeated maximum.
    for (let i = 0; i < x.length; i += 7) x[i] = x[i + 1] ?? x[i];
    x.fill(0.5, 0, Math.min(x.length, 2 * w));
    const want = poolRef(x, n, c, h, w);
    for (const path of KERNEL_PATHS) {
      const y = new Float32Array(want.y.length), arg = new Int32Array(want.y.length);
      kernelsFor(path).maxPool2x2Forward(x, y, arg, { n, c, h, w });
      assert.deepEqual(Array.from(y), want.y, `${path} y ${[n, c, h, w]}`);
      assert.deepEqual(Array.from(arg), want.arg, `${path} argmax ${[n, c, h, w]}`);
    }
  }
});

Deno.test("maxPool2x2: a window of equal values picks its top-left; NaN first propagates", () => {
  // One 2x4 image: windows [[1, 1], [1, 1]] and [[NaN, 5], [6, 7]].
  const x = new Float32Array([1, 1, NaN, 5, 1, 1, 6, 7]);
  for (const path of KERNEL_PATHS) {
    const y = new Float32Array(2), arg = new Int32Array(2);
    kernelsFor(path).maxPool2x2Forward(x, y, arg, { n: 1, c: 1, h: 2, w: 4 });
    assert.equal(y[0], 1);
    assert.ok(Number.isNaN(y[1]), path);
    assert.deepEqual(Array.from(arg), [0, 2], path);
  }
});

Deno.test("maxPool2x2 backward routes each delta to its arg-max; fused ReLU masks y <= 0", () => {
  const r = rng(22);
  const [n, c, h, w] = [2, 3, 9, 12];
  const x = randomF32(r, n * c * h * w);
  const { y, arg } = poolRef(x, n, c, h, w);
  const dy = randomF32(r, y.length);
  const want = new Float64Array(x.length), wantRelu = new Float64Array(x.length);
  arg.forEach((k, i) => {
    want[k] += dy[i];
    if (y[i] > 0) wantRelu[k] += dy[i];
  });
  for (const path of KERNEL_PATHS) {
    const k = kernelsFor(path);
    const dx = new Float32Array(x.length).fill(NaN);
    k.maxPool2x2Backward(dy, Int32Array.from(arg), dx);
    assert.deepEqual(Array.from(dx), Array.from(Float32Array.from(want)), path);
    k.maxPool2x2Backward(dy, Int32Array.from(arg), dx, Float32Array.from(y));
    assert.deepEqual(Array.from(dx), Array.from(Float32Array.from(wantRelu)), `${path} relu`);
    for (const badIndex of [x.length, -1]) {
      const bad = Int32Array.from(arg);
      bad[3] = badIndex;
      assert.throws(() => k.maxPool2x2Backward(dy, bad, dx), /1 argmax indices outside dx/, path);
    }
  }
});

Deno.test("relu forward/backward on every path: tails past a vector, NaN, signed zero", () => {
  const r = rng(23);
  for (const len of [0, 1, 3, 4, 5, 1031]) {
    const x = randomF32(r, len), dy = randomF32(r, len);
    if (len > 2) [x[0], x[1], x[2]] = [NaN, -0, 0];
    for (const path of KERNEL_PATHS) {
      const k = kernelsFor(path);
      const y = new Float32Array(len), dx = new Float32Array(len);
      k.reluForward(x, y);
      k.reluBackward(x, dy, dx);
      for (let i = 0; i < len; i++) {
        const want = Number.isNaN(x[i]) ? NaN : x[i] < 0 ? 0 : x[i];
        assert.ok(Object.is(y[i], want) || (y[i] === 0 && want === 0), `${path} relu ${i}`);
        assert.equal(dx[i], x[i] > 0 ? dy[i] : 0, `${path} relu' ${i}`);
      }
    }
  }
});
