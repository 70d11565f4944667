/// <reference lib="dom" />
/**
 * The draw-a-digit page's script (bundled with the library by `deno task serve` and served as
 * `/demo.js`). DOM glue only: drawing with pointer events (mouse, pen and touch), then on every
 * change preprocess (`preprocess.ts`) -> run the {@link DemoModel} (`model.ts`, the one place the
 * trained LeNet plugs in) -> draw the input, the probabilities and the layer views.
 *
 * Type-checked apart from the library (`deno task check:browser`, with the DOM library types),
 * so the DOM types never leak into the shared `deno check`.
 *
 * Tests read `window.__demo`: `ready` resolves once the model is loaded; `flush()` recomputes
 * synchronously and returns the {@link DemoState}; `clear()` wipes the pad.
 *
 * @module
 */

import { kernelPath } from "../../tensor/kernels/wasm/runtime.ts";
import { fromData } from "../../tensor/tensor.ts";
import { autoRange, type ColorMapName, pickColorMap, toRgb } from "../report/colormap.ts";
import { type DemoModel, type LayerView, loadDemoModel, noModelHint } from "./model.ts";
import { FIELD, inkFromRgba, mnistStyle } from "./preprocess.ts";
import { QUICK_TRAIN_FILES, quickTrain } from "./quick_train.ts";

/** Which maps the layer views show. */
export type ViewMode = "activations" | "delta-predicted" | "delta-label";

/** What the page currently shows, for tests and curious users (`window.__demo.state`). */
export interface DemoState {
  /** The model's name. */
  model: string;
  /** Whether delta maps can be shown (the model has a loss). */
  deltasAvailable: boolean;
  /** Bytes of the checkpoint the server offered, or null. */
  checkpointBytes: number | null;
  /**
   * The kernel path gradproof's float32 ops run on in this page (`wasm-relaxed`, `wasm-simd` or
   * `js`): a wasm path needs the server's Content-Security-Policy to allow `'wasm-unsafe-eval'`.
   */
  kernelPath: string;
  /** The arg-max class, or null (no classifier or nothing drawn). */
  prediction: number | null;
  /** Class probabilities, or null. */
  probabilities: number[] | null;
  /** The 28x28 preprocessed input, row-major in [0, 1]. */
  input: number[];
  /** The view mode in effect. */
  mode: ViewMode;
  /**
   * Layers shown: name, shape, how many map canvases were drawn for it, and the Euclidean norm
   * of the values shown (activations or deltas; lets a test compare them with its own).
   */
  layers: { name: string; shape: number[]; maps: number; l2: number }[];
  /** Map canvases currently in the layer-views area. */
  renderedMaps: number;
  /** How many updates ran. */
  updates: number;
  /** The last error, if an update failed. */
  error: string | null;
  /** The in-page quick training: not asked for, running, done, or failed (see `error`). */
  training: "idle" | "running" | "done" | "failed";
}

interface DemoHook {
  ready: Promise<void>;
  state: DemoState;
  flush(): DemoState;
  clear(): void;
}

declare global {
  // `window.__demo` in the page (globalThis is the window there).
  var __demo: DemoHook;
}

const $ = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`demo page: #${id} is missing from index.html`);
  return e as T;
};

/** Draws `values` (`w x h`) into a canvas of that many pixels (CSS scales it up, pixelated). */
function paintMap(
  canvas: HTMLCanvasElement,
  values: ArrayLike<number>,
  w: number,
  h: number,
  cmap: ColorMapName,
  range: { lo: number; hi: number },
): void {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  if (ctx === null) return;
  const rgb = toRgb(values, cmap, range);
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    img.data[4 * i] = rgb[3 * i];
    img.data[4 * i + 1] = rgb[3 * i + 1];
    img.data[4 * i + 2] = rgb[3 * i + 2];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** A layer as a list of 2-D maps: `[C,H,W]` -> C maps, `[H,W]` -> 1, `[K]` -> one strip. */
function splitMaps(l: LayerView): { w: number; h: number; values: ArrayLike<number> }[] {
  const s = l.shape;
  const v = l.values;
  if (s.length === 3) {
    const [c, h, w] = s;
    const out = [];
    for (let k = 0; k < c; k++) {
      out.push({ w, h, values: Array.prototype.slice.call(v, k * h * w, (k + 1) * h * w) });
    }
    return out;
  }
  if (s.length === 2) return [{ w: s[1], h: s[0], values: v }];
  return [{ w: s[0], h: 1, values: v }];
}

function renderLayers(host: HTMLElement, layers: readonly LayerView[], delta: boolean) {
  host.replaceChildren();
  const summary: DemoState["layers"] = [];
  let total = 0;
  for (const l of layers) {
    const maps = splitMaps(l);
    const all = Float64Array.from(l.values as ArrayLike<number>);
    const cmap: ColorMapName = delta ? "diverging" : pickColorMap(all);
    const range = autoRange(all, cmap);
    const box = document.createElement("div");
    box.className = "layer";
    box.dataset.layer = l.name;
    const title = document.createElement("h3");
    title.textContent = `${l.name} [${l.shape.join(", ")}]`;
    const grid = document.createElement("div");
    grid.className = "maps";
    for (const m of maps) {
      const c = document.createElement("canvas");
      c.className = "map";
      paintMap(c, m.values, m.w, m.h, cmap, range);
      const px = m.h === 1 ? 4 : Math.max(2, Math.round(84 / Math.max(m.w, m.h)));
      c.style.width = `${m.w * px}px`;
      c.style.height = `${Math.max(m.h * px, 8)}px`;
      grid.append(c);
    }
    box.append(title, grid);
    host.append(box);
    let ss = 0;
    for (let i = 0; i < all.length; i++) ss += all[i] * all[i];
    summary.push({ name: l.name, shape: l.shape.slice(), maps: maps.length, l2: Math.sqrt(ss) });
    total += maps.length;
  }
  return { summary, total };
}

function renderBars(host: HTMLElement, probs: readonly number[] | null, pred: number | null) {
  host.replaceChildren();
  for (let k = 0; k < 10; k++) {
    const p = probs?.[k] ?? 0;
    const row = document.createElement("div");
    row.className = k === pred ? "bar predicted" : "bar";
    const label = document.createElement("span");
    label.className = "bar-label";
    label.textContent = String(k);
    const track = document.createElement("span");
    track.className = "bar-track";
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    track.append(fill);
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = probs === null ? "" : `${(100 * p).toFixed(1)}%`;
    row.append(label, track, value);
    host.append(row);
  }
}

async function fetchCheckpoint(): Promise<Uint8Array | null> {
  const res = await fetch("checkpoint");
  if (res.status === 204) return null; // the server has no checkpoint
  if (!res.ok) throw new Error(`GET checkpoint: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function start(): DemoHook {
  const pad = $<HTMLCanvasElement>("pad");
  const ctx = pad.getContext("2d", { willReadFrequently: true });
  if (ctx === null) throw new Error("demo page: no 2-D canvas context");
  const input28 = $<HTMLCanvasElement>("input28");
  const views = $("layer-views"), bars = $("prob-bars"), predEl = $("prediction");
  const noteEl = $("model-note"), labelSel = $<HTMLSelectElement>("delta-label");
  const state: DemoState = {
    model: "",
    deltasAvailable: false,
    checkpointBytes: null,
    kernelPath: "",
    prediction: null,
    probabilities: null,
    input: new Array(FIELD * FIELD).fill(0),
    mode: "activations",
    layers: [],
    renderedMaps: 0,
    updates: 0,
    error: null,
    training: "idle",
  };
  let model: DemoModel | null = null;

  const update = (): DemoState => {
    if (model === null) return state;
    try {
      const { data } = ctx.getImageData(0, 0, pad.width, pad.height);
      const x28 = mnistStyle(inkFromRgba(data, pad.width, pad.height), pad.width, pad.height);
      paintMap(input28, x28, FIELD, FIELD, "ink", { lo: 0, hi: 1 });
      const x = fromData(x28, [1, 1, FIELD, FIELD]);
      const out = model.forward(x);
      const checked = document.querySelector<HTMLInputElement>('input[name="mode"]:checked');
      let mode = (checked?.value ?? "activations") as ViewMode;
      if (model.deltas === null) mode = "activations";
      let layers = out.layers;
      if (mode !== "activations" && model.deltas !== null) {
        const label = mode === "delta-predicted" ? out.prediction : Number(labelSel.value);
        layers = label === null ? [] : model.deltas(x, label);
      }
      const r = renderLayers(views, layers, mode !== "activations");
      renderBars(bars, out.probabilities, out.prediction);
      predEl.textContent = out.prediction === null
        ? "none (no trained model)"
        : String(out.prediction);
      Object.assign(state, {
        prediction: out.prediction,
        probabilities: out.probabilities === null ? null : out.probabilities.slice(),
        input: Array.from(x28),
        mode,
        layers: r.summary,
        renderedMaps: r.total,
        updates: state.updates + 1,
        error: null,
      });
    } catch (e) {
      state.error = (e as Error).message;
      noteEl.textContent = `Error: ${state.error}`;
    }
    return state;
  };

  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      update();
    });
  };

  // Drawing: round strokes ~2 MNIST pixels wide (the pad is 10x the 28x28 field).
  ctx.lineWidth = 20;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#000";
  let last: [number, number] | null = null;
  const at = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [
      ((e.clientX - r.left) * pad.width) / r.width,
      ((e.clientY - r.top) * pad.height) / r.height,
    ];
  };
  const segment = (to: [number, number]) => {
    const from = last ?? to;
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
    last = to;
  };
  pad.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    last = null;
    segment(at(e));
    schedule();
  });
  pad.addEventListener("pointermove", (e) => {
    if (last === null) return;
    e.preventDefault();
    const events = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    for (const ce of events.length > 0 ? events : [e]) segment(at(ce));
    schedule();
  });
  const end = () => {
    last = null;
  };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);

  const clear = () => {
    ctx.clearRect(0, 0, pad.width, pad.height);
    update();
  };
  $("clear").addEventListener("click", clear);
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
    r.addEventListener("change", () => update());
  }
  labelSel.addEventListener("change", () => update());

  const use = (m: DemoModel, note: string) => {
    model = m;
    state.model = m.name;
    state.deltasAvailable = m.deltas !== null;
    for (const r of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
      if (r.value !== "activations") r.disabled = m.deltas === null;
    }
    labelSel.disabled = m.deltas === null;
    noteEl.textContent = note;
    $("model-name").textContent = m.name;
    update();
  };

  // "Train a quick one": only offered without a checkpoint (see quick_train.ts).
  const quick = $<HTMLButtonElement>("quick-train");
  const fetchMnist = async (name: string): Promise<Uint8Array> => {
    const res = await fetch(`mnist/${name}`);
    if (res.status === 404) {
      throw new Error(
        `the server has no MNIST file ${name} (it looks in --data DIR, $MNIST_DIR or ` +
          "data/mnist; deno task data downloads them)",
      );
    }
    if (!res.ok) throw new Error(`GET mnist/${name}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  quick.addEventListener("click", async () => {
    quick.disabled = true;
    state.training = "running";
    try {
      noteEl.textContent = "Fetching MNIST's training digits from the server…";
      const [images, labels] = await Promise.all(QUICK_TRAIN_FILES.map(fetchMnist));
      const trained = await quickTrain(images, labels, {
        onStep: async (done, total, loss) => {
          if (done % 10 !== 0 && done !== total) return;
          noteEl.textContent = `Training in this page: step ${done} of ${total}, loss ` +
            `${loss.toFixed(3)}…`;
          await new Promise((r) => setTimeout(r, 0)); // let the page repaint
        },
      });
      quick.hidden = true;
      state.training = "done";
      use(trained, trained.description);
    } catch (e) {
      state.training = "failed";
      state.error = (e as Error).message;
      noteEl.textContent = `Quick training failed: ${state.error}`;
      quick.disabled = false;
    }
  });

  const ready = (async () => {
    let bytes: Uint8Array | null = null;
    try {
      bytes = await fetchCheckpoint();
    } catch (e) {
      state.error = (e as Error).message;
    }
    state.checkpointBytes = bytes === null ? null : bytes.length;
    state.kernelPath = kernelPath();
    $("kernel-path").textContent = state.kernelPath;
    const m = loadDemoModel(bytes);
    quick.hidden = bytes !== null;
    use(m, bytes === null ? `${m.description} ${noModelHint()}` : m.description);
  })();

  return { ready, state, flush: update, clear };
}

globalThis.__demo = start();
