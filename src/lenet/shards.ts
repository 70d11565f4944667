/**
 * Data-parallel training steps: each minibatch is cut into a fixed number of shards, every
 * shard's gradient is computed on one of N threads (this one and N - 1 Workers), and the shard
 * gradients are summed on this thread in shard order, weighted by their sizes:
 *
 * ```
 * batch [B] --cut--> shards k = 0..S-1, rows [floor(kB/S), floor((k+1)B/S))
 * shard k --thread k mod N: valueAndGrad(mean loss)--> (loss_k, g_k, correct_k)
 * g = sum_k (n_k / B) g_k   (k ascending, float64 sum, rounded once)  --optimizer--> params'
 * ```
 *
 * The mean loss over the batch is `sum_k (n_k/B) L_k`, so `g` is its gradient. Which thread
 * computes a shard never changes its bits (same code, same kernels, same inputs), and the sum
 * runs in one fixed order, so the weights depend on S but not on N nor on timing: `--workers 1`
 * and `--workers 2` train bit-identical weights.
 *
 * @module
 */

import type { Either } from "../tensor/result.ts";
import { kernelPath } from "../tensor/kernels/wasm/runtime.ts";
import { allocData, type DType, Tensor, type TensorData } from "../tensor/tensor.ts";
import type { Variant } from "./model.ts";
import type { Optimizer } from "./optim.ts";
import { flattenParams, type Params, rebuildParams } from "./params.ts";
import {
  applyGradients,
  type Batch,
  type BatchGradients,
  batchGradients,
  batchIsFinite,
  type Divergence,
  inputDiverged,
  type StepReport,
  type TrainState,
} from "./train.ts";

/**
 * One shard's answer, with the gradient as flat leaves in `flattenParams` order.
 *
 * @example
 * ```ts
 * import type { ShardResult } from "./mod.ts";
 * const r: ShardResult = { loss: 2.3, correct: 3, grads: [new Float32Array(4)] };
 * ```
 */
export interface ShardResult {
  /** The shard's mean loss. */
  readonly loss: number;
  /** Its correctly classified examples. */
  readonly correct: number;
  /** The gradient of its mean loss, one flat array per parameter leaf. */
  readonly grads: readonly TensorData[];
}

/** A request to a worker thread: the parameters' leaves and the shards it computes. */
export interface ShardRequest {
  readonly id: number;
  readonly variant: string;
  /** The variant's `--head`, null for its own (the Worker must build the same network). */
  readonly head: string | null;
  readonly dtype: DType;
  readonly kernels: string;
  readonly leaves: readonly TensorData[];
  readonly shards: readonly { readonly x: TensorData; readonly labels: Uint8Array }[];
}

/** The row ranges `[start, end)` of the `shards` shards of a batch of `count` examples. */
export function shardRanges(count: number, shards: number): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < shards; k++) {
    out.push([Math.floor(k * count / shards), Math.floor((k + 1) * count / shards)]);
  }
  return out;
}

/** One shard's gradient (computed the same way on any thread). */
export function shardGradient<P extends Params>(
  variant: Variant<P>,
  params: P,
  x: Tensor,
  labels: Uint8Array,
): ShardResult {
  const g = batchGradients(variant, params, x, labels);
  return { loss: g.loss, correct: g.correct, grads: flattenParams(g.grads).map(([, t]) => t.data) };
}

/**
 * `sum_k (n_k / total) * r_k` over the shards in index order (empty shards skipped), summed in
 * float64 and rounded once into the parameters' dtype.
 */
export function reduceShards<P extends Params>(
  template: P,
  results: readonly (ShardResult | null)[],
  counts: readonly number[],
  total: number,
): BatchGradients<P> {
  const leaves = flattenParams(template);
  let loss = 0, correct = 0;
  const sums = leaves.map(([, t]) => new Float64Array(t.size));
  for (let k = 0; k < results.length; k++) {
    const r = results[k];
    if (r === null) continue;
    const w = counts[k] / total;
    loss += w * r.loss;
    correct += r.correct;
    for (let j = 0; j < sums.length; j++) {
      const acc = sums[j], g = r.grads[j];
      for (let i = 0; i < acc.length; i++) acc[i] += w * g[i];
    }
  }
  const grads = rebuildParams(
    template,
    leaves.map(([, t], j) => {
      const out = allocData(t.dtype, t.size);
      out.set(sums[j]);
      return new Tensor(out, t.shape);
    }),
  );
  return { loss, grads, correct };
}

/**
 * `d` itself if it spans its whole buffer, else a copy of just its elements: posting a view to
 * a Worker clones the entire underlying buffer.
 */
export function own<T extends TensorData | Uint8Array>(d: T): T {
  return (d.byteOffset === 0 && d.byteLength === d.buffer.byteLength ? d : d.slice()) as T;
}

/**
 * Threads that compute shard gradients: this one plus `threads - 1` Workers. Close it when
 * training ends (the Workers keep the process alive).
 *
 * @example
 * ```ts
 * import { createGradientPool, type GradientPool } from "./mod.ts";
 * const pool: GradientPool = createGradientPool(2);
 * console.log(pool.threads); // 2
 * pool.close();
 * ```
 */
export interface GradientPool {
  /** Threads in use, this one included. */
  readonly threads: number;
  /** The shard results, in shard order (null for an empty shard). */
  gradients<P extends Params>(
    variant: Variant<P>,
    params: P,
    shards: readonly { x: Tensor; labels: Uint8Array }[],
  ): Promise<(ShardResult | null)[]>;
  /** Terminates the Workers. */
  close(): void;
}

/**
 * Starts `threads - 1` Workers (module `shard_worker.ts`, with this program's permissions:
 * local ones need read access to its folder). Shard k goes to thread `k mod threads`; thread 0
 * is this one, working while the Workers do.
 *
 * @example
 * ```ts
 * import { createGradientPool, makeShardedTrainStep, modern, momentum } from "./mod.ts";
 * const pool = createGradientPool(2);
 * try {
 *   const step = makeShardedTrainStep(modern, momentum({ lr: 0.01 }), pool, 2);
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export function createGradientPool(threads: number): GradientPool {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`createGradientPool: threads must be an integer >= 1; got ${threads}`);
  }
  const url = new URL("./shard_worker.ts", import.meta.url);
  if (threads > 1 && url.protocol === "file:") {
    // A Worker's modules are read with this program's permissions; without them the Worker
    // dies while loading, so say what is missing now.
    const path = decodeURIComponent(url.pathname.slice(0, url.pathname.lastIndexOf("/")));
    if (Deno.permissions.querySync({ name: "read", path: url }).state !== "granted") {
      throw new Error(
        `more than one thread needs read access to the Worker's source files (${path}): ` +
          `run with --allow-read=${path} (deno task train has it)`,
      );
    }
  }
  const workers: Worker[] = [];
  const pending = new Map<number, (r: ShardResult[] | Error) => void>();
  for (let t = 1; t < threads; t++) {
    const w = new Worker(url.href, { type: "module" });
    w.onmessage = (e: MessageEvent<{ id: number; results?: ShardResult[]; error?: string }>) => {
      const done = pending.get(e.data.id);
      pending.delete(e.data.id);
      done?.(e.data.results ?? new Error(`shard worker: ${e.data.error}`));
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      for (const [id, done] of pending) {
        pending.delete(id);
        done(new Error(`shard worker failed: ${e.message}`));
      }
    };
    workers.push(w);
  }
  let nextId = 0;
  return {
    threads,
    async gradients(variant, params, shards) {
      const leaves = flattenParams(params).map(([, t]) => t.data);
      const dtype = leaves[0] instanceof Float64Array ? "float64" : "float32";
      const results: (ShardResult | null)[] = shards.map(() => null);
      const waits: Promise<void>[] = [];
      for (let t = 1; t < threads; t++) {
        const mine = shards.map((_, k) => k).filter((k) => k % threads === t && shards[k].x.size);
        if (mine.length === 0) continue;
        const id = nextId++;
        const req: ShardRequest = {
          id,
          variant: variant.name,
          head: variant.head ?? null,
          dtype,
          kernels: kernelPath(),
          leaves: leaves.map(own),
          shards: mine.map((k) => ({ x: own(shards[k].x.data), labels: own(shards[k].labels) })),
        };
        waits.push(
          new Promise<ShardResult[]>((resolve, reject) => {
            pending.set(id, (r) => r instanceof Error ? reject(r) : resolve(r));
            workers[t - 1].postMessage(req);
          }).then((rs) => mine.forEach((k, i) => void (results[k] = rs[i]))),
        );
      }
      for (let k = 0; k < shards.length; k += threads) {
        if (shards[k].x.size > 0) {
          results[k] = shardGradient(variant, params, shards[k].x, shards[k].labels);
        }
      }
      await Promise.all(waits);
      return results;
    },
    close() {
      for (const w of workers) w.terminate();
      workers.length = 0;
      for (const [id, done] of pending) {
        pending.delete(id);
        done(new Error("the gradient pool was closed"));
      }
    },
  };
}

/**
 * The data-parallel counterpart of `makeTrainStep`: the batch is cut into `shards` shards whose
 * gradients `pool` computes, reduced in shard order; then the same guards and update. Equal
 * inputs give bit-identical outputs whatever `pool.threads` is.
 *
 * @example
 * ```ts
 * import { createGradientPool, initTrainState, makeShardedTrainStep, modern, momentum, zeros } from "./mod.ts";
 * const opt = momentum({ lr: 0.01 });
 * const pool = createGradientPool(2);
 * const step = makeShardedTrainStep(modern, opt, pool, 2);
 * const r = await step(initTrainState(modern, opt, 0), { x: zeros([4, 1, 28, 28]), labels: new Uint8Array(4) });
 * pool.close();
 * if (r._tag === "Right") console.log(r.right.state.step); // 1
 * ```
 */
export function makeShardedTrainStep<P extends Params>(
  variant: Variant<P>,
  optimizer: Optimizer,
  pool: GradientPool,
  shards: number,
  describeLr: (step: number) => string = () => "",
): (
  state: TrainState<P>,
  batch: Batch,
) => Promise<Either<Divergence, { state: TrainState<P>; report: StepReport }>> {
  if (!Number.isInteger(shards) || shards < 1) {
    throw new RangeError(`makeShardedTrainStep: shards must be an integer >= 1; got ${shards}`);
  }
  return async (state, batch) => {
    if (!batchIsFinite(batch)) return inputDiverged(state);
    const { x, labels } = batch;
    const n = labels.length, px = x.size / Math.max(1, n);
    const ranges = shardRanges(n, shards);
    const parts = ranges.map(([a, b]) => ({
      x: new Tensor(x.data.subarray(a * px, b * px), [b - a, ...x.shape.slice(1)]),
      labels: labels.subarray(a, b),
    }));
    // A Worker that fails rejects here: an error of the program, not a divergence.
    const results = await pool.gradients(variant, state.params, parts);
    const counts = ranges.map(([a, b]) => b - a);
    const reduced = reduceShards(state.params, results, counts, n);
    return applyGradients(variant, optimizer, describeLr, state, batch, reduced);
  };
}
