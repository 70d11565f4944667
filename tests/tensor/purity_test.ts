/**
 * Immutability and dtype, for every op of the table and its backward: inputs (and the upstream
 * gradient) are never written to, and float32 in gives float32 out (float64 likewise).
 */

import assert from "node:assert/strict";
import { argmax, oneHot, prngKey, randomNormal, type Tensor } from "../../mod.ts";
import { opCases } from "./op_table.ts";

const snapshot = (ts: readonly Tensor[]) => ts.map((t) => Array.from(t.data));

for (const dtype of ["float32", "float64"] as const) {
  for (const c of opCases(dtype)) {
    Deno.test(`${dtype}: ${c.name} keeps the dtype and never mutates its inputs`, () => {
      const xs = c.inputs();
      const before = snapshot(xs);
      const y = c.f(xs);
      assert.equal(y.dtype, dtype);
      assert.deepEqual(snapshot(xs), before, "forward mutated an input");
      const g = randomNormal(prngKey(5), [...y.shape], { dtype });
      const gBefore = Array.from(g.data), yBefore = Array.from(y.data);
      const grads = c.back(g, xs, y);
      for (const d of grads) if (d) assert.equal(d.dtype, dtype);
      assert.deepEqual(snapshot(xs), before, "backward mutated an input");
      assert.deepEqual(Array.from(g.data), gBefore, "backward mutated the upstream gradient");
      assert.deepEqual(Array.from(y.data), yBefore, "backward mutated the output");
      // No gradient may alias an input's or the gradient's buffer it could later be written
      // through (ops return fresh buffers, or an input itself when nothing changes).
      for (const d of grads) {
        if (d && !xs.includes(d) && d !== g) {
          for (const x of xs) assert.notEqual(d.data, x.data, "gradient shares an input buffer");
        }
      }
    });
  }
}

Deno.test("argmax and oneHot leave their inputs alone", () => {
  const x = randomNormal(prngKey(3), [4, 5]);
  const before = Array.from(x.data);
  argmax(x, { axis: 1 });
  argmax(x);
  assert.deepEqual(Array.from(x.data), before);
  const labels = [1, 0, 2];
  oneHot(labels, 3);
  assert.deepEqual(labels, [1, 0, 2]);
});
