import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import { findJsonSyntaxError, lineColumn } from "../../src/lenet/json.ts";

Deno.test("findJsonSyntaxError names the line and column of the first error", () => {
  const cases: [string, number, number, RegExp][] = [
    ['{\n  "a": }', 2, 8, /expected a JSON value/],
    ['{"a": 1,\n\n}', 3, 1, /expected a string key/],
    ["[1, 2", 1, 6, /expected ',' or '\]' in an array, found the end of the text/],
    ['{"a": 1} x', 1, 10, /after the JSON value/],
    ["", 1, 1, /found the end of the text/],
    ['{"a":\n  [1, 2,\n   tru]}', 3, 4, /expected a JSON value/],
    ['"tab\there"', 1, 5, /control character/],
    ['"\\x"', 1, 2, /invalid escape/],
    ['{"a" 1}', 1, 6, /expected ':'/],
    ["01", 1, 2, /after the JSON value/],
    ['{"a": 1, "a": 2', 1, 16, /expected ',' or '}'/],
  ];
  for (const [text, line, column, msg] of cases) {
    const e = findJsonSyntaxError(text);
    assert.ok(e !== null, `expected an error in ${JSON.stringify(text)}`);
    assert.deepEqual([e.line, e.column], [line, column], JSON.stringify(text));
    assert.match(e.message, msg);
  }
});

Deno.test("findJsonSyntaxError accepts valid JSON, and agrees with JSON.parse on mutations", () => {
  for (const ok of ['{"a": [1, -2.5e3, true, false, null, "\\u00e9\\n"]}', " 0 ", "[]", "{}"]) {
    assert.equal(findJsonSyntaxError(ok), null, ok);
  }
  // Property: for JSON texts with one character replaced or removed, the scanner finds an error
  // exactly when JSON.parse throws.
  fc.assert(
    fc.property(
      fc.jsonValue({ maxDepth: 3 }),
      fc.nat(),
      fc.constantFrom("", "}", "]", ",", ":", '"', "x", "1", " ", "-", "."),
      (v, at, ch) => {
        const s = JSON.stringify(v, null, at % 2 === 0 ? 2 : undefined);
        const k = at % (s.length + 1);
        const mutated = s.slice(0, k) + ch + s.slice(k + 1);
        let parses = true;
        try {
          JSON.parse(mutated);
        } catch {
          parses = false;
        }
        assert.equal(findJsonSyntaxError(mutated) === null, parses, mutated);
      },
    ),
    { seed: 20261123, numRuns: 400 },
  );
});

Deno.test("lineColumn is 1-based", () => {
  assert.deepEqual(lineColumn("ab\ncd", 0), { line: 1, column: 1 });
  assert.deepEqual(lineColumn("ab\ncd", 4), { line: 2, column: 2 });
});
