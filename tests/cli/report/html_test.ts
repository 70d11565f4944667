import assert from "node:assert/strict";
import { el, escapeHtml, join, num, raw, svgText, text } from "../../../src/cli/report/html.ts";
import { byTag, parse, textOf } from "./xml.ts";

Deno.test("escapeHtml makes & < > \" ' inert", () => {
  assert.equal(
    escapeHtml(`<script>alert("x & 'y'")</script>`),
    "&lt;script&gt;alert(&quot;x &amp; &#39;y&#39;&quot;)&lt;/script&gt;",
  );
  assert.equal(escapeHtml("plain 0-9 ü →"), "plain 0-9 ü →");
});

Deno.test("el escapes attribute values and text children, omits false/null/undefined", () => {
  const m = el(
    "p",
    { title: `a"b<c>`, hidden: true, draggable: false, id: null, lang: undefined, x: 1.5 },
    text("1 < 2 & 3 > 2"),
  );
  assert.equal(
    m,
    `<p title="a&quot;b&lt;c&gt;" hidden="hidden" x="1.5">1 &lt; 2 &amp; 3 &gt; 2</p>`,
  );
  const tree = parse(m);
  const [p] = byTag(tree, "p");
  assert.equal(p.attrs.title, `a"b<c>`);
  assert.equal(textOf(p), "1 < 2 & 3 > 2");
});

Deno.test("el writes empty elements self-closing and rejects bad tag or attribute names", () => {
  assert.equal(el("rect", { x: 0, width: 10 }), `<rect x="0" width="10" />`);
  assert.throws(() => el("p onclick", {}), /invalid tag name/);
  assert.throws(() => el("p", { "on click": "x" }), /invalid attribute name/);
  assert.throws(() => el("p", { '"><script': "x" }), /invalid attribute name/);
});

Deno.test("a hostile string stays text through svgText and join", () => {
  const evil = `</text><script>alert(1)</script>`;
  const m = join([svgText(1, 2, evil), raw("<g />")]);
  const tree = parse(m);
  assert.equal(byTag(tree, "script").length, 0);
  assert.equal(textOf(byTag(tree, "text")[0]), evil);
  assert.equal(byTag(tree, "g").length, 1);
});

Deno.test("num: integers as-is, others rounded with trailing zeros dropped", () => {
  assert.equal(num(12), "12");
  assert.equal(num(12.5), "12.5");
  assert.equal(num(1 / 3), "0.33");
  assert.equal(num(2.999), "3");
  assert.equal(num(-0.001), "0");
  assert.equal(num(0.1 + 0.2, 4), "0.3");
  assert.equal(num(NaN), "0");
});
