/**
 * A tiny synchronous PNG encoder (8-bit grayscale or RGB) and base64 `data:` URLs, so maps can be
 * embedded in a self-contained HTML file as SVG `<image>` elements.
 *
 * The zlib stream uses *stored* (uncompressed) deflate blocks: encoding stays a pure synchronous
 * function (`CompressionStream` is asynchronous), and the maps drawn here are small (a 28x28
 * digit is 812 bytes of scanlines), so compression would save little.
 *
 * Format facts used (PNG spec, RFC 1950/1951): signature `89 50 4E 47 0D 0A 1A 0A`; chunks are
 * `length (u32 BE) | type | data | CRC-32 of type+data`; IHDR = width, height, bit depth 8,
 * colour type 0 (gray) or 2 (RGB), compression 0, filter 0, interlace 0; every scanline starts
 * with its filter byte (0 = none); zlib = `78 01` header, deflate blocks, Adler-32 (BE); a
 * stored block = `BFINAL|BTYPE=00` byte, LEN and its one's complement NLEN (u16 LE), LEN bytes.
 *
 * @module
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, reflected polynomial 0xEDB88320) of `bytes[from, to)`. */
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

/** A zlib stream of stored deflate blocks holding `data` verbatim. */
export function zlibStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / 65535));
  const out = new Uint8Array(2 + blocks * 5 + data.length + 4);
  out[0] = 0x78; // CMF: deflate, 32K window
  out[1] = 0x01; // FLG: (0x78 * 256 + 0x01) % 31 == 0, no dictionary, fastest
  let o = 2;
  for (let k = 0; k < blocks; k++) {
    const from = k * 65535, len = Math.min(65535, data.length - from);
    out[o++] = k === blocks - 1 ? 1 : 0;
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(data.subarray(from, from + len), o);
    o += len;
  }
  const ad = adler32(data);
  out[o++] = ad >>> 24;
  out[o++] = (ad >>> 16) & 0xff;
  out[o++] = (ad >>> 8) & 0xff;
  out[o++] = ad & 0xff;
  return out;
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

function u32be(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  u32be(out, 0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  u32be(out, 8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/** The PNG file of an image. Throws on inconsistent sizes. */
export function encodePng(img: RasterImage): Uint8Array {
  const { width: w, height: h, channels: ch, pixels } = img;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) {
    throw new Error(`encodePng: width and height must be integers >= 1, got ${w}x${h}`);
  }
  if (pixels.length !== w * h * ch) {
    throw new Error(
      `encodePng: ${w}x${h} with ${ch} channel(s) needs ${w * h * ch} bytes, got ${pixels.length}`,
    );
  }
  const ihdr = new Uint8Array(13);
  u32be(ihdr, 0, w);
  u32be(ihdr, 4, h);
  ihdr[8] = 8;
  ihdr[9] = ch === 1 ? 0 : 2;
  const stride = w * ch;
  const scan = new Uint8Array(h * (stride + 1)); // filter byte 0 before each row
  for (let y = 0; y < h; y++) {
    scan.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlibStored(scan)),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

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
  return "data:image/png;base64," + base64(encodePng(img));
}
