import assert from "node:assert/strict";
import { either as E } from "npm:fp-ts@2.16.11";
import type { DataError } from "../../src/lenet/data_error.ts";
import { type DownloadEvent, downloadMnistFile, ensureMnist } from "../../src/lenet/download.ts";
import { readIdxBytes } from "../../src/lenet/idx_file.ts";
import {
  MNIST_FILES,
  type MnistFileName,
  parseMirrors,
  sha256Hex,
} from "../../src/lenet/mnist_files.ts";
import { MNIST_DIR, startMirror } from "./mirror_server.ts";

const spec = (name: MnistFileName) => MNIST_FILES.find((s) => s.name === name)!;
const LABELS = spec("t10k-labels-idx1-ubyte");

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

function left<T>(r: E.Either<DataError, T>): DataError {
  assert.ok(E.isLeft(r), `expected an error, got ${JSON.stringify(r)}`);
  return r.left;
}

/** Runs `fn` with a fresh server and temp dir; both are always cleaned up. */
async function withMirror(
  fn: (m: ReturnType<typeof startMirror>, dir: string) => Promise<void>,
): Promise<void> {
  const m = startMirror();
  const dir = await Deno.makeTempDir({ prefix: "mnist-dl-" });
  try {
    await fn(m, dir);
  } finally {
    await m.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("download: all four files from a good mirror, verified, under their final names", async () => {
  await withMirror(async (m, dir) => {
    const events: DownloadEvent["type"][] = [];
    const r = await ensureMnist({
      dir: `${dir}/sub/mnist`, // created on demand
      mirrors: [m.mirror("good")],
      onEvent: (e) => events.push(e.type),
    })();
    assert.ok(E.isRight(r), E.isLeft(r) ? r.left.message : "");
    assert.deepEqual(
      await listDir(`${dir}/sub/mnist`),
      MNIST_FILES.map((s) => `${s.name}.gz`).sort(),
    );
    for (const s of MNIST_FILES) {
      assert.equal(r.right[s.name], `${dir}/sub/mnist/${s.name}.gz`);
      const bytes = await readIdxBytes(r.right[s.name])();
      assert.ok(E.isRight(bytes));
      assert.equal(await sha256Hex(bytes.right), s.sha256);
    }
    assert.equal(events.filter((t) => t === "done").length, 4);
    assert.ok(events.includes("progress"));
    assert.equal(m.requests.length, 4);
    // A second run finds (and verifies) everything without a single request.
    const again = await ensureMnist({
      dir: `${dir}/sub/mnist`,
      mirrors: [m.mirror("good")],
      verify: true,
    })();
    assert.ok(E.isRight(again));
    assert.equal(m.requests.length, 4);
  });
});

Deno.test("download: wrong contents in a valid gzip -> checksum error, nothing under the final name", async () => {
  await withMirror(async (m, dir) => {
    const err = left(await downloadMnistFile(LABELS, { dir, mirrors: [m.mirror("corrupt")] })());
    assert.equal(err.kind, "download-failed");
    assert.ok(err.kind === "download-failed");
    assert.equal(err.attempts.length, 1);
    const a = err.attempts[0];
    assert.equal(a.kind, "checksum");
    assert.ok(a.message.includes(LABELS.sha256), a.message); // expected
    assert.match(a.message, /got [0-9a-f]{64}/); // got
    assert.deepEqual(await listDir(dir), []); // no final file, no temporary file
  });
});

Deno.test("download: a corrupt gzip (flipped byte) fails over to the next mirror", async () => {
  await withMirror(async (m, dir) => {
    const failed: DataError[] = [];
    const r = await downloadMnistFile(LABELS, {
      dir,
      mirrors: [m.mirror("flip"), m.mirror("good")],
      onEvent: (e) => e.type === "failed" && failed.push(e.error),
    })();
    assert.ok(E.isRight(r));
    assert.deepEqual(failed.map((e) => e.kind), ["corrupt-gzip"]);
    assert.deepEqual(await listDir(dir), [`${LABELS.name}.gz`]);
  });
});

Deno.test("download: a connection dropped mid-transfer fails over to the next mirror", async () => {
  await withMirror(async (m, dir) => {
    const failed: DataError[] = [];
    const r = await downloadMnistFile(LABELS, {
      dir,
      mirrors: [m.mirror("drop"), m.mirror("good")],
      onEvent: (e) => e.type === "failed" && failed.push(e.error),
    })();
    assert.ok(E.isRight(r), E.isLeft(r) ? r.left.message : "");
    assert.equal(failed.length, 1);
    assert.equal(failed[0].kind, "network");
    assert.match(
      failed[0].message,
      /drop\/t10k-labels-idx1-ubyte\.gz: connection dropped after 1,514 of 4,542 bytes/,
    );
    assert.deepEqual(m.requests, [
      "/drop/t10k-labels-idx1-ubyte.gz",
      "/good/t10k-labels-idx1-ubyte.gz",
    ]);
    assert.deepEqual(await listDir(dir), [`${LABELS.name}.gz`]);
  });
});

Deno.test("download: HTTP 404 fails over to the next mirror", async () => {
  await withMirror(async (m, dir) => {
    const failed: DataError[] = [];
    const r = await downloadMnistFile(LABELS, {
      dir,
      mirrors: [m.mirror("missing"), m.mirror("good")],
      onEvent: (e) => e.type === "failed" && failed.push(e.error),
    })();
    assert.ok(E.isRight(r));
    assert.deepEqual(failed.map((e) => [e.kind, e.message]), [[
      "http",
      `${m.mirror("missing")}t10k-labels-idx1-ubyte.gz: HTTP 404 Not Found`,
    ]]);
  });
});

Deno.test("download: a stalled transfer times out and fails over", async () => {
  await withMirror(async (m, dir) => {
    const failed: DataError[] = [];
    const r = await downloadMnistFile(LABELS, {
      dir,
      mirrors: [m.mirror("stall"), m.mirror("good")],
      stallTimeoutMs: 200,
      onEvent: (e) => e.type === "failed" && failed.push(e.error),
    })();
    assert.ok(E.isRight(r));
    assert.deepEqual(failed.map((e) => e.kind), ["timeout"]);
    assert.match(failed[0].message, /stalled after 100 of 4,542 bytes/);
    assert.deepEqual(await listDir(dir), [`${LABELS.name}.gz`]);
  });
});

Deno.test("download: a re-compressed mirror verifies (decompressed SHA-256, not .gz bytes)", async () => {
  await withMirror(async (m, dir) => {
    const r = await downloadMnistFile(LABELS, { dir, mirrors: [m.mirror("recompressed")] })();
    assert.ok(E.isRight(r));
    const got = await Deno.readFile(r.right);
    const published = await Deno.readFile(`${MNIST_DIR}/${LABELS.name}.gz`);
    assert.notDeepEqual(got, published); // different .gz bytes...
    const bytes = await readIdxBytes(r.right)();
    assert.ok(E.isRight(bytes));
    assert.equal(await sha256Hex(bytes.right), LABELS.sha256); // ...same contents
  });
});

Deno.test("download: contents delivered decompressed are kept without the .gz suffix", async () => {
  await withMirror(async (m, dir) => {
    const r = await downloadMnistFile(LABELS, { dir, mirrors: [m.mirror("raw")] })();
    assert.ok(E.isRight(r));
    assert.equal(r.right, `${dir}/${LABELS.name}`);
    assert.equal((await Deno.stat(r.right)).size, LABELS.bytes);
  });
});

Deno.test("download: all mirrors failing -> one message naming every attempt and what to put where", async () => {
  await withMirror(async (m, dir) => {
    const err = left(
      await ensureMnist({ dir, mirrors: [m.mirror("missing"), m.mirror("drop")] })(),
    );
    assert.equal(err.kind, "download-failed");
    assert.ok(err.kind === "download-failed");
    assert.equal(err.attempts.length, 8); // 4 files x 2 mirrors
    assert.deepEqual(err.missing, MNIST_FILES.map((s) => `${s.name}.gz`));
    assert.ok(err.message.startsWith(`Could not download MNIST into ${dir}: every mirror failed.`));
    assert.ok(
      err.message.includes(`Put these files (as .gz, or decompressed without .gz) into ${dir}/:`),
    );
    for (const s of MNIST_FILES) {
      assert.ok(err.message.includes(`${s.name}.gz`), s.name);
      assert.ok(err.message.includes(s.sha256), s.name);
      assert.ok(err.message.includes(`${m.mirror("missing")}${s.name}.gz: HTTP 404`), s.name);
    }
    assert.match(err.message, /MNIST_MIRROR/);
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test("download: cancelling mid-transfer returns `aborted` and leaves no file", async () => {
  await withMirror(async (m, dir) => {
    const ctl = new AbortController();
    const r = await downloadMnistFile(LABELS, {
      dir,
      mirrors: [m.mirror("stall"), m.mirror("good")],
      signal: ctl.signal,
      onEvent: (e) => e.type === "progress" && ctl.abort(),
    })();
    assert.equal(left(r).kind, "aborted");
    assert.deepEqual(m.requests, ["/stall/t10k-labels-idx1-ubyte.gz"]); // no further mirror
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test("download: a present file that fails verification is replaced by a verified copy", async () => {
  await withMirror(async (m, dir) => {
    for (const s of MNIST_FILES) {
      if (s.name !== LABELS.name) {
        await Deno.symlink(`${MNIST_DIR}/${s.name}.gz`, `${dir}/${s.name}.gz`);
      }
    }
    const bad = new Uint8Array(LABELS.bytes); // right size, wrong contents, raw form
    await Deno.writeFile(`${dir}/${LABELS.name}`, bad);
    const failed: DataError[] = [];
    const r = await ensureMnist({
      dir,
      verify: true,
      mirrors: [m.mirror("good")],
      onEvent: (e) => e.type === "failed" && failed.push(e.error),
    })();
    assert.ok(E.isRight(r), E.isLeft(r) ? r.left.message : "");
    assert.deepEqual(failed.map((e) => e.kind), ["checksum"]);
    assert.equal(r.right[LABELS.name], `${dir}/${LABELS.name}.gz`);
    assert.ok(!(await listDir(dir)).includes(LABELS.name)); // the bad raw copy is gone
    assert.deepEqual(m.requests, ["/good/t10k-labels-idx1-ubyte.gz"]);
  });
});

Deno.test("download: offline never touches the network and says which files to put where", async () => {
  await withMirror(async (m, dir) => {
    const err = left(await ensureMnist({ dir, offline: true, mirrors: [m.mirror("good")] })());
    assert.equal(err.kind, "offline");
    assert.match(err.message, /--offline forbids downloading/);
    assert.ok(err.message.includes("train-images-idx3-ubyte.gz"));
    assert.equal(m.requests.length, 0);
    // A damaged file offline is reported as such, not silently replaced.
    await Deno.writeFile(`${dir}/${LABELS.name}.gz`, new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
    const v = left(await ensureMnist({ dir, offline: true, verify: true })());
    assert.equal(v.kind, "corrupt-gzip");
  });
});

Deno.test("download: temporary files left by a killed process are cleaned up, fresh ones kept", async () => {
  await withMirror(async (m, dir) => {
    const stale = `${dir}/${LABELS.name}.gz.partial-0123456789ab`;
    const fresh = `${dir}/${LABELS.name}.gz.partial-ba9876543210`;
    await Deno.writeFile(stale, new Uint8Array(10));
    await Deno.writeFile(fresh, new Uint8Array(10));
    const hourAgo = new Date(Date.now() - 3600_000);
    await Deno.utime(stale, hourAgo, hourAgo);
    const err = left(await ensureMnist({ dir, mirrors: [m.mirror("missing")] })());
    assert.equal(err.kind, "download-failed");
    assert.deepEqual(await listDir(dir), [`${LABELS.name}.gz.partial-ba9876543210`]);
  });
});

Deno.test("parseMirrors: comma-separated http(s) base URLs, trailing slash added", () => {
  const r = parseMirrors(" https://a.example/mnist ,http://b.example/x/,, ");
  assert.ok(E.isRight(r));
  assert.deepEqual(r.right, ["https://a.example/mnist/", "http://b.example/x/"]);
  const bad = parseMirrors("https://ok.example/, ftp://nope.example/");
  assert.ok(E.isLeft(bad));
  assert.equal(bad.left.kind, "invalid-option");
  assert.match(bad.left.message, /MNIST_MIRROR: "ftp:\/\/nope.example\/" is not an http\(s\) URL/);
  const empty = parseMirrors(" , ");
  assert.ok(E.isLeft(empty));
  assert.match(empty.left.message, /holds no URL/);
});
