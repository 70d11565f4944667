/**
 * The project's one PNG encoder: 8-bit grayscale or RGB rasters, any of the five scanline
 * filters, and a zlib stream of either *stored* (uncompressed) deflate blocks, built here
 * synchronously, or real deflate from the platform's `CompressionStream` (asynchronous).
 * `encodePng` in `png.ts` (a grayscale tensor, the public API) and the report's `data:` URLs
 * (`src/cli/report/png.ts`, RGB color maps, synchronous) are both built on it.
 *
 * Format facts used (PNG spec, RFC 1950/1951): signature `89 50 4E 47 0D 0A 1A 0A`; chunks are
 * `length (u32 BE) | type | data | CRC-32 of type+data`; IHDR = width, height, bit depth 8,
 * colour type 0 (gray) or 2 (RGB), compression 0, filter 0, interlace 0; every scanline starts
 * with its filter byte; zlib = `78 01` header, deflate blocks, Adler-32 (BE); a stored block =
 * `BFINAL|BTYPE=00` byte, LEN and its one's complement NLEN (u16 LE), LEN bytes.
 *
 * @module
 */

/** The 8-byte PNG signature. */
export const PNG_SIGNATURE: readonly number[] = [137, 80, 78, 71, 13, 10, 26, 10];

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, reflected polynomial 0xEDB88320, the one PNG uses) of `bytes[from, to)`. */
export function crc32(bytes: Uint8Array, from = 0, to: number = bytes.length): number {
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Adler-32 (RFC 1950) of `bytes`. */
export function adler32(bytes: Uint8Array): number {
  let a = 1, b = 0;
  for (let i = 0; i < bytes.length; i++) {
    a = (a + bytes[i]) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A zlib stream of stored deflate blocks (at most 65,535 bytes each) holding `data` verbatim. */
export function zlibStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / 65535));
  const out = new Uint8Array(2 + blocks * 5 + data.length + 4);
  out[0] = 0x78; // CMF: deflate, 32 KiB window
  out[1] = 0x01; // FLG: (0x78 * 256 + 0x01) % 31 == 0, no dictionary, fastest level
  let o = 2;
  for (let k = 0; k < blocks; k++) {
    const from = k * 65535, len = Math.min(65535, data.length - from);
    out[o++] = k === blocks - 1 ? 1 : 0; // BFINAL, BTYPE 00
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(data.subarray(from, from + len), o);
    o += len;
  }
  new DataView(out.buffer).setUint32(o, adler32(data));
  return out;
}

/** A zlib stream of compressed deflate blocks, from the platform's `CompressionStream`. */
export async function zlibDeflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** An 8-bit image: `channels` bytes per pixel (1 = gray, 3 = RGB), row-major. */
export interface RasterImage {
  /** Width in pixels (>= 1). */
  readonly width: number;
  /** Height in pixels (>= 1). */
  readonly height: number;
  /** 1 (gray) or 3 (RGB). */
  readonly channels: 1 | 3;
  /** `width * height * channels` bytes. */
  readonly pixels: Uint8Array;
}

/** A PNG scanline filter: 0 none, 1 sub, 2 up, 3 average, 4 Paeth. */
export type PngFilter = 0 | 1 | 2 | 3 | 4;

/** Throws unless the raster's sizes agree (the message gives the numbers). */
function checkRaster(op: string, img: RasterImage): void {
  const { width: w, height: h, channels: ch, pixels } = img;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) {
    throw new Error(`${op}: width and height must be integers >= 1, got ${w}x${h}`);
  }
  if (ch !== 1 && ch !== 3) throw new Error(`${op}: channels must be 1 or 3, got ${ch}`);
  if (pixels.length !== w * h * ch) {
    throw new Error(
      `${op}: ${w}x${h} with ${ch} channel(s) needs ${w * h * ch} bytes, got ${pixels.length}`,
    );
  }
}

/**
 * The prediction of PNG filter `f` from the bytes left (`a`), above (`b`) and above-left (`c`):
 * none 0, sub `a`, up `b`, average `floor((a + b) / 2)`, Paeth the one of a, b, c nearest
 * `a + b - c` (ties in that order). The encoder writes `x - pred`, the decoder adds it back.
 */
export function filterPrediction(f: number, a: number, b: number, c: number): number {
  if (f === 1) return a;
  if (f === 2) return b;
  if (f === 3) return (a + b) >> 1;
  if (f === 4) {
    const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
  }
  return 0;
}

/**
 * The filtered scanlines: each row is its filter byte, then `x - pred (mod 256)` per byte with
 * `pred` from {@link filterPrediction} on the byte one pixel to the left (`a`), above (`b`) and
 * above-left (`c`); bytes outside the image count as 0.
 */
export function filterScanlines(img: RasterImage, filter: PngFilter): Uint8Array {
  const { width, height, channels: bpp, pixels } = img;
  const stride = width * bpp;
  const raw = new Uint8Array(height * (stride + 1));
  for (let r = 0; r < height; r++) {
    const row = r * stride, o = r * (stride + 1);
    raw[o] = filter;
    for (let i = 0; i < stride; i++) {
      const x = pixels[row + i];
      const a = i >= bpp ? pixels[row + i - bpp] : 0;
      const b = r > 0 ? pixels[row - stride + i] : 0;
      const c = r > 0 && i >= bpp ? pixels[row - stride + i - bpp] : 0;
      raw[o + 1 + i] = (x - filterPrediction(filter, a, b, c)) & 0xff;
    }
  }
  return raw;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/** The PNG file: signature, IHDR (8-bit gray or RGB, not interlaced), one IDAT, IEND. */
function assemble(img: RasterImage, zlib: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, img.width);
  view.setUint32(4, img.height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = img.channels === 1 ? 0 : 2; // gray or RGB; compression, filter, interlace stay 0
  const parts = [
    new Uint8Array(PNG_SIGNATURE),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** The PNG file of a raster with stored deflate blocks (synchronous). Throws on bad sizes. */
export function encodeRasterPng(img: RasterImage, filter: PngFilter = 0): Uint8Array {
  checkRaster("encodeRasterPng", img);
  return assemble(img, zlibStored(filterScanlines(img, filter)));
}

/** The PNG file of a raster with compressed deflate blocks. Throws on bad sizes. */
export async function encodeRasterPngDeflate(
  img: RasterImage,
  filter: PngFilter = 0,
): Promise<Uint8Array> {
  checkRaster("encodeRasterPngDeflate", img);
  return assemble(img, await zlibDeflate(filterScanlines(img, filter)));
}
