/**
 * The safetensors file format, for float32 and float64 tensors.
 *
 * Layout (all integers little-endian):
 *
 * ```
 * bytes 0..8        N, an unsigned 64-bit header length
 * bytes 8..8+N      a UTF-8 JSON object, padded with spaces so that N is a multiple of 8:
 *                   {"__metadata__":{"key":"value",...},
 *                    "name":{"dtype":"F32","shape":[2,3],"data_offsets":[BEGIN,END]},...}
 * bytes 8+N..       the tensors' raw row-major little-endian data; BEGIN/END are relative to
 *                   byte 8+N, and the regions tile the rest of the file exactly
 * ```
 *
 * The encoder writes what the reference implementation (huggingface/safetensors) writes for the
 * same input: compact JSON, `__metadata__` first (omitted when empty; its keys sorted here, as
 * the reference's order is unspecified), tensors ordered by dtype size descending (F64 before
 * F32), then by name, each entry's fields in the order dtype, shape, data_offsets.
 *
 * The decoder is strict and returns every failure as a {@link CheckpointError} value naming the
 * file, the byte offset and what was expected: a short file, an absurd header length, bad UTF-8
 * or JSON (duplicate keys included), a non-object header, unknown or unsupported dtypes (only
 * F32 and F64 are read), bad shapes, offsets out of range, sizes that disagree with dtype x
 * shape, overlaps, holes and trailing bytes.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { TensorError } from "../tensor/errors.ts";
import { type DType, Tensor } from "../tensor/tensor.ts";
import { invalidUtf8At, type Json, JsonObject, parseJsonStrict } from "./json.ts";
import type { Either } from "../tensor/result.ts";

/**
 * A checkpoint or safetensors file that cannot be read or written. The message starts with the
 * file name and, when known, the byte offset of the problem.
 *
 * @example
 * ```ts
 * import { decodeSafetensors } from "./mod.ts";
 * const r = decodeSafetensors(new Uint8Array(3), "tiny.safetensors");
 * if (r._tag === "Left") console.log(r.left.message);
 * // tiny.safetensors: byte 0: the file is 3 bytes long, too short for the 8-byte header length
 * ```
 */
export class CheckpointError extends Error {
  /** The file (or a label for in-memory bytes). */
  readonly file: string;
  /** Byte offset of the problem in the file, or `null` when not about one place. */
  readonly offset: number | null;
  /** What was wrong, without the file and offset prefix. */
  readonly reason: string;

  /** Builds the error; the message is `file: byte offset: reason`. */
  constructor(file: string, offset: number | null, reason: string) {
    super(`${file}: ${offset === null ? "" : `byte ${offset}: `}${reason}`);
    this.name = "CheckpointError";
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/** The contents of a safetensors file. */
export interface SafetensorsContents {
  /** Tensors by name, in the order of their data in the file. */
  readonly tensors: ReadonlyMap<string, Tensor>;
  /** The `__metadata__` map (empty when the file has none). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Largest header accepted, as in the reference implementation (100 MB). */
export const MAX_HEADER_LENGTH = 100_000_000;

const DTYPES: Record<string, DType> = { F32: "float32", F64: "float64" };
const CODES: Record<DType, string> = { float32: "F32", float64: "F64" };
const SIZES: Record<DType, number> = { float32: 4, float64: 8 };
const OTHER_DTYPES = new Set([
  "BOOL",
  "U8",
  "I8",
  "I16",
  "U16",
  "F16",
  "BF16",
  "I32",
  "U32",
  "I64",
  "U64",
  "C64",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "F6_E2M3",
  "F6_E3M2",
  "F4",
]);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Orders strings by Unicode code point, i.e. by their UTF-8 bytes (as Rust compares). */
function compareCodePoints(a: string, b: string): number {
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * Encodes named float32/float64 tensors and string metadata as a safetensors file.
 * Throws a {@link TensorError} for a duplicate or reserved (`__metadata__`) name.
 *
 * @example
 * ```ts
 * import { encodeSafetensors, tensor } from "./mod.ts";
 * const bytes = encodeSafetensors([["w", tensor([1, 2])]], { step: "10" });
 * console.log(bytes.length); // 104: 8 + 88 (JSON header padded to a multiple of 8) + 8 (data)
 * ```
 */
export function encodeSafetensors(
  tensors: Iterable<readonly [string, Tensor]>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const list = [...tensors];
  const seen = new Set<string>();
  for (const [name, t] of list) {
    if (name === "__metadata__" || seen.has(name)) {
      throw new TensorError(
        "encodeSafetensors",
        `tensor name ${JSON.stringify(name)} is ${seen.has(name) ? "used twice" : "reserved"}; ` +
          `give every tensor a distinct name`,
      );
    }
    if (!(t instanceof Tensor)) {
      throw new TensorError("encodeSafetensors", `${JSON.stringify(name)} is not a Tensor`);
    }
    seen.add(name);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") {
      throw new TensorError("encodeSafetensors", `metadata ${JSON.stringify(k)} is not a string`);
    }
  }
  // Larger elements first keeps every tensor aligned to its element size (as the reference).
  list.sort(([a, x], [b, y]) => SIZES[y.dtype] - SIZES[x.dtype] || compareCodePoints(a, b));
  const parts: string[] = [];
  const metaKeys = Object.keys(metadata).sort(compareCodePoints);
  if (metaKeys.length > 0) {
    const kv = metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`);
    parts.push(`"__metadata__":{${kv.join(",")}}`);
  }
  let offset = 0;
  for (const [name, t] of list) {
    const end = offset + t.data.byteLength;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${CODES[t.dtype]}","shape":[${t.shape.join(",")}],` +
        `"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const n = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + n + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, n, true); // n < 2^32 for any header we can build in memory
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let at = 8 + n;
  for (const [, t] of list) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    } else {
      const size = SIZES[t.dtype];
      for (let i = 0; i < t.data.length; i++) {
        if (size === 4) view.setFloat32(at + 4 * i, t.data[i], true);
        else view.setFloat64(at + 8 * i, t.data[i], true);
      }
    }
    at += t.data.byteLength;
  }
  return out;
}

/** A tensor entry of the header, validated. */
interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
  at: number; // file offset of the entry's JSON value, for messages
}

function kindOf(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (v instanceof JsonObject) return "an object";
  return `a ${typeof v}`;
}

/**
 * Decodes a safetensors file strictly (see the module notes for everything it rejects).
 * `file` names the source in error messages.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors, tensor } from "./mod.ts";
 * const bytes = encodeSafetensors([["w", tensor([1, 2])]], { epoch: "3" });
 * const r = decodeSafetensors(bytes, "model.safetensors");
 * if (r._tag === "Right") console.log(r.right.tensors.get("w")?.data, r.right.metadata);
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  file = "<bytes>",
): Either<CheckpointError, SafetensorsContents> {
  const fail = (offset: number | null, reason: string) =>
    E.left(new CheckpointError(file, offset, reason));
  if (bytes.length < 8) {
    return fail(
      0,
      `the file is ${bytes.length} bytes long, too short for the 8-byte header length`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true), hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (hi !== 0 || n > MAX_HEADER_LENGTH) {
    return fail(
      0,
      `header length ${
        BigInt(hi) << 32n | BigInt(lo)
      } is absurd (limit ${MAX_HEADER_LENGTH}); not a safetensors file?`,
    );
  }
  if (8 + n > bytes.length) {
    return fail(
      0,
      `header length ${n} runs past the end of the file (${bytes.length} bytes, so at most ${
        bytes.length - 8
      })`,
    );
  }
  const headerBytes = bytes.subarray(8, 8 + n);
  if (n === 0 || headerBytes[0] !== 0x7b) {
    return fail(
      8,
      `the header must start with '{' (a JSON object), found ${
        n === 0 ? "nothing" : `byte 0x${headerBytes[0].toString(16).padStart(2, "0")}`
      }`,
    );
  }
  const bad = invalidUtf8At(headerBytes);
  if (bad >= 0) return fail(8 + bad, "the header is not valid UTF-8");
  const text = new TextDecoder().decode(headerBytes);
  // Character index -> file offset (they differ only after non-ASCII characters).
  const at = (charIndex: number) => 8 + new TextEncoder().encode(text.slice(0, charIndex)).length;
  const parsed = parseJsonStrict(text);
  if ("error" in parsed) {
    return fail(at(parsed.error.offset), `the header is not valid JSON: ${parsed.error.message}`);
  }
  const root = parsed.value;
  if (!(root instanceof JsonObject)) return fail(8, `the header is ${kindOf(root)}, not an object`);

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  const dataLength = bytes.length - 8 - n;
  for (const [name, value] of root.entries) {
    const where = at(root.offsets.get(name)!);
    if (name === "__metadata__") {
      if (!(value instanceof JsonObject)) {
        return fail(where, `"__metadata__" is ${kindOf(value)}; it must map strings to strings`);
      }
      for (const [k, v] of value.entries) {
        if (typeof v !== "string") {
          return fail(
            at(value.offsets.get(k)!),
            `metadata ${JSON.stringify(k)} is ${kindOf(v)}; metadata values must be strings`,
          );
        }
        metadata[k] = v;
      }
      continue;
    }
    const tensorName = `tensor ${JSON.stringify(name)}`;
    if (!(value instanceof JsonObject)) {
      return fail(
        where,
        `${tensorName} is ${kindOf(value)}; expected {"dtype", "shape", "data_offsets"}`,
      );
    }
    for (const key of value.entries.keys()) {
      if (key !== "dtype" && key !== "shape" && key !== "data_offsets") {
        return fail(
          at(value.offsets.get(key)!),
          `${tensorName} has an unknown field ${JSON.stringify(key)}`,
        );
      }
    }
    for (const key of ["dtype", "shape", "data_offsets"]) {
      if (!value.entries.has(key)) return fail(where, `${tensorName} has no "${key}"`);
    }
    const code = value.entries.get("dtype")!;
    const codeAt = at(value.offsets.get("dtype")!);
    if (typeof code !== "string") {
      return fail(codeAt, `${tensorName}: dtype is ${kindOf(code)}, expected a string`);
    }
    if (!Object.hasOwn(DTYPES, code)) {
      return fail(
        codeAt,
        OTHER_DTYPES.has(code)
          ? `${tensorName}: unsupported dtype ${code}; gradproof reads F32 and F64 only`
          : `${tensorName}: unknown dtype ${JSON.stringify(code)}; expected "F32" or "F64"`,
      );
    }
    const dtype = DTYPES[code];
    const shape = value.entries.get("shape")!;
    const shapeAt = at(value.offsets.get("shape")!);
    if (!Array.isArray(shape)) {
      return fail(shapeAt, `${tensorName}: shape is ${kindOf(shape)}, expected an array`);
    }
    let count = 1;
    for (const d of shape) {
      if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
        return fail(
          shapeAt,
          `${tensorName}: shape ${JSON.stringify(shape)} has extent ${
            JSON.stringify(d)
          }; extents must be integers >= 0 (below 2^53)`,
        );
      }
      count *= d;
    }
    if (count > 2 ** 31 - 1) {
      return fail(
        shapeAt,
        `${tensorName}: shape ${
          JSON.stringify(shape)
        } has ${count} elements, more than a tensor can hold (2^31 - 1)`,
      );
    }
    const offsets = value.entries.get("data_offsets")!;
    const offAt = at(value.offsets.get("data_offsets")!);
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0)
    ) {
      return fail(
        offAt,
        `${tensorName}: data_offsets ${
          JSON.stringify(offsets)
        } must be [begin, end], two integers >= 0`,
      );
    }
    const [begin, end] = offsets as number[];
    if (end < begin) {
      return fail(offAt, `${tensorName}: data_offsets [${begin}, ${end}] end before they begin`);
    }
    if (end > dataLength) {
      return fail(
        offAt,
        `${tensorName}: data_offsets [${begin}, ${end}] run past the data section (${dataLength} bytes after the header)`,
      );
    }
    const need = count * SIZES[dtype];
    if (end - begin !== need) {
      return fail(
        offAt,
        `${tensorName}: data_offsets [${begin}, ${end}] hold ${
          end - begin
        } bytes, but ${code} x shape ${JSON.stringify(shape)} needs ${need}`,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end, at: offAt });
  }

  // The regions must tile the data section: sorted by offset, each starts where the last ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0, previous = "the start of the data section";
  for (const e of entries) {
    const here = `tensor ${JSON.stringify(e.name)}`;
    if (e.begin < cursor) {
      return fail(
        e.at,
        `${here} [${e.begin}, ${e.end}] overlaps ${previous} (which ends at ${cursor})`,
      );
    }
    if (e.begin > cursor) {
      return fail(
        8 + n + cursor,
        `a hole of ${
          e.begin - cursor
        } bytes between ${previous} (ends at ${cursor}) and ${here} (begins at ${e.begin})`,
      );
    }
    cursor = e.end;
    previous = here;
  }
  if (cursor !== dataLength) {
    return fail(
      8 + n + cursor,
      `${
        dataLength - cursor
      } trailing bytes after ${previous}; the data section must end with the last tensor`,
    );
  }

  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const start = 8 + n + e.begin;
    const size = SIZES[e.dtype];
    const count = (e.end - e.begin) / size;
    const data = e.dtype === "float64" ? new Float64Array(count) : new Float32Array(count);
    if (LITTLE_ENDIAN) {
      // Copy: the region need not be aligned in `bytes`, and the tensor must own its data.
      new Uint8Array(data.buffer).set(bytes.subarray(start, 8 + n + e.end));
    } else {
      for (let i = 0; i < count; i++) {
        data[i] = size === 4
          ? view.getFloat32(start + 4 * i, true)
          : view.getFloat64(start + 8 * i, true);
      }
    }
    tensors.set(e.name, new Tensor(data, e.shape));
  }
  return E.right({ tensors, metadata });
}
