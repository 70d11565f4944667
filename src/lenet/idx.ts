/**
 * The IDX file format (LeCun's format for MNIST and friends), parsed defensively.
 *
 * Layout (all integers big-endian):
 *
 * ```
 * byte 0-1   0x00 0x00            magic
 * byte 2     type code            0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
 *                                 0x0D float32, 0x0E float64
 * byte 3     n = number of dims   (1 for labels, 3 for images)
 * byte 4..   n x uint32 dims      e.g. 60000, 28, 28
 * then       prod(dims) elements of the type, row-major, big-endian
 * ```
 *
 * Every claim the header makes is checked against the real number of bytes BEFORE anything is
 * allocated, so a 100-byte file claiming 2^31 images fails at once with a typed error. The only
 * allocation the parser makes is the decoded array of a multi-byte type, whose size has by then
 * been proven equal to the bytes present; uint8 and int8 data are views of the input (no copy).
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { fmtInt, type IdxError, idxError } from "./data_error.ts";
import type { Either } from "../tensor/result.ts";

/**
 * The element types an IDX file can hold (type codes 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E).
 *
 * @example
 * ```ts
 * import type { IdxDType } from "./mod.ts";
 * const pixels: IdxDType = "uint8";
 * ```
 */
export type IdxDType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/**
 * Decoded IDX elements: a view of the input for 1-byte types, a fresh native-endian copy else.
 *
 * @example
 * ```ts
 * import { type IdxData, parseIdx } from "./mod.ts";
 * const r = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]));
 * const data: IdxData | undefined = r._tag === "Right" ? r.right.data : undefined;
 * console.log(data); // Uint8Array [7, 9]
 * ```
 */
export type IdxData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Float32Array
  | Float64Array;

/**
 * What the header of an IDX file says, once it has been checked.
 *
 * @example
 * ```ts
 * import { parseIdxHeader } from "./mod.ts";
 * const r = parseIdxHeader(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]));
 * if (r._tag === "Right") console.log(r.right); // { dtype: "uint8", shape: [2], headerBytes: 8, dataBytes: 2 }
 * ```
 */
export interface IdxHeader {
  /** Element type from the type code at byte 2. */
  readonly dtype: IdxDType;
  /** Extent of each dimension, e.g. `[60000, 28, 28]`. */
  readonly shape: readonly number[];
  /** Bytes taken by the header: `4 + 4 * shape.length`. */
  readonly headerBytes: number;
  /** Bytes the data must take: `prod(shape) * bytesPerElement`. */
  readonly dataBytes: number;
}

/**
 * A parsed IDX file: its header facts and its elements in row-major order.
 *
 * @example
 * ```ts
 * import { encodeIdx, type IdxArray } from "./mod.ts";
 * const labels: IdxArray = { dtype: "uint8", shape: [3], data: new Uint8Array([5, 0, 4]) };
 * console.log(encodeIdx(labels).length); // 11
 * ```
 */
export interface IdxArray {
  /** Element type. */
  readonly dtype: IdxDType;
  /** Extent of each dimension. */
  readonly shape: readonly number[];
  /** The elements; `data.length` is the product of `shape`. */
  readonly data: IdxData;
}

/** Type code -> dtype and element size, from the IDX definition. */
const TYPES: Readonly<Record<number, readonly [IdxDType, number]>> = {
  0x08: ["uint8", 1],
  0x09: ["int8", 1],
  0x0b: ["int16", 2],
  0x0c: ["int32", 4],
  0x0d: ["float32", 4],
  0x0e: ["float64", 8],
};

/** Largest element count we accept: the Tensor limit, and far beyond any real IDX file. */
const MAX_ELEMENTS = 2 ** 31 - 1;

export const REFETCH =
  "The file is damaged or is not an IDX file: delete it and download it again " +
  "(deno task data).";

const hex = (b: number): string => `0x${b.toString(16).padStart(2, "0")}`;

/**
 * Decodes the header from a prefix of the file (internal: shared with the streaming reader). Returns `undefined` when the prefix is too
 * short to decide (more bytes may follow); validates magic, type code and dims otherwise.
 * Does not look at the file's total size.
 */
export function decodeHeader(
  prefix: Uint8Array,
  file: string,
): Either<IdxError, IdxHeader> | undefined {
  if (prefix.length >= 1 && prefix[0] !== 0 || prefix.length >= 2 && prefix[1] !== 0) {
    const gz = prefix[0] === 0x1f && prefix[1] === 0x8b;
    const off = prefix[0] !== 0 ? 0 : 1;
    return E.left(idxError(
      "bad-magic",
      file,
      off,
      "bad magic number",
      "0x00 0x00 at bytes 0-1",
      `${hex(prefix[off])} at byte ${off}`,
      gz
        ? "These bytes are gzip-compressed: gunzip them first (readIdxFile does it for .gz files)."
        : REFETCH,
    ));
  }
  if (prefix.length < 4) return undefined;
  const type = TYPES[prefix[2]];
  if (type === undefined) {
    return E.left(idxError(
      "unsupported-type",
      file,
      2,
      "unknown IDX type code",
      "one of 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64",
      hex(prefix[2]),
      REFETCH,
    ));
  }
  const rank = prefix[3];
  if (rank === 0) {
    return E.left(idxError(
      "bad-dims",
      file,
      3,
      "the header declares no dimensions",
      "at least 1 dimension",
      "0",
      REFETCH,
    ));
  }
  const headerBytes = 4 + 4 * rank;
  if (prefix.length < headerBytes) return undefined;
  const view = new DataView(prefix.buffer, prefix.byteOffset, headerBytes);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0 || d > MAX_ELEMENTS) {
      return E.left(idxError(
        "bad-dims",
        file,
        4 + 4 * i,
        `dimension ${i} of ${rank} is ${d === 0 ? "zero" : "absurd"}`,
        `an extent in 1..${fmtInt(MAX_ELEMENTS)}`,
        fmtInt(d),
        REFETCH,
      ));
    }
    shape.push(d);
    count *= d; // exact while <= 2^53; checked against MAX_ELEMENTS right away
    if (count > MAX_ELEMENTS) {
      return E.left(idxError(
        "dims-overflow",
        file,
        4 + 4 * i,
        `dimensions [${shape.join(", ")}${i + 1 < rank ? ", ..." : ""}] multiply past the limit`,
        `at most ${fmtInt(MAX_ELEMENTS)} elements`,
        `at least ${fmtInt(count)}`,
        REFETCH,
      ));
    }
  }
  return E.right({ dtype: type[0], shape, headerBytes, dataBytes: count * type[1] });
}

/** Checks that a file of `total` bytes holds exactly what `h` promises. */
function checkSize(h: IdxHeader, total: number, file: string): Either<IdxError, IdxHeader> {
  const want = h.headerBytes + h.dataBytes;
  if (total === want) return E.right(h);
  const layout = `${fmtInt(h.headerBytes)} header + ${h.shape.map(fmtInt).join(" x ")} ${h.dtype}`;
  return E.left(
    total < want
      ? idxError(
        "truncated",
        file,
        total,
        "the file ends early",
        `${fmtInt(want)} bytes (${layout})`,
        `${fmtInt(total)} bytes`,
        "The file was cut short (an interrupted download?): delete it and download it again " +
          "(deno task data).",
      )
      : idxError(
        "trailing-bytes",
        file,
        want,
        "unexpected bytes after the data",
        `${fmtInt(want)} bytes (${layout})`,
        `${fmtInt(total)} bytes`,
        REFETCH,
      ),
  );
}

/**
 * Reads and checks the header of a complete IDX file held in `bytes`, including that the file
 * is exactly as long as the header says. Allocates nothing but the small header record.
 *
 * @example
 * ```ts
 * import { parseIdxHeader } from "./mod.ts";
 * // 100 bytes claiming 2^31 images of 28x28: rejected at once, nothing allocated.
 * const lie = new Uint8Array(100);
 * lie.set([0, 0, 8, 3, 0x80, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]);
 * const r = parseIdxHeader(lie, "lie.idx");
 * if (r._tag === "Left") console.log(r.left.kind); // "bad-dims"
 * ```
 *
 * @param file the name to use in error messages
 */
export function parseIdxHeader(bytes: Uint8Array, file = "<bytes>"): Either<IdxError, IdxHeader> {
  const h = decodeHeader(bytes, file);
  if (h === undefined) {
    // Too short for the header it starts: report the size the header needs.
    const need = bytes.length < 4 ? 4 : 4 + 4 * bytes[3];
    return E.left(idxError(
      "truncated",
      file,
      bytes.length,
      "the file ends inside the header",
      `at least ${fmtInt(need)} header bytes`,
      `${fmtInt(bytes.length)} bytes`,
      "The file was cut short: delete it and download it again (deno task data).",
    ));
  }
  return E.isLeft(h) ? h : checkSize(h.right, bytes.length, file);
}

/**
 * Parses a complete IDX file held in `bytes` (already decompressed).
 *
 * uint8/int8 results are views of `bytes` (no copy; don't modify `bytes` afterwards); wider
 * types are decoded from big-endian into a fresh array whose size was checked first.
 *
 * @example
 * ```ts
 * import { parseIdx } from "./mod.ts";
 * // int16, 1 dimension of 2: 0x0102 = 258 and 0xFFFE = -2, big-endian.
 * const r = parseIdx(new Uint8Array([0, 0, 0x0b, 1, 0, 0, 0, 2, 1, 2, 0xff, 0xfe]), "x.idx");
 * if (r._tag === "Right") console.log(r.right.dtype, r.right.shape, r.right.data); // int16 [2] Int16Array [258, -2]
 * else console.error(r.left.message);
 * ```
 *
 * @param file the name to use in error messages
 */
export function parseIdx(bytes: Uint8Array, file = "<bytes>"): Either<IdxError, IdxArray> {
  const checked = parseIdxHeader(bytes, file);
  if (E.isLeft(checked)) return checked;
  const { dtype, shape, headerBytes, dataBytes } = checked.right;
  const at = bytes.byteOffset + headerBytes;
  const n = dataBytes / TYPE_SIZE[dtype];
  // Proven above: headerBytes + dataBytes === bytes.length, so n elements fit in the input.
  switch (dtype) {
    case "uint8":
      return E.right({ dtype, shape, data: bytes.subarray(headerBytes) });
    case "int8":
      return E.right({ dtype, shape, data: new Int8Array(bytes.buffer, at, n) });
    default:
      return E.right({ dtype, shape, data: decodeBigEndian(bytes, headerBytes, dtype, n) });
  }
}

const TYPE_SIZE: Readonly<Record<IdxDType, number>> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  float32: 4,
  float64: 8,
};

/** Big-endian elements -> a native typed array (one loop per type, no per-element closure). */
function decodeBigEndian(bytes: Uint8Array, start: number, dtype: IdxDType, n: number): IdxData {
  const v = new DataView(bytes.buffer, bytes.byteOffset + start, bytes.length - start);
  if (dtype === "int16") {
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = v.getInt16(2 * i, false);
    return out;
  }
  if (dtype === "int32") {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = v.getInt32(4 * i, false);
    return out;
  }
  if (dtype === "float32") {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, false);
    return out;
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, false);
  return out;
}

/**
 * Encodes an array as IDX bytes (big-endian), the inverse of {@link parseIdx}. Used to write
 * small IDX files (tests, exports).
 *
 * @example
 * ```ts
 * import { encodeIdx } from "./mod.ts";
 * const bytes = encodeIdx({ dtype: "float32", shape: [2], data: new Float32Array([1.5, -2]) });
 * console.log(bytes.slice(0, 8)); // Uint8Array [0, 0, 13, 1, 0, 0, 0, 2]
 * ```
 */
export function encodeIdx(a: IdxArray): Uint8Array {
  const entry = Object.entries(TYPES).find(([, t]) => t[0] === a.dtype);
  if (entry === undefined) throw new TypeError(`encodeIdx: unknown dtype ${a.dtype}`);
  const size = entry[1][1];
  const head = 4 + 4 * a.shape.length;
  const out = new Uint8Array(head + a.data.length * size);
  const v = new DataView(out.buffer);
  out[2] = Number(entry[0]);
  out[3] = a.shape.length;
  a.shape.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i], o = head + i * size;
    if (a.dtype === "uint8") v.setUint8(o, x);
    else if (a.dtype === "int8") v.setInt8(o, x);
    else if (a.dtype === "int16") v.setInt16(o, x, false);
    else if (a.dtype === "int32") v.setInt32(o, x, false);
    else if (a.dtype === "float32") v.setFloat32(o, x, false);
    else v.setFloat64(o, x, false);
  }
  return out;
}
