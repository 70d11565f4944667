/**
 * A Worker of the gradient pool (`shards.ts`): for each request it rebuilds the parameters from
 * their leaves, computes the gradient of each shard it was given with the same code as the main
 * thread (`shardGradient`) on the same kernel path, and posts the results back.
 *
 * @module
 */

import { setKernelPath } from "../tensor/kernels/wasm/runtime.ts";
import type { KernelPath } from "../tensor/kernels/wasm/runtime.ts";
import { prngKey } from "../tensor/random.ts";
import { Tensor } from "../tensor/tensor.ts";
import { getVariant, type Variant } from "./model.ts";
import { flattenParams, type Params, rebuildParams } from "./params.ts";
import { own, shardGradient, type ShardRequest, type ShardResult } from "./shards.ts";

/** Parameter templates (structure and shapes) per variant and dtype. */
const templates = new Map<string, { variant: Variant; template: Params }>();

function templateFor(name: string, head: string | null, dtype: ShardRequest["dtype"]) {
  const key = `${name}/${head}/${dtype}`;
  let t = templates.get(key);
  if (t === undefined) {
    const v = getVariant(name, head);
    if (v._tag === "Left") throw new Error(v.left);
    t = { variant: v.right, template: v.right.init(prngKey(0), { dtype }) };
    templates.set(key, t);
  }
  return t;
}

function handle(req: ShardRequest): ShardResult[] {
  setKernelPath(req.kernels as KernelPath);
  const { variant, template } = templateFor(req.variant, req.head, req.dtype);
  const shapes = flattenParams(template).map(([, t]) => t.shape);
  const params = rebuildParams(template, req.leaves.map((d, j) => new Tensor(d, shapes[j])));
  return req.shards.map(({ x, labels }) => {
    const r = shardGradient(variant, params, new Tensor(x, [labels.length, 1, 28, 28]), labels);
    return { ...r, grads: r.grads.map(own) };
  });
}

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = (e: MessageEvent<ShardRequest>) => {
  try {
    // Copied, not transferred: a gradient may view a buffer it shares (~250 KB a step).
    scope.postMessage({ id: e.data.id, results: handle(e.data) });
  } catch (err) {
    scope.postMessage({ id: e.data.id, error: err instanceof Error ? err.message : String(err) });
  }
};
