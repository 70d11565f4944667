/**
 * PNG decoding to a grayscale image, and 8-bit grayscale PNG encoding of a tensor (built on the
 * project's one encoder, `png_encode.ts`).
 *
 * The decoder reads every standard PNG: color types gray, RGB, palette, gray+alpha and RGBA, bit
 * depths 1 to 16, the five scanline filters (none, sub, up, average, Paeth), Adam7 interlacing
 * and `tRNS` transparency. Each chunk's CRC-32 is checked, the zlib stream is inflated with the
 * platform's `DecompressionStream("deflate")` (which checks the Adler-32), and the decoder stops
 * reading as soon as the stream holds more data than the header announces.
 *
 * Color is reduced to luminance `Y = 0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601, as most image
 * libraries convert to gray). Transparent pixels are composited over a background opposite to
 * the ink: if the opaque pixels are mostly dark the background is white, else black, so both
 * dark-ink-on-transparent and light-ink-on-transparent drawings come out as a digit on a plain
 * background.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { Tensor } from "../tensor/tensor.ts";
import { TensorError } from "../tensor/errors.ts";
import { checkImage, ImageError, MAX_PIXELS, to8bit } from "./raster.ts";
import type { Either } from "../tensor/result.ts";
import {
  crc32,
  encodeRasterPng,
  encodeRasterPngDeflate,
  filterPrediction,
  PNG_SIGNATURE,
} from "./png_encode.ts";

export { crc32 };

/** Channels per color type: 0 gray, 2 RGB, 3 palette index, 4 gray+alpha, 6 RGBA. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
/** Adam7 passes: [x0, y0, dx, dy]. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

/** Inflates a zlib stream, refusing to produce more than `limit` bytes. */
async function inflate(data: Uint8Array, limit: number): Promise<Uint8Array | "too long"> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  const reader = stream.getReader();
  const out = new Uint8Array(limit);
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out.subarray(0, n);
    if (n + value.length > limit) {
      await reader.cancel();
      return "too long";
    }
    out.set(value, n);
    n += value.length;
  }
}

/** Undoes the five PNG filters in place over one pass; returns an error message or null. */
function unfilter(data: Uint8Array, start: number, rowBytes: number, rows: number, bpp: number) {
  for (let r = 0; r < rows; r++) {
    const f = data[start + r * (rowBytes + 1)];
    const row = start + r * (rowBytes + 1) + 1;
    const prev = r === 0 ? -1 : row - rowBytes - 1; // -1: the row above is all zeros
    if (f > 4) return `scanline ${r} has filter type ${f}; valid types are 0 to 4`;
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= bpp ? data[row + i - bpp] : 0; // left
      const b = prev >= 0 ? data[prev + i] : 0; // up
      const c = prev >= 0 && i >= bpp ? data[prev + i - bpp] : 0; // up-left
      data[row + i] = (data[row + i] + filterPrediction(f, a, b, c)) & 0xff;
    }
  }
  return null;
}

/**
 * Decodes a PNG file into a grayscale image: a float32 tensor `[height, width]` of luminance in
 * `[0, 1]` (0 black). Errors name the file, the byte offset or chunk, and what was wrong.
 *
 * @example
 * ```ts
 * import { decodePng, encodePng, tensor } from "./mod.ts";
 * const png = await encodePng(tensor([[0, 1], [1, 0]]));
 * const img = await decodePng(png, "check.png");
 * if (img._tag === "Right") console.log(img.right.shape); // [2, 2]
 * ```
 */
export async function decodePng(
  bytes: Uint8Array,
  file = "<png>",
): Promise<Either<ImageError, Tensor>> {
  const fail = (offset: number | null, why: string) => E.left(new ImageError(file, offset, why));
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    return fail(0, "not a PNG file (the 8-byte PNG signature is missing)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | null = null;
  let palette: Uint8Array | null = null;
  let trns: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let idatState: "before" | "in" | "after" = "before";
  let pos = 8, ended = false;
  while (!ended) {
    if (pos + 12 > bytes.length) {
      return fail(pos, "the file ends before the IEND chunk (truncated?)");
    }
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) {
      return fail(pos + 4, `invalid chunk type ${JSON.stringify(type)}`);
    }
    if (length > 2 ** 31 - 1 || pos + 12 + length > bytes.length) {
      return fail(
        pos,
        `chunk ${type} claims ${length} bytes but only ${
          bytes.length - pos - 12
        } remain (truncated?)`,
      );
    }
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    const stored = view.getUint32(pos + 8 + length);
    if (crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== stored) {
      return fail(pos + 8 + length, `chunk ${type}: CRC mismatch (the file is corrupt)`);
    }
    if (header === null && type !== "IHDR") {
      return fail(pos, `the first chunk is ${type}, expected IHDR`);
    }
    if (idatState === "in" && type !== "IDAT") idatState = "after";
    switch (type) {
      case "IHDR": {
        if (header !== null) return fail(pos, "a second IHDR chunk");
        if (length !== 13) return fail(pos, `IHDR is ${length} bytes, expected 13`);
        const width = view.getUint32(pos + 8), height = view.getUint32(pos + 12);
        const [depth, colorType, compression, filter, interlace] = data.subarray(8, 13);
        if (width === 0 || height === 0 || width > 2 ** 31 - 1 || height > 2 ** 31 - 1) {
          return fail(pos + 8, `image size ${width}x${height} is invalid`);
        }
        if (width * height > MAX_PIXELS) {
          return fail(pos + 8, `image size ${width}x${height} is more than ${MAX_PIXELS} pixels`);
        }
        if (!(colorType in DEPTHS)) return fail(pos + 17, `unknown color type ${colorType}`);
        if (!DEPTHS[colorType].includes(depth)) {
          return fail(
            pos + 16,
            `bit depth ${depth} is not allowed for color type ${colorType} (allowed: ${
              DEPTHS[colorType].join(", ")
            })`,
          );
        }
        if (compression !== 0) return fail(pos + 18, `unknown compression method ${compression}`);
        if (filter !== 0) return fail(pos + 19, `unknown filter method ${filter}`);
        if (interlace > 1) return fail(pos + 20, `unknown interlace method ${interlace}`);
        header = { width, height, depth, colorType, interlaced: interlace === 1 };
        break;
      }
      case "PLTE":
        if (idatState !== "before") return fail(pos, "PLTE after IDAT");
        if (length % 3 !== 0 || length === 0 || length > 768) {
          return fail(pos, `PLTE is ${length} bytes; it must hold 1 to 256 RGB entries`);
        }
        palette = data;
        break;
      case "tRNS":
        trns = data;
        break;
      case "IDAT":
        if (idatState === "after") return fail(pos, "IDAT chunks are not consecutive");
        idatState = "in";
        idat.push(data);
        break;
      case "IEND":
        ended = true;
        break;
      default:
        // Ancillary chunks (lowercase first letter) may be skipped; critical ones may not.
        if (type.charCodeAt(0) < 97) return fail(pos + 4, `unknown critical chunk ${type}`);
    }
    pos += 12 + length;
  }
  if (header === null) return fail(8, "no IHDR chunk");
  const { width, height, depth, colorType, interlaced } = header;
  if (colorType === 3 && palette === null) return fail(null, "palette image without a PLTE chunk");
  if (idat.length === 0) return fail(null, "no IDAT chunk: the file holds no image data");

  const channels = CHANNELS[colorType];
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3); // filter distance in bytes
  const passes = (interlaced ? ADAM7 : [[0, 0, 1, 1]]).map(([x0, y0, dx, dy]) => {
    const w = Math.max(0, Math.ceil((width - x0) / dx)),
      h = Math.max(0, Math.ceil((height - y0) / dy));
    return { x0, y0, dx, dy, w, h, rowBytes: Math.ceil((w * bitsPerPixel) / 8) };
  });
  const expected = passes.reduce(
    (s, p) => s + (p.w > 0 && p.h > 0 ? p.h * (p.rowBytes + 1) : 0),
    0,
  );
  const zlib = new Uint8Array(idat.reduce((s, d) => s + d.length, 0));
  idat.reduce((at, d) => (zlib.set(d, at), at + d.length), 0);
  let raw: Uint8Array | "too long";
  try {
    raw = await inflate(zlib, expected);
  } catch (e) {
    return fail(null, `IDAT: the zlib stream is corrupt (${e instanceof Error ? e.message : e})`);
  }
  if (raw === "too long") {
    return fail(
      null,
      `IDAT: the image data inflates to more than the ${expected} bytes a ${width}x${height} image needs`,
    );
  }
  if (raw.length < expected) {
    return fail(
      null,
      `IDAT: the image data inflates to ${raw.length} bytes, but a ${width}x${height} image needs ${expected} (truncated?)`,
    );
  }

  // Raw integer samples (palette: the index), normalized in toGray.
  const samples = new Uint16Array(width * height * channels);
  const mask = (1 << depth) - 1;
  let start = 0;
  for (const p of passes) {
    if (p.w === 0 || p.h === 0) continue;
    const err = unfilter(raw, start, p.rowBytes, p.h, bpp);
    if (err !== null) return fail(null, `IDAT: ${err}${interlaced ? " of its Adam7 pass" : ""}`);
    for (let r = 0; r < p.h; r++) {
      const row = start + r * (p.rowBytes + 1) + 1;
      const y = p.y0 + r * p.dy;
      for (let c = 0; c < p.w; c++) {
        const o = (y * width + p.x0 + c * p.dx) * channels;
        for (let k = 0; k < channels; k++) {
          const s = c * channels + k; // sample index within the row
          if (depth === 16) samples[o + k] = (raw[row + 2 * s] << 8) | raw[row + 2 * s + 1];
          else if (depth === 8) samples[o + k] = raw[row + s];
          else {samples[o + k] =
              (raw[row + ((s * depth) >> 3)] >> (8 - depth - ((s * depth) & 7))) & mask;}
        }
      }
    }
    start += p.h * (p.rowBytes + 1);
  }
  return toGray(samples, width, height, colorType, depth, palette, trns, file);
}

/** Luminance and alpha of every pixel, then compositing (see the module notes). */
function toGray(
  s: Uint16Array,
  width: number,
  height: number,
  colorType: number,
  depth: number,
  palette: Uint8Array | null,
  trns: Uint8Array | null,
  file: string,
): Either<ImageError, Tensor> {
  const n = width * height;
  const y = new Float32Array(n), alpha = new Float32Array(n).fill(1);
  const max = 2 ** depth - 1;
  const lum = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;
  // tRNS for gray/RGB: one color (raw sample values) that is fully transparent.
  const key = trns === null || colorType === 3
    ? null
    : Array.from({ length: trns.length >> 1 }, (_, i) => (trns[2 * i] << 8) | trns[2 * i + 1]);
  for (let i = 0; i < n; i++) {
    switch (colorType) {
      case 0:
        y[i] = s[i] / max;
        if (key !== null && key.length === 1 && s[i] === key[0]) alpha[i] = 0;
        break;
      case 2: {
        const [r, g, b] = [s[3 * i], s[3 * i + 1], s[3 * i + 2]];
        y[i] = lum(r, g, b) / max;
        if (key !== null && key.length === 3 && r === key[0] && g === key[1] && b === key[2]) {
          alpha[i] = 0;
        }
        break;
      }
      case 3: {
        const idx = s[i];
        if (3 * idx + 2 >= palette!.length) {
          return E.left(
            new ImageError(
              file,
              null,
              `pixel ${i % width},${
                Math.floor(i / width)
              } uses palette index ${idx}, but PLTE has ${palette!.length / 3} entries`,
            ),
          );
        }
        y[i] = lum(palette![3 * idx], palette![3 * idx + 1], palette![3 * idx + 2]) / 255;
        if (trns !== null && idx < trns.length) alpha[i] = trns[idx] / 255;
        break;
      }
      case 4:
        y[i] = s[2 * i] / max;
        alpha[i] = s[2 * i + 1] / max;
        break;
      case 6:
        y[i] = lum(s[4 * i], s[4 * i + 1], s[4 * i + 2]) / max;
        alpha[i] = s[4 * i + 3] / max;
    }
  }
  let weight = 0, sum = 0, transparent = false;
  for (let i = 0; i < n; i++) {
    weight += alpha[i];
    sum += alpha[i] * y[i];
    if (alpha[i] < 1) transparent = true;
  }
  if (transparent) {
    const background = weight > 0 && sum / weight < 0.5 ? 1 : 0; // opposite to the ink
    for (let i = 0; i < n; i++) y[i] = alpha[i] * y[i] + (1 - alpha[i]) * background;
  }
  return E.right(new Tensor(y, [height, width]));
}

/** Options of {@link encodePng}. */
export interface PngEncodeOptions {
  /** The scanline filter applied to every row (0 none, 1 sub, 2 up, 3 average, 4 Paeth); 0. */
  filter?: 0 | 1 | 2 | 3 | 4;
  /** `"deflate"` (compressed, the default) or `"stored"` (uncompressed deflate blocks). */
  compression?: "deflate" | "stored";
}

/**
 * Encodes a grayscale image (a `[height, width]` tensor, values clamped to `[0, 1]`) as an 8-bit
 * grayscale PNG.
 *
 * @example
 * ```ts
 * import { encodePng, zeros } from "./mod.ts";
 * const png = await encodePng(zeros([28, 28]), { filter: 4 });
 * await Deno.writeFile("/tmp/blank.png", png);
 * ```
 */
export async function encodePng(img: Tensor, opts: PngEncodeOptions = {}): Promise<Uint8Array> {
  const [height, width] = checkImage("encodePng", img);
  const filter = opts.filter ?? 0;
  if (![0, 1, 2, 3, 4].includes(filter)) {
    throw new TensorError("encodePng", `filter ${filter} is not a PNG filter type (0 to 4)`);
  }
  const raster = { width, height, channels: 1 as const, pixels: to8bit(img) };
  return opts.compression === "stored"
    ? encodeRasterPng(raster, filter)
    : await encodeRasterPngDeflate(raster, filter);
}
