import assert from "node:assert/strict";
import { maybeGunzip, QUICK_TRAIN_FILES, quickTrain } from "../../../src/cli/demo/quick_train.ts";
import { fromData } from "../../../src/tensor/tensor.ts";
import { mnistDir, testDigits } from "../mnist_fixture.ts";

async function gunzip(path: string): Promise<Uint8Array> {
  return await maybeGunzip(await Deno.readFile(path));
}

Deno.test("quickTrain: one epoch on 3,000 MNIST digits gives a LeNet-5 the page can run, > 85% on test digits", async () => {
  const [images, labels] = await Promise.all(
    QUICK_TRAIN_FILES.map((f) => gunzip(`${mnistDir()}/${f}.gz`)),
  );
  // gzipped bytes are taken as they come from the server, too
  const gz = await Deno.readFile(`${mnistDir()}/${QUICK_TRAIN_FILES[1]}.gz`);
  assert.deepEqual(await maybeGunzip(gz), labels);
  assert.equal(await maybeGunzip(labels), labels);
  const seen: number[] = [];
  const model = await quickTrain(images, labels, {
    examples: 3000,
    onStep: (done, total, loss) => {
      assert.equal(total, 93); // floor(3000 / 32)
      seen.push(done);
      assert.ok(Number.isFinite(loss));
    },
  });
  assert.deepEqual(seen, Array.from({ length: 93 }, (_, i) => i + 1));
  assert.equal(model.name, 'LeNet-5 "modern" (trained in this page on 3000 digits, 1 epoch)');
  assert.ok(model.deltas !== null, "delta maps available");
  const digits = await testDigits(300);
  let right = 0;
  for (const d of digits) {
    const out = model.forward(
      fromData(Float32Array.from(d.pixels, (v) => v / 255), [1, 1, 28, 28]),
    );
    if (out.prediction === d.label) right++;
  }
  assert.ok(right / digits.length > 0.85, `${right} of ${digits.length} test digits right`);
  const d = model.deltas(
    fromData(Float32Array.from(digits[0].pixels, (v) => v / 255), [1, 1, 28, 28]),
    3,
  );
  assert.deepEqual(d.map((l) => l.name), ["c1", "s2", "c3", "s4", "c5", "f6", "out"]);
});

Deno.test("quickTrain rejects files that are not the MNIST training set, naming the file", async () => {
  const labels = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 3, 4]); // IDX uint8 [2]
  await assert.rejects(
    quickTrain(new Uint8Array([1, 2, 3]), labels),
    /train-images-idx3-ubyte/,
  );
  await assert.rejects(quickTrain(labels, labels), /expected uint8 \[N, 28, 28\], got \[2\]/);
});
