/**
 * Proves the library imports by URL with no install step and no import map: the repository is
 * served over HTTP on 127.0.0.1 (as text/plain, like raw file hosts), and a script in a temp
 * folder with no deno.json imports mod.ts from that URL and computes a conv2d.
 */

import assert from "node:assert/strict";
import { join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = normalize(fileURLToPath(new URL("../", import.meta.url)));
const MAX_REQUESTS = 500;
const TIME_LIMIT_MS = 120_000;

/** Serves files under `root` read-only; stops itself after MAX_REQUESTS or TIME_LIMIT_MS. */
function serveRepo(): {
  origin: string;
  served: string[];
  close: () => Promise<void>;
} {
  // A fresh path prefix per run makes every module URL new, so Deno's module cache can never
  // answer for the server (a port reused from an earlier run would otherwise hit the cache).
  const prefix = `/run-${crypto.randomUUID()}/`;
  const stop = new AbortController();
  const served: string[] = [];
  let requests = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: stop.signal, onListen: () => {} },
    async (req) => {
      if (++requests > MAX_REQUESTS) {
        stop.abort();
        return new Response("request limit reached", { status: 429 });
      }
      const pathname = new URL(req.url).pathname;
      if (!pathname.startsWith(prefix)) return new Response("not found", { status: 404 });
      const rel = decodeURIComponent(pathname.slice(prefix.length));
      const path = normalize(join(root, rel));
      if (req.method !== "GET" || rel.split("/").includes("..") || !path.startsWith(root)) {
        return new Response("forbidden", { status: 403 });
      }
      try {
        const body = await Deno.readFile(path);
        served.push(rel);
        return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const timer = setTimeout(() => stop.abort(), TIME_LIMIT_MS);
  return {
    origin: `http://127.0.0.1:${server.addr.port}${prefix}`,
    served,
    close: async () => {
      clearTimeout(timer);
      stop.abort();
      await server.finished;
    },
  };
}

Deno.test("mod.ts imports by URL from a folder with no deno.json and computes a conv2d", async () => {
  assert.ok(root.endsWith(sep));
  const server = serveRepo();
  const dir = await Deno.makeTempDir({ prefix: "gradproof_url_import_" });
  try {
    const origin = server.origin;
    await Deno.writeTextFile(
      join(dir, "main.ts"),
      `import { conv2d, tensor } from "${origin}mod.ts";
const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
const w = tensor([[[[1, 0], [0, -1]]]]);
const y = conv2d(x, w, tensor([0.5]), { padding: "same" });
console.log(JSON.stringify({ shape: y.shape, data: Array.from(y.data) }));
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-config",
        "--no-lock",
        `--allow-import=${new URL(origin).host}`,
        "main.ts",
      ],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `the URL-importing script failed:\n${stderr}`);
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim());
    // "same" pads one row/column at the bottom/right: y[i,j] = x[i,j] - x[i+1,j+1] + 0.5.
    assert.deepEqual(result, {
      shape: [1, 1, 3, 3],
      data: [-3.5, -3.5, 3.5, -3.5, -3.5, 6.5, 7.5, 8.5, 9.5],
    });
    assert.ok(server.served.includes("mod.ts"), `served: ${server.served.join(", ")}`);
    assert.ok(server.served.includes("src/tensor/conv.ts"));
    assert.ok(server.served.includes("src/tensor/kernels/conv.ts"));
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
