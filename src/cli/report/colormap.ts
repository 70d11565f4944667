/**
 * Colour maps shared by the report (PNG pixels, SVG fills) and the in-browser demo (canvas
 * pixels): one definition, so a map looks the same in both.
 *
 * - `ink`: 0 -> white, 1 -> black, for digits and non-negative maps (print-like).
 * - `diverging`: a range symmetric around 0, negative blue, zero white, positive red (the
 *   ColorBrewer RdBu stops), for signed maps: delta maps, filters, raw convolution outputs.
 * - `heat`: white -> dark blue (ColorBrewer Blues), for counts such as a confusion matrix.
 *
 * @module
 */

/** The colour maps. */
export type ColorMapName = "ink" | "diverging" | "heat";

/** A value range mapped onto the colour map's ends. */
export interface ColorRange {
  /** The value drawn with the first colour. */
  readonly lo: number;
  /** The value drawn with the last colour. */
  readonly hi: number;
}

type Stop = readonly [number, number, number, number];

// [t, r, g, b] stops, interpolated linearly in sRGB.
const STOPS: Readonly<Record<ColorMapName, readonly Stop[]>> = {
  ink: [[0, 255, 255, 255], [1, 0, 0, 0]],
  diverging: [
    [0, 33, 102, 172],
    [0.25, 103, 169, 207],
    [0.5, 247, 247, 247],
    [0.75, 239, 138, 98],
    [1, 178, 24, 43],
  ],
  heat: [[0, 247, 251, 255], [0.5, 107, 174, 214], [1, 8, 48, 107]],
};

/** The colour at `t` in `[0, 1]` (clamped; NaN counts as 0) as `[r, g, b]` bytes. */
export function colorAt(map: ColorMapName, t: number): [number, number, number] {
  const stops = STOPS[map];
  const u = t > 0 ? (t < 1 ? t : 1) : 0;
  let i = 1;
  while (i < stops.length - 1 && stops[i][0] < u) i++;
  const a = stops[i - 1], b = stops[i];
  const f = (u - a[0]) / (b[0] - a[0]);
  return [
    Math.round(a[1] + f * (b[1] - a[1])),
    Math.round(a[2] + f * (b[2] - a[2])),
    Math.round(a[3] + f * (b[3] - a[3])),
  ];
}

/** `#rrggbb` of a colour. */
export function cssColor(rgb: readonly [number, number, number]): string {
  return "#" + rgb.map((c) => c.toString(16).padStart(2, "0")).join("");
}

/** `diverging` when any value is negative, else `ink`. */
export function pickColorMap(values: ArrayLike<number>): "ink" | "diverging" {
  for (let i = 0; i < values.length; i++) if (values[i] < 0) return "diverging";
  return "ink";
}

/**
 * The range a map is drawn with: `[-m, m]` with `m = max |v|` for `diverging` (so zero is
 * white), `[min(0, lo), max]` otherwise. A constant or empty map gets a unit-width range so
 * the division in {@link toRgb} is defined.
 */
export function autoRange(values: ArrayLike<number>, map: ColorMapName): ColorRange {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) return map === "diverging" ? { lo: -1, hi: 1 } : { lo: 0, hi: 1 };
  if (map === "diverging") {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return m > 0 ? { lo: -m, hi: m } : { lo: -1, hi: 1 };
  }
  lo = Math.min(lo, 0);
  return hi > lo ? { lo, hi } : { lo, hi: lo + 1 };
}

/** Packed RGB bytes (3 per value) of `values` through `map` over `range`. */
export function toRgb(
  values: ArrayLike<number>,
  map: ColorMapName,
  range: ColorRange,
): Uint8Array {
  // A 256-entry lookup table keeps the loop free of per-value allocations.
  const lut = new Uint8Array(256 * 3);
  for (let k = 0; k < 256; k++) lut.set(colorAt(map, k / 255), 3 * k);
  const out = new Uint8Array(values.length * 3);
  const scale = 255 / (range.hi - range.lo);
  for (let i = 0; i < values.length; i++) {
    let k = Math.round((values[i] - range.lo) * scale);
    k = k > 0 ? (k < 255 ? k : 255) : 0; // NaN -> 0
    out[3 * i] = lut[3 * k];
    out[3 * i + 1] = lut[3 * k + 1];
    out[3 * i + 2] = lut[3 * k + 2];
  }
  return out;
}
