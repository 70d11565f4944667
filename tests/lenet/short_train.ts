/**
 * A short training run for the variant tests: a few hundred MNIST digits from `$MNIST_DIR` or
 * `../shared/mnist`, a fixed number of minibatch steps with the engine's gradients, and the
 * accuracy and loss on held-out digits before and after.
 */

import { fileURLToPath } from "node:url";
import {
  add,
  argmax,
  type Dataset,
  datasetImages,
  type Labels,
  loadMnist,
  type Optimizer,
  type Params,
  Tensor,
  valueAndGrad,
} from "../../mod.ts";

/** What a model needs for the run. */
export interface ShortModel<P extends Params> {
  readonly params: P;
  readonly forward: (p: P, x: Tensor) => Tensor;
  readonly criterion: (scores: Tensor, labels: Labels) => Tensor;
  /** A term added to the training loss (e.g. a sparsity penalty), or null. */
  readonly penalty?: (p: P) => Tensor | null;
}

/** Accuracy and mean loss of `model` at `params` on images/labels. */
export function score<P extends Params>(
  m: ShortModel<P>,
  params: P,
  x: Tensor,
  labels: Uint8Array,
): { accuracy: number; loss: number } {
  const z = m.forward(params, x);
  const pred = argmax(z, { axis: 1 }).data;
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) ok++;
  return { accuracy: ok / labels.length, loss: m.criterion(z, labels).data[0] };
}

const slice = (d: Dataset, from: number, n: number) => datasetImages(d, from, n);

/**
 * Trains on the first `train` training digits for `steps` minibatches of `batch` (cycling in
 * order), evaluating on the first `held` test digits before and after.
 */
export async function shortTrain<P extends Params>(
  m: ShortModel<P>,
  opt: Optimizer,
  { train = 600, held = 300, steps = 60, batch = 20 } = {},
): Promise<
  { before: { accuracy: number; loss: number }; after: { accuracy: number; loss: number } }
> {
  const dir = Deno.env.get("MNIST_DIR") ||
    fileURLToPath(new URL("../../../shared/mnist/", import.meta.url));
  const r = await loadMnist({ dir, offline: true, standardize: true, limit: train })();
  if (r._tag === "Left") throw new Error(`MNIST: ${JSON.stringify(r.left)}`);
  const { train: tr, test } = r.right;
  const xHeld = slice(test, 0, held), yHeld = test.labels.slice(0, held);
  const before = score(m, m.params, xHeld, yHeld);
  const step = valueAndGrad((p: P, x: Tensor, y: Uint8Array) => {
    const loss = m.criterion(m.forward(p, x), y), extra = m.penalty?.(p) ?? null;
    return extra ? add(loss, extra) : loss;
  });
  let params = m.params, state = opt.init(params);
  for (let s = 0; s < steps; s++) {
    const from = (s * batch) % (tr.count - batch + 1);
    const [, g] = step(params, slice(tr, from, batch), tr.labels.slice(from, from + batch));
    ({ params, state } = opt.step(params, g, state));
  }
  return { before, after: score(m, params, xHeld, yHeld) };
}
