/**
 * What the image codecs share: their error type, a pixel limit, and the checks and 8-bit
 * conversion of the encoders.
 *
 * @module
 */

import { fmtShape, TensorError } from "../tensor/errors.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** The most pixels an image may have (64 Mi): guards memory against absurd headers. */
export const MAX_PIXELS = 2 ** 26;

/**
 * An image that cannot be read. The message starts with the file name and, when known, the byte
 * offset of the problem.
 *
 * @example
 * ```ts
 * import { decodeImage } from "./mod.ts";
 * const r = await decodeImage(new TextEncoder().encode("P5 2 2 255\n"), "digit.pgm");
 * if (r._tag === "Left") console.log(r.left.message);
 * // digit.pgm: byte 11: the raster is 0 bytes, a 2x2 image with maxval 255 needs 4
 * ```
 */
export class ImageError extends Error {
  /** The file (or a label for in-memory bytes). */
  readonly file: string;
  /** Byte offset of the problem, or `null` when not about one place. */
  readonly offset: number | null;
  /** What was wrong, without the file and offset prefix. */
  readonly reason: string;

  /** Builds the error; the message is `file: byte offset: reason`. */
  constructor(file: string, offset: number | null, reason: string) {
    super(`${file}: ${offset === null ? "" : `byte ${offset}: `}${reason}`);
    this.name = "ImageError";
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/** Checks that `img` is a non-empty `[height, width]` image and returns its size. */
export function checkImage(op: string, img: Tensor): [height: number, width: number] {
  if (img.rank !== 2 || img.shape[0] === 0 || img.shape[1] === 0) {
    throw new TensorError(
      op,
      `expected a grayscale image [height, width] with both > 0, got shape ${fmtShape(img.shape)}`,
    );
  }
  return [img.shape[0], img.shape[1]];
}

/** Pixels as 8-bit values: `round(255 * clamp(v, 0, 1))` (NaN becomes 0). */
export function to8bit(img: Tensor): Uint8Array {
  const out = new Uint8Array(img.size);
  for (let i = 0; i < out.length; i++) {
    const v = img.data[i];
    out[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
  }
  return out;
}
