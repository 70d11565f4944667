/**
 * The DOM library types stay out of the shared type check. A `/// <reference lib="dom" />` in
 * any module of a `deno check` run applies to the whole program, so one browser file checked
 * with the library would let library code use `document` unnoticed. The browser files are
 * therefore excluded from the shared check (`exclude` in deno.json; fmt and lint re-include
 * them) and checked on their own by `deno task check:browser` (config `.ci/browser.json`), and
 * nothing in the shared check imports them.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

async function* sources(dir: URL): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith(".") || e.name === "node_modules") continue;
    const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) yield* sources(url);
    else if (/\.(ts|tsx|js|mjs)$/.test(e.name)) yield url.href.slice(ROOT.href.length);
  }
}

Deno.test("DOM types: only the excluded browser files reference lib dom, and only the browser check and the bundler reach them", async () => {
  const cfg = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const files: string[] = ["mod.ts"];
  for (const d of ["src/", "tests/", "bench/"]) {
    for await (const f of sources(new URL(d, ROOT))) files.push(f);
  }
  const withDom: string[] = [];
  const importers: string[] = [];
  for (const f of files) {
    const text = await Deno.readTextFile(new URL(f, ROOT));
    if (/^\/\/\/\s*<reference\s+lib="dom"/m.test(text)) withDom.push(f);
    if (/^\s*(?:import|export)[^;]*from\s+"[^"]*(?:demo\/page|browser\/driver)\.ts"/m.test(text)) {
      importers.push(f);
    }
  }
  const browser = ["src/cli/demo/page.ts", "tests/cli/browser/driver.ts"];
  assert.deepEqual(withDom.sort(), browser);
  assert.deepEqual(importers, [], "no module imports a browser file");
  for (const f of browser) {
    assert.ok(cfg.exclude.includes(f), `${f} is excluded from the shared check`);
    assert.ok(cfg.fmt.exclude.includes(`!${f}`), `${f} is still formatted`);
    assert.ok(cfg.lint.exclude.includes(`!${f}`), `${f} is still linted`);
    assert.ok(cfg.tasks["check:browser"].includes(f), `${f} is checked with the DOM types`);
  }
  assert.match(cfg.tasks["check:browser"], /--config \.ci\/browser\.json/);
  assert.match(cfg.tasks.check, /deno task check:browser/);
  const browserCfg = JSON.parse(await Deno.readTextFile(new URL(".ci/browser.json", ROOT)));
  assert.ok(browserCfg.compilerOptions.lib.includes("dom"));
});
