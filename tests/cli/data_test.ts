import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { dataMain } from "../../src/cli/data.ts";
import { joinPath, MNIST_FILES } from "../../src/lenet/mnist_files.ts";
import { MNIST_DIR, startMirror } from "../lenet/mirror_server.ts";

/** Runs the command in-process, capturing stdout and stderr. */
async function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [], err: string[] = [];
  const dec = new TextDecoder();
  const sink = (into: string[]) => ({
    writeSync(b: Uint8Array) {
      into.push(dec.decode(b));
      return b.length;
    },
  });
  const code = await dataMain(args, {
    stdout: sink(out),
    stderr: sink(err),
    env: (name) => env[name],
    live: false,
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

Deno.test("data cli: --help prints usage and exits 0", async () => {
  const r = await run(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: deno task data \[--data DIR\] \[--offline\]/);
  assert.match(r.stdout, /MNIST_MIRROR/);
  assert.equal(r.stderr, "");
  assert.equal((await run(["-h"])).code, 0);
});

Deno.test("data cli: usage errors exit 2 with one clear line and a pointer to --help", async () => {
  for (
    const [args, msg] of [
      [["--bogus"], "Unknown option '--bogus'"],
      [["positional"], "Unexpected argument 'positional'"],
      [["--data"], "Option '--data <value>' argument missing"],
      [["--data", " "], "--data needs a directory"],
      [["--offline=yes"], "--offline"],
    ] as const
  ) {
    const r = await run([...args]);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.ok(r.stderr.startsWith("deno task data: "), r.stderr);
    assert.ok(r.stderr.includes(msg), r.stderr);
    assert.ok(r.stderr.endsWith("Run `deno task data --help` for usage.\n"));
    assert.equal(r.stdout, "");
  }
  const bad = await run([], { MNIST_MIRROR: "nonsense" });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /MNIST_MIRROR: "nonsense" is not an http\(s\) URL/);
});

Deno.test("data cli: --offline verifies present files (exit 0) and reports missing ones (exit 1)", async () => {
  const good = await run(["--offline", "--data", MNIST_DIR]);
  assert.equal(good.code, 0, good.stderr);
  for (const s of MNIST_FILES) {
    assert.ok(good.stdout.includes(`verified  ${joinPath(MNIST_DIR, s.name)}.gz\n`), s.name);
  }
  assert.match(good.stdout, /All 4 MNIST files are present and verified/);
  const dir = await Deno.makeTempDir();
  try {
    const r = await run(["--offline"], { MNIST_DIR: dir });
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`MNIST directory: ${dir} \\(\\$MNIST_DIR\\), offline`));
    assert.ok(r.stderr.startsWith("error: MNIST is not complete in"));
    assert.ok(r.stderr.includes("t10k-labels-idx1-ubyte.gz"));
    assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data cli: downloads from $MNIST_MIRROR, falling over to the next mirror", async () => {
  const m = startMirror();
  const dir = await Deno.makeTempDir();
  try {
    const r = await run(["--data", dir], {
      MNIST_MIRROR: `${m.mirror("missing")},${m.mirror("good")}`,
    });
    assert.equal(r.code, 0, r.stderr);
    for (const s of MNIST_FILES) {
      assert.ok(r.stdout.includes(`${s.name}.gz: HTTP 404 Not Found`), s.name);
      assert.match(
        r.stdout,
        new RegExp(`${s.name}\\.gz from 127\\.0\\.0\\.1:\\d+  100%  .* verified -> `),
      );
      assert.equal((await Deno.stat(`${dir}/${s.name}.gz`)).isFile, true);
    }
    assert.equal(m.requests.length, 8);
  } finally {
    await m.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data cli: the real entry point exits 2 on a usage error and 1 on a failure, no stack trace", async () => {
  const script = fileURLToPath(new URL("../../src/cli/data.ts", import.meta.url));
  const dir = await Deno.makeTempDir();
  try {
    const exec = async (...args: string[]) => {
      const o = await new Deno.Command(Deno.execPath(), {
        args: ["run", `--allow-read=${dir}`, `--allow-write=${dir}`, script, ...args],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      return { code: o.code, stderr: new TextDecoder().decode(o.stderr) };
    };
    const usage = await exec("--nope");
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^deno task data: Unknown option '--nope'/);
    const fail = await exec("--offline", "--data", dir);
    assert.equal(fail.code, 1);
    assert.match(fail.stderr, /^error: MNIST is not complete in /);
    // Outside the granted directory: a permission error that says which flag to add.
    const denied = await exec("--offline", "--data", MNIST_DIR);
    assert.equal(denied.code, 1);
    const shared = MNIST_DIR.replace(/\/+$/, "");
    assert.ok(denied.stderr.includes("cannot read: permission denied"), denied.stderr);
    assert.ok(denied.stderr.includes(`--allow-read=${shared} ...`), denied.stderr);
    for (const r of [usage, fail, denied]) assert.ok(!/\n\s+at /.test(r.stderr), r.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data cli: Ctrl-C (SIGINT) mid-download exits 130 and leaves no file behind", async () => {
  const script = fileURLToPath(new URL("../../src/cli/data.ts", import.meta.url));
  const m = startMirror();
  const dir = await Deno.makeTempDir();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        "--allow-net=127.0.0.1",
        "--allow-env",
        script,
        "--data",
        dir,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", MNIST_MIRROR: m.mirror("stall") },
    }).spawn();
    // Wait (bounded) until the temporary file exists: the transfer is under way.
    const deadline = Date.now() + 10_000;
    let partial = false;
    while (!partial && Date.now() < deadline) {
      for await (const e of Deno.readDir(dir)) partial ||= e.name.includes(".partial-");
      if (!partial) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(partial, "the download never started");
    child.kill("SIGINT");
    const o = await child.output();
    const stderr = new TextDecoder().decode(o.stderr);
    assert.equal(o.code, 130, stderr);
    assert.match(
      stderr,
      /^Interrupted: download of train-images-idx3-ubyte\.gz cancelled; nothing was kept/,
    );
    const left: string[] = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assert.deepEqual(left, []);
  } finally {
    await m.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data cli: a disk-side failure stops at once instead of trying every mirror", async () => {
  const script = fileURLToPath(new URL("../../src/cli/data.ts", import.meta.url));
  const m = startMirror();
  const dir = await Deno.makeTempDir();
  try {
    // Readable but not writable for the child: creating the temporary file is refused.
    const o = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-read=${dir}`,
        "--allow-net=127.0.0.1",
        "--allow-env",
        script,
        "--data",
        dir,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", MNIST_MIRROR: `${m.mirror("good")},${m.mirror("good")}` },
    }).output();
    const stderr = new TextDecoder().decode(o.stderr);
    assert.equal(o.code, 1, stderr);
    assert.match(
      stderr,
      /^error: .*train-images-idx3-ubyte\.gz\.partial-[0-9a-f]{12}: cannot create: permission denied/,
    );
    assert.ok(stderr.includes(`--allow-write=${dir} ...`), stderr);
    assert.equal(m.requests.length, 1); // not retried on the second mirror
  } finally {
    await m.close();
    await Deno.remove(dir, { recursive: true });
  }
});
