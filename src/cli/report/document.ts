/**
 * The self-contained HTML document around the figures: inline CSS, no scripts, no external
 * resources (every picture is an inline SVG or a `data:` URL), so the file works offline and can
 * be mailed or archived as is.
 *
 * @module
 */

import { el, join, type Markup, raw, text } from "./html.ts";

const CSS = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
body { margin: 0 auto; max-width: 1100px; padding: 16px 24px 48px; color: #1b1f24; }
h1 { font-size: 1.6rem; margin: 8px 0 4px; }
h2 { font-size: 1.2rem; margin: 32px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 1rem; margin: 18px 0 6px; }
p, li { line-height: 1.45; }
.sub { color: #57606a; margin: 0 0 12px; }
.note { background: #fff8c5; border: 1px solid #d4a72c66; padding: 8px 12px; border-radius: 6px; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure { margin: 8px 0; }
figcaption { color: #57606a; font-size: 0.85rem; max-width: 640px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.9rem; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eaeef2; text-align: right; }
th { background: #f6f8fa; }
svg text { font-family: system-ui, sans-serif; fill: #24292f; }
svg .chart-title { font-size: 14px; font-weight: 600; }
svg .tick, svg .bar-label, svg .bar-value { font-size: 10px; fill: #57606a; }
svg .axis-label, svg .legend-label { font-size: 12px; }
svg .caption { font-size: 10px; fill: #57606a; }
svg .grid { stroke: #eaeef2; }
svg .axis, svg .tick-mark { stroke: #57606a; }
svg .cell { stroke: #ffffff; }
svg .cell-label { font-size: 10px; }
svg .cell-label.dark { fill: #ffffff; }
svg .no-data { font-size: 13px; fill: #8c959f; }
svg image { image-rendering: pixelated; }
svg .map { outline: 1px solid #d0d7de; }
svg .bar-bg { fill: #f0f2f4; }
svg .prob-bar { fill: #8c959f; }
svg .prob-bar.right { fill: #1a7f37; }
svg .prob-bar.wrong { fill: #cf222e; }
svg .prob-bar.truth { fill: #8c959f; stroke: #1a7f37; stroke-width: 1.5; }
`;

/** A `<section>` with an id (for links) and an `<h2>` heading. */
export function section(id: string, heading: string, ...body: readonly Markup[]): Markup {
  return el("section", { id }, el("h2", {}, text(heading)), join(body));
}

/** A table from a header row and data rows (all cells escaped). */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): Markup {
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, join(head.map((h) => el("th", {}, text(h)))))),
    el(
      "tbody",
      {},
      join(rows.map((r) => el("tr", {}, join(r.map((c) => el("td", {}, text(c))))))),
    ),
  );
}

/** The whole document: doctype, `<head>` with charset, viewport, title and CSS, then `body`. */
export function htmlDocument(title: string, body: readonly Markup[]): string {
  return "<!doctype html>\n" + el(
    "html",
    { lang: "en" },
    el(
      "head",
      {},
      el("meta", { charset: "utf-8" }),
      el("meta", { name: "viewport", content: "width=device-width, initial-scale=1" }),
      el("title", {}, text(title)),
      el("style", {}, raw(CSS)),
    ),
    el("body", {}, join(body)),
  ) + "\n";
}
