import assert from "node:assert/strict";
import { modern } from "../../src/lenet/model.ts";
import { adam, sgd } from "../../src/lenet/optim.ts";
import { flattenParams } from "../../src/lenet/params.ts";
import {
  batchesPerEpoch,
  batchKey,
  countCorrect,
  epochOrder,
  evaluate,
  foldIn,
  gatherBatch,
  initTrainState,
  locateNonFinite,
  makeTrainStep,
  nextEpoch,
  runKeys,
} from "../../src/lenet/train.ts";
import { prngKey, randomNormal, split } from "../../src/tensor/random.ts";
import { fromData, Tensor, tensor } from "../../src/tensor/tensor.ts";
import { dataset, datasetImages } from "../../src/lenet/dataset.ts";

const bits = (t: Tensor) => Array.from(new Uint32Array(new Float32Array(t.data).buffer));

/** `n` random images and labels 0..9. */
function fakeData(n: number, seed = 0) {
  const images = randomNormal(prngKey(seed), [n, 1, 28, 28]);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10);
  return { images, labels };
}

Deno.test("keys: foldIn is a pure function of (key, n) and differs from split's keys", () => {
  const k = prngKey(42);
  assert.deepEqual(foldIn(k, 3), foldIn(k, 3));
  assert.notDeepEqual(foldIn(k, 3), foldIn(k, 4));
  for (const s of split(k, 8)) assert.notDeepEqual(foldIn(k, 3), s);
  const r = runKeys(k);
  assert.notDeepEqual(r.init, r.data);
  assert.notDeepEqual(r.data, r.augment);
  assert.deepEqual(batchKey(k, 2, 5), batchKey(k, 2, 5));
  assert.notDeepEqual(batchKey(k, 2, 5), batchKey(k, 5, 2));
});

Deno.test("epoch order: a permutation, fixed by (seed, epoch), new each epoch", () => {
  const k = prngKey(1);
  const o0 = epochOrder(k, 0, 1000), o1 = epochOrder(k, 1, 1000);
  assert.deepEqual(Array.from(o0).sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(o0, epochOrder(k, 0, 1000)); // recomputed on resume: the same order
  assert.notDeepEqual(o0, o1);
  assert.notDeepEqual(o0, epochOrder(prngKey(2), 0, 1000));
  assert.equal(batchesPerEpoch(60_000, 64), 938);
  assert.equal(batchesPerEpoch(640, 64), 10);
});

Deno.test("gatherBatch copies the ordered rows and labels, converting the dtype", () => {
  const { images, labels } = fakeData(5);
  const order = Int32Array.from([4, 2, 0, 3, 1]);
  const b = gatherBatch(images, labels, order, 1, 3);
  assert.deepEqual(b.x.shape, [3, 1, 28, 28]);
  assert.deepEqual(Array.from(b.labels), [labels[2], labels[0], labels[3]]);
  for (let i = 0; i < 3; i++) {
    const k = order[1 + i];
    assert.deepEqual(
      Array.from(b.x.data.subarray(i * 784, (i + 1) * 784)),
      Array.from(images.data.subarray(k * 784, (k + 1) * 784)),
    );
  }
  const b64 = gatherBatch(images, labels, order, 0, 2, "float64");
  assert.equal(b64.x.dtype, "float64");
  assert.equal(b64.x.data[5], images.data[4 * 784 + 5]);
  b.x.data[0] = 1e9; // the batch is a copy: the dataset is untouched
  assert.notEqual(images.data[2 * 784], 1e9);
});

Deno.test("gatherBatch from a uint8 Dataset scales the ordered rows exactly like datasetImages", () => {
  const n = 6;
  const pixels = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 37 + (i >> 8)) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i * 3) % 10);
  const d = dataset(pixels, labels, { mean: 0.1307, std: 0.3081 });
  const all = datasetImages(d);
  const order = Int32Array.from([5, 1, 4, 0, 2, 3]);
  for (const dtype of ["float32", "float64"] as const) {
    const b = gatherBatch(d, undefined, order, 2, 3, dtype);
    assert.equal(b.x.dtype, dtype);
    assert.deepEqual(Array.from(b.labels), [labels[4], labels[0], labels[2]]);
    const want = dtype === "float32" ? all : datasetImages(d, 0, n, "float64");
    for (let i = 0; i < 3; i++) {
      const k = order[2 + i];
      assert.deepEqual(
        Array.from(b.x.data.subarray(i * 784, (i + 1) * 784)),
        Array.from(want.data.subarray(k * 784, (k + 1) * 784)),
      );
    }
  }
  // byte 3 -> (3/255 - 0.1307)/0.3081, rounded once to float32
  const three = pixels.indexOf(3);
  assert.equal(all.data[three], Math.fround(3 * (1 / (255 * 0.3081)) - 0.1307 / 0.3081));
  assert.throws(() => gatherBatch(all, undefined, order, 0, 2), /labels are required/);
});

Deno.test("evaluate on a uint8 Dataset equals evaluate on its float images", () => {
  const p = modern.init(prngKey(5));
  const n = 23;
  const pixels = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 101 + (i >> 5)) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i * 7) % 10);
  const d = dataset(pixels, labels, { mean: 0.2, std: 0.4 });
  const opts = { batchSize: 10, confusion: true, errors: 4 };
  const fromBytes = evaluate(modern, p, d, undefined, opts);
  assert.deepEqual(fromBytes, evaluate(modern, p, datasetImages(d), labels, opts));
  assert.equal(fromBytes.count, n);
});

Deno.test("train step: pure, deterministic, advances the counters, lowers the loss", () => {
  const opt = adam({ lr: 1e-3 });
  const step = makeTrainStep(modern, opt);
  const s0 = initTrainState(modern, opt, 3);
  const { images, labels } = fakeData(16, 1);
  const batch = { x: images, labels };
  const before = flattenParams(s0.params).map(([, t]) => bits(t));
  const r1 = step(s0, batch), r2 = step(s0, batch);
  assert.ok(r1._tag === "Right" && r2._tag === "Right");
  // the input state is not mutated; the same input gives the same bits
  assert.deepEqual(flattenParams(s0.params).map(([, t]) => bits(t)), before);
  assert.deepEqual(
    flattenParams(r1.right.state.params).map(([, t]) => bits(t)),
    flattenParams(r2.right.state.params).map(([, t]) => bits(t)),
  );
  const s1 = r1.right.state;
  assert.deepEqual([s1.step, s1.epoch, s1.batch, s1.opt.step], [1, 0, 1, 1]);
  assert.equal(r1.right.report.count, 16);
  assert.equal(r1.right.report.correct, countCorrect(modern.forward(s0.params, images), labels));
  let s = s1, last = r1.right.report.loss;
  for (let i = 0; i < 30; i++) {
    const r = step(s, batch);
    assert.ok(r._tag === "Right");
    s = r.right.state;
    last = r.right.report.loss;
  }
  assert.ok(last < 0.5 * r1.right.report.loss, `memorizing 16 examples: ${last}`);
  const e = nextEpoch(s);
  assert.deepEqual([e.step, e.epoch, e.batch], [31, 1, 0]);
});

Deno.test("guard: a huge learning rate stops with the step and the layer, state unchanged", () => {
  const opt = sgd({ lr: 1e30 });
  const step = makeTrainStep(modern, opt, () => "1e+30");
  const { images, labels } = fakeData(8, 2);
  let s = initTrainState(modern, opt, 0);
  let failure;
  for (let i = 0; i < 5 && failure === undefined; i++) {
    const r = step(s, { x: images, labels });
    if (r._tag === "Left") failure = r.left;
    else s = r.right.state;
  }
  assert.ok(failure !== undefined, "training with lr 1e30 must diverge within 5 steps");
  assert.equal(failure.step, s.step + 1);
  assert.match(
    failure.message,
    new RegExp(`^step ${failure.step} \\(epoch 1, batch ${failure.step}\\)`),
  );
  assert.match(failure.message, /layer (c1|c3|c5|f6|out)\b/);
  assert.match(failure.message, /lower --lr \(the rate was 1e\+30\)/);
  assert.ok(["loss", "gradient", "parameter"].includes(failure.what));
  assert.ok(["c1", "c3", "c5", "f6", "out"].includes(failure.layer));
  // the last good state is finite
  for (const [path, t] of flattenParams(s.params)) assert.ok(t.data.every(Number.isFinite), path);
});

Deno.test("guard: non-finite pixels are reported as the input, before any layer", () => {
  const opt = adam({ lr: 1e-3 });
  const data = new Float32Array(2 * 784);
  data[100] = NaN;
  const r = makeTrainStep(modern, opt)(initTrainState(modern, opt, 0), {
    x: new Tensor(data, [2, 1, 28, 28]),
    labels: new Uint8Array([1, 2]),
  });
  assert.ok(r._tag === "Left");
  assert.equal(r.left.what, "input");
  assert.match(r.left.message, /^step 1 \(epoch 1, batch 1\): the input batch holds non-finite/);
});

Deno.test("locateNonFinite names the first op whose output overflowed and its layer", () => {
  const p = modern.init(prngKey(0));
  const huge = {
    ...p,
    c5: { w: fromData(new Float32Array(400 * 120).fill(1e36), [400, 120]), b: p.c5.b },
  };
  const { images, labels } = fakeData(2, 3);
  const scaled = new Tensor(images.data.map((v) => Math.abs(v) * 10), images.shape);
  const found = locateNonFinite(modern, huge, scaled, labels);
  assert.equal(found.layer, "c5");
  assert.match(found.where, /^dense of layer c5 \(c5\.w, c5\.b\)/);
  assert.deepEqual(locateNonFinite(modern, p, images, labels).layer, "out");
});

Deno.test("evaluate: loss and accuracy match one big forward; confusion sums to the count", () => {
  const p = modern.init(prngKey(9));
  const { images, labels } = fakeData(37, 4);
  const e = evaluate(modern, p, images, labels, { batchSize: 10, confusion: true, errors: 5 });
  const z = modern.forward(p, images);
  assert.equal(e.count, 37);
  assert.equal(e.correct, countCorrect(z, labels));
  assert.equal(e.accuracy, e.correct / 37);
  assert.ok(Math.abs(e.loss - modern.criterion(z, labels).data[0]) < 1e-6);
  assert.equal(e.confusion!.reduce((a, b) => a + b, 0), 37);
  let diag = 0;
  for (let c = 0; c < 10; c++) diag += e.confusion![c * 11];
  assert.equal(diag, e.correct);
  assert.equal(e.errors!.length, Math.min(5, 37 - e.correct));
  for (let i = 1; i < e.errors!.length; i++) {
    assert.ok(e.errors![i - 1].probability >= e.errors![i].probability);
  }
  for (const m of e.errors!) {
    assert.notEqual(m.predicted, m.label);
    assert.equal(m.label, labels[m.index]);
  }
  // float64 parameters evaluate float32 images (converted per slice)
  const p64 = modern.init(prngKey(9), { dtype: "float64" });
  assert.equal(evaluate(modern, p64, images, labels).count, 37);
  assert.equal(countCorrect(tensor([[0, 1], [3, 2], [5, 5]]), [1, 0, 0]), 3);
});
