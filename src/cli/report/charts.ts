/**
 * SVG line charts with axes, "nice" ticks, grid lines, point markers with tooltips and a legend:
 * the loss and accuracy curves of a run.
 *
 * @module
 */

import { type Attrs, el, join, type Markup, num, svgText, text } from "./html.ts";

/** Ticks covering a range: `lo`/`hi` are the widened ends, `ticks` the values from lo to hi. */
export interface Ticks {
  /** First tick (<= the data minimum). */
  readonly lo: number;
  /** Last tick (>= the data maximum). */
  readonly hi: number;
  /** The distance between ticks: 1, 2 or 5 times a power of ten. */
  readonly step: number;
  /** The tick values, ascending. */
  readonly ticks: readonly number[];
}

/**
 * At most about `maxTicks` ticks at a step of 1, 2 or 5 times a power of ten (the "nice numbers"
 * rule of Heckbert's Graphics Gems labelling), covering `[lo, hi]`. `integer` forces steps >= 1
 * (epochs). An empty range is widened around its value.
 */
export function niceTicks(lo: number, hi: number, maxTicks = 6, integer = false): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return niceTicks(0, 1, maxTicks, integer);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = integer ? 1 : lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, maxTicks - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  let step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  if (integer && step < 1) step = 1;
  // Decimals of the step, used to round away float noise such as 0.30000000000000004.
  const dec = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  const round = (v: number) => Number(v.toFixed(dec));
  const first = round(Math.floor(lo / step + 1e-9) * step);
  const last = round(Math.ceil(hi / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let k = 0; first + k * step <= last + step * 1e-9; k++) ticks.push(round(first + k * step));
  return { lo: first, hi: last, step, ticks };
}

/** One curve of a line chart. */
export interface Series {
  /** Legend entry (escaped). */
  readonly name: string;
  /** `[x, y]` points in drawing order; a non-finite `y` breaks the line. */
  readonly points: readonly (readonly [number, number])[];
  /** CSS colour. */
  readonly color: string;
  /** Dashed stroke (tells curves apart without colour). */
  readonly dashed?: boolean;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  /** Chart title (escaped), also the accessible label. */
  readonly title: string;
  /** X axis label. */
  readonly xLabel: string;
  /** Y axis label. */
  readonly yLabel: string;
  /** The curves. */
  readonly series: readonly Series[];
  /** Outer size in px; default 460 x 300. */
  readonly width?: number;
  /** Outer height in px. */
  readonly height?: number;
  /** X ticks at integers only (epochs); default true. */
  readonly xIntegers?: boolean;
  /** Formats y tick labels and tooltips; default 3 significant digits. */
  readonly yFormat?: (v: number) => string;
}

const MARGIN = { left: 62, right: 16, top: 34, bottom: 74 };

/** Compact number: up to `sig` significant digits, no exponent for ordinary magnitudes. */
export function fmtSig(v: number, sig = 3): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(sig - 1);
  return String(Number(v.toPrecision(sig)));
}

/**
 * A line chart as one `<svg class="chart">`: a `<path class="series">` per series with at least
 * one finite point, a `<circle>` marker (with a `<title>` tooltip) per point, tick labels on both
 * axes, axis labels and a legend entry (`<rect>` swatch + name) per series.
 */
export function lineChart(opts: LineChartOptions): Markup {
  const W = opts.width ?? 460, H = opts.height ?? 300;
  const fmtY = opts.yFormat ?? ((v: number) => fmtSig(v));
  const pw = W - MARGIN.left - MARGIN.right, ph = H - MARGIN.top - MARGIN.bottom;
  const xs: number[] = [], ys: number[] = [];
  for (const s of opts.series) {
    for (const [x, y] of s.points) {
      if (Number.isFinite(x) && Number.isFinite(y)) {
        xs.push(x);
        ys.push(y);
      }
    }
  }
  const parts: Markup[] = [el("title", {}, text(opts.title))];
  parts.push(svgText(W / 2, 20, opts.title, { class: "chart-title", "text-anchor": "middle" }));
  const x0 = MARGIN.left, y0 = MARGIN.top + ph;
  if (xs.length === 0) {
    parts.push(svgText(W / 2, H / 2, "no data", { class: "no-data", "text-anchor": "middle" }));
    return svgRoot(W, H, opts.title, parts);
  }
  const tx = niceTicks(Math.min(...xs), Math.max(...xs), 8, opts.xIntegers ?? true);
  const ty = niceTicks(Math.min(...ys), Math.max(...ys), 6);
  const sx = (x: number) => x0 + ((x - tx.lo) / (tx.hi - tx.lo)) * pw;
  const sy = (y: number) => y0 - ((y - ty.lo) / (ty.hi - ty.lo)) * ph;
  for (const t of ty.ticks) {
    const y = sy(t);
    parts.push(el("line", { class: "grid", x1: x0, y1: y, x2: x0 + pw, y2: y }));
    parts.push(svgText(x0 - 6, y + 4, fmtY(t), { class: "tick", "text-anchor": "end" }));
  }
  for (const t of tx.ticks) {
    const x = sx(t);
    parts.push(el("line", { class: "tick-mark", x1: x, y1: y0, x2: x, y2: y0 + 5 }));
    parts.push(svgText(x, y0 + 18, fmtSig(t), { class: "tick", "text-anchor": "middle" }));
  }
  parts.push(el("line", { class: "axis", x1: x0, y1: y0, x2: x0 + pw, y2: y0 }));
  parts.push(el("line", { class: "axis", x1: x0, y1: MARGIN.top, x2: x0, y2: y0 }));
  parts.push(
    svgText(x0 + pw / 2, y0 + 36, opts.xLabel, { class: "axis-label", "text-anchor": "middle" }),
  );
  parts.push(svgText(0, 0, opts.yLabel, {
    class: "axis-label",
    "text-anchor": "middle",
    transform: `translate(16 ${num(MARGIN.top + ph / 2)}) rotate(-90)`,
  }));
  let legendX = x0;
  for (const s of opts.series) {
    let d = "", pen = false;
    const marks: Markup[] = [];
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${num(sx(x))} ${num(sy(y))}`;
      pen = true;
      marks.push(el(
        "circle",
        { class: "marker", cx: sx(x), cy: sy(y), r: 3, fill: s.color },
        el("title", {}, text(`${s.name}, ${opts.xLabel} ${fmtSig(x)}: ${fmtY(y)}`)),
      ));
    }
    if (d !== "") {
      const a: Attrs = {
        class: "series",
        "data-series": s.name,
        d,
        fill: "none",
        stroke: s.color,
        "stroke-width": 2,
        "stroke-dasharray": s.dashed ? "6 4" : undefined,
      };
      parts.push(el("path", a), ...marks);
    }
    const ly = H - 14;
    parts.push(el(
      "g",
      { class: "legend" },
      el("rect", { x: legendX, y: ly - 9, width: 14, height: 10, fill: s.color }),
      svgText(legendX + 20, ly, s.name, { class: "legend-label" }),
    ));
    legendX += 34 + 7 * s.name.length;
  }
  return svgRoot(W, H, opts.title, parts);
}

function svgRoot(w: number, h: number, label: string, parts: readonly Markup[]): Markup {
  return el(
    "svg",
    {
      class: "chart",
      xmlns: "http://www.w3.org/2000/svg",
      width: w,
      height: h,
      viewBox: `0 0 ${w} ${h}`,
      role: "img",
      "aria-label": label,
    },
    join(parts),
  );
}
