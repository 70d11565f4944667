/**
 * TEMPORARY minimal MNIST reader for the peer benchmark only: gunzip + IDX parse of the four
 * files in `$MNIST_DIR` or `../shared/mnist` (beside the checkout). No download, no checksum.
 * Replace with the project's loader (src/lenet/mnist.ts) once it lands on main.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** Images as float32 in [0, 1], laid out [n, 1, 28, 28] (= [n, 28, 28, 1]: one channel). */
export type MnistSplit = { images: Float32Array; labels: Uint8Array; n: number };

/** `$MNIST_DIR` if set, else `shared/mnist` beside the repository checkout. */
export function mnistDir(): string {
  const env = Deno.env.get("MNIST_DIR");
  if (env !== undefined && env !== "") return env;
  return fileURLToPath(new URL("../../../shared/mnist", import.meta.url));
}

async function gunzipFile(path: string): Promise<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new Error(
      `MNIST file ${path} not found: set MNIST_DIR to the folder of the IDX .gz files`,
    );
  }
  const stream = file.readable.pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

async function readSplit(dir: string, prefix: "train" | "t10k"): Promise<MnistSplit> {
  const img = await gunzipFile(`${dir}/${prefix}-images-idx3-ubyte.gz`);
  const lab = await gunzipFile(`${dir}/${prefix}-labels-idx1-ubyte.gz`);
  const n = u32(img, 4);
  // IDX magic: 0x00000803 = unsigned bytes, 3 dims; 0x00000801 = unsigned bytes, 1 dim.
  if (u32(img, 0) !== 0x803 || u32(img, 8) !== 28 || u32(img, 12) !== 28) {
    throw new Error(`${prefix} images: not a 28x28 IDX3 ubyte file in ${dir}`);
  }
  if (u32(lab, 0) !== 0x801 || u32(lab, 4) !== n) {
    throw new Error(`${prefix} labels: not an IDX1 ubyte file with ${n} labels in ${dir}`);
  }
  if (img.length !== 16 + n * 784 || lab.length !== 8 + n) {
    throw new Error(`${prefix}: truncated IDX files in ${dir}`);
  }
  const images = new Float32Array(n * 784);
  for (let i = 0; i < images.length; i++) images[i] = img[16 + i] / 255;
  return { images, labels: lab.slice(8), n };
}

/** Reads the train (60,000) and test (10,000) splits. */
export async function loadMnist(
  dir: string = mnistDir(),
): Promise<{ train: MnistSplit; test: MnistSplit }> {
  const [train, test] = await Promise.all([readSplit(dir, "train"), readSplit(dir, "t10k")]);
  return { train, test };
}
