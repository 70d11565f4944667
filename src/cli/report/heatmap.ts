/**
 * An SVG heat map with row/column labels, a value in every cell and a colour scale: the
 * confusion matrix of a run.
 *
 * @module
 */

import { niceTicks } from "./charts.ts";
import { colorAt, cssColor } from "./colormap.ts";
import { el, join, type Markup, num, svgText, text } from "./html.ts";

/** Options of {@link heatMap}. */
export interface HeatMapOptions {
  /** Title (escaped), also the accessible label. */
  readonly title: string;
  /** `values[row][col]`, all rows of equal length, values >= 0. */
  readonly values: readonly (readonly number[])[];
  /** One label per row (escaped). */
  readonly rowLabels: readonly string[];
  /** One label per column (escaped). */
  readonly colLabels: readonly string[];
  /** What the rows are, e.g. "true label". */
  readonly rowTitle: string;
  /** What the columns are, e.g. "predicted". */
  readonly colTitle: string;
  /**
   * `"log"` colours by `log(1 + v) / log(1 + max)`, so a handful of errors is visible next to a
   * diagonal of a thousand; `"linear"` by `v / max`. Default `"log"`.
   */
  readonly scale?: "linear" | "log";
  /** Cell size in px; default 34. */
  readonly cell?: number;
  /** An id unique within the page (the colour-scale gradient is referenced by it). */
  readonly id: string;
}

/**
 * The heat map as one `<svg class="heatmap">`: `rows x cols` `<rect class="cell">` (with
 * `data-row`, `data-col`, `data-value` and a `<title>` tooltip) each labelled with its value, row
 * and column labels, axis titles and a vertical colour scale with ticks.
 */
export function heatMap(opts: HeatMapOptions): Markup {
  const { values, rowLabels, colLabels } = opts;
  const rows = values.length, cols = rows > 0 ? values[0].length : 0;
  if (rowLabels.length !== rows || colLabels.length !== cols) {
    throw new Error(
      `heatMap: ${rows}x${cols} values need ${rows} row and ${cols} column labels, got ` +
        `${rowLabels.length} and ${colLabels.length}`,
    );
  }
  for (const r of values) {
    if (r.length !== cols) throw new Error(`heatMap: ragged rows (${r.length} vs ${cols})`);
  }
  const c = opts.cell ?? 34;
  const left = 70, top = 64, barW = 14, gap = 22;
  const W = left + cols * c + gap + barW + 56, H = top + rows * c + 16;
  let max = 0;
  for (const r of values) for (const v of r) if (v > max) max = v;
  const log = (opts.scale ?? "log") === "log";
  const t = (v: number) =>
    max <= 0 ? 0 : log ? Math.log1p(Math.max(0, v)) / Math.log1p(max) : v / max;
  const parts: Markup[] = [el("title", {}, text(opts.title))];
  parts.push(svgText(W / 2, 18, opts.title, { class: "chart-title", "text-anchor": "middle" }));
  parts.push(svgText(left + (cols * c) / 2, 38, opts.colTitle, {
    class: "axis-label",
    "text-anchor": "middle",
  }));
  parts.push(svgText(0, 0, opts.rowTitle, {
    class: "axis-label",
    "text-anchor": "middle",
    transform: `translate(16 ${num(top + (rows * c) / 2)}) rotate(-90)`,
  }));
  for (let j = 0; j < cols; j++) {
    parts.push(svgText(left + j * c + c / 2, top - 8, colLabels[j], {
      class: "tick",
      "text-anchor": "middle",
    }));
  }
  for (let i = 0; i < rows; i++) {
    parts.push(svgText(left - 8, top + i * c + c / 2 + 4, rowLabels[i], {
      class: "tick",
      "text-anchor": "end",
    }));
    for (let j = 0; j < cols; j++) {
      const v = values[i][j], u = t(v);
      const x = left + j * c, y = top + i * c;
      parts.push(el(
        "rect",
        {
          class: "cell",
          x,
          y,
          width: c,
          height: c,
          fill: cssColor(colorAt("heat", u)),
          "data-row": i,
          "data-col": j,
          "data-value": v,
        },
        el(
          "title",
          {},
          text(`${opts.rowTitle} ${rowLabels[i]}, ${opts.colTitle} ${colLabels[j]}: ${v}`),
        ),
      ));
      parts.push(svgText(x + c / 2, y + c / 2 + 4, fmtCount(v), {
        class: u > 0.55 ? "cell-label dark" : "cell-label",
        "text-anchor": "middle",
      }));
    }
  }
  parts.push(colorScale(opts.id, left + cols * c + gap, top, barW, rows * c, max, log, t));
  return el(
    "svg",
    {
      class: "heatmap",
      xmlns: "http://www.w3.org/2000/svg",
      width: W,
      height: H,
      viewBox: `0 0 ${W} ${H}`,
      role: "img",
      "aria-label": opts.title,
    },
    join(parts),
  );
}

function fmtCount(v: number): string {
  return Number.isInteger(v) ? String(v) : num(v, 2);
}

/** A vertical gradient bar (max at the top) with tick labels at its right. */
function colorScale(
  id: string,
  x: number,
  y: number,
  w: number,
  h: number,
  max: number,
  log: boolean,
  t: (v: number) => number,
): Markup {
  const gid = `${id}-scale`;
  const stops: Markup[] = [];
  for (let k = 0; k <= 10; k++) {
    stops.push(el("stop", {
      offset: `${k * 10}%`,
      "stop-color": cssColor(colorAt("heat", 1 - k / 10)),
    }));
  }
  const ticks: number[] = [];
  if (max > 0 && log) {
    ticks.push(0);
    for (let p = 1; p <= max; p *= 10) ticks.push(p);
    if (ticks[ticks.length - 1] !== max) ticks.push(max);
  } else {
    ticks.push(...niceTicks(0, max > 0 ? max : 1, 5).ticks.filter((v) => v <= Math.max(max, 1)));
  }
  const labels = ticks.map((v) => {
    const ty = y + h - t(v) * h;
    return join([
      el("line", { class: "tick-mark", x1: x + w, y1: ty, x2: x + w + 4, y2: ty }),
      svgText(x + w + 7, ty + 4, fmtCount(v), { class: "tick" }),
    ]);
  });
  return el(
    "g",
    { class: "color-scale" },
    el(
      "defs",
      {},
      el("linearGradient", { id: gid, x1: 0, y1: 0, x2: 0, y2: 1 }, join(stops)),
    ),
    el("rect", { class: "scale-bar", x, y, width: w, height: h, fill: `url(#${gid})` }),
    join(labels),
  );
}
