/**
 * The four MNIST files: names, sizes, SHA-256 checksums, where they are served from, and how a
 * copy on disk is found and verified (decompressed size, then SHA-256 of the decompressed
 * contents, so a re-compressed copy verifies too).
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { type DataError, fileError, fmtInt, type IdxError, idxError } from "./data_error.ts";
import { readIdxBytes } from "./idx_file.ts";
import type { Either, TaskEither } from "../tensor/result.ts";

/**
 * The base names of the four MNIST files (without `.gz`).
 *
 * @example
 * ```ts
 * import type { MnistFileName } from "./mod.ts";
 * const labels: MnistFileName = "t10k-labels-idx1-ubyte";
 * ```
 */
export type MnistFileName =
  | "train-images-idx3-ubyte"
  | "train-labels-idx1-ubyte"
  | "t10k-images-idx3-ubyte"
  | "t10k-labels-idx1-ubyte";

/**
 * What we know about one MNIST file before downloading it.
 *
 * @example
 * ```ts
 * import { MNIST_FILES, type MnistFileSpec } from "./mod.ts";
 * const labels: MnistFileSpec = MNIST_FILES.find((s) => s.name === "t10k-labels-idx1-ubyte")!;
 * console.log(labels.bytes); // 10008
 * ```
 */
export interface MnistFileSpec {
  /** Base name; the mirrors serve `<name>.gz`. */
  readonly name: MnistFileName;
  /** SHA-256 (hex) of the decompressed contents. */
  readonly sha256: string;
  /** Size of the decompressed contents in bytes. */
  readonly bytes: number;
}

/**
 * The four files, with the checksums of ../shared/mnist/SHA256SUMS (decompressed contents).
 *
 * @example
 * ```ts
 * import { MNIST_FILES } from "./mod.ts";
 * for (const f of MNIST_FILES) console.log(`${f.sha256}  ${f.name}`); // the SHA256SUMS format
 * ```
 */
export const MNIST_FILES: readonly MnistFileSpec[] = [
  {
    name: "train-images-idx3-ubyte",
    sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    bytes: 47_040_016,
  },
  {
    name: "train-labels-idx1-ubyte",
    sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    bytes: 60_008,
  },
  {
    name: "t10k-images-idx3-ubyte",
    sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    bytes: 7_840_016,
  },
  {
    name: "t10k-labels-idx1-ubyte",
    sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    bytes: 10_008,
  },
];

/**
 * Public mirrors tried in order (base URLs; the file names are appended). Override with
 * `$MNIST_MIRROR` (comma-separated) or the `mirrors` option.
 *
 * @example
 * ```ts
 * import { DEFAULT_MIRRORS, loadMnist } from "./mod.ts";
 * const mine = ["https://example.org/mnist/", ...DEFAULT_MIRRORS]; // try mine first
 * const r = await loadMnist({ mirrors: mine })();
 * ```
 */
export const DEFAULT_MIRRORS: readonly string[] = [
  "https://ossci-datasets.s3.amazonaws.com/mnist/",
  "https://storage.googleapis.com/cvdf-datasets/mnist/",
  "http://yann.lecun.com/exdb/mnist/",
];

/**
 * Parses a comma-separated list of base URLs (the `$MNIST_MIRROR` syntax). Each must be http(s);
 * a missing trailing slash is added so file names append as path segments.
 *
 * @example
 * ```ts
 * import { parseMirrors } from "./mod.ts";
 * const r = parseMirrors("https://a.example/mnist, http://b.example/m/");
 * if (r._tag === "Right") console.log(r.right); // ["https://a.example/mnist/", "http://b.example/m/"]
 * ```
 */
export function parseMirrors(
  value: string,
  option = "MNIST_MIRROR",
): Either<DataError, readonly string[]> {
  const out: string[] = [];
  for (const raw of value.split(",")) {
    const s = raw.trim();
    if (s === "") continue;
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      u = new URL("invalid:");
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      return E.left({
        kind: "invalid-option",
        option,
        message: `${option}: "${s}" is not an http(s) URL; give comma-separated base URLs such ` +
          `as https://example.org/mnist/ (the file names are appended)`,
      });
    }
    out.push(u.href.endsWith("/") ? u.href : `${u.href}/`);
  }
  if (out.length === 0) {
    return E.left({
      kind: "invalid-option",
      option,
      message: `${option} is set but holds no URL; unset it to use the built-in mirrors`,
    });
  }
  return E.right(out);
}

/** Reads an environment variable; `undefined` when unset or when Deno denies env access. */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Hex SHA-256 of `bytes` (native WebCrypto, one call). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  let s = "";
  for (let i = 0; i < d.length; i++) s += d[i].toString(16).padStart(2, "0");
  return s;
}

/** Joins a directory and a file name with one slash. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Where `spec` lives in `dir`: `<name>.gz` if present, else the uncompressed `<name>`, else
 * `undefined`. Permission errors surface as a `permission` {@link DataError}.
 */
export function locateMnistFile(
  dir: string,
  spec: MnistFileSpec,
): TaskEither<DataError, string | undefined> {
  return async () => {
    for (const name of [`${spec.name}.gz`, spec.name]) {
      const p = joinPath(dir, name);
      try {
        if (await exists(p)) return E.right(p);
      } catch (e) {
        return E.left(fileError(e, p, "read"));
      }
    }
    return E.right(undefined);
  };
}

/**
 * Reads a file (gzipped or not) and checks that its decompressed contents are exactly the
 * MNIST file `spec` (size, then SHA-256). Returns the decompressed bytes.
 *
 * @example
 * ```ts
 * import { MNIST_FILES, verifyMnistFile } from "./mod.ts";
 * const spec = MNIST_FILES[1]; // train-labels-idx1-ubyte
 * const r = await verifyMnistFile(`data/mnist/${spec.name}.gz`, spec)();
 * console.log(r._tag === "Right" ? "verified" : r.left.message);
 * ```
 */
export function verifyMnistFile(
  path: string,
  spec: MnistFileSpec,
  signal?: AbortSignal,
): TaskEither<DataError, Uint8Array> {
  return async () => {
    const read = await readIdxBytes(path, { maxBytes: spec.bytes, signal })();
    if (E.isLeft(read)) return read;
    const bytes = read.right;
    const err = await checkMnistBytes(bytes, path, spec);
    return err === undefined ? E.right(bytes) : E.left(err);
  };
}

/** `undefined` when `bytes` are the MNIST file `spec`, else the `checksum` error. */
export async function checkMnistBytes(
  bytes: Uint8Array,
  path: string,
  spec: MnistFileSpec,
): Promise<IdxError | undefined> {
  const fix = `If it is another dataset in MNIST format (e.g. Fashion-MNIST), load it without ` +
    `verification (verify: false); otherwise delete it and run \`deno task data\`.`;
  if (bytes.length !== spec.bytes) {
    return idxError(
      "checksum",
      path,
      Math.min(bytes.length, spec.bytes),
      `decompressed size differs from ${spec.name}`,
      `${fmtInt(spec.bytes)} bytes`,
      `${fmtInt(bytes.length)} bytes`,
      fix,
    );
  }
  const got = await sha256Hex(bytes);
  if (got === spec.sha256) return undefined;
  return idxError(
    "checksum",
    path,
    0,
    `SHA-256 of the decompressed contents differs from ${spec.name}`,
    spec.sha256,
    got,
    fix,
  );
}
