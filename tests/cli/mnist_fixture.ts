/**
 * The first test digits of MNIST for the CLI tests (from `$MNIST_DIR` or `../shared/mnist`
 * beside the checkout): a minimal gunzip + IDX read of t10k, only what these tests need.
 */

import { fileURLToPath } from "node:url";

/** A test digit: its index, label and 784 bytes. */
export interface TestDigit {
  readonly index: number;
  readonly label: number;
  readonly pixels: Uint8Array;
}

/** `$MNIST_DIR`, else `shared/mnist` beside the repository. */
export function mnistDir(): string {
  const env = Deno.env.get("MNIST_DIR");
  if (env !== undefined && env !== "") return env;
  return fileURLToPath(new URL("../../../shared/mnist", import.meta.url));
}

async function gunzip(path: string): Promise<Uint8Array> {
  const file = await Deno.open(path).catch((e) => {
    throw new Error(`${path}: ${(e as Error).message} (set MNIST_DIR to the MNIST folder)`);
  });
  const stream = file.readable.pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const u32 = (b: Uint8Array, at: number) =>
  ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/** The first `n` digits of the MNIST test set. */
export async function testDigits(n: number): Promise<TestDigit[]> {
  const dir = mnistDir();
  const img = await gunzip(`${dir}/t10k-images-idx3-ubyte.gz`);
  const lab = await gunzip(`${dir}/t10k-labels-idx1-ubyte.gz`);
  if (u32(img, 0) !== 0x803 || u32(img, 8) !== 28 || u32(img, 12) !== 28) {
    throw new Error(`${dir}: t10k images are not 28x28 IDX3`);
  }
  if (u32(lab, 0) !== 0x801) throw new Error(`${dir}: t10k labels are not IDX1`);
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    label: lab[8 + i],
    pixels: img.slice(16 + i * 784, 16 + (i + 1) * 784),
  }));
}
