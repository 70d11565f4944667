/**
 * Test helper: the first MNIST test images, read straight from the gzipped IDX file in
 * `$MNIST_DIR` or `../shared/mnist` beside the checkout (never from the network). Kept minimal:
 * the real IDX parser lives with the data code.
 */

const dir = Deno.env.get("MNIST_DIR") ??
  new URL("../../../shared/mnist/", import.meta.url).pathname;

/** The first `n` test images as 28x28 uint8 arrays, and their labels. */
export async function mnistTestDigits(
  n: number,
): Promise<{ images: Uint8Array[]; labels: number[] }> {
  const gunzip = async (name: string) => {
    const gz = await Deno.readFile(`${dir.replace(/\/$/, "")}/${name}`);
    const s = new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(s).arrayBuffer());
  };
  const images = await gunzip("t10k-images-idx3-ubyte.gz");
  const labels = await gunzip("t10k-labels-idx1-ubyte.gz");
  // IDX: magic 0x00000803 (images) / 0x00000801 (labels), big-endian counts, then the bytes.
  if (images[3] !== 3 || labels[3] !== 1) throw new Error(`${dir}: unexpected IDX magic`);
  return {
    images: Array.from({ length: n }, (_, i) => images.slice(16 + 784 * i, 16 + 784 * (i + 1))),
    labels: Array.from(labels.subarray(8, 8 + n)),
  };
}
