/**
 * A run folder's data -> one self-contained HTML report: curves, confusion matrix, filters,
 * the feature and delta maps of every layer for one test digit, and the most confidently wrong
 * test digits. Pure: the same run gives the same bytes (no timestamps).
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { fmtSig, lineChart } from "./charts.ts";
import { htmlDocument, section, table } from "./document.ts";
import { heatMap } from "./heatmap.ts";
import { el, join, type Markup, text } from "./html.ts";
import { digitGrid, type GridItem, imageGrid, type Map2d } from "./images.ts";
import type {
  ChosenDigit,
  FilterBank,
  LayerMaps,
  ReportEpoch,
  Run,
  RunReport,
} from "../../lenet/run_files.ts";

/** Curve colours: train blue and solid, test red and dashed (readable without colour too). */
const TRAIN = "#0969da", TEST = "#cf222e";

const pct = (v: number, d = 2) => `${(100 * v).toFixed(d)}%`;

/**
 * The digit of `report.digits` with test index `index`, or the first one when `index` is
 * undefined (null if there are none). Left: a message listing the indices that exist.
 */
export function pickDigit(
  report: RunReport,
  index: number | undefined,
): E.Either<string, ChosenDigit | null> {
  if (index === undefined) return E.right(report.digits[0] ?? null);
  const d = report.digits.find((x) => x.index === index);
  if (d !== undefined) return E.right(d);
  const have = report.digits.map((x) => x.index);
  return E.left(
    have.length === 0
      ? `--digit ${index}: report.json holds no layer maps for any digit`
      : `--digit ${index}: report.json has layer maps for test digits ${have.join(", ")} only`,
  );
}

function curves(metrics: readonly ReportEpoch[]): Markup {
  const pts = (f: (m: ReportEpoch) => number) =>
    metrics.map((m) => [m.epoch, f(m)] as [number, number]);
  const loss = lineChart({
    title: "Loss per epoch",
    xLabel: "epoch",
    yLabel: "cross-entropy loss",
    series: [
      { name: "train", points: pts((m) => m.train_loss), color: TRAIN },
      { name: "test", points: pts((m) => m.test_loss), color: TEST, dashed: true },
    ],
  });
  const acc = lineChart({
    title: "Accuracy per epoch",
    xLabel: "epoch",
    yLabel: "accuracy",
    yFormat: (v) => `${fmtSig(100 * v, 4)}%`,
    series: [
      { name: "train", points: pts((m) => m.train_accuracy), color: TRAIN },
      { name: "test", points: pts((m) => m.test_accuracy), color: TEST, dashed: true },
    ],
  });
  const rows = metrics.map((m) => [
    String(m.epoch),
    m.train_loss.toFixed(4),
    pct(m.train_accuracy),
    m.test_loss.toFixed(4),
    pct(m.test_accuracy),
    m.examples_per_s.toFixed(0),
    m.epoch_seconds.toFixed(1),
  ]);
  return section(
    "curves",
    "Training curves",
    el("div", { class: "row" }, loss, acc),
    table(
      ["epoch", "train loss", "train acc", "test loss", "test acc", "examples/s", "seconds"],
      rows,
    ),
  );
}

function confusion(r: RunReport): Markup {
  const labels = Array.from({ length: r.num_classes }, (_, k) => String(k));
  let right = 0;
  r.confusion.forEach((row, i) => (right += row[i]));
  const errors = r.test_examples - right;
  return section(
    "confusion",
    "Confusion matrix",
    heatMap({
      id: "confusion",
      title: `Test set: ${errors} errors of ${r.test_examples}`,
      values: r.confusion,
      rowLabels: labels,
      colLabels: labels,
      rowTitle: "true label",
      colTitle: "predicted",
    }),
    el(
      "p",
      { class: "sub" },
      text(
        "Rows are true labels, columns predictions; the diagonal counts correct answers. " +
          "Colour is on a log scale so single mistakes stay visible.",
      ),
    ),
  );
}

function filterItems(f: FilterBank): { items: GridItem[]; columns: number } {
  const [o, i, kh, kw] = f.shape;
  const items: GridItem[] = [];
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      const off = (a * i + b) * kh * kw;
      items.push({
        map: { width: kw, height: kh, values: f.values.slice(off, off + kh * kw) },
        caption: i === 1 ? `${a}` : `${a}.${b}`,
      });
    }
  }
  return { items, columns: i === 1 ? Math.min(o, 8) : Math.min(i, 16) };
}

function filters(r: RunReport): Markup {
  if (r.filters.length === 0) {
    return section("filters", "Filters", el("p", { class: "sub" }, text("No filters recorded.")));
  }
  return section(
    "filters",
    "Filters",
    join(r.filters.map((f) => {
      const { items, columns } = filterItems(f);
      const [o, i, kh, kw] = f.shape;
      return join([
        el("h3", {}, text(`${f.layer}: ${o} filters of ${i}x${kh}x${kw}`)),
        imageGrid({
          items,
          columns,
          size: 48,
          coloring: "diverging",
          caption: `${f.layer} weights (OIHW; caption out.in when in > 1). Red positive, ` +
            `blue negative, one colour scale for the bank.`,
        }),
      ]);
    })),
  );
}

/** A vector of K units laid out as rows of `cols` (the largest divisor of K up to 16). */
function vectorLayout(k: number): { rows: number; cols: number } {
  for (let c = Math.min(16, k); c >= 4; c--) if (k % c === 0) return { rows: k / c, cols: c };
  const cols = Math.min(16, k);
  return { rows: Math.ceil(k / cols), cols };
}

function layerGrid(l: LayerMaps, values: readonly number[], delta: boolean): Markup {
  const s = l.shape;
  let items: GridItem[];
  let note = "";
  if (s.length === 3) {
    const [c, h, w] = s;
    items = Array.from({ length: c }, (_, k) => ({
      map: { width: w, height: h, values: values.slice(k * h * w, (k + 1) * h * w) },
      caption: String(k),
    }));
  } else if (s.length === 2) {
    items = [{ map: { width: s[1], height: s[0], values } }];
  } else {
    const { rows, cols } = vectorLayout(s[0]);
    const padded = values.slice();
    while (padded.length < rows * cols) padded.push(0);
    items = [{ map: { width: cols, height: rows, values: padded } as Map2d }];
    note = ` (${s[0]} units drawn as ${rows}x${cols}, row by row)`;
  }
  const what = delta ? "delta dL/d(output), red positive, blue negative" : "activations";
  return imageGrid({
    items,
    columns: 8,
    size: s.length === 1 ? 120 : 64,
    coloring: delta ? "diverging" : "auto",
    caption: `${l.name} [${s.join(", ")}]: ${what}${note}`,
  });
}

function chosen(d: ChosenDigit | null): Markup {
  if (d === null) {
    return section(
      "layers",
      "Layers for one digit",
      el("p", { class: "sub" }, text("report.json holds no digit with layer maps.")),
    );
  }
  const card = digitGrid([{
    pixels: d.pixels,
    probabilities: d.probabilities,
    prediction: d.prediction,
    label: d.label,
    caption: `test #${d.index}: true ${d.label}, predicted ${d.prediction}`,
  }], 1);
  const layers = d.layers.map((l) =>
    el(
      "div",
      { class: "layer", "data-layer": l.name },
      el("h3", {}, text(`${l.name} [${l.shape.join(", ")}]`)),
      el("div", { class: "row" }, layerGrid(l, l.activation, false), layerGrid(l, l.delta, true)),
    )
  );
  return section(
    "layers",
    `Layers for test digit #${d.index}`,
    card,
    el(
      "p",
      { class: "sub" },
      text(
        `Left: each layer's output (feature maps) in the forward pass. Right: its delta map, ` +
          `the gradient of the cross-entropy loss for label ${d.delta_label} with respect to ` +
          `that output, as the backward pass computes it.`,
      ),
    ),
    join(layers),
  );
}

function mistakes(r: RunReport): Markup {
  if (r.wrong.length === 0) {
    return section(
      "mistakes",
      "Most confidently wrong",
      el("p", { class: "sub" }, text("No misclassified test digits recorded.")),
    );
  }
  return section(
    "mistakes",
    "Most confidently wrong",
    el(
      "p",
      { class: "sub" },
      text(
        "Test digits the model got wrong with the highest probability on its answer. Red bar: " +
          "the prediction; outlined bar: the true label.",
      ),
    ),
    digitGrid(
      r.wrong.map((w) => ({
        pixels: w.pixels,
        probabilities: w.probabilities,
        prediction: w.prediction,
        label: w.label,
        caption: `#${w.index}: true ${w.label}, predicted ${w.prediction}`,
      })),
      4,
    ),
  );
}

function summary(run: Run): Markup {
  const m = run.metrics, last = m[m.length - 1];
  const best = m.reduce((a, b) => (b.test_accuracy > a.test_accuracy ? b : a));
  const seconds = m.reduce((a, b) => a + b.epoch_seconds, 0);
  const facts = [
    `${m.length} epoch${m.length === 1 ? "" : "s"}`,
    `final test accuracy ${pct(last.test_accuracy)} (error ${pct(1 - last.test_accuracy)})`,
    `best ${pct(best.test_accuracy)} at epoch ${best.epoch}`,
    `${seconds.toFixed(1)} s of training at ${last.examples_per_s.toFixed(0)} examples/s`,
  ];
  return join([
    el("h1", {}, text("gradproof training report")),
    el(
      "p",
      { class: "sub" },
      text(`run ${run.dir}${run.report === null ? "" : ` - ${run.report.model}`}`),
    ),
    el("p", {}, text(facts.join(" · "))),
  ]);
}

/**
 * The report for a run. `digit` is the entry of `run.report.digits` to show (see
 * {@link pickDigit}); ignored while `report.json` is missing.
 */
export function renderReport(run: Run, digit: ChosenDigit | null): string {
  const body: Markup[] = [summary(run), curves(run.metrics)];
  const r = run.report;
  if (r === null) {
    body.push(el(
      "p",
      { class: "note", id: "pending" },
      text(
        `report.json is not in ${run.dir} yet: the trainer writes it at the end of training. ` +
          `The confusion matrix, filters, layer maps and mistakes appear once it exists.`,
      ),
    ));
  } else {
    body.push(confusion(r), filters(r), chosen(digit), mistakes(r));
  }
  body.push(el("p", { class: "sub" }, text(`Made by deno task report from ${run.dir}.`)));
  return htmlDocument(`gradproof report: ${run.dir}`, body);
}
