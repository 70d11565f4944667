/**
 * `DataError`: every way loading a dataset can fail, as a value.
 *
 * Parsing, reading, downloading and option checking return `Either<DataError, ...>` or
 * `TaskEither<DataError, ...>` instead of throwing, so a caller (the CLI, the trainer) decides
 * how to report a failure. Each error carries a `kind` to branch on and a complete `message`
 * for a human: which file, which byte offset, what was expected and what was found, and what to
 * do about it.
 *
 * @module
 */

/**
 * Failures found in the bytes of an IDX file (raw or after gunzip).
 *
 * @example
 * ```ts
 * import { type IdxErrorKind, parseIdx } from "./mod.ts";
 * const r = parseIdx(new Uint8Array([0, 0, 8]));
 * const kind: IdxErrorKind | undefined = r._tag === "Left" ? r.left.kind as IdxErrorKind : undefined;
 * console.log(kind); // "truncated"
 * ```
 */
export type IdxErrorKind =
  | "bad-magic"
  | "unsupported-type"
  | "bad-dims"
  | "dims-overflow"
  | "truncated"
  | "trailing-bytes"
  | "corrupt-gzip"
  | "unexpected-shape"
  | "count-mismatch"
  | "label-out-of-range"
  | "checksum";

/**
 * A problem with the contents of one file. `offset` is a byte offset in the decompressed file.
 *
 * @example
 * ```ts
 * import { parseIdx } from "./mod.ts";
 * const r = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 5]), "labels.idx");
 * if (r._tag === "Left") {
 *   console.log(r.left.kind, r.left.offset, r.left.expected, r.left.got); // truncated 9 ...
 *   console.log(r.left.message); // labels.idx: at byte 9: the file ends early (expected ...
 * }
 * ```
 */
export interface IdxError {
  /** What went wrong. */
  readonly kind: IdxErrorKind;
  /** The file (path or name) the bytes came from. */
  readonly file: string;
  /** Byte offset of the problem in the (decompressed) file. */
  readonly offset: number;
  /** What the format or the reference required, e.g. `"47,040,016 bytes"`. */
  readonly expected: string;
  /** What was found instead. */
  readonly got: string;
  /** The complete human-readable message, with the fix. */
  readonly message: string;
}

/**
 * A file that could not be opened, read or written.
 *
 * @example
 * ```ts
 * import { readIdxFile } from "./mod.ts";
 * const r = await readIdxFile("no/such/file.gz")();
 * if (r._tag === "Left" && r.left.kind === "not-found") console.log(r.left.file);
 * ```
 */
export interface FileError {
  /** `not-found`: absent; `permission`: Deno or the OS refused; `io`: anything else. */
  readonly kind: "not-found" | "permission" | "io";
  /** The path involved. */
  readonly file: string;
  /** The complete human-readable message, with the fix. */
  readonly message: string;
}

/**
 * One failed attempt to fetch one file from one mirror.
 *
 * @example
 * ```ts
 * import { type DataError, type FetchError } from "./mod.ts";
 * const failedMirrors = (attempts: readonly DataError[]): FetchError[] =>
 *   attempts.filter((a): a is FetchError => a.kind === "http" || a.kind === "network");
 * ```
 */
export interface FetchError {
  /** `http`: a non-2xx status; `network`: connection failed or dropped; `timeout`: stalled. */
  readonly kind: "http" | "network" | "timeout";
  /** The file being fetched, e.g. `"train-images-idx3-ubyte.gz"`. */
  readonly file: string;
  /** The URL tried. */
  readonly url: string;
  /** The complete human-readable message. */
  readonly message: string;
}

/**
 * Every mirror failed for at least one file, or the network was not allowed (`--offline`).
 *
 * @example
 * ```ts
 * import { ensureMnist } from "./mod.ts";
 * const r = await ensureMnist({ dir: "data/mnist", offline: true })();
 * if (r._tag === "Left" && r.left.kind === "offline") console.log(r.left.missing);
 * ```
 */
export interface UnavailableError {
  /** `download-failed`: all mirrors tried; `offline`: files missing and the network is off. */
  readonly kind: "download-failed" | "offline";
  /** The directory the files were expected in. */
  readonly dir: string;
  /** The file names (as they should appear in `dir`) that are still missing or invalid. */
  readonly missing: readonly string[];
  /** Every failed attempt, in order (empty when offline). */
  readonly attempts: readonly DataError[];
  /** The complete human-readable message: what was tried and which files to put where. */
  readonly message: string;
}

/**
 * The operation was cancelled through its `AbortSignal` (e.g. Ctrl-C in the CLI).
 *
 * @example
 * ```ts
 * import { loadMnist } from "./mod.ts";
 * const ctl = new AbortController();
 * ctl.abort();
 * const r = await loadMnist({ signal: ctl.signal, offline: true })();
 * if (r._tag === "Left" && r.left.kind === "aborted") console.log("cancelled");
 * ```
 */
export interface AbortedError {
  /** Always `"aborted"`. */
  readonly kind: "aborted";
  /** The complete human-readable message. */
  readonly message: string;
}

/**
 * An option or environment variable with an unusable value.
 *
 * @example
 * ```ts
 * import { loadMnist } from "./mod.ts";
 * const r = await loadMnist({ limit: 0 })();
 * if (r._tag === "Left" && r.left.kind === "invalid-option") console.log(r.left.option); // limit
 * ```
 */
export interface OptionError {
  /** Always `"invalid-option"`. */
  readonly kind: "invalid-option";
  /** The option's name as the user wrote it, e.g. `"--limit"` or `"MNIST_MIRROR"`. */
  readonly option: string;
  /** The complete human-readable message, with the accepted values. */
  readonly message: string;
}

/**
 * Everything that can go wrong while finding, downloading, verifying and parsing a dataset.
 * Branch on `kind`; show `message` to a human.
 *
 * @example
 * ```ts
 * import { type DataError, loadMnist } from "./mod.ts";
 * const exitCode = (e: DataError): number => e.kind === "invalid-option" ? 2 : 1;
 * const r = await loadMnist({ offline: true })();
 * if (r._tag === "Left") {
 *   console.error(r.left.message); // names the file, the offset, expected vs got, the fix
 *   console.log(exitCode(r.left));
 * }
 * ```
 */
export type DataError =
  | IdxError
  | FileError
  | FetchError
  | UnavailableError
  | AbortedError
  | OptionError;

/**
 * Every `kind` a {@link DataError} can have.
 *
 * @example
 * ```ts
 * import type { DataErrorKind } from "./mod.ts";
 * const retryable: readonly DataErrorKind[] = ["http", "network", "timeout"];
 * ```
 */
export type DataErrorKind = DataError["kind"];

/** Formats an integer with thousands separators: 47040016 -> "47,040,016". */
export function fmtInt(n: number): string {
  // A regex rather than toLocaleString: same output, no Intl cost, no locale surprises.
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Builds an {@link IdxError}; the message reads `file: at byte O: what (expected E, got G). fix` */
export function idxError(
  kind: IdxErrorKind,
  file: string,
  offset: number,
  what: string,
  expected: string,
  got: string,
  fix: string,
): IdxError {
  const message = `${file}: at byte ${
    fmtInt(offset)
  }: ${what} (expected ${expected}, got ${got}). ${fix}`;
  return { kind, file, offset, expected, got, message };
}

/**
 * Turns an exception thrown by a Deno file API into a {@link FileError}.
 * @param doing what was being attempted, e.g. `"read"`
 * @param fix extra advice appended to the message
 * @param grant the path to suggest in `--allow-...=`; default the file's directory
 */
export function fileError(
  e: unknown,
  file: string,
  doing: string,
  fix = "",
  grant?: string,
): FileError {
  const tail = fix ? ` ${fix}` : "";
  if (e instanceof Deno.errors.NotFound) {
    return { kind: "not-found", file, message: `${file}: cannot ${doing}: no such file.${tail}` };
  }
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
    const flag = doing === "write" || doing === "create" || doing === "rename" || doing === "remove"
      ? "--allow-write"
      : "--allow-read";
    const dir = grant ??
      (file.includes("/") ? file.slice(0, file.lastIndexOf("/")) || "/" : ".");
    return {
      kind: "permission",
      file,
      message: `${file}: cannot ${doing}: permission denied (${errText(e)}). Grant it ` +
        `(deno run ${flag}=${dir} ...) or choose another directory with --data DIR.${tail}`,
    };
  }
  return { kind: "io", file, message: `${file}: cannot ${doing}: ${errText(e)}.${tail}` };
}

/** The message of an unknown thrown value, without a stack trace. */
export function errText(e: unknown): string {
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? ` (${e.cause.message})` : "";
    return `${e.message}${cause}`;
  }
  return String(e);
}
