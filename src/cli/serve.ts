/**
 * `deno task serve [--port P] [--host H] [--checkpoint F]`: the draw-a-digit demo on a local web
 * server (Deno.serve, 127.0.0.1 unless told otherwise).
 *
 * Routes: the static files of `src/cli/web/` (`/` is `index.html`), `/demo.js` (the page script
 * and the library, bundled in memory once at start), `/checkpoint` (the `--checkpoint` file's
 * bytes; 204 No Content without one) and `/mnist/train-images-idx3-ubyte`,
 * `/mnist/train-labels-idx1-ubyte` (the MNIST training files of `--data DIR`, `$MNIST_DIR` or
 * `data/mnist`, gzipped or not as found there, 404 when absent; the page's "train a quick
 * model"). Nothing else: the page runs the model itself, in the browser. The
 * safety rules of the static handler are listed in `serve/static.ts`.
 *
 * Exit codes: 1 the checkpoint is unreadable, bundling failed or the address is unavailable,
 * 2 bad flags.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { either as E } from "npm:fp-ts@2.16.11";
import { resolveMnistDir } from "../lenet/mnist.ts";
import { joinPath } from "../lenet/mnist_files.ts";
import { QUICK_TRAIN_FILES } from "./demo/quick_train.ts";
import { all, intFlag, parseFlags, pathFlag } from "./flags.ts";
import { bundleDemo } from "./serve/bundle.ts";
import { type Asset, staticHandler } from "./serve/static.ts";
import type { Io } from "./report.ts";

const USAGE = `Usage: deno task serve [--port P] [--host H] [--checkpoint F] [--data DIR]

Serves the draw-a-digit demo: draw on the canvas, see the 28x28 input, the prediction with its
probabilities, and every layer's maps (and delta maps) computed by gradproof in the page.

  --port P          TCP port (default 8000; 0 picks a free one)
  --host H          address to bind (default 127.0.0.1; others expose the page to the network
                    and need --allow-net for that address)
  --checkpoint F    a trained model's checkpoint, offered to the page as /checkpoint
  --data DIR        MNIST folder whose two training files the page may fetch to train a quick
                    model itself when there is no checkpoint (default $MNIST_DIR, else
                    data/mnist; \`deno task data\` downloads them)
  -h, --help        this help
`;

/** Validated flags of the serve command. */
export interface ServeFlags {
  /** TCP port, 0 for any free one. */
  readonly port: number;
  /** Address to bind. */
  readonly host: string;
  /** Checkpoint file, if any. */
  readonly checkpoint: string | null;
  /** MNIST folder from `--data`, if given. */
  readonly data: string | null;
}

/** Parses argv: Right(flags), Left("help") or Left(a usage error). */
export function parseServeFlags(args: readonly string[]): E.Either<string, ServeFlags> {
  const parsed = parseFlags(args, {
    port: { type: "string" },
    host: { type: "string" },
    checkpoint: { type: "string" },
    data: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (E.isLeft(parsed)) return parsed;
  const v = parsed.right.values;
  if (v.help) return E.left("help");
  const host = v.host ?? "127.0.0.1";
  if (typeof host !== "string" || host === "" || /[\s\/]/.test(host)) {
    return E.left(`--host must be an address, got "${host}"`);
  }
  const checked = all(
    intFlag("port", v.port, 0, 65535),
    pathFlag("checkpoint", v.checkpoint, "runs/demo/best.safetensors"),
    pathFlag("data", v.data, "data/mnist"),
  );
  if (E.isLeft(checked)) return checked;
  const [port, checkpoint, data] = checked.right as [
    number | undefined,
    string | undefined,
    string | undefined,
  ];
  return E.right({ port: port ?? 8000, host, checkpoint: checkpoint ?? null, data: data ?? null });
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}

/** The folder of static files. */
export const WEB_ROOT: string = fileURLToPath(new URL("./web/", import.meta.url));

/** What {@link startDemoServer} needs. */
export interface DemoServerOptions {
  /** Address to bind; default 127.0.0.1. */
  readonly host?: string;
  /** Port; default 0 (any free one). */
  readonly port?: number;
  /** The bundled page script (see `serve/bundle.ts`). */
  readonly script: string;
  /** Checkpoint bytes offered as `/checkpoint`, or null. */
  readonly checkpoint: Uint8Array | null;
  /** The static folder; default {@link WEB_ROOT}. */
  readonly root?: string;
  /** Request body limit in bytes; default 16 KiB. */
  readonly maxBodyBytes?: number;
  /** Folder whose MNIST training files are offered under `/mnist/`; default none (404). */
  readonly mnistDir?: string | null;
}

/**
 * The bytes of MNIST file `name` in `dir` as found there (`<name>.gz` first, else `<name>`),
 * or null when neither is a readable file.
 */
async function mnistAsset(dir: string, name: string): Promise<Asset | null> {
  for (
    const [file, type] of [[`${name}.gz`, "application/gzip"], [name, "application/octet-stream"]]
  ) {
    try {
      const path = joinPath(dir, file);
      if (!(await Deno.stat(path)).isFile) continue;
      return { body: await Deno.readFile(path), type };
    } catch {
      // missing or unreadable: try the next form, then 404
    }
  }
  return null;
}

/** A running demo server. */
export interface DemoServer {
  /** The page's URL, e.g. `http://127.0.0.1:8000/`. */
  readonly url: string;
  /** The address actually bound (from the listener). */
  readonly hostname: string;
  /** The port actually bound. */
  readonly port: number;
  /** Stops accepting and closes the server. */
  shutdown(): Promise<void>;
}

/** Starts the demo server; resolves once it listens. */
export async function startDemoServer(opts: DemoServerOptions): Promise<DemoServer> {
  const script: Asset = {
    body: new TextEncoder().encode(opts.script),
    type: "text/javascript; charset=utf-8",
  };
  const ckpt = opts.checkpoint;
  const routes = new Map<string, () => Asset | null | Promise<Asset | null>>([
    ["/demo.js", () => script],
    // 204 without a checkpoint: "no model", not an error the browser console would log.
    ["/checkpoint", () => ({
      body: ckpt ?? new Uint8Array(0),
      type: "application/octet-stream",
      status: ckpt === null ? 204 : 200,
    })],
  ]);
  const mnistDir = opts.mnistDir ?? null;
  for (const name of QUICK_TRAIN_FILES) {
    routes.set(`/mnist/${name}`, () => mnistDir === null ? null : mnistAsset(mnistDir, name));
  }
  const handler = await staticHandler({
    root: opts.root ?? WEB_ROOT,
    routes,
    maxBodyBytes: opts.maxBodyBytes,
  });
  const host = opts.host ?? "127.0.0.1";
  const { promise, resolve } = Promise.withResolvers<number>();
  // Deno.serve resolves names itself; the listener's address is what counts.
  const server = Deno.serve({
    hostname: host,
    port: opts.port ?? 0,
    onListen: ({ port }) => resolve(port),
  }, handler);
  const port = await promise;
  const hostname = server.addr.hostname;
  const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
  return { url: `http://${shown}:${port}/`, hostname, port, shutdown: () => server.shutdown() };
}

/** Runs the command; resolves with an exit code on failure, or never while serving. */
export async function serveMain(args: readonly string[], io: Io): Promise<number> {
  const flags = parseServeFlags(args);
  if (E.isLeft(flags)) {
    if (flags.left === "help") {
      io.out(USAGE);
      return 0;
    }
    io.err(`serve: ${flags.left}\n\n${USAGE}`);
    return 2;
  }
  const { port, host, checkpoint, data } = flags.right;
  const mnist = resolveMnistDir({ dir: data ?? undefined });
  let ckpt: Uint8Array | null = null;
  if (checkpoint !== null) {
    try {
      const st = await Deno.stat(checkpoint);
      if (!st.isFile) throw new Error("not a file");
      ckpt = await Deno.readFile(checkpoint);
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound ? "not found" : (e as Error).message;
      io.err(`serve: cannot read checkpoint ${checkpoint}: ${why}`);
      return 1;
    }
  }
  let script: string;
  try {
    script = await bundleDemo();
  } catch (e) {
    io.err(`serve: ${(e as Error).message}`);
    return 1;
  }
  if (!isLoopback(host)) {
    io.err(`serve: warning: binding ${host}; other machines on the network can load the page`);
  }
  let server: DemoServer;
  try {
    server = await startDemoServer({ host, port, script, checkpoint: ckpt, mnistDir: mnist.dir });
  } catch (e) {
    const hint = e instanceof Deno.errors.NotCapable
      ? ` (the serve task may bind 127.0.0.1 only; run deno run --allow-net=${host} ... instead)`
      : "";
    io.err(`serve: cannot listen on ${host}:${port}: ${(e as Error).message}${hint}`);
    return 1;
  }
  io.out(`gradproof demo: ${server.url} (Ctrl-C to stop)`);
  if (ckpt !== null) io.out(`serving checkpoint ${checkpoint} (${ckpt.length} bytes)`);
  else io.out(`no checkpoint: the page can train a quick model on MNIST from ${mnist.dir}`);
  return await new Promise<number>(() => {});
}

if (import.meta.main) {
  const code = await serveMain(Deno.args, {
    out: (s) => console.log(s),
    err: (s) => console.error(s),
  });
  Deno.exit(code);
}
