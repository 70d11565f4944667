import assert from "node:assert/strict";
import {
  type Asset,
  contentType,
  safeSegments,
  staticHandler,
} from "../../../src/cli/serve/static.ts";
import { rawRequest } from "./http_raw.ts";

const SECRET = "TOP-SECRET-outside-the-served-folder";

/** A served folder beside a secret, with symlinks in and out; a server on 127.0.0.1:0. */
async function withServer(f: (port: number, root: string) => Promise<void>): Promise<void> {
  const tmp = await Deno.makeTempDir();
  const web = `${tmp}/web`;
  await Deno.mkdir(`${tmp}/outside`);
  await Deno.writeTextFile(`${tmp}/outside/secret.txt`, SECRET);
  await Deno.mkdir(`${web}/sub`, { recursive: true });
  await Deno.writeTextFile(`${web}/index.html`, "<!doctype html><p>home</p>");
  await Deno.writeTextFile(`${web}/app.js`, "export const x = 1;");
  await Deno.writeTextFile(`${web}/style.css`, "p{}");
  await Deno.writeFile(`${web}/img.png`, new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
  await Deno.writeFile(`${web}/data.bin`, new Uint8Array([1, 2, 3]));
  await Deno.writeTextFile(`${web}/sub/inner.txt`, "inner");
  await Deno.writeTextFile(`${web}/.hidden`, SECRET);
  await Deno.symlink(`${tmp}/outside/secret.txt`, `${web}/link-out.txt`);
  await Deno.symlink(`${tmp}/outside`, `${web}/linkdir`);
  await Deno.symlink(`${web}/index.html`, `${web}/link-in.html`);
  const handler = await staticHandler({
    root: web,
    maxBodyBytes: 1024,
    routes: new Map<string, () => Asset | null>([
      ["/virtual.js", () => ({ body: new TextEncoder().encode("v()"), type: "text/javascript" })],
      [
        "/nothing",
        () => ({ body: new Uint8Array(0), type: "application/octet-stream", status: 204 }),
      ],
      ["/gone", () => null],
    ]),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  try {
    await f(server.addr.port, web);
  } finally {
    await server.shutdown();
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("static: traversal attempts never leave the folder (raw request targets)", async () => {
  await withServer(async (port) => {
    const attempts = [
      "/../outside/secret.txt",
      "/../../../../etc/passwd",
      "/%2e%2e/outside/secret.txt",
      "/%2E%2E/outside/secret.txt",
      "/..%2foutside%2fsecret.txt",
      "/%2e%2e%2foutside%2fsecret.txt",
      "/sub/..%2f..%2foutside/secret.txt",
      "/..\\outside\\secret.txt",
      "/%5c..%5coutside%5csecret.txt",
      "/sub%5c..%5c..%5coutside%5csecret.txt",
      "//etc/passwd",
      "/etc/passwd",
      "/%2fetc%2fpasswd",
      "/C:%5cWindows%5cwin.ini",
      "/link-out.txt",
      "/linkdir/secret.txt",
      "/.hidden",
      "/%2ehidden",
      "/index.html%00.png",
      "http://127.0.0.1/../outside/secret.txt",
    ];
    for (const target of attempts) {
      const r = await rawRequest(port, `GET ${target} HTTP/1.1`);
      assert.ok(r.status === 404 || r.status === 400, `${target}: status ${r.status}`);
      assert.ok(!r.raw.includes(SECRET), `${target} leaked the secret`);
      assert.ok(!r.raw.includes("root:"), `${target} leaked /etc/passwd`);
    }
    assert.equal((await rawRequest(port, "GET /%ZZ HTTP/1.1")).status, 400);
    // Inside the folder, symlinks and nested files are fine.
    const inner = await rawRequest(port, "GET /sub/inner.txt HTTP/1.1");
    assert.equal(inner.status, 200);
    assert.equal(inner.body, "inner");
    const linkIn = await rawRequest(port, "GET /link-in.html HTTP/1.1");
    assert.equal(linkIn.status, 200);
    assert.match(linkIn.body, /home/);
  });
});

Deno.test("static: / is index.html, folders are 404 (no listing), unknown paths 404", async () => {
  await withServer(async (port) => {
    const home = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /home/);
    for (const p of ["/sub", "/sub/", "/nope.html", "/api/predict", "/index.html/"]) {
      const r = await fetch(`http://127.0.0.1:${port}${p}`);
      assert.equal(r.status, 404, p);
      assert.equal(await r.text(), "not found\n");
    }
  });
});

Deno.test("static: content types, security headers, HEAD without a body", async () => {
  await withServer(async (port) => {
    const types: [string, string][] = [
      ["/index.html", "text/html; charset=utf-8"],
      ["/app.js", "text/javascript; charset=utf-8"],
      ["/style.css", "text/css; charset=utf-8"],
      ["/img.png", "image/png"],
      ["/data.bin", "application/octet-stream"],
      ["/sub/inner.txt", "text/plain; charset=utf-8"],
      ["/virtual.js", "text/javascript"],
    ];
    for (const [p, t] of types) {
      const r = await fetch(`http://127.0.0.1:${port}${p}`);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get("content-type"), t, p);
      assert.equal(r.headers.get("x-content-type-options"), "nosniff");
      const csp = r.headers.get("content-security-policy") ?? "";
      assert.match(csp, /default-src 'self'/);
      // WebAssembly may compile (the wasm kernels), but no eval and no inline script.
      assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
      assert.doesNotMatch(csp, /'unsafe-eval'|'unsafe-inline'/);
      await r.body?.cancel();
    }
    const head = await rawRequest(port, "HEAD /app.js HTTP/1.1");
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], "19");
    assert.equal(head.body, "");
    const v = await fetch(`http://127.0.0.1:${port}/virtual.js`);
    assert.equal(await v.text(), "v()");
    const none = await fetch(`http://127.0.0.1:${port}/nothing`);
    assert.equal(none.status, 204);
    assert.equal(await none.text(), "");
    const gone = await fetch(`http://127.0.0.1:${port}/gone`);
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
  });
});

Deno.test("static: only GET and HEAD (405 with Allow), bodies bounded (413)", async () => {
  await withServer(async (port) => {
    for (const m of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const r = await fetch(`http://127.0.0.1:${port}/index.html`, {
        method: m,
        body: m === "OPTIONS" ? undefined : "x",
      });
      assert.equal(r.status, 405, m);
      assert.equal(r.headers.get("allow"), "GET, HEAD");
      await r.body?.cancel();
    }
    // Declared too large: refused before reading.
    const big = await rawRequest(port, "POST /index.html HTTP/1.1\r\nContent-Length: 10000000");
    assert.equal(big.status, 413);
    const bigGet = await rawRequest(
      port,
      "GET /index.html HTTP/1.1\r\nContent-Length: 2048",
      "x".repeat(2048),
    );
    assert.equal(bigGet.status, 413);
    // Streamed (chunked, no length) past the limit: cut off at the limit.
    const chunk = "x".repeat(600);
    const chunked = `258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`; // 2 x 0x258 = 1200 bytes
    const streamed = await rawRequest(
      port,
      "POST /index.html HTTP/1.1\r\nTransfer-Encoding: chunked",
      chunked,
    );
    assert.equal(streamed.status, 413);
    const streamedGet = await rawRequest(
      port,
      "GET /index.html HTTP/1.1\r\nTransfer-Encoding: chunked",
      chunked,
    );
    assert.equal(streamedGet.status, 413);
    // A small body on a GET is read and ignored.
    const small = await rawRequest(port, "GET /index.html HTTP/1.1\r\nContent-Length: 5", "hello");
    assert.equal(small.status, 200);
    assert.match(small.body, /home/);
  });
});

Deno.test("safeSegments: decoding once, rejecting what could escape", () => {
  assert.deepEqual(safeSegments("/"), ["index.html"]);
  assert.deepEqual(safeSegments("/a/b%20c.txt"), ["a", "b c.txt"]);
  assert.equal(safeSegments("/%2e%2e/x"), 404);
  assert.equal(safeSegments("/a%2fb"), 404);
  assert.equal(safeSegments("/a%5cb"), 404);
  assert.equal(safeSegments("/a//b"), 404);
  assert.equal(safeSegments("/a/"), 404);
  assert.equal(safeSegments("/c:"), 404);
  assert.equal(safeSegments("/%00"), 404);
  // Decoded once: "%252e" names a file literally called "%2e", which cannot climb.
  assert.deepEqual(safeSegments("/%252e%252e"), ["%2e%2e"]);
  assert.equal(safeSegments("/%E0%A4%A"), 400);
  assert.equal(safeSegments("relative"), 404);
});

Deno.test("contentType by extension, case-insensitive", () => {
  assert.equal(contentType("a/B.HTML"), "text/html; charset=utf-8");
  assert.equal(contentType("x.safetensors"), "application/octet-stream");
  assert.equal(contentType("noext"), "application/octet-stream");
});
