/**
 * `deno task data`: download the four MNIST files into data/mnist/ (or `--data DIR` /
 * `$MNIST_DIR`) and verify the SHA-256 of their decompressed contents.
 *
 * Exit codes: 0 all four files present and verified; 1 a failure (network, checksum, disk);
 * 2 a usage error (unknown flag, bad value); 130 interrupted (Ctrl-C; no partial file kept).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { either as E } from "npm:fp-ts@2.16.11";
import { type DataError, errText } from "../lenet/data_error.ts";
import { type DownloadEvent, ensureMnist } from "../lenet/download.ts";
import { parseMirrors, readEnv } from "../lenet/mnist_files.ts";
import { resolveMnistDir } from "../lenet/mnist.ts";
import {
  createProgress,
  type Progress,
  type ProgressUpdate,
  type ProgressWriter,
} from "./progress.ts";

const USAGE = `Usage: deno task data [--data DIR] [--offline]

Download the four MNIST files (IDX, gzipped) and verify the SHA-256 of their decompressed
contents. Files already present are verified; missing or damaged ones are downloaded, each to a
temporary file that gets its final name only once verified.

Options:
  --data DIR   where the files live (default: $MNIST_DIR if set, else data/mnist/)
  --offline    never touch the network: only verify the files already there
  -h, --help   show this help

Environment:
  MNIST_DIR     default for --data
  MNIST_MIRROR  comma-separated base URLs to download from instead of the built-in mirrors
  CI=true       print plain progress lines instead of a live progress bar

Exit codes: 0 ok, 1 failure, 2 usage error, 130 interrupted.
`;

/** What the command talks to; every field has a real default. */
export interface DataCliIo {
  /** Normal output (progress, summary); default Deno.stdout. */
  readonly stdout?: ProgressWriter;
  /** Errors; default Deno.stderr. */
  readonly stderr?: ProgressWriter;
  /** Environment lookup; default Deno.env (unset when not permitted). */
  readonly env?: (name: string) => string | undefined;
  /** Cancels the downloads (the entry point wires Ctrl-C to it). */
  readonly signal?: AbortSignal;
  /** Force the live progress line on or off (default: decided by the display). */
  readonly live?: boolean;
  /** Abort a transfer that receives nothing for this long (ms). */
  readonly stallTimeoutMs?: number;
}

/**
 * Maps download events to lines of a {@link Progress}: one bar per transfer, a line per file
 * found, a line per failed mirror. Reusable by any command that downloads MNIST.
 *
 * @example
 * ```ts
 * import { createProgress, downloadReporter, loadMnist } from "./mod.ts";
 * const r = await loadMnist({ onProgress: downloadReporter(createProgress()) })();
 * ```
 */
export function downloadReporter(p: Progress): (e: DownloadEvent) => void {
  let last: ProgressUpdate | undefined;
  return (e) => {
    switch (e.type) {
      case "found":
        p.log(`${e.verified ? "verified" : "found"}  ${e.path}`);
        return;
      case "start":
      case "progress": {
        const label = `${e.file}.gz from ${new URL(e.url).host}`;
        const current = e.type === "start" ? 0 : e.received;
        // A server that gzip-encodes the transfer sends more bytes than Content-Length says.
        const total = e.total !== undefined && current <= e.total ? e.total : undefined;
        last = { label, current, total, unit: "bytes" };
        p.update(last);
        return;
      }
      case "verifying":
        return;
      case "done":
        p.done(last, `verified -> ${e.path}`);
        last = undefined;
        return;
      case "failed":
        if (last !== undefined) p.done(last, "failed");
        last = undefined;
        p.log(`  ${e.error.message}`);
        return;
    }
  };
}

const enc = new TextEncoder();
function writeAll(w: ProgressWriter, s: string): void {
  try {
    const b = enc.encode(s);
    for (let o = 0; o < b.length;) o += w.writeSync(b.subarray(o));
  } catch {
    // nowhere left to report to
  }
}

/**
 * Runs the command with `args` (without the program name) and returns the exit code. Never
 * throws and never prints a stack trace.
 *
 * @example
 * ```ts
 * import { dataMain } from "./src/cli/data.ts";
 * Deno.exit(await dataMain(["--offline"]));
 * ```
 */
export async function dataMain(args: readonly string[], io: DataCliIo = {}): Promise<number> {
  const out = io.stdout ?? Deno.stdout;
  const err = io.stderr ?? Deno.stderr;
  const usageError = (msg: string): number => {
    writeAll(err, `deno task data: ${msg}\nRun \`deno task data --help\` for usage.\n`);
    return 2;
  };
  let flags: { help?: boolean; offline?: boolean; data?: string };
  try {
    flags = parseArgs({
      args: [...args],
      options: {
        help: { type: "boolean", short: "h" },
        offline: { type: "boolean" },
        data: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    return usageError(errText(e));
  }
  if (flags.help) {
    writeAll(out, USAGE);
    return 0;
  }
  if (flags.data !== undefined && flags.data.trim() === "") {
    return usageError("--data needs a directory, e.g. --data data/mnist");
  }
  const env = io.env ?? readEnv;
  const mirrorEnv = env("MNIST_MIRROR");
  let mirrors: readonly string[] | undefined;
  if (mirrorEnv !== undefined && mirrorEnv !== "") {
    const parsed = parseMirrors(mirrorEnv);
    if (E.isLeft(parsed)) return usageError(parsed.left.message);
    mirrors = parsed.right;
  }
  const { dir, source } = resolveMnistDir({ dir: flags.data, env });
  const progress = createProgress({ out: io.stdout, live: io.live });
  const why = source === "option" ? "--data" : source === "MNIST_DIR" ? "$MNIST_DIR" : "default";
  progress.log(`MNIST directory: ${dir} (${why})${flags.offline ? ", offline" : ""}`);
  try {
    const r = await ensureMnist({
      dir,
      offline: flags.offline,
      verify: true,
      mirrors,
      signal: io.signal,
      stallTimeoutMs: io.stallTimeoutMs,
      onEvent: downloadReporter(progress),
    })();
    if (E.isRight(r)) {
      progress.log(`All 4 MNIST files are present and verified in ${dir}.`);
      return 0;
    }
    return report(err, r.left);
  } catch (e) {
    writeAll(err, `error: unexpected failure: ${errText(e)}\n`);
    return 1;
  }
}

function report(err: ProgressWriter, e: DataError): number {
  if (e.kind === "aborted") {
    writeAll(err, `Interrupted: ${e.message}\n`);
    return 130;
  }
  writeAll(err, `error: ${e.message}\n`);
  return e.kind === "invalid-option" ? 2 : 1;
}

if (import.meta.main) {
  const ctl = new AbortController();
  const onInt = () => {
    // First Ctrl-C: cancel cleanly (temporary files are removed). Second: leave now.
    if (ctl.signal.aborted) Deno.exit(130);
    ctl.abort();
  };
  try {
    Deno.addSignalListener("SIGINT", onInt);
  } catch {
    // signals unsupported here: the default Ctrl-C behaviour stays
  }
  const code = await dataMain(Deno.args, { signal: ctl.signal });
  Deno.exit(code);
}
