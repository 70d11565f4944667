/**
 * Wasm-resident copies of tensor data, so that an op whose input another wasm kernel just
 * produced does not copy it into wasm memory again.
 *
 * Tensors keep their data in ordinary JavaScript arrays: that is what users hold, and it never
 * changes. This io additionally remembers, for each whole array a kernel wrote through it,
 * where in wasm memory an identical copy still lies (the block the kernel wrote before it was
 * copied out). A later call reading that array uses the copy instead of copying it in again.
 * A miss just copies, as the per-call arena does, so the memory is only a cache:
 *
 * - blocks are never reused within a generation of the kernel module's arena; when the arena
 *   outgrows its budget, the next call resets it, which starts a new generation and forgets
 *   every copy at once (entries carry their generation);
 * - only arrays this io filled are remembered, i.e. outputs the ops allocated and then wrap as
 *   tensors, whose data is read-only by contract; never arrays a caller passes in, which the
 *   caller may still change (a data loader refilling its batch buffer, say);
 * - a partial write (an output offset) remembers nothing.
 *
 * It is only safe for arrays nobody writes to afterwards: the ops use it (`../dispatch.ts`),
 * the Float32Array kernels of `kernels.ts` do not.
 *
 * @module
 */

import type { WasmArray, WasmIo, WasmKernels } from "./runtime.ts";

/** Arena budget: reset when a call starts above it (at least 4x the largest call's needs). */
const MIN_BUDGET = 64 << 20;

interface Copy {
  generation: number;
  ptr: number;
}

/** A {@link WasmIo} that reuses the wasm copies of arrays it wrote (see the module doc). */
export class ResidentIo implements WasmIo {
  readonly #copies = new WeakMap<WasmArray, Copy>();
  #budget = MIN_BUDGET;
  #callStart = 0;
  /** Inputs found in wasm memory / copied in (for benchmarks). */
  hits = 0;
  misses = 0;
  /** When false, behaves as the per-call arena (copies everything): for A/B benchmarks. */
  enabled = true;

  constructor(readonly kernels: WasmKernels) {}

  begin(): void {
    const K = this.kernels;
    if (K.used > this.#budget || !this.enabled) K.reset();
    this.#callStart = K.used;
  }

  input(src: WasmArray, off = 0, len: number = src.length - off): number {
    const c = this.#copies.get(src);
    if (c !== undefined && c.generation === this.kernels.generation) {
      this.hits++;
      return c.ptr + 4 * off;
    }
    this.misses++;
    return this.kernels.input(src, off, len);
  }

  output(len: number): number {
    return this.kernels.alloc(len);
  }

  finish(p: number, dst: WasmArray, off = 0, len: number = dst.length - off): void {
    const K = this.kernels;
    K.finish(p, dst, off, len);
    if (off === 0 && len === dst.length) {
      this.#copies.set(dst, { generation: K.generation, ptr: p });
    }
    // Keep room for four calls like this one before the next reset.
    this.#budget = Math.max(this.#budget, 4 * (K.used - this.#callStart));
  }
}
