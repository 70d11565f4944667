/**
 * A local stand-in for the MNIST mirrors: a Deno.serve on 127.0.0.1 (port 0) whose first path
 * segment picks a behaviour, so one server plays good and bad mirrors at once:
 *
 *   /good/<f>         the real ../shared/mnist file
 *   /missing/<f>      404
 *   /drop/<f>         a third of the bytes (Content-Length promises all), then the connection closes
 *   /stall/<f>        a few bytes, then nothing until the client gives up
 *   /corrupt/<f>      a VALID gzip of wrong contents (one byte changed): only the checksum can tell
 *   /flip/<f>         the real .gz with one byte flipped in the middle: corrupt gzip
 *   /recompressed/<f> the real contents re-compressed (different .gz bytes, same contents)
 *   /raw/<f>          the decompressed contents (as a server that strips gzip would deliver)
 *
 * Bounded: at most `maxRequests` requests (then 503) and `lifetimeMs` of life; `close()` always
 * shuts it down.
 */

import { fileURLToPath } from "node:url";

/** The shared MNIST folder: $MNIST_DIR, else ../shared/mnist beside the checkout. */
export const MNIST_DIR: string = Deno.env.get("MNIST_DIR") ??
  fileURLToPath(new URL("../../../shared/mnist/", import.meta.url));

export interface MirrorServer {
  /** Base URL of a behaviour, e.g. `mirror("good")` -> `http://127.0.0.1:PORT/good/`. */
  mirror(mode: string): string;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

async function gunzip(b: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const r = new Response(new Blob([b]).stream().pipeThrough(new DecompressionStream("gzip")));
  return new Uint8Array(await r.arrayBuffer());
}

/** gzip-compresses bytes (CompressionStream), for building mirror contents and test files. */
export async function gzip(b: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const r = new Response(new Blob([b]).stream().pipeThrough(new CompressionStream("gzip")));
  return new Uint8Array(await r.arrayBuffer());
}

const cache = new Map<string, Uint8Array<ArrayBuffer>>();
async function original(name: string): Promise<Uint8Array<ArrayBuffer>> {
  let b = cache.get(name);
  if (b === undefined) {
    b = await Deno.readFile(`${MNIST_DIR}/${name}`);
    cache.set(name, b);
  }
  return b;
}

async function body(mode: string, file: string): Promise<Response> {
  const gz = await original(file);
  switch (mode) {
    case "good":
      return new Response(gz);
    case "missing":
      return new Response("not found", { status: 404 });
    case "drop":
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(gz.slice(0, Math.floor(gz.length / 3)));
            c.close(); // fewer bytes than Content-Length: the client sees the connection drop
          },
        }),
        { headers: { "content-length": String(gz.length) } },
      );
    case "stall": {
      let timer: ReturnType<typeof setTimeout> | undefined;
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(gz.slice(0, 100));
            timer = setTimeout(() => c.close(), 5_000); // bounded even if nobody cancels
          },
          cancel() {
            clearTimeout(timer);
          },
        }),
        { headers: { "content-length": String(gz.length) } },
      );
    }
    case "corrupt": {
      const raw = await gunzip(gz);
      raw[raw.length - 1] ^= 1; // last label or pixel: same size, same header, wrong contents
      return new Response(await gzip(raw));
    }
    case "flip": {
      const b = gz.slice();
      b[Math.floor(b.length / 2)] ^= 0xff;
      return new Response(b);
    }
    case "recompressed":
      return new Response(await gzip(await gunzip(gz)));
    case "raw":
      return new Response(await gunzip(gz));
    default:
      return new Response("unknown mode", { status: 400 });
  }
}

export function startMirror(
  opts: { maxRequests?: number; lifetimeMs?: number } = {},
): MirrorServer {
  const maxRequests = opts.maxRequests ?? 40;
  const requests: string[] = [];
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      requests.push(path);
      if (requests.length > maxRequests) return new Response("too many", { status: 503 });
      const [, mode, file] = path.split("/");
      if (!/^(train|t10k)-(images|labels)-idx[13]-ubyte\.gz$/.test(file ?? "")) {
        return new Response("no such file", { status: 404 });
      }
      return await body(mode, file);
    },
  );
  const lifetime = setTimeout(() => ac.abort(), opts.lifetimeMs ?? 30_000);
  const port = server.addr.port;
  return {
    mirror: (mode) => `http://127.0.0.1:${port}/${mode}/`,
    requests,
    async close() {
      clearTimeout(lifetime);
      ac.abort();
      await server.finished;
    },
  };
}
