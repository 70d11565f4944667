import assert from "node:assert/strict";
import { either as E } from "npm:fp-ts@2.16.11";
import { QUICK_TRAIN_FILES } from "../../src/cli/demo/quick_train.ts";
import { mnistDir } from "./mnist_fixture.ts";
import {
  isLoopback,
  parseServeFlags,
  serveMain,
  startDemoServer,
  WEB_ROOT,
} from "../../src/cli/serve.ts";

function capture() {
  const out: string[] = [], err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

Deno.test("serve flags: defaults 127.0.0.1:8000, validation with clear messages", () => {
  assert.deepEqual(
    parseServeFlags([]),
    E.right({ port: 8000, host: "127.0.0.1", checkpoint: null, data: null }),
  );
  assert.deepEqual(
    parseServeFlags([
      ...["--port", "0", "--host", "::1", "--checkpoint", "m.safetensors", "--data", "mn"],
    ]),
    E.right({ port: 0, host: "::1", checkpoint: "m.safetensors", data: "mn" }),
  );
  const bad: [string[], RegExp][] = [
    [["--port", "65536"], /--port "65536" is invalid: need an integer from 0 to 65535/],
    [["--port", "80a"], /--port "80a" is invalid: need an integer/],
    [["--port=-1"], /--port "-1" is invalid: need an integer/],
    [["--host", ""], /--host must be an address/],
    [["--host", "a b"], /--host must be an address/],
    [["--checkpoint", ""], /--checkpoint needs a path, e.g. --checkpoint runs\/demo/],
    [["--data", ""], /--data needs a path/],
    [["--verbose"], /Unknown option '--verbose'/],
    [["now"], /Unexpected argument 'now'/],
  ];
  for (const [args, msg] of bad) {
    const r = parseServeFlags(args);
    assert.ok(E.isLeft(r), args.join(" "));
    assert.match(r.left, msg);
  }
  assert.deepEqual(parseServeFlags(["-h"]), E.left("help"));
});

Deno.test("serveMain: exit 2 on bad flags, 1 on an unreadable checkpoint (before bundling)", async () => {
  const c = capture();
  assert.equal(await serveMain(["--port", "x"], c.io), 2);
  assert.match(
    c.err[0],
    /^serve: --port "x" is invalid: need an integer[^]*Usage: deno task serve/,
  );
  const c2 = capture();
  assert.equal(await serveMain(["--checkpoint", "/nonexistent/model.safetensors"], c2.io), 1);
  assert.equal(
    c2.err[0],
    "serve: cannot read checkpoint /nonexistent/model.safetensors: not found",
  );
  const c3 = capture();
  assert.equal(await serveMain(["--checkpoint", WEB_ROOT], c3.io), 1);
  assert.match(c3.err[0], /cannot read checkpoint .*: not a file/);
  const h = capture();
  assert.equal(await serveMain(["--help"], h.io), 0);
  assert.match(h.out[0], /--checkpoint F/);
});

Deno.test("isLoopback", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) {
    assert.ok(isLoopback(h), h);
  }
  for (const h of ["0.0.0.0", "192.168.1.2", "::", "example.com"]) assert.ok(!isLoopback(h), h);
});

Deno.test("the demo server binds 127.0.0.1 by default and serves page, script, checkpoint", async () => {
  const server = await startDemoServer({ script: "console.log('demo')", checkpoint: null });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<canvas id="pad" width="280" height="280"/);
    assert.match(html, /<script type="module" src="demo.js"><\/script>/);
    const js = await fetch(`${server.url}demo.js`);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(await js.text(), "console.log('demo')");
    const css = await fetch(`${server.url}demo.css`);
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    await css.body?.cancel();
    const none = await fetch(`${server.url}checkpoint`);
    assert.equal(none.status, 204, "no checkpoint: 204, which the page reads as 'no model'");
    await none.body?.cancel();
    const api = await fetch(`${server.url}api/predict`, { method: "POST", body: "{}" });
    assert.equal(api.status, 405);
    await api.body?.cancel();
    const api2 = await fetch(`${server.url}api/predict`);
    assert.equal(api2.status, 404);
    await api2.body?.cancel();
  } finally {
    await server.shutdown();
  }
  const bytes = new Uint8Array([1, 2, 3, 4, 5]);
  const withCkpt = await startDemoServer({ script: "", checkpoint: bytes, maxBodyBytes: 10 });
  try {
    const r = await fetch(`${withCkpt.url}checkpoint`);
    assert.equal(r.status, 200);
    assert.deepEqual(new Uint8Array(await r.arrayBuffer()), bytes);
    const big = await fetch(withCkpt.url, { method: "POST", body: "x".repeat(11) });
    assert.equal(big.status, 413);
    await big.body?.cancel();
  } finally {
    await withCkpt.shutdown();
  }
});

Deno.test("the listener of a default demo server is 127.0.0.1, not a wildcard address", async () => {
  const server = await startDemoServer({ script: "", checkpoint: null });
  try {
    assert.equal(server.hostname, "127.0.0.1");
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    conn.close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("the demo server offers the two MNIST training files of its data folder for the page's quick training, nothing else", async () => {
  const dir = mnistDir();
  const server = await startDemoServer({ script: "", checkpoint: null, mnistDir: dir });
  const plain = await Deno.makeTempDir();
  const other = await startDemoServer({ script: "", checkpoint: null, mnistDir: plain });
  const none = await startDemoServer({ script: "", checkpoint: null });
  try {
    for (const name of QUICK_TRAIN_FILES) {
      const r = await fetch(`${server.url}mnist/${name}`);
      assert.equal(r.status, 200, name);
      assert.equal(r.headers.get("content-type"), "application/gzip");
      assert.deepEqual(
        new Uint8Array(await r.arrayBuffer()),
        await Deno.readFile(`${dir}/${name}.gz`),
      );
      const missing = await fetch(`${none.url}mnist/${name}`);
      assert.equal(missing.status, 404, "no data folder: 404");
      await missing.body?.cancel();
    }
    // an uncompressed file is served as it is
    await Deno.writeFile(
      `${plain}/train-labels-idx1-ubyte`,
      new Uint8Array([0, 0, 8, 1, 0, 0, 0, 0]),
    );
    const raw = await fetch(`${other.url}mnist/train-labels-idx1-ubyte`);
    assert.equal(raw.headers.get("content-type"), "application/octet-stream");
    assert.deepEqual([...new Uint8Array(await raw.arrayBuffer())], [0, 0, 8, 1, 0, 0, 0, 0]);
    const absent = await fetch(`${other.url}mnist/train-images-idx3-ubyte`);
    assert.equal(absent.status, 404);
    await absent.body?.cancel();
    for (
      const p of [
        "mnist/t10k-images-idx3-ubyte",
        "mnist/train-images-idx3-ubyte.gz",
        "mnist/",
        "mnist/%2e%2e/deno.json",
        "SHA256SUMS",
      ]
    ) {
      const r = await fetch(`${server.url}${p}`);
      assert.equal(r.status, 404, p);
      await r.body?.cancel();
    }
  } finally {
    await server.shutdown();
    await other.shutdown();
    await none.shutdown();
    await Deno.remove(plain, { recursive: true });
  }
});
