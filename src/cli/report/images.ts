/**
 * Maps as pictures: grayscale or signed 2-D maps rendered to PNG `data:` URLs inside SVG
 * `<image>` elements (crisp pixels via `image-rendering: pixelated`), laid out in captioned
 * grids with a colour scale; and digits with a bar chart of their class probabilities.
 *
 * @module
 */

import { autoRange, type ColorMapName, type ColorRange, pickColorMap, toRgb } from "./colormap.ts";
import { el, join, type Markup, num, svgText, text } from "./html.ts";
import { pngDataUrl } from "./png.ts";
import { fmtSig } from "./charts.ts";

/** A 2-D map of numbers, row-major. */
export interface Map2d {
  /** Columns. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** `width * height` values. */
  readonly values: ArrayLike<number>;
}

/** How a map is coloured: a fixed colour map, or `auto` (diverging when any value < 0). */
export type Coloring = "auto" | ColorMapName;

/** An `<image class="map">` of `map` at `(x, y)`, each map pixel drawn as `scale` px. */
export function mapImage(
  map: Map2d,
  x: number,
  y: number,
  scale: number,
  cmap: ColorMapName,
  range: ColorRange,
): Markup {
  if (map.values.length !== map.width * map.height) {
    throw new Error(
      `mapImage: a ${map.width}x${map.height} map needs ${map.width * map.height} values, ` +
        `got ${map.values.length}`,
    );
  }
  const href = pngDataUrl({
    width: map.width,
    height: map.height,
    channels: 3,
    pixels: toRgb(map.values, cmap, range),
  });
  return el("image", {
    class: "map",
    x,
    y,
    width: map.width * scale,
    height: map.height * scale,
    href,
    preserveAspectRatio: "none",
  });
}

/** One picture of a grid and its caption. */
export interface GridItem {
  /** The map. */
  readonly map: Map2d;
  /** Caption under it (escaped); keep it short. */
  readonly caption?: string;
}

/** Options of {@link imageGrid}. */
export interface ImageGridOptions {
  /** The pictures, all drawn at the same scale. */
  readonly items: readonly GridItem[];
  /** Pictures per row; default 8. */
  readonly columns?: number;
  /** Target size in px of the larger side of a picture; default 72. */
  readonly size?: number;
  /** Colouring; default `auto` over all items together. */
  readonly coloring?: Coloring;
  /**
   * `shared`: one range for all items (compare magnitudes across maps, one scale bar); `each`:
   * each map stretched to its own range (see structure in weak maps). Default `shared`.
   */
  readonly range?: "shared" | "each";
  /** The figure caption under the grid (escaped). */
  readonly caption?: string;
}

function concatValues(items: readonly GridItem[]): Float64Array {
  let n = 0;
  for (const it of items) n += it.map.values.length;
  const all = new Float64Array(n);
  let o = 0;
  for (const it of items) {
    for (let i = 0; i < it.map.values.length; i++) all[o++] = it.map.values[i];
  }
  return all;
}

/**
 * A `<figure class="image-grid">` holding one SVG: an `<image class="map">` per item with its
 * caption (`<text class="caption">`), and for a shared range a colour scale (`<image
 * class="scale">` with its end values and 0 for diverging maps); then a `<figcaption>`.
 */
export function imageGrid(opts: ImageGridOptions): Markup {
  const items = opts.items;
  const cols = Math.max(1, Math.min(opts.columns ?? 8, items.length));
  const maxSide = items.reduce((m, it) => Math.max(m, it.map.width, it.map.height), 1);
  const scale = Math.max(1, Math.round((opts.size ?? 72) / maxSide));
  const cellW = Math.max(...items.map((it) => it.map.width), 1) * scale;
  const cellH = Math.max(...items.map((it) => it.map.height), 1) * scale;
  const hasCaptions = items.some((it) => it.caption !== undefined);
  const stepX = Math.max(cellW, 40) + 10, stepY = cellH + (hasCaptions ? 22 : 8);
  const rows = Math.ceil(items.length / cols);
  const all = concatValues(items);
  const cmap: ColorMapName = (opts.coloring ?? "auto") === "auto"
    ? pickColorMap(all)
    : opts.coloring as ColorMapName;
  const shared = (opts.range ?? "shared") === "shared";
  const sharedRange = autoRange(all, cmap);
  const parts: Markup[] = [];
  items.forEach((it, k) => {
    const x = (k % cols) * stepX, y = Math.floor(k / cols) * stepY;
    const range = shared ? sharedRange : autoRange(it.map.values, cmap);
    parts.push(mapImage(it.map, x, y, scale, cmap, range));
    if (it.caption !== undefined) {
      parts.push(svgText(x + cellW / 2, y + cellH + 15, it.caption, {
        class: "caption",
        "text-anchor": "middle",
      }));
    }
  });
  let H = rows * stepY;
  if (shared && items.length > 0) {
    parts.push(scaleBar(0, H + 4, Math.min(220, cols * stepX - 10), cmap, sharedRange));
    H += 40;
  }
  const W = Math.max(cols * stepX, 230);
  const svg = el(
    "svg",
    {
      xmlns: "http://www.w3.org/2000/svg",
      width: W,
      height: H,
      viewBox: `0 0 ${W} ${H}`,
      role: "img",
      "aria-label": opts.caption ?? "maps",
    },
    join(parts),
  );
  return el(
    "figure",
    { class: "image-grid", "data-colormap": cmap },
    svg,
    opts.caption === undefined ? join([]) : el("figcaption", {}, text(opts.caption)),
  );
}

/** A horizontal colour bar image with its end values (and 0 in the middle when diverging). */
function scaleBar(x: number, y: number, w: number, cmap: ColorMapName, r: ColorRange): Markup {
  const n = 64;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = r.lo + ((r.hi - r.lo) * i) / (n - 1);
  const href = pngDataUrl({ width: n, height: 1, channels: 3, pixels: toRgb(values, cmap, r) });
  const parts = [
    el("image", { class: "scale", x, y, width: w, height: 10, href, preserveAspectRatio: "none" }),
    svgText(x, y + 24, fmtSig(r.lo), { class: "tick" }),
    svgText(x + w, y + 24, fmtSig(r.hi), { class: "tick", "text-anchor": "end" }),
  ];
  if (cmap === "diverging") {
    parts.push(svgText(x + w / 2, y + 24, "0", { class: "tick", "text-anchor": "middle" }));
  }
  return el("g", { class: "color-scale" }, join(parts));
}

/** A digit and what a classifier thought of it. */
export interface DigitCard {
  /** 28x28 (or `width * height`) pixel intensities 0..255, row-major. */
  readonly pixels: ArrayLike<number>;
  /** Class probabilities, one per class. */
  readonly probabilities: readonly number[];
  /** The predicted class (highlighted red when wrong, green when right). */
  readonly prediction: number;
  /** The true class, if known (its bar is outlined green). */
  readonly label?: number;
  /** Caption (escaped), e.g. `#1234 true 4`. */
  readonly caption: string;
  /** Side of the square image; default 28. */
  readonly side?: number;
}

/**
 * Horizontal probability bars, one `<rect class="prob-bar">` per class (with `data-class` and
 * `data-p`), the class name at the left and the percentage at the right.
 */
export function probabilityBars(
  probs: readonly number[],
  x: number,
  y: number,
  width: number,
  prediction: number,
  label?: number,
): Markup {
  const row = 11, parts: Markup[] = [];
  probs.forEach((p, k) => {
    const ry = y + k * row;
    const cls = k === prediction
      ? (label === undefined || label === prediction ? "prob-bar right" : "prob-bar wrong")
      : k === label
      ? "prob-bar truth"
      : "prob-bar";
    parts.push(svgText(x, ry + 8, String(k), { class: "bar-label" }));
    parts.push(
      el("rect", { x: x + 10, y: ry + 1, width: width, height: row - 3, class: "bar-bg" }),
    );
    parts.push(el(
      "rect",
      {
        class: cls,
        x: x + 10,
        y: ry + 1,
        width: Math.max(0, Math.min(1, p)) * width,
        height: row - 3,
        "data-class": k,
        "data-p": num(p, 6),
      },
      el("title", {}, text(`class ${k}: ${(100 * p).toFixed(2)}%`)),
    ));
    if (p >= 0.01) {
      parts.push(svgText(x + 14 + width, ry + 8, `${(100 * p).toFixed(p >= 0.995 ? 0 : 1)}%`, {
        class: "bar-value",
      }));
    }
  });
  return el("g", { class: "probs" }, join(parts));
}

/**
 * A grid of digit cards (`<svg class="digit-grid">`): each card is a `<g class="digit">` with
 * the digit's `<image class="map">` (ink colours), its probability bars and its caption.
 */
export function digitGrid(cards: readonly DigitCard[], columns = 4): Markup {
  const cols = Math.max(1, Math.min(columns, cards.length));
  const classes = cards.reduce((m, c) => Math.max(m, c.probabilities.length), 0);
  const img = 84, barsH = 11 * classes, cardW = 210, cardH = 4 + Math.max(img, barsH) + 26;
  const parts = cards.map((c, k) => {
    const side = c.side ?? 28;
    const x = (k % cols) * cardW, y = Math.floor(k / cols) * cardH;
    return el(
      "g",
      { class: "digit", "data-prediction": c.prediction, "data-label": c.label },
      mapImage(
        { width: side, height: side, values: c.pixels },
        x,
        y + 4,
        img / side,
        "ink",
        { lo: 0, hi: 255 },
      ),
      probabilityBars(c.probabilities, x + img + 8, y + 4, 60, c.prediction, c.label),
      svgText(x, y + 4 + Math.max(img, barsH) + 14, c.caption, { class: "caption" }),
    );
  });
  const W = cols * cardW, H = Math.max(1, Math.ceil(cards.length / cols)) * cardH;
  return el(
    "svg",
    {
      class: "digit-grid",
      xmlns: "http://www.w3.org/2000/svg",
      width: W,
      height: H,
      viewBox: `0 0 ${W} ${H}`,
      role: "img",
      "aria-label": "digits with class probabilities",
    },
    join(parts),
  );
}
