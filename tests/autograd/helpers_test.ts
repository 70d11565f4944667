/**
 * The shared finite-difference check of standalone backward functions must fail on wrong rules,
 * down to a relative error of 2e-6 (the local helpers it replaced failed above 1e-6).
 */

import assert from "node:assert/strict";
import { mul, upsample, upsampleBackward } from "../../mod.ts";
import { assertBackwardMatchesFd, rand } from "./helpers.ts";

Deno.test("assertBackwardMatchesFd passes the true rule and rejects a rule off by 2e-6", () => {
  const x = rand(1, [2, 3, 4]);
  const f = (t: typeof x) => upsample(t, 2);
  const report = assertBackwardMatchesFd("upsample", f, (d) => [upsampleBackward(d, 2)], [x]);
  assert.equal(report.inputs[0].checked, 24); // every coordinate
  assert.deepEqual([report.atol, report.rtol], [1e-9, 5e-7]);
  for (const factor of [2, 1 + 2e-6]) {
    assert.throws(
      () =>
        assertBackwardMatchesFd("upsample", f, (d) => [mul(upsampleBackward(d, 2), factor)], [x]),
      /gradcheck failed for upsample\n {2}upsample: input 0 \[2, 3, 4\]: 24 of 24 coordinates/,
    );
  }
  // A gradient of the wrong shape is reported as such.
  assert.throws(
    () => assertBackwardMatchesFd("upsample", f, (d) => [upsampleBackward(d, 1)], [x]),
    /upsample: gradient 0 must have its input's shape/,
  );
});
