import assert from "node:assert/strict";
import { kernels } from "../../../../src/tensor/kernels/wasm/kernels.ts";
import {
  detectKernelPath,
  isSupported,
  type KernelPath,
  kernelPath,
  setKernelPath,
  supportsRelaxedSimd,
  supportsSimd,
  WasmKernels,
} from "../../../../src/tensor/kernels/wasm/runtime.ts";

Deno.test("detection agrees with hand-encoded probe modules", () => {
  // (func (param v128 v128 v128) (result v128) local.get 0 1 2 f32x4.relaxed_madd), and the
  // same with f32x4.mul + f32x4.add: bytes written out here, independent of the emitter.
  const wrap = (body: number[]) =>
    new Uint8Array([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[1, 8, 1, 0x60, 3, 0x7b, 0x7b, 0x7b, 1, 0x7b], // type section
      ...[3, 2, 1, 0], // function section
      ...[10, body.length + 3, 1, body.length + 1, 0, ...body], // code section
    ]);
  const get = (i: number) => [0x20, i];
  const relaxed = wrap([...get(0), ...get(1), ...get(2), 0xfd, 0x85, 0x02, 0x0b]);
  const simd = wrap([...get(0), ...get(1), 0xfd, 0xe6, 0x01, ...get(2), 0xfd, 0xe4, 0x01, 0x0b]);
  assert.equal(supportsRelaxedSimd(), WebAssembly.validate(relaxed));
  assert.equal(supportsSimd(), WebAssembly.validate(simd));
  assert.ok(WebAssembly.validate(simd), "Deno 2.9.6 has SIMD128");
  const want: KernelPath = WebAssembly.validate(relaxed) ? "wasm-relaxed" : "wasm-simd";
  assert.equal(detectKernelPath(), want);
  assert.ok(isSupported("js"));
});

Deno.test("setKernelPath forces a path, 'auto' restores detection, bad names throw", () => {
  const env = Deno.env.get("GRADPROOF_KERNELS");
  try {
    setKernelPath("js");
    assert.equal(kernelPath(), "js");
    assert.equal(kernels().path, "js");
    setKernelPath("wasm-simd");
    assert.equal(kernels().path, "wasm-simd");
    setKernelPath("auto");
    assert.equal(kernelPath(), env ?? detectKernelPath());
    assert.throws(() => setKernelPath("gpu" as KernelPath), /unknown kernel path "gpu"/);
  } finally {
    setKernelPath("auto");
  }
});

/** Runs `kernelPath()` in a fresh `deno run` with the given env, with or without env access. */
async function pathIn(env: Record<string, string>, allowEnv: boolean) {
  const url = new URL("../../../../src/tensor/kernels/wasm/runtime.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { kernelPath } from "${url}";\nconsole.log(kernelPath());\n`,
    );
    const args = ["run", "--no-prompt", ...(allowEnv ? ["--allow-env"] : []), script];
    const out = await new Deno.Command(Deno.execPath(), {
      args,
      env,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b).trim();
    return { ok: out.success, stdout: text(out.stdout), stderr: text(out.stderr) };
  } finally {
    await Deno.remove(script);
  }
}

Deno.test("GRADPROOF_KERNELS picks the path when env access is granted, else is ignored", async () => {
  assert.deepEqual((await pathIn({ GRADPROOF_KERNELS: "js" }, true)).stdout, "js");
  assert.deepEqual((await pathIn({ GRADPROOF_KERNELS: "wasm-simd" }, true)).stdout, "wasm-simd");
  // Without --allow-env the variable is not read (and importing never prompts).
  assert.deepEqual((await pathIn({ GRADPROOF_KERNELS: "js" }, false)).stdout, detectKernelPath());
  const bad = await pathIn({ GRADPROOF_KERNELS: "fast" }, true);
  assert.equal(bad.ok, false);
  assert.match(bad.stderr, /GRADPROOF_KERNELS: unknown kernel path "fast"/);
});

Deno.test("the arena aligns blocks, grows memory, and keeps data across growth", () => {
  const K = new WasmKernels("simd");
  K.reset();
  const a = K.put(new Float32Array([1, 2, 3]));
  const b = K.alloc(5);
  assert.equal(a % 64, 0);
  assert.equal(b % 64, 0);
  assert.ok(b >= a + 12 + 16, "slack after each block");
  const pages = K.memory.buffer.byteLength / 65536;
  const big = K.alloc(pages * 65536); // forces memory.grow, which detaches old views
  assert.ok(K.memory.buffer.byteLength >= big + pages * 65536);
  assert.deepEqual(Array.from(K.f32.subarray(a >> 2, (a >> 2) + 3)), [1, 2, 3]);
  const mark = K.mark();
  K.alloc(100);
  K.release(mark);
  assert.equal(K.mark(), mark);
  const out = new Float32Array(2);
  K.get(a + 4, out);
  assert.deepEqual(Array.from(out), [2, 3]);
});

Deno.test("a shared-memory instance runs the kernels and its views survive growth", () => {
  const K = new WasmKernels("relaxed", { shared: true });
  const bytes = K.memory.buffer.byteLength;
  assert.ok(K.memory.buffer instanceof SharedArrayBuffer);
  K.reset();
  const pa = K.put(new Float32Array([1, 2, 3, 4])), pc = K.alloc(4);
  const view = K.f32;
  K.fn.sgemm(pa, pa, pc, 2, 2, 2, 2, 2, 2, 0, 0, 1, 0, K.alloc(64));
  K.alloc(bytes); // grows the memory
  assert.ok(view.length > 0, "the old view is still attached");
  assert.deepEqual(Array.from(view.subarray(pc >> 2, (pc >> 2) + 4)), [7, 10, 15, 22]);
});
