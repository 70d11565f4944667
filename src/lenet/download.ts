/**
 * Finding and downloading the four MNIST files, verified.
 *
 * Each file is streamed from a mirror into `<name>.gz.partial-<random>` in the target
 * directory, then its DECOMPRESSED contents are checked against the SHA-256 published in
 * `SHA256SUMS` (so a mirror that re-compressed the files still verifies), and only then is it
 * renamed to its final name (an atomic rename on the same filesystem). Any failure (HTTP
 * status, dropped connection, stall, corrupt gzip, wrong checksum) deletes the temporary file
 * and moves on to the next mirror. A file under a final name has therefore always been verified.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import type { TaskEither } from "../tensor/result.ts";
import { type DataError, errText, type FetchError, fileError, fmtInt } from "./data_error.ts";
import {
  DEFAULT_MIRRORS,
  joinPath,
  locateMnistFile,
  MNIST_FILES,
  type MnistFileName,
  type MnistFileSpec,
  verifyMnistFile,
} from "./mnist_files.ts";

/**
 * What a download reports while it runs (for a progress display).
 *
 * @example
 * ```ts
 * import { type DownloadEvent, ensureMnist } from "./mod.ts";
 * const onEvent = (e: DownloadEvent) => {
 *   if (e.type === "progress") console.log(e.file, e.received, e.total);
 *   if (e.type === "failed") console.log(`${e.url} failed, trying the next mirror`);
 * };
 * await ensureMnist({ dir: "data/mnist", onEvent })();
 * ```
 */
export type DownloadEvent =
  | {
    /** A file is already present (and verified, when verification was asked for). */
    readonly type: "found";
    readonly file: MnistFileName;
    readonly path: string;
    readonly verified: boolean;
  }
  | {
    /** A transfer has started; `total` is the Content-Length when the server sent one. */
    readonly type: "start";
    readonly file: MnistFileName;
    readonly url: string;
    readonly total: number | undefined;
  }
  | {
    /** More bytes arrived. */
    readonly type: "progress";
    readonly file: MnistFileName;
    readonly url: string;
    readonly received: number;
    readonly total: number | undefined;
  }
  | {
    /** The transfer is complete; verifying the decompressed contents. */
    readonly type: "verifying";
    readonly file: MnistFileName;
    readonly url: string;
  }
  | {
    /** Verified and renamed to its final name. */
    readonly type: "done";
    readonly file: MnistFileName;
    readonly url: string;
    readonly path: string;
    readonly received: number;
  }
  | {
    /** This mirror failed for this file; the next one is tried. */
    readonly type: "failed";
    readonly file: MnistFileName;
    readonly url: string;
    readonly error: DataError;
  };

/**
 * Options for {@link downloadMnistFile}.
 *
 * @example
 * ```ts
 * import type { DownloadOptions } from "./mod.ts";
 * const opts: DownloadOptions = { dir: "data/mnist", stallTimeoutMs: 10_000 };
 * ```
 */
export interface DownloadOptions {
  /** Target directory (must exist). */
  readonly dir: string;
  /** Base URLs to try in order; defaults to {@link DEFAULT_MIRRORS}. */
  readonly mirrors?: readonly string[];
  /** Abort a transfer that receives nothing for this long (ms); default 30,000. */
  readonly stallTimeoutMs?: number;
  /** Cancels everything; temporary files are removed and the result is `aborted`. */
  readonly signal?: AbortSignal;
  /** Receives progress events. */
  readonly onEvent?: (e: DownloadEvent) => void;
}

/** Why an attempt failed, and whether trying another mirror can help. */
type Attempt = E.Either<{ error: DataError; terminal: boolean }, string>;

function randomHex(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** One file from one mirror: temp file, stream, verify, rename. Never throws. */
async function attempt(spec: MnistFileSpec, base: string, o: DownloadOptions): Promise<Attempt> {
  const remote = `${spec.name}.gz`;
  const url = new URL(remote, base).href;
  const tmp = joinPath(o.dir, `${remote}.partial-${randomHex()}`);
  const ctl = new AbortController();
  const stallMs = o.stallTimeoutMs ?? 30_000;
  let stalled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      ctl.abort();
    }, stallMs);
  };
  const onAbort = () => ctl.abort();
  o.signal?.addEventListener("abort", onAbort);
  let file: Deno.FsFile | undefined;
  let created = false;
  let received = 0;
  const fail = (kind: FetchError["kind"], what: string): Attempt =>
    E.left({ error: { kind, file: remote, url, message: `${url}: ${what}` }, terminal: false });
  try {
    if (o.signal?.aborted) throw new DOMException("aborted", "AbortError");
    arm();
    let resp: Response;
    try {
      resp = await fetch(url, { signal: ctl.signal });
    } catch (e) {
      if (o.signal?.aborted) throw e;
      if (stalled) return fail("timeout", `no response within ${fmtMs(stallMs)}`);
      if (e instanceof Deno.errors.NotCapable) {
        const host = new URL(url).host;
        return fail(
          "network",
          `Deno denied network access to ${host}; grant it with --allow-net=${host} ` +
            `(e.g. deno run --allow-read --allow-write --allow-env --allow-net=${host} ` +
            `src/cli/data.ts)`,
        );
      }
      return fail("network", `cannot connect: ${errText(e)}`);
    }
    if (!resp.ok || resp.body === null) {
      await resp.body?.cancel();
      return fail("http", `HTTP ${resp.status} ${resp.statusText}`.trimEnd());
    }
    const len = Number(resp.headers.get("content-length"));
    const total = Number.isSafeInteger(len) && len > 0 ? len : undefined;
    o.onEvent?.({ type: "start", file: spec.name, url, total });
    try {
      file = await Deno.open(tmp, { write: true, createNew: true });
      created = true;
    } catch (e) {
      await resp.body.cancel();
      return E.left({ error: fileError(e, tmp, "create"), terminal: true });
    }
    const reader = resp.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        // The network side failed: another mirror may do better.
        await reader.cancel().catch(() => {});
        if (o.signal?.aborted) throw e;
        const at = `after ${fmtInt(received)} of ${total ? fmtInt(total) : "?"} bytes`;
        return stalled
          ? fail("timeout", `transfer stalled ${at} (nothing for ${fmtMs(stallMs)})`)
          : fail("network", `connection dropped ${at}: ${errText(e)}`);
      }
      if (chunk.done) break;
      arm();
      try {
        const v = chunk.value;
        for (let off = 0; off < v.length;) off += await file.write(v.subarray(off));
      } catch (e) {
        // The disk side failed (full, read-only, denied): no mirror can fix that.
        await reader.cancel().catch(() => {});
        return E.left({ error: fileError(e, tmp, "write"), terminal: true });
      }
      received += chunk.value.length;
      o.onEvent?.({ type: "progress", file: spec.name, url, received, total });
    }
    clearTimeout(timer);
    await file.syncData(); // the bytes must be on disk before the rename makes them final
    file.close();
    file = undefined;
    o.onEvent?.({ type: "verifying", file: spec.name, url });
    const verified = await verifyMnistFile(tmp, spec, o.signal)();
    if (E.isLeft(verified)) {
      if (verified.left.kind === "aborted") throw new DOMException("aborted", "AbortError");
      return E.left({ error: verified.left, terminal: false });
    }
    // A server may have sent the file with Content-Encoding: gzip, which fetch undoes; keep
    // the name honest about the contents.
    const head = new Uint8Array(2);
    const f = await Deno.open(tmp, { read: true });
    try {
      await f.read(head);
    } finally {
      f.close();
    }
    const final = joinPath(o.dir, head[0] === 0x1f && head[1] === 0x8b ? remote : spec.name);
    try {
      await Deno.rename(tmp, final); // atomic: the final name appears complete or not at all
    } catch (e) {
      return E.left({ error: fileError(e, final, "rename"), terminal: true });
    }
    created = false;
    o.onEvent?.({ type: "done", file: spec.name, url, path: final, received });
    return E.right(final);
  } catch (e) {
    if (o.signal?.aborted) {
      return E.left({
        error: { kind: "aborted", message: `download of ${remote} cancelled; nothing was kept` },
        terminal: true,
      });
    }
    return E.left({ error: fileError(e, tmp, "write"), terminal: true });
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", onAbort);
    try {
      file?.close();
    } catch { /* already closed */ }
    if (created) await Deno.remove(tmp).catch(() => {});
  }
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * Downloads one MNIST file into `opts.dir`, trying each mirror in turn until one yields a
 * verified copy. Returns the final path (`<name>.gz`, or `<name>` if the server delivered it
 * decompressed). On failure the error lists every attempt (kind `download-failed`).
 *
 * @example
 * ```ts
 * import { downloadMnistFile, MNIST_FILES } from "./mod.ts";
 * await Deno.mkdir("data/mnist", { recursive: true });
 * const r = await downloadMnistFile(MNIST_FILES[3], { dir: "data/mnist" })();
 * console.log(r._tag === "Right" ? r.right : r.left.message);
 * ```
 */
export function downloadMnistFile(
  spec: MnistFileSpec,
  opts: DownloadOptions,
): TaskEither<DataError, string> {
  return async () => {
    const attempts: DataError[] = [];
    for (const base of opts.mirrors ?? DEFAULT_MIRRORS) {
      const r = await attempt(spec, base, opts);
      if (E.isRight(r)) return r;
      if (r.left.terminal) return E.left(r.left.error);
      attempts.push(r.left.error);
      const url = new URL(`${spec.name}.gz`, base).href;
      opts.onEvent?.({ type: "failed", file: spec.name, url, error: r.left.error });
    }
    return E.left(unavailable("download-failed", opts.dir, [spec], attempts));
  };
}

/** The message that tells a user exactly which files to put where. */
export function unavailable(
  kind: "download-failed" | "offline",
  dir: string,
  missing: readonly MnistFileSpec[],
  attempts: readonly DataError[],
): DataError {
  const abs = absolute(dir);
  const lines: string[] = [];
  if (kind === "offline") {
    lines.push(`MNIST is not complete in ${abs} and --offline forbids downloading.`);
  } else {
    lines.push(`Could not download MNIST into ${abs}: every mirror failed.`);
    for (const a of attempts) lines.push(`  - ${a.message}`);
  }
  lines.push(`Put these files (as .gz, or decompressed without .gz) into ${abs}/:`);
  for (const s of missing) {
    lines.push(`  ${`${s.name}.gz`.padEnd(28)} decompressed SHA-256 ${s.sha256}`);
  }
  lines.push(
    "then run again. Or point --data DIR or MNIST_DIR at a folder that holds them, or set " +
      "MNIST_MIRROR to comma-separated base URLs that serve them" +
      (kind === "offline" ? " and drop --offline." : "."),
  );
  return {
    kind,
    dir: abs,
    missing: missing.map((s) => `${s.name}.gz`),
    attempts,
    message: lines.join("\n"),
  };
}

function absolute(dir: string): string {
  if (dir.startsWith("/") || /^[A-Za-z]:[\\/]/.test(dir)) return dir.replace(/[\\/]+$/, "") || "/";
  let cwd = ".";
  try {
    cwd = Deno.cwd();
  } catch { /* no read permission for cwd: keep it relative */ }
  return joinPath(cwd, dir.replace(/^\.\//, "")).replace(/\/+$/, "");
}

/**
 * Options for {@link ensureMnist}.
 *
 * @example
 * ```ts
 * import type { EnsureOptions } from "./mod.ts";
 * const opts: EnsureOptions = { dir: "data/mnist", verify: true, offline: false };
 * ```
 */
export interface EnsureOptions extends Omit<DownloadOptions, "dir"> {
  /** The directory that holds (or will hold) the four files; created when downloading. */
  readonly dir: string;
  /** Never touch the network: missing files are an `offline` error. */
  readonly offline?: boolean;
  /** Check the SHA-256 of files already present; a file that fails is downloaded again. */
  readonly verify?: boolean;
}

/**
 * Paths of the four files, by base name.
 *
 * @example
 * ```ts
 * import { ensureMnist, type MnistPaths } from "./mod.ts";
 * const r = await ensureMnist({ dir: "data/mnist" })();
 * const paths: MnistPaths | undefined = r._tag === "Right" ? r.right : undefined;
 * console.log(paths?.["train-images-idx3-ubyte"]); // data/mnist/train-images-idx3-ubyte.gz
 * ```
 */
export type MnistPaths = Readonly<Record<MnistFileName, string>>;

/**
 * Makes sure the four MNIST files are in `opts.dir`: finds those present (verifying them when
 * `verify` is set), downloads the rest, and reports every file still missing at the end.
 *
 * @example
 * ```ts
 * import { ensureMnist } from "./mod.ts";
 * const r = await ensureMnist({ dir: "data/mnist", verify: true })();
 * if (r._tag === "Left") console.error(r.left.message); // which files to put where
 * ```
 */
export function ensureMnist(opts: EnsureOptions): TaskEither<DataError, MnistPaths> {
  return async () => {
    const paths: Partial<Record<MnistFileName, string>> = {};
    const todo: { spec: MnistFileSpec; bad?: string }[] = [];
    for (const spec of MNIST_FILES) {
      const found = await locateMnistFile(opts.dir, spec)();
      if (E.isLeft(found)) return found;
      const path = found.right;
      if (path === undefined) {
        todo.push({ spec });
        continue;
      }
      if (opts.verify) {
        const v = await verifyMnistFile(path, spec, opts.signal)();
        if (E.isLeft(v)) {
          if (v.left.kind === "aborted" || v.left.kind === "permission") return v;
          if (opts.offline) return v;
          todo.push({ spec, bad: path });
          opts.onEvent?.({ type: "failed", file: spec.name, url: path, error: v.left });
          continue;
        }
      }
      paths[spec.name] = path;
      opts.onEvent?.({ type: "found", file: spec.name, path, verified: opts.verify === true });
    }
    if (todo.length === 0) return E.right(paths as MnistPaths);
    if (opts.offline) {
      return E.left(unavailable("offline", opts.dir, todo.map((t) => t.spec), []));
    }
    try {
      // Only when missing: mkdir needs write access even on an existing directory.
      if (!(await isDir(opts.dir))) await Deno.mkdir(opts.dir, { recursive: true });
    } catch (e) {
      return E.left(fileError(e, opts.dir, "create", "", opts.dir));
    }
    await removeStalePartials(opts.dir);
    const failed: MnistFileSpec[] = [];
    const attempts: DataError[] = [];
    for (const { spec, bad } of todo) {
      const r = await downloadMnistFile(spec, opts)();
      if (E.isRight(r)) {
        paths[spec.name] = r.right;
        // The old copy failed verification; the verified download replaces it.
        if (bad !== undefined && bad !== r.right) await Deno.remove(bad).catch(() => {});
        continue;
      }
      if (r.left.kind !== "download-failed") return r;
      failed.push(spec);
      attempts.push(...r.left.attempts);
    }
    if (failed.length > 0) {
      return E.left(unavailable("download-failed", opts.dir, failed, attempts));
    }
    return E.right(paths as MnistPaths);
  };
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Temporary files older than this were left by a killed process (a live one writes often). */
const STALE_MS = 10 * 60 * 1000;

/** Deletes `<name>.gz.partial-*` files of ours that no live download can still be writing. */
async function removeStalePartials(dir: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (
        !entry.isFile ||
        !/^(train|t10k)-(images|labels)-idx[13]-ubyte\.gz\.partial-/.test(entry.name)
      ) {
        continue;
      }
      const p = joinPath(dir, entry.name);
      const st = await Deno.stat(p);
      if (st.mtime !== null && Date.now() - st.mtime.getTime() > STALE_MS) await Deno.remove(p);
    }
  } catch {
    // Best effort: a leftover temp file is harmless (never under a final name).
  }
}
