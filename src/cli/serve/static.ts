/**
 * A small, strict static file handler for the demo page.
 *
 * Safety rules, in the order they apply:
 * 1. Request bodies are bounded: a `Content-Length` above the limit, or a streamed body that
 *    grows past it, gets 413 without reading further; so does a chunked GET/HEAD body, which
 *    Deno would discard unmeasured.
 * 2. Only GET and HEAD: anything else gets 405 with `Allow: GET, HEAD`.
 * 3. Virtual routes (the bundled script, the checkpoint) are matched on the exact path.
 * 4. Static paths are resolved segment by segment: each is percent-decoded once (malformed
 *    encoding -> 400) and rejected (404) if empty, `.` or `..`, hidden (leading dot), or holding
 *    `/`, `\`, `:` or NUL after decoding. So `..`, `%2e%2e`, `%2f`, backslashes, doubled slashes
 *    and drive letters never reach the file system.
 * 5. The file's real path (symlinks resolved) must lie inside the real root; a symlink pointing
 *    outside gets 404. Only regular files are served: a folder gets 404, never a listing.
 *
 * Every response carries `X-Content-Type-Options: nosniff`, a strict Content-Security-Policy
 * (same-origin scripts and styles, WebAssembly compilation, `data:`/`blob:` images) and
 * `Cache-Control: no-store`.
 *
 * @module
 */

/** A response body and its content type. */
export interface Asset {
  /** The bytes. */
  readonly body: Uint8Array;
  /** The `Content-Type` header. */
  readonly type: string;
  /** 200 (default), or 204 to answer "nothing here" with an empty body. */
  readonly status?: 200 | 204;
}

/** Options of {@link staticHandler}. */
export interface StaticOptions {
  /** The folder to serve (must exist). */
  readonly root: string;
  /** Exact paths served from memory; a loader returning null means 404. */
  readonly routes?: ReadonlyMap<string, () => Asset | null | Promise<Asset | null>>;
  /** Largest accepted request body in bytes; default 16 KiB (nothing here needs a body). */
  readonly maxBodyBytes?: number;
}

/** Content types by file extension; anything else is `application/octet-stream`. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  json: "application/json",
  png: "image/png",
  svg: "image/svg+xml",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
  wasm: "application/wasm",
};

/** The content type for a file name. */
export function contentType(name: string): string {
  const dot = name.lastIndexOf(".");
  return (dot >= 0 && CONTENT_TYPES[name.slice(dot + 1).toLowerCase()]) ||
    "application/octet-stream";
}

/** The separator of real paths (`Deno.realPath` answers with the platform's). */
const SEP = Deno.build.os === "windows" ? "\\" : "/";

/**
 * `'wasm-unsafe-eval'` lets the page compile WebAssembly (and nothing else: no `eval`, no inline
 * script), so gradproof's float32 ops run on the wasm kernel paths in the browser too; without
 * it the kernel probe fails to compile and the page falls back to the plain-TypeScript kernels.
 */
export const CSP: string = "default-src 'self'; img-src 'self' data: blob:; " +
  "script-src 'self' 'wasm-unsafe-eval'; " +
  "style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";

function headers(type: string, length?: number): Headers {
  const h = new Headers({
    "content-type": type,
    "x-content-type-options": "nosniff",
    "content-security-policy": CSP,
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
  });
  if (length !== undefined) h.set("content-length", String(length));
  return h;
}

function plain(status: number, message: string, extra: Record<string, string> = {}): Response {
  const h = headers("text/plain; charset=utf-8");
  for (const [k, v] of Object.entries(extra)) h.set(k, v);
  return new Response(message + "\n", { status, headers: h });
}

/** Ends the connection after a refused body, instead of waiting for the rest of it. */
const CLOSE = { connection: "close" };

/** Reads and discards a body up to `limit` bytes; false if it is longer. */
async function drainBounded(body: ReadableStream<Uint8Array>, limit: number): Promise<boolean> {
  const reader = body.getReader();
  let n = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return true;
      n += value.length;
      if (n > limit) {
        await reader.cancel().catch(() => {});
        return false;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * The path segments of a URL path, decoded and checked (rule 4), or a status: 400 for malformed
 * percent-encoding, 404 for anything that could leave the folder or names a hidden file.
 */
export function safeSegments(pathname: string): string[] | 400 | 404 {
  if (!pathname.startsWith("/")) return 404;
  const raw = pathname === "/" ? ["index.html"] : pathname.slice(1).split("/");
  const out: string[] = [];
  for (const r of raw) {
    let s: string;
    try {
      s = decodeURIComponent(r);
    } catch {
      return 400;
    }
    if (s === "" || s === "." || s === ".." || s.startsWith(".")) return 404;
    if (/[\/\\:\0]/.test(s)) return 404;
    out.push(s);
  }
  return out;
}

/** Builds the handler; resolves the root's real path once. */
export async function staticHandler(
  opts: StaticOptions,
): Promise<(req: Request) => Promise<Response>> {
  const root = await Deno.realPath(opts.root);
  const info = await Deno.stat(root);
  if (!info.isDirectory) throw new Error(`static root ${opts.root} is not a folder`);
  const limit = opts.maxBodyBytes ?? 16 * 1024;
  const routes = opts.routes ?? new Map();

  const serveFile = async (segments: string[], head: boolean): Promise<Response> => {
    let real: string;
    try {
      real = await Deno.realPath(`${root}/${segments.join("/")}`);
    } catch {
      return plain(404, "not found");
    }
    if (!real.startsWith(root + SEP)) return plain(404, "not found");
    const st = await Deno.stat(real);
    if (!st.isFile) return plain(404, "not found");
    const type = contentType(real);
    if (head) return new Response(null, { status: 200, headers: headers(type, st.size) });
    const body = await Deno.readFile(real);
    return new Response(body, { status: 200, headers: headers(type, body.length) });
  };

  return async (req: Request): Promise<Response> => {
    try {
      const declared = req.headers.get("content-length");
      if (declared !== null && !(Number(declared) <= limit)) {
        await req.body?.cancel().catch(() => {});
        return plain(413, `request body larger than ${limit} bytes`, CLOSE);
      }
      // Deno hands GET/HEAD handlers no body stream (it discards it), so a GET body of unknown
      // length (chunked) cannot be measured: refuse it rather than let it run unbounded.
      if (req.body === null && req.headers.has("transfer-encoding")) {
        return plain(413, `request body of unknown length refused (limit ${limit} bytes)`, CLOSE);
      }
      if (req.body !== null && !(await drainBounded(req.body, limit))) {
        return plain(413, `request body larger than ${limit} bytes`, CLOSE);
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        return plain(405, "method not allowed", { allow: "GET, HEAD" });
      }
      const head = req.method === "HEAD";
      const { pathname } = new URL(req.url);
      const route = routes.get(pathname);
      if (route !== undefined) {
        const asset = await route();
        if (asset === null) return plain(404, "not found");
        if (asset.status === 204) {
          return new Response(null, { status: 204, headers: headers(asset.type) });
        }
        return new Response(head ? null : asset.body, {
          status: 200,
          headers: headers(asset.type, asset.body.length),
        });
      }
      const segments = safeSegments(pathname);
      if (segments === 400) return plain(400, "malformed path");
      if (segments === 404) return plain(404, "not found");
      return await serveFile(segments, head);
    } catch (e) {
      console.error(`serve: ${req.method} ${req.url}: ${(e as Error).message}`);
      return plain(500, "internal error");
    }
  };
}
