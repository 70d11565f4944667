import assert from "node:assert/strict";
import { assertAllClose, tensor } from "../../mod.ts";

Deno.test("assertAllClose accepts values within atol + rtol * |expected|", () => {
  assertAllClose(tensor([1, 2, 3]), [1, 2, 3]);
  assertAllClose(tensor([[1, 2]]), tensor([[1, 2.001]]), { rtol: 1e-3 });
  assertAllClose(tensor([1e-9]), [0]); // default atol 1e-8
  assertAllClose(tensor(0.5), 0.5);
  assertAllClose(tensor([NaN, Infinity, -Infinity]), [NaN, Infinity, -Infinity]);
  assertAllClose(tensor([0.1]), [0.1]); // float32 0.1 vs float64 0.1: rel 1.5e-8
});

Deno.test("assertAllClose reports the shape mismatch", () => {
  assert.throws(
    () => assertAllClose(tensor([[1, 2]]), [1, 2]),
    { message: "assertAllClose: shape mismatch: actual [1, 2], expected [2]" },
  );
});

Deno.test("assertAllClose reports the worst element: multi-index, values, errors, tolerances", () => {
  const actual = tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float64" });
  // [0, 1] is off by 0.01 (rel 5e-3), [1, 2] by 0.6 (rel 0.1): [1, 2] is the worst.
  const expected = [[1, 2.01, 3], [4, 5, 6.6]];
  assert.throws(() => assertAllClose(actual, expected, { rtol: 1e-3, atol: 0 }), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(
      e.message,
      /^assertAllClose: 2 of 6 elements differ \(shape \[2, 3\]\); worst at \[1, 2\]: /,
    );
    assert.match(
      e.message,
      /actual 6, expected 6\.6, abs error 0\.599999\d*, rel error 0\.0909\d*/,
    );
    assert.match(e.message, /\(rtol 0\.001, atol 0; allowed 0\.0066\d*\)/);
    return true;
  });
});

Deno.test("assertAllClose: NaN matches only NaN; a NaN mismatch is the worst", () => {
  assert.throws(
    () => assertAllClose(tensor([1, NaN]), [1, 2]),
    /1 of 2 elements differ .* worst at \[1\]: actual NaN, expected 2/,
  );
  assert.throws(
    () => assertAllClose(tensor([1, 2]), [1.5, NaN]),
    /worst at \[1\]: actual 2, expected NaN/,
  );
  assert.throws(
    () => assertAllClose(tensor([Infinity]), [-Infinity]),
    /actual Infinity, expected -Infinity/,
  );
  assert.throws(
    () => assertAllClose(tensor([1]), [1.1], { rtol: 0, atol: 0 }),
    /rtol 0, atol 0; allowed 0/,
  );
});
