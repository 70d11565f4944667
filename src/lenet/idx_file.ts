/**
 * Reading IDX files from disk: raw or gzipped (detected by the gzip magic, whatever the name),
 * gunzipped with DecompressionStream as a stream, with the header checked as soon as its bytes
 * arrive so a bad or lying file stops the decompression early.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import {
  type DataError,
  errText,
  fileError,
  fmtInt,
  type IdxError,
  idxError,
} from "./data_error.ts";
import { decodeHeader, type IdxArray, parseIdx, REFETCH } from "./idx.ts";
import type { TaskEither } from "../tensor/result.ts";

/**
 * Options for {@link readIdxBytes} and {@link readIdxFile}.
 *
 * @example
 * ```ts
 * import { readIdxFile, type ReadIdxOptions } from "./mod.ts";
 * const opts: ReadIdxOptions = { maxBytes: 60_008, signal: AbortSignal.timeout(10_000) };
 * const r = await readIdxFile("data/mnist/train-labels-idx1-ubyte.gz", opts)();
 * ```
 */
export interface ReadIdxOptions {
  /** Stop and fail as soon as the (decompressed) file exceeds this many bytes. */
  readonly maxBytes?: number;
  /** Cancels the read; the result is then an `aborted` error. */
  readonly signal?: AbortSignal;
}

/**
 * Reads an IDX file into memory, gunzipping it on the fly (DecompressionStream, streamed) when
 * its first bytes are the gzip magic `1f 8b`, whatever its name.
 *
 * Memory never follows a header's claim alone: without `maxBytes`, chunks are kept as they
 * arrive and joined once at the end (memory = bytes really decompressed); with `maxBytes` (a
 * bound the caller trusts, e.g. the known size of an MNIST file), the final buffer of
 * `min(claim, maxBytes)` bytes is allocated once the header arrives and filled as data comes.
 * Decompression stops as soon as the header is invalid or the data outgrows what the header
 * (or `maxBytes`) allows.
 *
 * @example
 * ```ts
 * import { readIdxBytes } from "./mod.ts";
 * const r = await readIdxBytes("data/mnist/t10k-labels-idx1-ubyte.gz")();
 * if (r._tag === "Right") console.log(r.right.length); // 10008
 * ```
 */
export function readIdxBytes(
  path: string,
  opts: ReadIdxOptions = {},
): TaskEither<DataError, Uint8Array> {
  return () => readBytes(path, opts);
}

/**
 * Reads and parses an IDX file (raw or gzipped): {@link readIdxBytes} then {@link parseIdx}.
 *
 * @example
 * ```ts
 * import { readIdxFile } from "./mod.ts";
 * const r = await readIdxFile("data/mnist/t10k-labels-idx1-ubyte.gz")();
 * if (r._tag === "Right") console.log(r.right.shape, r.right.data.slice(0, 5)); // [10000] [7, 2, 1, 0, 4]
 * else console.error(r.left.message);
 * ```
 */
export function readIdxFile(
  path: string,
  opts: ReadIdxOptions = {},
): TaskEither<DataError, IdxArray> {
  return async () => {
    const bytes = await readBytes(path, opts);
    return E.isLeft(bytes) ? bytes : parseIdx(bytes.right, path);
  };
}

const aborted = (path: string): DataError => ({
  kind: "aborted",
  message: `reading ${path} was cancelled`,
});

async function readBytes(
  path: string,
  opts: ReadIdxOptions,
): Promise<E.Either<DataError, Uint8Array>> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    return E.left(fileError(e, path, "read"));
  }
  try {
    const magic = new Uint8Array(2);
    const got = (await file.read(magic)) ?? 0;
    if (got === 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
      await file.seek(0, Deno.SeekMode.Start);
      return await gunzipIdx(file.readable, path, opts);
    }
    const size = (await file.stat()).size;
    if (opts.maxBytes !== undefined && size > opts.maxBytes) {
      return E.left(tooBig(path, opts.maxBytes, size));
    }
    const bytes = new Uint8Array(size); // the file's real size: the input itself
    await file.seek(0, Deno.SeekMode.Start);
    let off = 0;
    while (off < size) {
      if (opts.signal?.aborted) return E.left(aborted(path));
      const n = await file.read(bytes.subarray(off));
      if (n === null) break;
      off += n;
    }
    return E.right(off === size ? bytes : bytes.subarray(0, off));
  } catch (e) {
    return E.left(fileError(e, path, "read"));
  } finally {
    try {
      file.close();
    } catch {
      // file.readable closes the file when it ends; nothing left to release.
    }
  }
}

const tooBig = (file: string, max: number, got: number): IdxError =>
  idxError(
    "trailing-bytes",
    file,
    max,
    "the file is larger than allowed",
    `at most ${fmtInt(max)} bytes`,
    `${got > max ? "at least " : ""}${fmtInt(got)} bytes`,
    REFETCH,
  );

/** Compressed bytes per decompressor write. */
const GZ_PIECE = 4096;

/** Streams `compressed` through gunzip, checking the IDX header as soon as it arrives. */
async function gunzipIdx(
  compressed: ReadableStream<Uint8Array<ArrayBuffer>>,
  path: string,
  opts: ReadIdxOptions,
): Promise<E.Either<DataError, Uint8Array>> {
  let consumed = 0; // compressed bytes fed to the decompressor, to locate corruption
  // The decompressor turns each input chunk into one output chunk, and deflate can expand
  // ~1032:1. Feeding it small pieces bounds each output chunk (~4 MB at worst), so the checks
  // below stop a gzip bomb early. Measured: no slower than 64 kB pieces on MNIST.
  const counted = compressed.pipeThrough(
    new TransformStream<Uint8Array<ArrayBuffer>, BufferSource>({
      transform(chunk, c) {
        for (let o = 0; o < chunk.length; o += GZ_PIECE) {
          const piece = chunk.subarray(o, o + GZ_PIECE);
          consumed += piece.length;
          c.enqueue(piece);
        }
      },
    }),
  );
  const reader = counted.pipeThrough(new DecompressionStream("gzip")).getReader();
  const chunks: Uint8Array[] = [];
  let out: Uint8Array | undefined; // the final buffer, once its size is known and trusted
  let total = 0;
  let limit = opts.maxBytes ?? Infinity;
  let headerDone = false;
  const stop = async (err: DataError): Promise<E.Either<DataError, Uint8Array>> => {
    await reader.cancel().catch(() => {});
    return E.left(err);
  };
  try {
    for (;;) {
      if (opts.signal?.aborted) return await stop(aborted(path));
      const { done, value } = await reader.read();
      if (done) break;
      if (out !== undefined && total + value.length <= out.length) {
        out.set(value, total); // straight from the decompressor, while still in cache
      } else {
        chunks.push(value);
      }
      total += value.length;
      if (!headerDone) {
        // The header needs at most 4 + 4 * 255 bytes; chunks are usually far bigger.
        const h = decodeHeader(join(chunks, total), path);
        if (h !== undefined) {
          if (E.isLeft(h)) return await stop(h.left);
          headerDone = true;
          limit = Math.min(limit, h.right.headerBytes + h.right.dataBytes);
          // With a caller-trusted bound (maxBytes), allocate the final buffer once now: its
          // size is at most that bound whatever the header claims.
          if (opts.maxBytes !== undefined && total <= limit) {
            out = new Uint8Array(limit);
            out.set(join(chunks, total));
            chunks.length = 0;
          }
        }
      }
      if (total > limit) {
        const err = limit === opts.maxBytes ? tooBig(path, limit, total) : idxError(
          "trailing-bytes",
          path,
          limit,
          "unexpected bytes after the data",
          `${fmtInt(limit)} bytes as the header says`,
          `at least ${fmtInt(total)} bytes`,
          REFETCH,
        );
        return await stop(err);
      }
    }
  } catch (e) {
    if (opts.signal?.aborted) return E.left(aborted(path));
    // DecompressionStream reports bad data as a TypeError; anything else is the disk.
    if (!(e instanceof TypeError)) return E.left(fileError(e, path, "read"));
    return E.left(idxError(
      "corrupt-gzip",
      path,
      total,
      "corrupt gzip data",
      "a valid gzip stream",
      `"${errText(e)}" within the first ${fmtInt(consumed)} compressed bytes`,
      "Delete the file and download it again (deno task data).",
    ));
  }
  // A short stream leaves `out` partly filled: hand back only what arrived (parseIdx then
  // reports the truncation with the exact sizes).
  return E.right(out !== undefined ? out.subarray(0, total) : join(chunks, total));
}

/** Concatenates chunks (no copy when there is just one). */
function join(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
