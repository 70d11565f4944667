/**
 * MNIST loading speed (target: all 70,000 images in <= 1 s).
 *
 *   deno task bench                         (or: deno bench --allow-read --allow-env bench/mnist_bench.ts)
 *   deno run --allow-read --allow-env bench/mnist_bench.ts   (cold: one load in a fresh process)
 *
 * Reads $MNIST_DIR, else ../shared/mnist beside the checkout. "load" is the whole path a
 * trainer pays: gunzip of the four files (streamed, in parallel), SHA-256 of the decompressed
 * bytes, IDX parsing and checks (the images stay uint8; "decode" times scaling them all to
 * float32, which the trainer now does a batch at a time).
 */

import { fileURLToPath } from "node:url";
import { either as E } from "npm:fp-ts@2.16.11";
import { readIdxBytes } from "../src/lenet/idx_file.ts";
import { scalePixels } from "../src/lenet/dataset.ts";
import { loadMnist } from "../src/lenet/mnist.ts";

const DIR = Deno.env.get("MNIST_DIR") ??
  fileURLToPath(new URL("../../shared/mnist/", import.meta.url));

async function load(verify: boolean): Promise<void> {
  const r = await loadMnist({ dir: DIR, offline: true, verify })();
  if (E.isLeft(r)) throw new Error(r.left.message);
  if (r.right.train.count + r.right.test.count !== 70_000) throw new Error("wrong count");
}

if (import.meta.main) {
  // One cold load, as `deno task train` sees it at start-up.
  const t0 = performance.now();
  await load(true);
  console.log(`cold load of 70,000 images (verified): ${(performance.now() - t0).toFixed(0)} ms`);
} else {
  Deno.bench({
    name: "load 70,000 images: gunzip + SHA-256 + parse",
    n: 8,
    warmup: 1,
    group: "load",
  }, async () => {
    await load(true);
  });
  Deno.bench({
    name: "load 70,000 images without SHA-256 (verify: false)",
    n: 8,
    warmup: 1,
    group: "load",
  }, async () => {
    await load(false);
  });
  const px = await readIdxBytes(`${DIR}/train-images-idx3-ubyte.gz`)();
  if (E.isLeft(px)) throw new Error(px.left.message);
  const pixels = px.right.subarray(16);
  Deno.bench(
    { name: "gunzip train-images (47 MB out)", n: 8, warmup: 1, group: "parts" },
    async () => {
      const r = await readIdxBytes(`${DIR}/train-images-idx3-ubyte.gz`)();
      if (E.isLeft(r)) throw new Error(r.left.message);
    },
  );
  Deno.bench({
    name: "decode 60,000 images uint8 -> float32 (fresh output)",
    n: 8,
    warmup: 1,
    group: "parts",
  }, () => {
    scalePixels(pixels, new Float32Array(pixels.length), 1 / 255, 0);
  });
}
