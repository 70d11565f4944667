import assert from "node:assert/strict";
import { reportMain } from "../../src/cli/report.ts";
import { writeSyntheticRun } from "./report/fixture.ts";
import { byTag, parse } from "./report/xml.ts";

function capture() {
  const out: string[] = [], err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

async function withRun(f: (dir: string) => Promise<void>, withReport = true): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await writeSyntheticRun(`${dir}/run`, { withReport });
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("report --run DIR writes DIR/report.html; --out and --digit choose file and digit", async () => {
  await withRun(async (dir) => {
    const c = capture();
    assert.equal(await reportMain(["--run", `${dir}/run`], c.io), 0);
    assert.match(
      c.out[0],
      new RegExp(`wrote ${dir}/run/report.html \\(\\d+\\.\\d KiB, 6 epochs\\)`),
    );
    assert.deepEqual(c.err, []);
    const doc = parse(await Deno.readTextFile(`${dir}/run/report.html`));
    assert.equal(byTag(doc, "section").length, 5);
    assert.match(byTag(doc, "h2")[3].children.join(""), /test digit #0/);

    assert.equal(
      await reportMain(["--run", `${dir}/run/`, "--out", `${dir}/x.html`, "--digit", "1"], c.io),
      0,
    );
    const doc1 = parse(await Deno.readTextFile(`${dir}/x.html`));
    assert.match(byTag(doc1, "h2")[3].children.join(""), /test digit #1/);
  });
});

Deno.test("report: bad flags exit 2 with the reason and the usage", async () => {
  const cases: [string[], RegExp][] = [
    [[], /--run DIR is required/],
    [["--run"], /Option '--run <value>' argument missing/],
    [["--run", "x", "--bogus"], /Unknown option '--bogus'/],
    [["--run", "x", "extra"], /Unexpected argument 'extra'/],
    [["--run", "x", "--digit", "-3"], /Option '--digit' argument is ambiguous/],
    [["--run", "x", "--digit=-3"], /--digit "-3" is invalid: need an integer >= 0/],
    [["--run", "x", "--digit", "1e3"], /--digit "1e3" is invalid: need an integer >= 0/],
    [["--run", "x", "--out", ""], /--out needs a path, e.g. --out report.html/],
    [["--run", ""], /--run needs a path/],
  ];
  for (const [args, msg] of cases) {
    const c = capture();
    assert.equal(await reportMain(args, c.io), 2, args.join(" "));
    assert.match(c.err[0], msg);
    assert.match(c.err[0], /Usage: deno task report --run DIR/);
  }
  const h = capture();
  assert.equal(await reportMain(["--help"], h.io), 0);
  assert.match(h.out[0], /^Usage: deno task report/);
});

Deno.test("report: a --digit the run has no maps for exits 2 naming the ones it has", async () => {
  await withRun(async (dir) => {
    const c = capture();
    assert.equal(await reportMain(["--run", `${dir}/run`, "--digit", "5"], c.io), 2);
    assert.equal(
      c.err[0],
      "report: --digit 5: report.json has layer maps for test digits 0, 1 only",
    );
  });
});

Deno.test("report: missing or invalid run files exit 1 naming the file and line", async () => {
  await withRun(async (dir) => {
    const c = capture();
    assert.equal(await reportMain(["--run", `${dir}/missing`], c.io), 1);
    assert.equal(c.err[0], `report: ${dir}/missing: run folder not found`);

    const m = `${dir}/run/metrics.jsonl`;
    const lines = (await Deno.readTextFile(m)).split("\n");
    lines[3] = lines[3].replace('"test_loss":', '"test_loss":-');
    await Deno.writeTextFile(m, lines.join("\n"));
    const c2 = capture();
    assert.equal(await reportMain(["--run", `${dir}/run`], c2.io), 1);
    assert.match(c2.err[0], new RegExp(`^report: ${m}:4: test_loss: -0\\.\\d+ is below 0$`));

    await Deno.writeTextFile(m, lines.join("\n").replace('"test_loss":-', '"test_loss":'));
    await Deno.writeTextFile(
      `${dir}/run/report.json`,
      '{"format": "gradproof-report",\n "version": 1,,',
    );
    const c3 = capture();
    assert.equal(await reportMain(["--run", `${dir}/run`], c3.io), 1);
    assert.equal(
      c3.err[0],
      `report: ${dir}/run/report.json:2: not valid JSON (column 15: expected a string key, found ",")`,
    );

    await Deno.remove(`${dir}/run/report.json`);
    const c4 = capture();
    assert.equal(
      await reportMain(["--run", `${dir}/run`, "--out", `${dir}/no/such/dir/r.html`], c4.io),
      1,
    );
    assert.match(c4.err[1], new RegExp(`^report: cannot write ${dir}/no/such/dir/r.html: `));
  });
});

Deno.test("report without report.json: curves only, a note on stderr, exit 0", async () => {
  await withRun(async (dir) => {
    const c = capture();
    assert.equal(await reportMain(["--run", `${dir}/run`], c.io), 0);
    assert.match(c.err[0], /report\.json not found \(the trainer writes it at the end\)/);
    const doc = parse(await Deno.readTextFile(`${dir}/run/report.html`));
    assert.deepEqual(byTag(doc, "section").map((s) => s.attrs.id), ["curves"]);
  }, false);
});

Deno.test("deno task report runs with the task's permissions and exit codes", async () => {
  await withRun(async (dir) => {
    const run = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["task", "-q", "report", ...args],
        cwd: new URL("../../", import.meta.url),
        stdout: "piped",
        stderr: "piped",
      }).output();
    const ok = await run(["--run", `${dir}/run`]);
    assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
    assert.ok((await Deno.stat(`${dir}/run/report.html`)).size > 50_000);
    const bad = await run(["--run"]);
    assert.equal(bad.code, 2);
    const missing = await run(["--run", `${dir}/nope`]);
    assert.equal(missing.code, 1);
    assert.match(new TextDecoder().decode(missing.stderr), /nope: run folder not found/);
  });
});
