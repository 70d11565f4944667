import assert from "node:assert/strict";
import { trainMain } from "../../src/cli/train.ts";
import { finish, MNIST, ROOT, runMain } from "./helpers.ts";

/** `deno task train` as a process, reading MNIST, the run folder and (if `src`) the sources. */
function spawnTrain(out: string, src: boolean, args: string[]) {
  const read = [MNIST, out, ...(src ? [`${ROOT}src`] : [])].join(",");
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--allow-read=${read}`,
      `--allow-write=${out}`,
      "--allow-env",
      `${ROOT}src/cli/train.ts`,
      ...args,
      "--out",
      out,
    ],
    env: { CI: "true", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

const SMALL = ["--limit", "128", "--test-limit", "20", "--epochs", "1", "--batch-size", "32"];

Deno.test("train cli: --workers 2 trains with read access to src/ (as deno task train grants), names the missing access otherwise", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = ["--data", MNIST, "--offline", ...SMALL, "--workers", "2"];
    const ok = await finish(spawnTrain(`${dir}/a`, true, data));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /2 gradient shards on 2 threads/);
    assert.match(ok.stdout, /Done: 1 epoch in /);
    const denied = await finish(spawnTrain(`${dir}/b`, false, data));
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /needs read access to the Worker's source files .*--allow-read=/);
    // the train task grants it
    const task = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks.train as string;
    assert.match(task, /--allow-read=[^ ]*\bsrc\b/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train cli: --workers and --shards are checked: counts, and no more workers than shards", async () => {
  const cases: [string[], RegExp][] = [
    [["--workers", "0"], /^deno task train: --workers "0" is invalid/],
    [["--shards", "0"], /^deno task train: --shards "0" is invalid/],
    [
      ["--workers", "3", "--shards", "2"],
      /^deno task train: --workers 3 needs at least as many shards; the run has 2/,
    ],
    [
      ["--workers", "3"],
      /--workers 3 needs at least as many shards; the run has 2: pass --shards 3/,
    ],
  ];
  for (const [args, msg] of cases) {
    const r = await runMain(trainMain, args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr.split("\n")[0], msg);
  }
});
