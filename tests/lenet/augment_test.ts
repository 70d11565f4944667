import assert from "node:assert/strict";
import { augmentBatch } from "../../src/lenet/augment.ts";
import { TensorError } from "../../src/tensor/errors.ts";
import { prngKey, randomUniform } from "../../src/tensor/random.ts";
import { Tensor, zeros } from "../../src/tensor/tensor.ts";

const OFF = { maxShift: 0, maxRotation: 0, maxScale: 0, elasticAlpha: 0 };

/** A 28x28 image with a bright bar at rows 10..17, column 14, as one [1, 1, 28, 28] batch. */
function bar(): Tensor {
  const d = new Float32Array(784);
  for (let r = 10; r < 18; r++) d[r * 28 + 14] = 1;
  return new Tensor(d, [1, 1, 28, 28]);
}

Deno.test("augment: with every distortion off it returns the image unchanged", () => {
  const x = randomUniform(prngKey(0), [3, 1, 28, 28]);
  const y = augmentBatch(x, prngKey(1), OFF);
  assert.deepEqual(Array.from(y.data), Array.from(x.data));
  assert.notEqual(y.data, x.data); // a fresh buffer
});

Deno.test("augment: seeded (same key, same output), new key, new output; input untouched", () => {
  const x = randomUniform(prngKey(2), [4, 1, 28, 28]);
  const copy = Array.from(x.data);
  const a = augmentBatch(x, prngKey(3)), b = augmentBatch(x, prngKey(3));
  const c = augmentBatch(x, prngKey(4));
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
  assert.notDeepEqual(Array.from(a.data), Array.from(c.data));
  assert.deepEqual(Array.from(x.data), copy);
  assert.deepEqual(a.shape, [4, 1, 28, 28]);
  // every image of the batch gets its own distortion
  assert.notDeepEqual(Array.from(a.data.subarray(0, 784)), Array.from(a.data.subarray(784, 1568)));
});

Deno.test("augment: shifts stay within 2 px; bilinear values stay within the input's range", () => {
  const x = bar();
  for (let seed = 0; seed < 20; seed++) {
    const y = augmentBatch(x, prngKey(seed), { ...OFF, maxShift: 2 });
    let mass = 0, mr = 0, mc = 0;
    for (let i = 0; i < 784; i++) {
      const v = y.data[i];
      assert.ok(v >= 0 && v <= 1 + 1e-6, `pixel ${i} = ${v}`);
      mass += v;
      mr += v * Math.floor(i / 28);
      mc += v * (i % 28);
    }
    // a pure shift moves the center of mass (13.5, 14) by at most 2 px per axis
    assert.ok(Math.abs(mass - 8) < 1e-4, `mass ${mass}`);
    assert.ok(Math.abs(mr / mass - 13.5) <= 2 + 1e-6 && Math.abs(mc / mass - 14) <= 2 + 1e-6);
  }
});

Deno.test("augment: a rotation turns a vertical bar; the background fills what comes in", () => {
  const x = bar();
  const y = augmentBatch(x, prngKey(5), { ...OFF, maxRotation: 30 });
  // the bar's top and bottom ends move sideways in opposite directions
  const colOf = (rows: number[]) => {
    let m = 0, s = 0;
    for (const r of rows) {
      for (let c = 0; c < 28; c++) {
        m += y.data[r * 28 + c];
        s += c * y.data[r * 28 + c];
      }
    }
    return s / m;
  };
  const top = colOf([10, 11]), bottom = colOf([16, 17]);
  assert.ok(Math.abs(top - bottom) > 0.5 && Math.sign(top - 14) !== Math.sign(bottom - 14));
  const bg = augmentBatch(zeros([1, 1, 28, 28]), prngKey(6), { maxShift: 2, background: -0.42 });
  assert.ok(
    bg.data.some((v) => Math.abs(v + 0.42) < 1e-6),
    "shifted-in pixels read the background",
  );
  assert.ok(bg.data.every((v) => v <= 0 && v >= -0.42 - 1e-6));
});

Deno.test("augment: the elastic field displaces the ink without destroying it", () => {
  const x = bar();
  const y = augmentBatch(x, prngKey(7), { ...OFF, elasticAlpha: 34, elasticSigma: 4 });
  assert.notDeepEqual(Array.from(y.data), Array.from(x.data));
  let mass = 0;
  for (const v of y.data) mass += v;
  assert.ok(mass > 4 && mass < 12, `the ink is displaced, not destroyed: ${mass}`);
});

Deno.test("augment: bad shapes and options are TensorErrors naming the problem", () => {
  assert.throws(() => augmentBatch(zeros([2, 3, 28, 28]), prngKey(0)), TensorError);
  assert.throws(
    () => augmentBatch(zeros([1, 1, 28, 28]), prngKey(0), { maxShift: -1 }),
    /maxShift/,
  );
  assert.throws(
    () => augmentBatch(zeros([1, 1, 28, 28]), prngKey(0), { maxRotation: 400 }),
    /maxRotation 400/,
  );
  assert.equal(augmentBatch(zeros([2, 28, 28]), prngKey(0)).rank, 3);
});
