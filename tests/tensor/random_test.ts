import assert from "node:assert/strict";
import {
  prngKey,
  randomBits,
  randomNormal,
  randomPermutation,
  randomUniform,
  split,
  threefry2x32,
} from "../../src/tensor/random.ts";

const hex = (words: [number, number]) => words.map((w) => w.toString(16).padStart(8, "0"));

Deno.test("threefry2x32 reproduces the Random123 known-answer vectors (20 rounds)", () => {
  assert.deepEqual(hex(threefry2x32(0, 0, 0, 0)), ["6b200159", "99ba4efe"]);
  assert.deepEqual(
    hex(threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)),
    ["1cb996fc", "bb002be7"],
  );
  assert.deepEqual(
    hex(threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3)),
    ["c4923a9c", "483df7a0"],
  );
});

Deno.test("same key gives the same numbers; split keys differ from each other", () => {
  const key = prngKey(42);
  assert.deepEqual(randomUniform(key, [5]).data, randomUniform(prngKey(42), [5]).data);
  const [a, b] = split(key);
  assert.notDeepEqual(a.words, b.words);
  assert.notDeepEqual(randomUniform(a, [5]).data, randomUniform(b, [5]).data);
  assert.deepEqual(split(key, 3)[1].words, b.words);
  // A prefix of a longer draw is the shorter draw: numbers depend on (key, index) only.
  assert.deepEqual(randomBits(key, 3), randomBits(key, 8).slice(0, 3));
  // Pinned values: any change to the generator is a visible, deliberate change.
  assert.deepEqual(Array.from(randomBits(prngKey(0), 2)), [
    threefry2x32(0, 0, 0, 1)[0],
    threefry2x32(0, 0, 0, 1)[1],
  ]);
});

Deno.test("uniform samples stay in [low, high) with the right moments", () => {
  const n = 100_000;
  const x = randomUniform(prngKey(1), [n], { low: -2, high: 3, dtype: "float64" });
  let sum = 0, min = Infinity, max = -Infinity;
  for (const v of x.data) [sum, min, max] = [sum + v, Math.min(min, v), Math.max(max, v)];
  assert.ok(min >= -2 && max < 3);
  assert.ok(Math.abs(sum / n - 0.5) < 0.03, `mean ${sum / n}`);
  assert.throws(() => randomUniform(prngKey(1), [1], { low: 1, high: 1 }), /need low < high/);
});

Deno.test("normal samples have the requested mean and standard deviation", () => {
  const n = 100_001;
  const x = randomNormal(prngKey(2), [n], { mean: 1, std: 2, dtype: "float64" });
  let s = 0, s2 = 0;
  for (const v of x.data) [s, s2] = [s + v, s2 + v * v];
  const mean = s / n, sd = Math.sqrt(s2 / n - mean * mean);
  assert.ok(Math.abs(mean - 1) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(sd - 2) < 0.03, `sd ${sd}`);
  assert.ok(x.data.every(Number.isFinite));
});

Deno.test("randomPermutation is a permutation and depends on the key", () => {
  const p = randomPermutation(prngKey(3), 1000);
  assert.deepEqual(Array.from(p).sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual(p, randomPermutation(prngKey(4), 1000));
  assert.deepEqual(p, randomPermutation(prngKey(3), 1000));
});
