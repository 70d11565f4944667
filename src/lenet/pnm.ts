/**
 * Netpbm images: PGM (P2 plain, P5 raw) and, for convenience, PPM (P3, P6), decoded to a
 * grayscale image; and a PGM encoder.
 *
 * Format (netpbm): a magic number, then width, height and maxval (1..65535) as ASCII decimals
 * separated by whitespace, with `#` comments to the end of a line; then one whitespace
 * character and the raster. Raw rasters hold one byte per sample when maxval < 256, else two
 * bytes, most significant first; plain rasters hold ASCII decimals. Color is reduced to
 * luminance `0.299 R + 0.587 G + 0.114 B`. Only the first image of a multi-image file is read.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { TensorError } from "../tensor/errors.ts";
import { Tensor } from "../tensor/tensor.ts";
import { checkImage, ImageError, MAX_PIXELS, to8bit } from "./raster.ts";
import type { Either } from "../tensor/result.ts";

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
}

/**
 * Decodes a PGM (P2/P5) or PPM (P3/P6) file into a grayscale image: a float32 tensor
 * `[height, width]` of `sample / maxval` in `[0, 1]` (0 black).
 *
 * @example
 * ```ts
 * import { decodePnm } from "./mod.ts";
 * const img = decodePnm(new TextEncoder().encode("P2\n2 1\n255\n0 255\n"), "tiny.pgm");
 * if (img._tag === "Right") console.log(img.right.data); // Float32Array [0, 1]
 * ```
 */
export function decodePnm(bytes: Uint8Array, file = "<pnm>"): Either<ImageError, Tensor> {
  const fail = (offset: number | null, why: string) => E.left(new ImageError(file, offset, why));
  const magic = String.fromCharCode(bytes[0] ?? 0, bytes[1] ?? 0);
  if (!["P2", "P3", "P5", "P6"].includes(magic)) {
    return fail(
      0,
      `not a PGM/PPM file: expected "P2", "P5", "P3" or "P6", found ${JSON.stringify(magic)}`,
    );
  }
  const plain = magic === "P2" || magic === "P3";
  const channels = magic === "P3" || magic === "P6" ? 3 : 1;
  let pos = 2;
  /** The next ASCII decimal, skipping whitespace and comments; its start, or an error. */
  const next = (what: string): { value: number; at: number } | { error: string; at: number } => {
    for (;;) {
      while (pos < bytes.length && isSpace(bytes[pos])) pos++;
      if (bytes[pos] !== 0x23) break; // '#': comment to the end of the line
      while (pos < bytes.length && bytes[pos] !== 0x0a && bytes[pos] !== 0x0d) pos++;
    }
    const at = pos;
    while (pos < bytes.length && bytes[pos] >= 0x30 && bytes[pos] <= 0x39) pos++;
    if (pos === at) {
      const found = at < bytes.length
        ? `byte 0x${bytes[at].toString(16).padStart(2, "0")}`
        : "the end of the file";
      return { error: `expected ${what} (a decimal number), found ${found}`, at };
    }
    if (pos < bytes.length && !isSpace(bytes[pos]) && bytes[pos] !== 0x23) {
      return {
        error: `${what} is followed by byte 0x${bytes[pos].toString(16)}, expected whitespace`,
        at: pos,
      };
    }
    const text = new TextDecoder().decode(bytes.subarray(at, pos));
    return { value: Number(text), at };
  };
  const header: number[] = [];
  for (const what of ["the width", "the height", "maxval"]) {
    const r = next(what);
    if ("error" in r) return fail(r.at, r.error);
    const limit = what === "maxval" ? 65535 : 2 ** 31 - 1;
    if (r.value < 1 || r.value > limit) {
      return fail(r.at, `${what} ${r.value} must be in 1..${limit}`);
    }
    header.push(r.value);
  }
  const [width, height, maxval] = header;
  if (width * height > MAX_PIXELS) {
    return fail(3, `image size ${width}x${height} is more than ${MAX_PIXELS} pixels`);
  }
  const n = width * height * channels;
  const samples = new Uint16Array(n);
  if (plain) {
    for (let i = 0; i < n; i++) {
      const r = next(`sample ${i} of ${n}`);
      if ("error" in r) return fail(r.at, r.error);
      if (r.value > maxval) return fail(r.at, `sample ${i} is ${r.value}, above maxval ${maxval}`);
      samples[i] = r.value;
    }
  } else {
    pos++; // the single whitespace character after maxval
    const wide = maxval > 255;
    const need = n * (wide ? 2 : 1);
    if (bytes.length - pos < need) {
      return fail(
        pos,
        `the raster is ${
          Math.max(0, bytes.length - pos)
        } bytes, a ${width}x${height} image with maxval ${maxval} needs ${need}`,
      );
    }
    for (let i = 0; i < n; i++) {
      const v = wide ? (bytes[pos + 2 * i] << 8) | bytes[pos + 2 * i + 1] : bytes[pos + i];
      if (v > maxval) {
        return fail(pos + i * (wide ? 2 : 1), `sample ${i} is ${v}, above maxval ${maxval}`);
      }
      samples[i] = v;
    }
  }
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    out[i] = channels === 1
      ? samples[i] / maxval
      : (0.299 * samples[3 * i] + 0.587 * samples[3 * i + 1] + 0.114 * samples[3 * i + 2]) / maxval;
  }
  return E.right(new Tensor(out, [height, width]));
}

/** Options of {@link encodePgm}. */
export interface PgmEncodeOptions {
  /** `"P5"` (raw bytes, the default) or `"P2"` (plain ASCII). */
  format?: "P5" | "P2";
}

/**
 * Encodes a grayscale image (a `[height, width]` tensor, values clamped to `[0, 1]`) as an 8-bit
 * PGM (maxval 255).
 *
 * @example
 * ```ts
 * import { encodePgm, tensor } from "./mod.ts";
 * const pgm = encodePgm(tensor([[0, 0.5, 1]]), { format: "P2" });
 * console.log(new TextDecoder().decode(pgm)); // "P2\n3 1\n255\n0 128 255\n"
 * ```
 */
export function encodePgm(img: Tensor, opts: PgmEncodeOptions = {}): Uint8Array {
  const [height, width] = checkImage("encodePgm", img);
  const format = opts.format ?? "P5";
  if (format !== "P5" && format !== "P2") {
    throw new TensorError("encodePgm", `format ${format} is not "P5" or "P2"`);
  }
  const pixels = to8bit(img);
  const head = new TextEncoder().encode(`${format}\n${width} ${height}\n255\n`);
  if (format === "P2") {
    const rows: string[] = [];
    for (let r = 0; r < height; r++) {
      rows.push(pixels.subarray(r * width, (r + 1) * width).join(" "));
    }
    const body = new TextEncoder().encode(rows.join("\n") + "\n");
    const out = new Uint8Array(head.length + body.length);
    out.set(head);
    out.set(body, head.length);
    return out;
  }
  const out = new Uint8Array(head.length + pixels.length);
  out.set(head);
  out.set(pixels, head.length);
  return out;
}
