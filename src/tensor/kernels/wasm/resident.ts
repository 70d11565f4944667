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

/**
 * Default arena budget in bytes: a call that starts above the budget resets the arena. A
 * LeNet-5 training step at batch 64 writes ~15 MB; a budget of a few steps keeps the copies of
 * one step alive through its backward pass without touching much fresh memory.
 */
const MIN_BUDGET = 32 << 20;

interface Copy {
  generation: number;
  ptr: number;
}

/** A {@link WasmIo} that reuses the wasm copies of arrays it wrote (see the module doc). */
export class ResidentIo implements WasmIo {
  readonly #copies = new WeakMap<WasmArray, Copy>();
  /** The arena budget's floor in bytes (the budget also keeps room for 4 of the largest call). */
  minBudget: number = MIN_BUDGET;
  #largest = 0;
  #callStart = 0;
  /** Inputs found in wasm memory / copied in (for benchmarks). */
  hits = 0;
  misses = 0;
  /** When false, behaves as the per-call arena (copies everything): for A/B benchmarks. */
  enabled = true;

  constructor(readonly kernels: WasmKernels) {}

  begin(): void {
    const K = this.kernels;
    if (K.used > Math.max(this.minBudget, 4 * this.#largest) || !this.enabled) K.reset();
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
    this.#largest = Math.max(this.#largest, K.used - this.#callStart);
  }
}
