import assert from "node:assert/strict";
import {
  computeFans,
  glorotNormal,
  glorotUniform,
  heNormal,
  heUniform,
  type Initializer,
  lecunNormal,
  lecunUniform,
  zeroBias,
} from "../../src/lenet/init.ts";
import { prngKey, split } from "../../src/tensor/random.ts";
import type { Tensor } from "../../src/tensor/tensor.ts";

function stats(t: Tensor) {
  let s = 0, s2 = 0, maxAbs = 0;
  for (const v of t.data) [s, s2, maxAbs] = [s + v, s2 + v * v, Math.max(maxAbs, Math.abs(v))];
  const mean = s / t.size;
  return { mean, std: Math.sqrt(s2 / t.size - mean * mean), maxAbs };
}

Deno.test("fans: dense [in, out] and conv OIHW [O, C, kh, kw]", () => {
  assert.deepEqual(computeFans([400, 120]), { fanIn: 400, fanOut: 120 });
  assert.deepEqual(computeFans([16, 6, 5, 5]), { fanIn: 150, fanOut: 400 });
  assert.deepEqual(computeFans([6, 1, 5, 5]), { fanIn: 25, fanOut: 150 });
  assert.deepEqual(computeFans([8, 3, 2, 3, 4]), { fanIn: 72, fanOut: 192 });
  assert.throws(() => computeFans([10]), /rank 1; initializers need a dense \[in, out\]/);
  assert.throws(() => heNormal(prngKey(0), [0, 5]), /zero fan/);
});

// [shape, fan_in, fan_out]: a conv weight (fan_in 150) and a dense one (fan_in 300).
const conv = [64, 6, 5, 5], dense = [300, 200];
const cases: [string, Initializer, number[], number, "uniform" | "normal"][] = [
  // name, initializer, shape, expected std, distribution
  ["lecunUniform", lecunUniform, conv, Math.sqrt(1 / 150), "uniform"],
  ["lecunNormal", lecunNormal, dense, Math.sqrt(1 / 300), "normal"],
  ["glorotUniform", glorotUniform, dense, Math.sqrt(2 / 500), "uniform"],
  ["glorotNormal", glorotNormal, conv, Math.sqrt(2 / (150 + 1600)), "normal"],
  ["heUniform", heUniform, dense, Math.sqrt(2 / 300), "uniform"],
  ["heNormal", heNormal, conv, Math.sqrt(2 / 150), "normal"],
];

for (const [name, init, shape, std, dist] of cases) {
  Deno.test(`${name}: mean 0, std ${std.toFixed(4)}, ${dist} support`, () => {
    const w = init(prngKey(11), shape, { dtype: "float64" });
    assert.deepEqual(w.shape, shape);
    assert.equal(w.dtype, "float64");
    const s = stats(w);
    assert.ok(Math.abs(s.mean) < 0.02 * std, `${name} mean ${s.mean}`);
    assert.ok(Math.abs(s.std / std - 1) < 0.02, `${name} std ${s.std} vs ${std}`);
    if (dist === "uniform") {
      // All samples inside [-limit, limit) with limit = sqrt(3) std, and the edges reached.
      const limit = Math.sqrt(3) * std;
      assert.ok(s.maxAbs <= limit && s.maxAbs > 0.999 * limit, `${name} max ${s.maxAbs} ${limit}`);
    } else {
      // A Gaussian (not truncated): some samples beyond 3 std for ~50k draws.
      assert.ok(s.maxAbs > 3.5 * std, `${name} max ${s.maxAbs}`);
    }
  });
}

Deno.test("initializers are pure: same key, same tensor; other key, other tensor", () => {
  const [k1, k2] = split(prngKey(5));
  const a = heNormal(k1, [6, 1, 5, 5]);
  assert.equal(a.dtype, "float32");
  assert.deepEqual(a.data, heNormal(k1, [6, 1, 5, 5]).data);
  assert.notDeepEqual(a.data, heNormal(k2, [6, 1, 5, 5]).data);
  // float32 and float64 draws agree to float32 precision: one stream, two roundings.
  const b = heNormal(k1, [6, 1, 5, 5], { dtype: "float64" });
  for (let i = 0; i < a.size; i++) assert.equal(a.data[i], Math.fround(b.data[i]));
});

Deno.test("biases start at zero", () => {
  const b = zeroBias(120, { dtype: "float64" });
  assert.deepEqual(b.shape, [120]);
  assert.equal(b.dtype, "float64");
  assert.ok(b.data.every((v) => v === 0));
});
