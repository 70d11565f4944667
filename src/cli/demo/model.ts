/**
 * What the draw-a-digit page runs on its 28x28 input: a {@link DemoModel}. The page only talks
 * to this interface, and {@link loadDemoModel} is the one place that decides which model runs.
 *
 * With a checkpoint from `deno task train` (`deno task serve --checkpoint F`) that is the trained
 * LeNet-5 ({@link lenetDemoModel}): `forward(x)` runs it on `x: [1, 1, 28, 28]` and returns the
 * softmax `probabilities`, the arg-max `prediction` and each layer's output as a
 * {@link LayerView}; `deltas(x, label)` returns `dL/d(output)` of the same layers for the
 * cross-entropy loss of `label`. The page then shows the prediction, the bar chart and the
 * delta-map toggle by itself.
 *
 * Without one it is {@link edgeBankModel}: a fixed bank of six 3x3 edge/blob kernels, ReLU and
 * 2x2 max-pooling, computed with gradproof's ops in the browser (no training needed, no
 * prediction). It exercises the whole path (drawing -> preprocessing -> tensors -> ops -> views).
 *
 * @module
 */

import { matmul } from "../../tensor/matmul.ts";
import { max } from "../../tensor/reduce.ts";
import { reshape } from "../../tensor/layout.ts";
import { relu } from "../../tensor/activations.ts";
import { transpose } from "../../tensor/transpose.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { softmax } from "../../tensor/softmax.ts";
import { traceLayers } from "../../lenet/inspect.ts";
import { decodeRun, normalizeImages, type RunCheckpoint } from "../../lenet/run_checkpoint.ts";

/** One layer's maps for display: `[C, H, W]`, `[H, W]` or `[K]`, without the batch axis. */
export interface LayerView {
  /** Layer name, e.g. `"conv1"`. */
  readonly name: string;
  /** Shape without the batch axis. */
  readonly shape: readonly number[];
  /** Row-major values. */
  readonly values: ArrayLike<number>;
}

/** The result of a forward pass. */
export interface ForwardResult {
  /** Class probabilities (softmax), or null for a model that does not classify. */
  readonly probabilities: readonly number[] | null;
  /** The arg-max class, or null. */
  readonly prediction: number | null;
  /** Each layer's output, in forward order. */
  readonly layers: readonly LayerView[];
}

/** A model the page can run on a `[1, 1, 28, 28]` input in [0, 1]. */
export interface DemoModel {
  /** Short name shown on the page. */
  readonly name: string;
  /** One or two sentences for the page: what runs and what it means. */
  readonly description: string;
  /** Runs the forward pass. */
  forward(x: Tensor): ForwardResult;
  /**
   * `dL/d(output)` of every layer for the cross-entropy loss of `label`, or null when the model
   * has no loss (the page then disables the delta-map toggle).
   */
  readonly deltas: ((x: Tensor, label: number) => readonly LayerView[]) | null;
}

/** Input side. */
const S = 28;

/** The kernels of the edge bank, `[name, 3x3 row-major]`. */
export const EDGE_KERNELS: readonly (readonly [string, readonly number[]])[] = [
  ["vertical edges (Sobel x)", [-1, 0, 1, -2, 0, 2, -1, 0, 1]],
  ["horizontal edges (Sobel y)", [-1, -2, -1, 0, 0, 0, 1, 2, 1]],
  ["diagonal /", [0, 1, 2, -1, 0, 1, -2, -1, 0]],
  ["diagonal \\", [-2, -1, 0, -1, 0, 1, 0, 1, 2]],
  ["spots (negated Laplacian)", [0, -1, 0, -1, 4, -1, 0, -1, 0]],
  ["blur (Gaussian 3x3)", [1 / 16, 2 / 16, 1 / 16, 2 / 16, 4 / 16, 2 / 16, 1 / 16, 2 / 16, 1 / 16]],
];

/**
 * The 3x3 patches of a 28x28 image with one cell of zero padding ("same" size), `[784, 9]`:
 * row `y*28 + x` holds the window centred on `(y, x)` in row-major order. A cross-correlation
 * with K kernels is then `patches @ W` with `W: [9, K]` (im2col).
 */
export function patches3x3(img: ArrayLike<number>): Tensor {
  const out = new Float32Array(S * S * 9);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const o = (y * S + x) * 9;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= S) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < S) out[o + (dy + 1) * 3 + dx + 1] = img[yy * S + xx];
        }
      }
    }
  }
  return new Tensor(out, [S * S, 9]);
}

/**
 * The fixed edge bank: `conv` = cross-correlation with {@link EDGE_KERNELS} (im2col + `matmul`;
 * `conv2d(x, w, null, { padding: "same" })` once it is on main), `relu`, then 2x2 max-pooling
 * (`reshape` to `[6, 14, 2, 14, 2]` and `max` over the window axes).
 */
export function edgeBankModel(): DemoModel {
  const k = EDGE_KERNELS.length;
  const w = new Float32Array(9 * k); // [9, K]: column j is kernel j
  EDGE_KERNELS.forEach(([, kern], j) => kern.forEach((v, i) => (w[i * k + j] = v)));
  const W = new Tensor(w, [9, k]);
  return {
    name: "fixed edge bank (no trained model)",
    description: "No trained model is loaded, so there is no prediction. The layer views show " +
      "six fixed 3x3 kernels (Sobel edges, diagonals, spots, blur), ReLU and 2x2 max-pooling " +
      "applied to your drawing by gradproof's ops, running in this page.",
    forward(x: Tensor): ForwardResult {
      if (x.size !== S * S) {
        throw new Error(`edge bank: expected a [1, 1, 28, 28] input, got [${x.shape.join(", ")}]`);
      }
      const conv = reshape(transpose(matmul(patches3x3(x.data), W)), [k, S, S]);
      const act = relu(conv);
      const pool = max(reshape(act, [k, S / 2, 2, S / 2, 2]), { axis: [2, 4] });
      return {
        probabilities: null,
        prediction: null,
        layers: [
          { name: "conv (fixed 3x3 kernels)", shape: conv.shape, values: conv.data },
          { name: "relu", shape: act.shape, values: act.data },
          { name: "max-pool 2x2", shape: pool.shape, values: pool.data },
        ],
      };
    },
    deltas: null,
  };
}

/**
 * A trained LeNet run as the page's model: the input (in [0, 1]) is normalized as in training,
 * the forward pass runs stage by stage (each stage's output is a layer view), the prediction is
 * the arg-max of the softmax, and the deltas are the gradient of the cross-entropy loss of the
 * chosen label with respect to each stage's output (`traceLayers`).
 */
export function lenetDemoModel(
  run: Pick<RunCheckpoint, "variant" | "normalization" | "state" | "config">,
): DemoModel {
  const { variant, normalization } = run;
  const params = run.state.params;
  const float64 = run.config.dtype === "float64";
  const input = (x: Tensor): Tensor => {
    if (x.size !== S * S) {
      throw new Error(`LeNet-5: expected a [1, 1, 28, 28] input, got [${x.shape.join(", ")}]`);
    }
    const n = normalizeImages(new Tensor(x.data, [1, 1, S, S]), normalization);
    return float64 ? new Tensor(Float64Array.from(n.data), n.shape) : n;
  };
  const view = (name: string, t: Tensor): LayerView => ({
    name,
    shape: t.shape.slice(1),
    values: t.data,
  });
  const epochs = `${run.state.epoch} epoch${run.state.epoch === 1 ? "" : "s"}`;
  return {
    name: `LeNet-5 "${variant.name}" (trained, ${epochs})`,
    description: `A LeNet-5 trained by deno task train (${epochs}, step ${run.state.step}), ` +
      "running in this page on gradproof's ops: the prediction and its probabilities, each " +
      "layer's feature maps, and (toggle) the delta maps, the gradient of the loss of a label " +
      "with respect to each layer's output.",
    forward(x: Tensor): ForwardResult {
      let h = input(x);
      const layers: LayerView[] = [];
      for (const [name, apply] of variant.stages(params)) layers.push(view(name, h = apply(h)));
      const probabilities = Array.from(softmax(h, -1).data);
      let prediction = 0;
      for (let j = 1; j < probabilities.length; j++) {
        if (probabilities[j] > probabilities[prediction]) prediction = j;
      }
      return { probabilities, prediction, layers };
    },
    deltas: (x: Tensor, label: number) =>
      traceLayers(variant, params, input(x), [label]).layers.map((l) => view(l.name, l.delta)),
  };
}

/**
 * The two commands that give the page a trained model: a short training into a known folder
 * (2 epochs: 99.0% test accuracy in 26 s on a 2-core machine), then the demo on its best
 * checkpoint. The page without a checkpoint shows them verbatim ({@link noModelHint}); the
 * browser test trains with the first one's flags.
 */
export const TRAIN_FOR_DEMO: { readonly train: string; readonly serve: string } = {
  train: "deno task train --epochs 2 --out runs/demo",
  serve: "deno task serve --checkpoint runs/demo/best.safetensors",
};

/** What the page says when the server has no checkpoint: exactly how to get one. */
export function noModelHint(): string {
  return `To see predictions, train a model: ${TRAIN_FOR_DEMO.train} (downloads MNIST on ` +
    `first use), then restart the demo with it: ${TRAIN_FOR_DEMO.serve}`;
}

/**
 * THE PLUG-IN POINT: the model the page runs, given the bytes of the checkpoint the server
 * offers (null when it was started without `--checkpoint`): the trained LeNet-5 of a checkpoint
 * written by `deno task train`, else the {@link edgeBankModel} (whose description then says why
 * the checkpoint could not be used).
 */
export function loadDemoModel(checkpoint: Uint8Array | null): DemoModel {
  if (checkpoint === null) return edgeBankModel();
  const run = decodeRun(checkpoint, "checkpoint");
  if (run._tag === "Right") return lenetDemoModel(run.right);
  const edge = edgeBankModel();
  return {
    ...edge,
    description: `${edge.description} (The checkpoint offered could not be used: ${run.left})`,
  };
}
