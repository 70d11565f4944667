/**
 * A drawing -> a 28x28 input the way MNIST's digits were made (LeCun et al.): the digit's
 * bounding box is scaled, keeping its aspect ratio, to fit a 20x20 box with anti-aliasing (here
 * an exact area average), then placed in a 28x28 field so that its centre of mass sits at the
 * field's centre. A network trained on MNIST only knows digits of that size and position, so
 * the demo must feed it the same.
 *
 * Pure functions on flat typed arrays: unit-tested in Deno, bundled for the browser.
 *
 * @module
 */

/** Side of the output field. */
export const FIELD = 28;
/** Side of the box the digit is scaled into. */
export const BOX = 20;

/** Ink per pixel in [0, 1] from RGBA bytes: the alpha channel (strokes on a transparent canvas). */
export function inkFromRgba(rgba: ArrayLike<number>, width: number, height: number): Float32Array {
  const n = width * height;
  if (rgba.length !== 4 * n) {
    throw new Error(
      `inkFromRgba: ${width}x${height} RGBA needs ${4 * n} bytes, got ${rgba.length}`,
    );
  }
  const ink = new Float32Array(n);
  for (let i = 0; i < n; i++) ink[i] = rgba[4 * i + 3] / 255;
  return ink;
}

/** The smallest box holding every pixel above `threshold`, or null if there is none. */
export function boundingBox(
  ink: ArrayLike<number>,
  width: number,
  height: number,
  threshold = 0.05,
): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 }; // x1, y1 exclusive
}

/**
 * Area-average weights from `n` source cells to `m` target cells: target `j` covers source
 * interval `[j n/m, (j+1) n/m)`, and each source cell contributes its overlap with it, divided
 * by the interval's length (so a constant image stays constant). Flat triples (target, source,
 * weight).
 */
function boxWeights(n: number, m: number): { t: Int32Array; s: Int32Array; w: Float64Array } {
  const t: number[] = [], s: number[] = [], w: number[] = [];
  const step = n / m;
  for (let j = 0; j < m; j++) {
    const a = j * step, b = (j + 1) * step;
    for (let i = Math.floor(a); i < Math.ceil(b) && i < n; i++) {
      const overlap = Math.min(b, i + 1) - Math.max(a, i);
      if (overlap > 0) {
        t.push(j);
        s.push(i);
        w.push(overlap / step);
      }
    }
  }
  return { t: Int32Array.from(t), s: Int32Array.from(s), w: Float64Array.from(w) };
}

/** Resamples a `w x h` image to `tw x th` by exact area averaging (separable: rows, then columns). */
export function resizeArea(
  src: ArrayLike<number>,
  w: number,
  h: number,
  tw: number,
  th: number,
): Float64Array {
  const bx = boxWeights(w, tw), by = boxWeights(h, th);
  const mid = new Float64Array(tw * h);
  for (let y = 0; y < h; y++) {
    for (let k = 0; k < bx.t.length; k++) mid[y * tw + bx.t[k]] += bx.w[k] * src[y * w + bx.s[k]];
  }
  const out = new Float64Array(tw * th);
  for (let k = 0; k < by.t.length; k++) {
    const to = by.t[k] * tw, from = by.s[k] * tw, wt = by.w[k];
    for (let x = 0; x < tw; x++) out[to + x] += wt * mid[from + x];
  }
  return out;
}

/** Centre of mass `(cx, cy)` in continuous coordinates (pixel `i` spans `[i, i+1)`). */
export function centerOfMass(img: ArrayLike<number>, w: number, h: number): [number, number] {
  let m = 0, sx = 0, sy = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = img[y * w + x];
      m += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  return m > 0 ? [sx / m, sy / m] : [w / 2, h / 2];
}

/**
 * MNIST preprocessing of an ink image (`width x height`, values in [0, 1]): crop to the
 * bounding box, scale the longer side to 20 (area average), move the centre of mass to pixel
 * (14, 14) of the 28x28 field (by whole pixels; ink shifted out of the field is dropped). Returns 784 values in
 * [0, 1], all zero for an empty drawing.
 */
export function mnistStyle(ink: ArrayLike<number>, width: number, height: number): Float32Array {
  const out = new Float32Array(FIELD * FIELD);
  const bb = boundingBox(ink, width, height);
  if (bb === null) return out;
  const cw = bb.x1 - bb.x0, ch = bb.y1 - bb.y0;
  const crop = new Float64Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) crop[y * cw + x] = ink[(bb.y0 + y) * width + bb.x0 + x];
  }
  const scale = BOX / Math.max(cw, ch);
  const tw = Math.max(1, Math.round(cw * scale)), th = Math.max(1, Math.round(ch * scale));
  const small = resizeArea(crop, cw, ch, tw, th);
  const [cx, cy] = centerOfMass(small, tw, th);
  // MNIST puts the centre of mass at pixel index (14, 14), i.e. continuous (14.5, 14.5):
  // measured on the test set, the mean is (14.00, 13.99) in index coordinates. Half a pixel
  // off would cost a thin stroke much of its overlap with what the network was trained on.
  const ox = Math.round(FIELD / 2 + 0.5 - cx), oy = Math.round(FIELD / 2 + 0.5 - cy);
  for (let y = 0; y < th; y++) {
    const fy = y + oy;
    if (fy < 0 || fy >= FIELD) continue;
    for (let x = 0; x < tw; x++) {
      const fx = x + ox;
      if (fx < 0 || fx >= FIELD) continue;
      const v = small[y * tw + x];
      out[fy * FIELD + fx] = v > 1 ? 1 : v < 0 ? 0 : v;
    }
  }
  return out;
}

/** Pearson correlation of two equally long arrays (0 when either is constant). */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`correlation: lengths ${a.length} and ${b.length}`);
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}
