/**
 * The peer benchmark's data, through the project's own loader (`loadMnist`: gunzip, SHA-256,
 * IDX checks): the training split shuffled once with a seed both systems share, scaled to
 * float32 in [0, 1] (TF.js and our model both read `[n, 28, 28, 1]` = `[n, 1, 28, 28]`).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { type Dataset, datasetImages } from "../../src/lenet/dataset.ts";
import { loadMnist } from "../../src/lenet/mnist.ts";
import type { TrainData } from "./paired.ts";

/** A split as float32 images in [0, 1] and labels. */
export type MnistSplit = { images: Float32Array; labels: Uint8Array; n: number };

/** `$MNIST_DIR` if set, else `shared/mnist` beside the repository checkout. */
export function mnistDir(): string {
  const env = Deno.env.get("MNIST_DIR");
  if (env !== undefined && env !== "") return env;
  return fileURLToPath(new URL("../../../shared/mnist", import.meta.url));
}

/** mulberry32 Fisher-Yates: the one shuffled order both systems train on. */
export function shuffledOrder(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** The bytes of `d` reordered by `order`, scaled once to float32 (plain [0, 1]). */
function shuffled(d: Dataset, order: Uint32Array): TrainData {
  const pixels = new Uint8Array(d.count * 784), labels = new Uint8Array(d.count);
  for (let i = 0; i < d.count; i++) {
    pixels.set(d.pixels.subarray(order[i] * 784, order[i] * 784 + 784), i * 784);
    labels[i] = d.labels[order[i]];
  }
  const plain = { mean: 0, std: 1 };
  return {
    images: datasetImages({ ...d, pixels, labels, normalization: plain }).data as Float32Array,
    labels,
    n: d.count,
  };
}

/** The shuffled training split and the test split, from {@link mnistDir} (never downloads). */
export async function loadPeerData(seed: number): Promise<{ data: TrainData; test: MnistSplit }> {
  const r = await loadMnist({ dir: mnistDir(), offline: true, env: () => undefined })();
  if (r._tag === "Left") throw new Error(r.left.message);
  const { train, test } = r.right;
  return {
    data: shuffled(train, shuffledOrder(train.count, seed)),
    test: { images: datasetImages(test).data as Float32Array, labels: test.labels, n: test.count },
  };
}
