/**
 * `deno task gradcheck`: flags (strict parseArgs), the printed table, exit statuses 0/1/2, and
 * the real command run with no permissions at all.
 */

import assert from "node:assert/strict";
import { either as E } from "npm:fp-ts@2.16.11";
import { gradientSuiteOps, type GradientSuiteReport, type GradientSuiteRow } from "../../mod.ts";
import { main, parseFlags, USAGE } from "../../src/cli/gradcheck.ts";

/** Runs `main` with captured output and an optional stand-in for the suite. */
async function run(args: string[], report?: GradientSuiteReport) {
  const out: string[] = [], err: string[] = [];
  const code = await main(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    run: report
      ? (opts) => {
        report.rows.forEach((r) => opts.onRow?.(r));
        return Promise.resolve(report);
      }
      : (await import("../../mod.ts")).runGradientSuite,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("gradcheck flags: defaults, --op repeated and comma lists, numbers validated", () => {
  const ok = (args: string[]) => {
    const r = parseFlags(args);
    if (E.isLeft(r)) assert.fail(r.left);
    return r.right;
  };
  assert.deepEqual(ok([]), { help: false, seed: 1, cases: 100, samples: 16, ops: undefined });
  assert.deepEqual(ok(["--op", "relu,conv2d", "--op", "mse", "--seed=-3", "--cases=7"]).ops, [
    "relu",
    "conv2d",
    "mse",
  ]);
  assert.equal(ok(["--seed=-3"]).seed, -3);
  assert.equal(ok(["-h"]).help, true);
  const bad = (args: string[], re: RegExp) => {
    const r = parseFlags(args);
    assert.ok(E.isLeft(r), `${args} parsed`);
    assert.match(r.left, re);
  };
  bad(["--cases", "0"], /--cases must be an integer >= 1, got "0"/);
  bad(["--cases", "1.5"], /--cases must be an integer >= 1/);
  bad(["--samples", ""], /--samples must be an integer >= 1, got ""/);
  bad(["--seed", "x"], /--seed must be an integer/);
  bad(["--frobnicate"], /Unknown option '--frobnicate'/);
  bad(["stray"], /Unexpected argument 'stray'/);
  bad(["--op", "relu,conv3d"], /unknown op "conv3d"; valid ops: conv2d, correlate2d, /);
});

Deno.test("gradcheck: --help prints the usage and every op; usage errors exit 2", async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.equal(help.out, USAGE);
  for (const op of gradientSuiteOps) assert.ok(USAGE.includes(op), op);
  const unknown = await run(["--op", "nope,relu"]);
  assert.equal(unknown.code, 2);
  // The list is the whole table, first row to last.
  assert.ok(
    unknown.err.startsWith(
      `gradcheck: unknown op "nope"; valid ops: ${gradientSuiteOps.join(", ")}\n`,
    ),
    unknown.err,
  );
  assert.match(unknown.err, /Run with --help for usage\.$/);
  assert.equal(unknown.out, "");
});

Deno.test("gradcheck: prints the table and exits 0 when the chosen ops pass", async () => {
  const r = await run(["--op", "relu", "--op", "softmax,mse", "--cases", "10", "--seed", "4"]);
  assert.equal(r.code, 0, r.out);
  const lines = r.out.split("\n");
  assert.match(
    lines[0],
    /^\| op +\| cases \| max rel err hand vs autograd \| max rel err vs FD \|/,
  );
  assert.deepEqual(lines.slice(2, 5).map((l) => l.split("|")[1].trim()), [
    "relu",
    "softmax",
    "mse",
  ]);
  for (const l of lines.slice(2, 5)) {
    assert.match(l, /\| +10 \| [0-9.e+-]+ +\| [0-9.e+-]+ +\| pass/);
  }
  assert.match(r.out, /\n3\/3 ops passed, 10 cases each \(seed 4, 16 FD coordinates per input\)/);
});

Deno.test("gradcheck: any failing op makes the exit status 1 and prints its failure", async () => {
  const row = (op: string, passed: boolean): GradientSuiteRow => ({
    op,
    cases: passed ? 100 : 3,
    maxHandVsRef: passed ? 1e-16 : 0.5,
    maxVsFd: passed ? 1e-9 : 0.4,
    passed,
    failure: passed ? null : `${op}: failed after 3 case(s); reproduce with --seed 1 --op ${op}`,
    ms: 1,
  });
  const report = {
    seed: 1,
    cases: 100,
    samples: 16,
    rows: [row("relu", true), row("conv2d", false)],
    passed: false,
    ms: 2,
  };
  const r = await run(["--op", "relu,conv2d"], report);
  assert.equal(r.code, 1);
  assert.match(r.out, /\| conv2d +\| +3 \| 5\.0e-1 +\| 4\.0e-1 +\| FAIL +\|/);
  assert.match(r.out, /1\/2 ops passed/);
  assert.match(r.out, /\nconv2d: failed after 3 case\(s\); reproduce with --seed 1 --op conv2d$/);
});

Deno.test("deno task gradcheck's command runs with no permissions (exit codes 0 and 2)", async () => {
  const script = new URL("../../src/cli/gradcheck.ts", import.meta.url).pathname;
  const exec = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", script, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const good = await exec(["--op", "tanh", "--cases", "5"]);
  const out = new TextDecoder().decode(good.stdout);
  assert.equal(good.code, 0, new TextDecoder().decode(good.stderr));
  assert.match(out, /\| tanh +\| +5 \|.*\| pass +\|/);
  const bad = await exec(["--cases", "many"]);
  assert.equal(bad.code, 2);
  assert.match(new TextDecoder().decode(bad.stderr), /--cases must be an integer >= 1, got "many"/);
  const tasks = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assert.equal(tasks.tasks.gradcheck, "deno run --no-prompt src/cli/gradcheck.ts");
});
