import assert from "node:assert/strict";
import {
  conv2d,
  fromData,
  maxPool2d,
  maxPool2dBackward,
  maxPool2dWithArgmax,
  relu,
  tensor,
} from "../../../../mod.ts";
import { ResidentIo } from "../../../../src/tensor/kernels/wasm/resident.ts";
import {
  isSupported,
  setKernelPath,
  WasmKernels,
} from "../../../../src/tensor/kernels/wasm/runtime.ts";
import { reluForwardWasm } from "../../../../src/tensor/kernels/wasm/wasm_calls.ts";

Deno.test("resident io: a kernel's output is read back from wasm memory, not copied in", () => {
  const io = new ResidentIo(new WasmKernels("simd"));
  const x = new Float32Array([-1, 2, -3, 4]);
  const y = new Float32Array(4), z = new Float32Array(4);
  reluForwardWasm(io, x, y); // x: a caller's array, copied in; y: written by the kernel
  assert.deepEqual([io.hits, io.misses], [0, 1]);
  reluForwardWasm(io, y, z); // y is still in wasm memory
  assert.deepEqual([io.hits, io.misses], [1, 1]);
  assert.deepEqual(Array.from(z), [0, 2, 0, 4]);
  // The caller's input is never remembered: changing it changes the next result.
  x[1] = 7;
  reluForwardWasm(io, x, y);
  assert.deepEqual(Array.from(y), [0, 7, 0, 4]);
  assert.deepEqual([io.hits, io.misses], [1, 2]);
});

Deno.test("resident io: a reset of the arena (a new generation) forgets every copy", () => {
  const K = new WasmKernels("simd");
  const io = new ResidentIo(K);
  const y = new Float32Array(3), z = new Float32Array(3);
  reluForwardWasm(io, new Float32Array([1, -1, 2]), y);
  // A per-call entry point on the same module resets its arena and overwrites y's block.
  reluForwardWasm(K, new Float32Array([9, 9, 9]), new Float32Array(3));
  reluForwardWasm(io, y, z);
  assert.equal(io.hits, 0, "y's copy is from an old generation");
  assert.deepEqual(Array.from(z), [1, 0, 2]);
});

Deno.test("resident io: a partial write (output offset) remembers nothing", () => {
  const io = new ResidentIo(new WasmKernels("simd"));
  const c = new Float32Array(8);
  io.begin();
  const p = io.output(4);
  io.kernels.f32.set([1, 2, 3, 4], p >> 2);
  io.finish(p, c, 4, 4);
  assert.deepEqual(Array.from(c), [0, 0, 0, 0, 1, 2, 3, 4]);
  io.begin();
  io.input(c);
  assert.deepEqual([io.hits, io.misses], [0, 1]);
});

Deno.test("resident io: the arena is reset once it outgrows its budget", () => {
  const K = new WasmKernels("simd");
  const io = new ResidentIo(K);
  const big = new Float32Array(1 << 20); // 4 MB per call: the budget stays at its 64 MB floor
  const out = new Float32Array(big.length);
  const g0 = K.generation;
  for (let i = 0; i < 20; i++) reluForwardWasm(io, big, out);
  assert.ok(K.generation > g0, "reset at least once");
  assert.ok(K.memory.buffer.byteLength < 80 << 20, "memory stays near the budget");
});

Deno.test("ops on wasm: chained ops reuse copies; results equal the js path's", () => {
  if (!isSupported("wasm-simd")) return;
  const x = fromData(Array.from({ length: 2 * 1 * 12 * 12 }, (_, i) => Math.sin(i)), [
    2,
    1,
    12,
    12,
  ]);
  const w = fromData(Array.from({ length: 3 * 25 }, (_, i) => Math.cos(i) / 5), [3, 1, 5, 5]);
  const run = () =>
    Array.from(maxPool2d(relu(conv2d(x, w, null, { padding: 2 })), { kernel: 2 }).data);
  try {
    setKernelPath("js");
    const want = run();
    setKernelPath("wasm-simd");
    const got = run();
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5, `${i}: ${v} vs ${want[i]}`));
  } finally {
    setKernelPath("auto");
  }
});

Deno.test("maxPool2dWithArgmax hands out its own arg-max: writing to it is harmless", () => {
  try {
    for (const path of ["js", "wasm-simd"] as const) {
      if (!isSupported(path)) continue;
      setKernelPath(path);
      const x = tensor([[[[1, 5], [3, 2]]]]);
      const { argmax } = maxPool2dWithArgmax(x, { kernel: 2 });
      assert.deepEqual(Array.from(argmax), [1]);
      argmax[0] = 2; // the caller's array: the next backward must read the new value
      assert.deepEqual(Array.from(maxPool2dBackward(tensor([[[[7]]]]), argmax, x.shape).data), [
        0,
        0,
        7,
        0,
      ]);
    }
  } finally {
    setKernelPath("auto");
  }
});
