/**
 * Which kernel path runs, and the wasm instance behind each wasm path.
 *
 * Paths, fastest first:
 * - `wasm-relaxed`: WebAssembly SIMD128 kernels whose multiply-add is `f32x4.relaxed_madd`
 *   (relaxed SIMD; one fused instruction on x86 with FMA3 and on ARM64);
 * - `wasm-simd`: the same kernels with `f32x4.mul` + `f32x4.add` (plain SIMD128);
 * - `js`: the plain-TypeScript kernels (any JavaScript engine).
 *
 * Detection (once, on first use): compiling a three-instruction module using
 * `f32x4.relaxed_madd` picks `wasm-relaxed`; failing that, one using `f32x4.mul` picks
 * `wasm-simd`; failing that (or without `WebAssembly`, or where a Content Security Policy
 * forbids compiling WebAssembly), `js`. Compilation is the right probe: a host that does not
 * know an opcode rejects the module at compile time, and the kernels are emitted from the same
 * opcode tables. Override it with the environment variable
 * `GRADPROOF_KERNELS=wasm-relaxed|wasm-simd|js` (read only when the env permission for it is
 * already granted, so importing never prompts) or with {@link setKernelPath}.
 *
 * Memory: each wasm path owns one `WebAssembly.Memory` and a bump arena in it
 * ({@link WasmKernels.reset}/{@link WasmKernels.alloc}, {@link WasmKernels.mark}/
 * {@link WasmKernels.release} for scoped scratch). The Float32Array entry points of
 * `kernelsFor(path)` reset the arena, copy their operands in, run, and copy results out; the ops'
 * entry points keep the arena across calls to reuse what a kernel wrote (`resident.ts`), and
 * reset it when it outgrows its budget. The arena grows the memory when a call needs more. Growing a plain memory detaches every view of it, so views are re-derived
 * after each alloc and no JavaScript object may keep one. A shared memory
 * (`new WasmKernels(flavor, { shared: true })`, a SharedArrayBuffer) never detaches its views
 * on growth (they just do not see the new pages), and workers can map the same memory: that is
 * what a multi-worker design, or tensors whose data lives in wasm memory across a training
 * step, would build on.
 *
 * @module
 */

import { ModuleBuilder } from "./emit.ts";
import { buildModule } from "./module.ts";
import type { Flavor } from "./simd.ts";

/** The kernel implementations the hot loops can run on, fastest first. */
export type KernelPath = "wasm-relaxed" | "wasm-simd" | "js";

/** All paths, fastest first. */
export const KERNEL_PATHS: readonly KernelPath[] = ["wasm-relaxed", "wasm-simd", "js"];

/** Whether this host compiles `f32x4.relaxed_madd` (probe module: a, b, c -> a*b+c). */
export function supportsRelaxedSimd(): boolean {
  return probe("relaxed");
}

/** Whether this host compiles SIMD128 (probe module: a, b, c -> a*b+c with mul, add). */
export function supportsSimd(): boolean {
  return probe("simd");
}

const probed = new Map<Flavor, boolean>();

/** Whether the host validates the probe module of `flavor` (memoized: it never changes). */
function probe(flavor: Flavor): boolean {
  let ok = probed.get(flavor);
  if (ok === undefined) probed.set(flavor, ok = validateProbe(flavor));
  return ok;
}

function validateProbe(flavor: Flavor): boolean {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.validate !== "function") return false;
  const mod = new ModuleBuilder({ minPages: 1 });
  mod.func("probe", ["v128", "v128", "v128"], ["v128"], (f) => {
    f.localGet(f.param(0, "v128")).localGet(f.param(1, "v128"));
    if (flavor === "relaxed") f.localGet(f.param(2, "v128")).f32x4RelaxedMadd();
    else f.f32x4Mul().localGet(f.param(2, "v128")).f32x4Add();
  });
  try {
    const bytes = mod.encode();
    if (!WebAssembly.validate(bytes)) return false;
    // Validation alone is not enough: a page whose Content Security Policy lacks
    // 'wasm-unsafe-eval' validates modules but refuses to compile them. Compile the probe.
    new WebAssembly.Module(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The fastest path this host supports. */
export function detectKernelPath(): KernelPath {
  if (supportsRelaxedSimd()) return "wasm-relaxed";
  if (supportsSimd()) return "wasm-simd";
  return "js";
}

/** Whether `path` can run here. */
export function isSupported(path: KernelPath): boolean {
  return path === "js" ||
    (path === "wasm-simd" ? supportsSimd() : path === "wasm-relaxed" && supportsRelaxedSimd());
}

function envOverride(): string | undefined {
  const name = "GRADPROOF_KERNELS";
  try {
    const d = (globalThis as { Deno?: typeof Deno }).Deno;
    if (!d) return undefined;
    if (d.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return d.env.get(name);
  } catch {
    return undefined;
  }
}

let active: KernelPath | undefined;

function checked(path: string, source: string): KernelPath {
  if (!KERNEL_PATHS.includes(path as KernelPath)) {
    throw new Error(`${source}: unknown kernel path "${path}"; use one of ${KERNEL_PATHS}`);
  }
  if (!isSupported(path as KernelPath)) {
    throw new Error(
      `${source}: kernel path "${path}" is not supported by this host; ` +
        `detected "${detectKernelPath()}"`,
    );
  }
  return path as KernelPath;
}

/**
 * Reports the kernel path the hot loops run on: `"wasm-relaxed"` (WebAssembly SIMD with
 * relaxed fused multiply-add), `"wasm-simd"` (WebAssembly SIMD, separate multiply and add) or
 * `"js"` (plain TypeScript). Detected once from what this host's WebAssembly accepts; the
 * environment variable `GRADPROOF_KERNELS=wasm-relaxed|wasm-simd|js` overrides it when the
 * program may read that variable (`--allow-env`). Float64 work always runs plain TypeScript.
 *
 * @example
 * ```ts
 * import { kernelPath } from "./mod.ts";
 * console.log(kernelPath()); // e.g. "wasm-relaxed"
 * ```
 */
export function kernelPath(): KernelPath {
  if (active === undefined) {
    const env = envOverride();
    active = env ? checked(env, "GRADPROOF_KERNELS") : detectKernelPath();
  }
  return active;
}

/**
 * Forces a path (for tests and comparisons), or `"auto"` to go back to the environment
 * variable / detection. Throws if the host cannot run the path.
 */
export function setKernelPath(path: KernelPath | "auto"): void {
  active = path === "auto" ? undefined : checked(path, "setKernelPath");
}

/** The exports of a kernel module: its functions, called with byte pointers. */
export type KernelExports = Record<string, (...args: number[]) => number | undefined>;

/** Maximum size of a shared memory, in 64 KiB pages (1 GiB). */
const MAX_SHARED_PAGES = 16384;

/** Alignment of arena blocks (a cache line), and the slack kept after each block. */
const ALIGN = 64;
const SLACK = 64;

/** The typed arrays that move in and out of wasm memory. */
export type WasmArray = Float32Array | Int32Array;

/**
 * How a Float32Array entry point (`wasm_calls.ts`) gets its operands into wasm memory and its
 * results out: {@link WasmKernels} itself copies everything in and out of a per-call arena;
 * `resident.ts` reuses copies that are already there.
 */
export interface WasmIo {
  /** The kernel module the pointers belong to. */
  readonly kernels: WasmKernels;
  /** Starts a call (before any other method). */
  begin(): void;
  /** Byte pointer to the contents of `src[off .. off+len)` in wasm memory. */
  input(src: WasmArray, off?: number, len?: number): number;
  /** Byte pointer to room for a result of `len` 4-byte elements. */
  output(len: number): number;
  /** Copies the `len` elements at byte pointer `p` out into `dst[off..]`. */
  finish(p: number, dst: WasmArray, off?: number, len?: number): void;
}

/**
 * A compiled kernel module with its memory and a bump arena: the pointer-level backend.
 * Float32Array entry points use it as `reset()`, `alloc`/`put` the operands, call `fn.*`,
 * read results from `f32`. As a {@link WasmIo} it copies every operand in and every result
 * out, in an arena reset at each call.
 */
export class WasmKernels implements WasmIo {
  /** The module's linear memory. */
  readonly memory: WebAssembly.Memory;
  /** The kernel functions, taking byte pointers into {@link memory}. */
  readonly fn: KernelExports;
  #top = ALIGN;
  #generation = 0;
  #f32: Float32Array<ArrayBufferLike>;
  #i32: Int32Array<ArrayBufferLike>;

  /**
   * Compiles the flavour's kernels over a fresh memory (1 MiB to start); `shared` makes it a
   * shared memory of at most 1 GiB.
   */
  constructor(readonly flavor: Flavor, options: { shared?: boolean } = {}) {
    const shared = options.shared ?? false;
    this.memory = shared
      ? new WebAssembly.Memory({ initial: 16, maximum: MAX_SHARED_PAGES, shared: true })
      : new WebAssembly.Memory({ initial: 16 });
    const module = new WebAssembly.Module(buildModule(flavor, shared ? MAX_SHARED_PAGES : 0));
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.fn = instance.exports as KernelExports;
    this.#f32 = new Float32Array(this.memory.buffer);
    this.#i32 = new Int32Array(this.memory.buffer);
  }

  /** A float view of the whole memory (re-derive it after any {@link alloc}). */
  get f32(): Float32Array<ArrayBufferLike> {
    if (this.#f32.buffer !== this.memory.buffer) this.#views();
    return this.#f32;
  }
  /** An int32 view of the whole memory (re-derive it after any {@link alloc}). */
  get i32(): Int32Array<ArrayBufferLike> {
    if (this.#i32.buffer !== this.memory.buffer) this.#views();
    return this.#i32;
  }
  #views() {
    this.#f32 = new Float32Array(this.memory.buffer);
    this.#i32 = new Int32Array(this.memory.buffer);
  }

  /** Frees every block (the arena is per call); starts a new {@link generation}. */
  reset(): void {
    this.#top = ALIGN;
    this.#generation++;
  }

  /**
   * Counts {@link reset} calls: a block allocated in one generation keeps its contents until
   * the generation changes (scratch released with {@link release} excepted).
   */
  get generation(): number {
    return this.#generation;
  }

  /** This module (as a {@link WasmIo}). */
  get kernels(): WasmKernels {
    return this;
  }

  /** Starts a call: frees every block. */
  begin(): void {
    this.reset();
  }

  /** Allocates and copies `src[off .. off+len)` in (floats or int32s); returns the pointer. */
  input(src: WasmArray, off = 0, len: number = src.length - off): number {
    if (src instanceof Float32Array) return this.put(src, off, len);
    const p = this.alloc(len);
    this.i32.set(off === 0 && len === src.length ? src : src.subarray(off, off + len), p >> 2);
    return p;
  }

  /** Room for `len` 4-byte elements. */
  output(len: number): number {
    return this.alloc(len);
  }

  /** Copies `len` elements at byte pointer `p` out into `dst[off..]`. */
  finish(p: number, dst: WasmArray, off = 0, len: number = dst.length - off): void {
    if (dst instanceof Float32Array) this.get(p, dst, off, len);
    else dst.set(this.i32.subarray(p >> 2, (p >> 2) + len), off);
  }

  /** Byte pointer to `floats` 4-byte elements, 64-byte aligned, with 64 bytes of slack after. */
  alloc(floats: number): number {
    const p = this.#top;
    this.#top = Math.ceil((p + 4 * floats + SLACK) / ALIGN) * ALIGN;
    const need = this.#top - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / 65536));
    return p;
  }

  /** Allocates and copies `src[off .. off+len)` in; returns the byte pointer. */
  put(src: Float32Array, off = 0, len = src.length - off): number {
    const p = this.alloc(len);
    this.f32.set(off === 0 && len === src.length ? src : src.subarray(off, off + len), p >> 2);
    return p;
  }

  /** Copies `len` floats at byte pointer `p` out into `dst[off..]`. */
  get(p: number, dst: Float32Array, off = 0, len = dst.length - off): void {
    dst.set(this.f32.subarray(p >> 2, (p >> 2) + len), off);
  }

  /** The arena's top, to hand back to {@link release} (scoped scratch space). */
  mark(): number {
    return this.#top;
  }

  /** Frees every block allocated since `mark`. */
  release(mark: number): void {
    this.#top = mark;
  }

  /** Bytes in use by the arena now. */
  get used(): number {
    return this.#top;
  }
}

const instances = new Map<Flavor, WasmKernels>();

/** The (lazily compiled) kernel module of a wasm flavour. */
export function wasmKernels(flavor: Flavor): WasmKernels {
  let k = instances.get(flavor);
  if (!k) instances.set(flavor, k = new WasmKernels(flavor));
  return k;
}
