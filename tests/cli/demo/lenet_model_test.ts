import assert from "node:assert/strict";
import { loadDemoModel } from "../../../src/cli/demo/model.ts";
import { DEFAULT_TRAIN_CONFIG } from "../../../src/lenet/config.ts";
import { modern } from "../../../src/lenet/model.ts";
import { adam } from "../../../src/lenet/optim.ts";
import { FRESH_PROGRESS, normalizeImages, saveRun } from "../../../src/lenet/run_checkpoint.ts";
import { initTrainState } from "../../../src/lenet/train.ts";
import { prngKey, randomUniform } from "../../../src/tensor/random.ts";
import { softmax } from "../../../src/tensor/softmax.ts";

Deno.test("loadDemoModel: a trainer checkpoint runs LeNet-5 in the page: prediction, layer views, deltas", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const state = initTrainState(modern, adam({ lr: 1e-3 }), 5);
    const norm = { mean: 0.1307, std: 0.3081 };
    const config = { ...DEFAULT_TRAIN_CONFIG, seed: 5 };
    await saveRun(`${dir}/c.safetensors`, config, norm, state, FRESH_PROGRESS)();
    const m = loadDemoModel(await Deno.readFile(`${dir}/c.safetensors`));
    assert.equal(m.name, 'LeNet-5 "modern" (trained, 0 epochs)');
    const x = randomUniform(prngKey(6), [1, 1, 28, 28]);
    const out = m.forward(x);
    // the page's input is in [0, 1]: the model normalizes it as training did
    const want = softmax(modern.forward(state.params, normalizeImages(x, norm)), -1).data;
    assert.deepEqual(out.probabilities, Array.from(want));
    assert.equal(out.prediction, want.indexOf(Math.max(...want)));
    assert.deepEqual(out.layers.map((l) => `${l.name} ${l.shape.join("x")}`), [
      "c1 6x28x28",
      "s2 6x14x14",
      "c3 16x10x10",
      "s4 16x5x5",
      "c5 120",
      "f6 84",
      "out 10",
    ]);
    assert.ok(m.deltas !== null);
    const d = m.deltas(x, 3);
    assert.deepEqual(d.map((l) => l.shape), out.layers.map((l) => l.shape));
    // the output delta is softmax - onehot(3)
    const dOut = Array.from(d[d.length - 1].values);
    dOut.forEach((v, j) => assert.ok(Math.abs(v - (want[j] - (j === 3 ? 1 : 0))) < 1e-6));
    // unusable bytes fall back to the edge bank, saying why
    const bad = loadDemoModel(new Uint8Array([1, 2, 3]));
    assert.equal(bad.deltas, null);
    assert.match(bad.description, /The checkpoint offered could not be used: checkpoint: byte 0: /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
