/**
 * PNG `data:` URLs, so maps can be embedded in a self-contained HTML file as SVG `<image>`
 * elements. The PNG itself comes from the project's one encoder (`src/lenet/png_encode.ts`) with
 * stored (uncompressed) deflate blocks: encoding stays synchronous (`CompressionStream` is
 * not), and the maps drawn here are small (a 28x28 digit is 812 bytes of scanlines), so
 * compression would save little.
 *
 * @module
 */

import { encodeRasterPng, type RasterImage } from "../../lenet/png_encode.ts";

export type { RasterImage };

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 (RFC 4648, with padding). */
export function base64(bytes: Uint8Array): string {
  let s = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += B64[v >>> 18] + B64[(v >>> 12) & 63] + B64[(v >>> 6) & 63] + B64[v & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i] << 16;
    s += B64[v >>> 18] + B64[(v >>> 12) & 63] + "==";
  } else if (rest === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    s += B64[v >>> 18] + B64[(v >>> 12) & 63] + B64[(v >>> 6) & 63] + "=";
  }
  return s;
}

/** `data:image/png;base64,...` of an image. */
export function pngDataUrl(img: RasterImage): string {
  return "data:image/png;base64," + base64(encodeRasterPng(img));
}
