import assert from "node:assert/strict";
import {
  type FuncBuilder,
  ModuleBuilder,
  sleb,
  uleb,
  type ValType,
} from "../../../../src/tensor/kernels/wasm/emit.ts";
import { buildModule } from "../../../../src/tensor/kernels/wasm/module.ts";
import { maddInto } from "../../../../src/tensor/kernels/wasm/simd.ts";

const enc = (f: (out: number[], n: number) => void, n: number) => {
  const out: number[] = [];
  f(out, n);
  return out;
};

Deno.test("LEB128: the specification's examples and the edges of u32/i32", () => {
  assert.deepEqual(enc(uleb, 0), [0x00]);
  assert.deepEqual(enc(uleb, 127), [0x7f]);
  assert.deepEqual(enc(uleb, 128), [0x80, 0x01]);
  assert.deepEqual(enc(uleb, 624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(enc(uleb, 0xffffffff), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.deepEqual(enc(sleb, 0), [0x00]);
  assert.deepEqual(enc(sleb, -1), [0x7f]);
  assert.deepEqual(enc(sleb, 63), [0x3f]);
  assert.deepEqual(enc(sleb, 64), [0xc0, 0x00]);
  assert.deepEqual(enc(sleb, -64), [0x40]);
  assert.deepEqual(enc(sleb, -65), [0xbf, 0x7f]);
  assert.deepEqual(enc(sleb, -123456), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(enc(sleb, -0x80000000), [0x80, 0x80, 0x80, 0x80, 0x78]);
  assert.throws(() => enc(uleb, -1), RangeError);
  assert.throws(() => enc(uleb, 2 ** 32), RangeError);
  assert.throws(() => enc(sleb, 2 ** 31), RangeError);
});

Deno.test("the kernel modules of both flavours validate and compile", () => {
  for (const flavor of ["relaxed", "simd"] as const) {
    const bytes = buildModule(flavor);
    assert.ok(WebAssembly.validate(bytes), flavor);
    const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    for (
      const name of ["sgemm", "conv_fwd_c_k5", "conv_fwd_w_k0", "conv_wgrad_k0", "maxpool2_fwd"]
    ) {
      assert.ok(names.includes(name), `${flavor} exports ${name}`);
    }
  }
});

Deno.test("a shared-memory module instantiates; views of shared memory survive growth", () => {
  const bytes = buildModule("relaxed", 1024);
  assert.ok(WebAssembly.validate(bytes));
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1024, shared: true });
  new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const view = new Float32Array(memory.buffer, 0, 4);
  view[1] = 3;
  memory.grow(1);
  assert.equal(view.length, 4); // a non-shared memory would have detached it (length 0)
  assert.equal(new Float32Array(memory.buffer)[1], 3);
  // The plain (non-shared) import is rejected for a shared memory and vice versa.
  assert.throws(() =>
    new WebAssembly.Instance(new WebAssembly.Module(buildModule("simd")), { env: { memory } })
  );
});

/** Compiles one function `(i32...) -> results` over a fresh 1-page memory. */
function run(
  params: ValType[],
  results: ValType[],
  body: (f: FuncBuilder) => void,
): { call: (...args: number[]) => number; mem: Float32Array; i32: Int32Array } {
  const mod = new ModuleBuilder({ minPages: 1 });
  mod.func("f", params, results, body);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(mod.encode()), {
    env: { memory },
  });
  return {
    call: inst.exports.f as (...args: number[]) => number,
    mem: new Float32Array(memory.buffer),
    i32: new Int32Array(memory.buffer),
  };
}

Deno.test("control flow: for loops, nested labels, br_if out of a block", () => {
  // sum of i*j for i < a, j < b, stopping the inner loop at j == 3 via a block exit.
  const { call } = run(["i32", "i32"], ["i32"], (f) => {
    const [a, b] = [f.param(0, "i32"), f.param(1, "i32")];
    const [i, j, s] = [f.local("i32"), f.local("i32"), f.local("i32")];
    f.for(i, 0, a, 1, () => {
      f.block((exit) => {
        f.for(j, 0, b, 1, () => {
          f.localGet(j).i32Const(3).i32Eq().brIf(exit);
          f.localGet(s).localGet(i).localGet(j).i32Mul().i32Add().localSet(s);
        });
      });
    });
    f.localGet(s);
  });
  let want = 0;
  for (let i = 0; i < 5; i++) for (let j = 0; j < Math.min(7, 3); j++) want += i * j;
  assert.equal(call(5, 7), want);
  assert.equal(call(0, 7), 0); // the guard skips an empty range
  assert.throws(
    () => run([], [], (f) => f.block((l) => void l).br({ depth: 1 })),
    /closed label/,
  );
});

Deno.test("SIMD instructions compute what their names say", () => {
  const { call, mem, i32 } = run(["i32"], [], (f) => {
    const p = f.param(0, "i32");
    const v = f.local("v128");
    // [16..20) = shuffle: lane 2 of [0..4) broadcast; [20..24) = even lanes of [0..8)
    f.localGet(p).v128Load().localSet(v);
    f.localGet(p).f32x4SplatLane(v, 2).v128Store(64);
    f.localGet(p).localGet(p).v128Load().localGet(p).v128Load(16)
      .i8x16Shuffle([0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]).v128Store(80);
    // [24..28) = max(x, 0) by pmax; [28..32) = x > y ? x : y via gt + bitselect
    f.localGet(p).localGet(p).v128Load().v128ConstI32([0, 0, 0, 0]).f32x4Pmax().v128Store(96);
    f.localGet(p).v128Load().localGet(p).v128Load(16).f32x4Gt().localSet(v);
    f.localGet(p).localGet(p).v128Load().localGet(p).v128Load(16).localGet(v).v128Bitselect()
      .v128Store(112);
    // [32] = lane 3 of [4..8) by store32_lane; [33] = lane 1 by extract_lane
    f.localGet(p).localGet(p).v128Load(16).v128Store32Lane(128, 3);
    f.localGet(p).localGet(p).v128Load(16).f32x4ExtractLane(1).f32Store(132);
    // [36..40) = [0..4) * [4..8) + [8..12) with both multiply-adds
    f.localGet(p).v128Load(32).localSet(v);
    f.localGet(p).v128Load().localGet(p).v128Load(16);
    maddInto(f, "simd", v);
    f.localGet(p).v128Load().localGet(p).v128Load(16);
    maddInto(f, "relaxed", v);
    f.localGet(p).localGet(v).v128Store(144);
    // [40..44) = i32 lanes [1, 2, 3, 4] + splat(10)
    f.localGet(p).v128ConstI32([1, 2, 3, 4]).i32Const(10).i32x4Splat().i32x4Add().v128Store(160);
    // [44..48) = the low two lanes of [4..8), then zeros
    f.localGet(p).localGet(p).v128Load64Zero(16).v128Store(176);
  });
  mem.set([1, -2, 3, -4, 0.5, 5, -1, 6, 10, 20, 30, 40]);
  call(0);
  assert.deepEqual(Array.from(mem.slice(16, 20)), [3, 3, 3, 3]);
  assert.deepEqual(Array.from(mem.slice(20, 24)), [1, 3, 0.5, -1]);
  assert.deepEqual(Array.from(mem.slice(24, 28)), [1, 0, 3, 0]);
  assert.deepEqual(Array.from(mem.slice(28, 32)), [1, 5, 3, 6]);
  assert.deepEqual([mem[32], mem[33]], [6, 5]);
  assert.deepEqual(Array.from(mem.slice(36, 40)), [11, 0, 24, -8]);
  assert.deepEqual(Array.from(i32.slice(40, 44)), [11, 12, 13, 14]);
  assert.deepEqual(Array.from(mem.slice(44, 48)), [0.5, 5, 0, 0]);
});

Deno.test("bulk memory and scalar ops: memory.fill, memory.copy, div/rem, shifts", () => {
  const { call, i32 } = run(["i32"], ["i32"], (f) => {
    const p = f.param(0, "i32");
    f.localGet(p).i32Const(0xab).i32Const(8).memoryFill();
    f.localGet(p).i32Const(16).i32Add().localGet(p).i32Const(8).memoryCopy();
    f.localGet(p).i32Const(47).i32Const(5).i32DivU().i32Store(32); // 9
    f.localGet(p).i32Const(47).i32Const(5).i32RemU().i32Store(36); // 2
    f.i32Const(-8).i32Const(1).i32ShrU(); // 0x7ffffffc
  });
  assert.equal(call(0), 0x7ffffffc);
  assert.deepEqual(Array.from(i32.slice(4, 6)), [-0x54545455, -0x54545455]);
  assert.deepEqual([i32[8], i32[9]], [9, 2]);
});
