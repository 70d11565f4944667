/**
 * Looking inside a trained network: each stage's output (feature maps) and the gradient of the
 * loss with respect to it (delta maps, the "sensitivities" of the classic derivations), from one
 * forward and one backward pass.
 *
 * The deltas come from the autograd with a tap after every stage: the network is run as
 * `h_i = stage_i(h_{i-1}) + t_i` with zero tensors `t_i`, so the values are unchanged and
 * `dL/dt_i = dL/dh_i` is exactly the delta map of stage `i`.
 *
 * @module
 */

import { valueAndGrad } from "../autograd/engine.ts";
import { add } from "../tensor/elementwise.ts";
import type { Labels } from "../tensor/losses.ts";
import { type Tensor, zeros } from "../tensor/tensor.ts";
import type { Variant } from "./model.ts";
import type { Params } from "./params.ts";

/**
 * One stage's output and the loss's gradient with respect to it.
 *
 * @example
 * ```ts
 * import type { LayerTrace } from "./mod.ts";
 * const strongest = (l: LayerTrace) => Math.max(...Array.from(l.delta.data, Math.abs));
 * ```
 */
export interface LayerTrace {
  /** The stage's name (e.g. `"c1"`). */
  readonly name: string;
  /** Its output, batch axis included. */
  readonly activation: Tensor;
  /** `dL/d(activation)`, same shape. */
  readonly delta: Tensor;
}

/**
 * Every stage's feature maps and delta maps for images `x` and the labels whose loss the deltas
 * differentiate; also the logits and the loss.
 *
 * @example
 * ```ts
 * import { modern, prngKey, traceLayers, zeros } from "./mod.ts";
 * const t = traceLayers(modern, modern.init(prngKey(0)), zeros([1, 1, 28, 28]), [7]);
 * console.log(t.layers.map((l) => `${l.name} ${l.activation.shape}`)); // ["c1 1,6,28,28", ...]
 * ```
 */
export function traceLayers<P extends Params>(
  variant: Variant<P>,
  params: P,
  x: Tensor,
  labels: Labels,
): { logits: Tensor; loss: number; layers: LayerTrace[] } {
  const stages = variant.stages(params);
  const activations: Tensor[] = [];
  let h = x;
  for (const [, apply] of stages) activations.push(h = apply(h));
  const taps = activations.map((a) => zeros(a.shape, { dtype: a.dtype }));
  const [loss, deltas] = valueAndGrad((ts: Tensor[]) => {
    let v = x;
    for (let i = 0; i < stages.length; i++) v = add(stages[i][1](v), ts[i]);
    return variant.criterion(v, labels);
  })(taps);
  return {
    logits: h,
    loss: loss.data[0],
    layers: stages.map(([name], i) => ({ name, activation: activations[i], delta: deltas[i] })),
  };
}
