/**
 * A progress display for downloads now and for the training loop later.
 *
 * On a terminal it keeps ONE live line, redrawn at most every `redrawMs` (`\r` + erase-line);
 * when the output is not a terminal or `CI=true`, it prints plain lines instead, at most one per
 * `plainEveryMs` per task plus the final one, so logs stay short and readable.
 *
 * A task is identified by its `label`. The display measures the rate of `current` over a short
 * sliding window and derives the ETA from `total`. Extra `fields` (loss, accuracy, batch...) are
 * appended as `key value` pairs:
 *
 * ```
 * train-images-idx3-ubyte.gz [=======>            ]  38%  3.7/9.7 MB  4.1 MB/s  ETA 2s
 * epoch 2/10 [===>                ]  21%  12,800/60,000 ex  1,210 ex/s  ETA 39s  loss 0.1421  acc 95.6%
 * ```
 *
 * @module
 */

/**
 * Where the display writes (Deno.stdout, Deno.stderr, or a test double).
 *
 * @example
 * ```ts
 * import { createProgress, type ProgressWriter } from "./mod.ts";
 * const lines: string[] = [];
 * const capture: ProgressWriter = {
 *   writeSync: (b) => (lines.push(new TextDecoder().decode(b)), b.length),
 * };
 * createProgress({ out: capture, live: false }).log("hello");
 * ```
 */
export interface ProgressWriter {
  /** Writes some bytes synchronously and returns how many were written. */
  writeSync(p: Uint8Array): number;
}

/**
 * Options of {@link createProgress}.
 *
 * @example
 * ```ts
 * import { createProgress, type ProgressOptions } from "./mod.ts";
 * const toStderr: ProgressOptions = { out: Deno.stderr, live: Deno.stderr.isTerminal() };
 * const p = createProgress(toStderr);
 * ```
 */
export interface ProgressOptions {
  /** Output; default `Deno.stdout`. */
  readonly out?: ProgressWriter;
  /** Live single line? Default: `out` is a terminal and `$CI` is not `true`/`1`. */
  readonly live?: boolean;
  /** Line width for the live line; default the terminal's width, else 80. */
  readonly columns?: number;
  /** Clock in milliseconds; default `performance.now`. */
  readonly now?: () => number;
  /** Minimum time between live redraws (ms); default 100. */
  readonly redrawMs?: number;
  /** Minimum time between plain lines of one task (ms); default 10,000. */
  readonly plainEveryMs?: number;
}

/**
 * The state of one task, given to {@link Progress.update}.
 *
 * @example
 * ```ts
 * import type { ProgressUpdate } from "./mod.ts";
 * // A training step: examples as the unit gives examples/s and the epoch's ETA.
 * const u: ProgressUpdate = {
 *   label: "epoch 2/10",
 *   current: 12_800,
 *   total: 60_000,
 *   unit: "ex",
 *   fields: { batch: "200/938", loss: "0.1421", acc: "95.6%" },
 * };
 * ```
 */
export interface ProgressUpdate {
  /** Names the task; a new label starts a new task (and a new rate measurement). */
  readonly label: string;
  /** Units done so far (bytes, examples, ...). */
  readonly current: number;
  /** Units in all, when known: enables the bar, the percentage and the ETA. */
  readonly total?: number;
  /** `"bytes"` formats as kB/MB/GB; any other word is printed after the counts (`"ex"`). */
  readonly unit?: string;
  /** Rate in units per second, if the caller measures it; otherwise measured here. */
  readonly rate?: number;
  /** Extra `key value` pairs appended to the line, in order. */
  readonly fields?: Readonly<Record<string, string | number>>;
}

/**
 * A progress display; see {@link createProgress}.
 *
 * @example
 * ```ts
 * import { createProgress, type Progress } from "./mod.ts";
 * const p: Progress = createProgress();
 * p.update({ label: "epoch 1/1", current: 640, total: 60_000, unit: "ex", fields: { loss: "0.52" } });
 * p.log("checkpoint saved"); // a permanent line; the live line is redrawn below it
 * p.done(undefined, "test accuracy 97.9%");
 * ```
 */
export interface Progress {
  /** True when drawing a live line (terminal), false when printing plain lines. */
  readonly live: boolean;
  /** Reports the current state of a task; cheap to call very often (it throttles). */
  update(u: ProgressUpdate): void;
  /** Ends the current task: prints its final state (always), optionally with a note. */
  done(u?: ProgressUpdate, note?: string): void;
  /** Prints a permanent line (above the live line on a terminal). */
  log(line: string): void;
}

/**
 * Decimal byte count: `9.72 MB`, `512 B`, `28.9 kB`.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./mod.ts";
 * console.log(formatBytes(9_719_438)); // "9.72 MB"
 * ```
 */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return "?";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  if (i === 0) return `${Math.round(v)} B`;
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

/**
 * A duration in seconds for humans: `0.4s`, `42s`, `3m07s`, `1h02m`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./mod.ts";
 * console.log(formatDuration(187)); // "3m07s"
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** A count with thousands separators, or bytes when `unit` is `"bytes"`. */
function formatAmount(n: number, unit: string | undefined): string {
  return unit === "bytes" ? formatBytes(n) : Math.round(n).toLocaleString("en-US");
}

/**
 * A rate: `4.10 MB/s` for bytes, `1,210 ex/s` otherwise.
 *
 * @example
 * ```ts
 * import { formatRate } from "./mod.ts";
 * console.log(formatRate(1210.4, "ex")); // "1,210 ex/s"
 * ```
 */
export function formatRate(perSecond: number, unit: string | undefined): string {
  if (unit === "bytes") return `${formatBytes(perSecond)}/s`;
  const v = perSecond >= 100 ? Math.round(perSecond).toLocaleString("en-US") : perSecond.toFixed(1);
  return `${v} ${unit ?? "it"}/s`;
}

/**
 * Renders one line (pure; used by both modes). `bar` adds a 20-column bar; `width` truncates.
 *
 * @example
 * ```ts
 * import { renderLine } from "./mod.ts";
 * const line = renderLine({ label: "x.gz", current: 5e6, total: 1e7, unit: "bytes" }, 2.5e6, { bar: false });
 * console.log(line); // "x.gz   50%  5.00/10.0 MB  2.50 MB/s  ETA 2.0s"
 * ```
 *
 * @param rate units per second, or undefined while unknown
 */
export function renderLine(
  u: ProgressUpdate,
  rate: number | undefined,
  opts: { readonly bar: boolean; readonly width?: number },
): string {
  const parts: string[] = [u.label];
  const total = u.total !== undefined && u.total > 0 ? u.total : undefined;
  const frac = total === undefined ? undefined : Math.min(1, Math.max(0, u.current / total));
  if (frac !== undefined && opts.bar) {
    const cells = 20, full = Math.floor(frac * cells);
    parts.push(
      `[${"=".repeat(full)}${full < cells ? ">" : ""}${" ".repeat(Math.max(0, cells - full - 1))}]`,
    );
  }
  if (frac !== undefined) parts.push(`${Math.floor(frac * 100).toString().padStart(3)}%`);
  const word = u.unit === "bytes" ? "" : ` ${u.unit ?? "it"}`;
  if (total !== undefined && u.unit === "bytes") {
    // "3.70/9.72 MB" when both fall in the same unit, else "512 kB/9.72 MB".
    const [a, ua] = formatBytes(u.current).split(" "), b = formatBytes(total);
    parts.push(b.endsWith(` ${ua}`) ? `${a}/${b}` : `${a} ${ua}/${b}`);
  } else if (total !== undefined) {
    parts.push(`${formatAmount(u.current, u.unit)}/${formatAmount(total, u.unit)}${word}`);
  } else {
    parts.push(`${formatAmount(u.current, u.unit)}${word}`);
  }
  if (rate !== undefined && rate > 0) {
    parts.push(formatRate(rate, u.unit));
    if (total !== undefined && u.current < total) {
      parts.push(`ETA ${formatDuration((total - u.current) / rate)}`);
    }
  }
  for (const [k, v] of Object.entries(u.fields ?? {})) parts.push(`${k} ${v}`);
  const line = parts.join("  ");
  const w = opts.width;
  return w !== undefined && line.length > w ? `${line.slice(0, Math.max(0, w - 1))}…` : line;
}

function envIsCi(): boolean {
  try {
    const ci = Deno.env.get("CI");
    return ci === "true" || ci === "1";
  } catch {
    return false; // env access not granted: assume an interactive run
  }
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}

/** Rate over the last few seconds from (time, amount) samples. */
class RateMeter {
  private samples: [number, number][] = [];
  constructor(private readonly windowMs = 5000) {}
  add(t: number, amount: number): void {
    const s = this.samples;
    if (s.length > 0 && t - s[s.length - 1][0] < 50) s[s.length - 1][1] = amount;
    else s.push([t, amount]);
    while (s.length > 2 && t - s[1][0] >= this.windowMs) s.shift();
  }
  /** Units per second, or undefined before 0.25 s of data. */
  rate(): number | undefined {
    const s = this.samples;
    if (s.length < 2) return undefined;
    const [t0, a0] = s[0], [t1, a1] = s[s.length - 1];
    return t1 - t0 < 250 ? undefined : ((a1 - a0) * 1000) / (t1 - t0);
  }
}

/**
 * Creates a progress display. Writes never throw (a closed pipe must not kill a download).
 *
 * @example
 * ```ts
 * import { createProgress } from "./mod.ts";
 * const p = createProgress();
 * for (let i = 1; i <= 3; i++) p.update({ label: "demo", current: i, total: 3, unit: "ex" });
 * p.done(undefined, "finished");
 * ```
 */
export function createProgress(opts: ProgressOptions = {}): Progress {
  const out = opts.out ?? Deno.stdout;
  const isTty = opts.out === undefined ? safeIsTerminal() : false;
  const live = opts.live ?? (isTty && !envIsCi());
  const now = opts.now ?? (() => performance.now());
  const redrawMs = opts.redrawMs ?? 100;
  const plainEveryMs = opts.plainEveryMs ?? 10_000;
  const enc = new TextEncoder();
  const write = (s: string) => {
    try {
      const b = enc.encode(s);
      for (let o = 0; o < b.length;) o += out.writeSync(b.subarray(o));
    } catch {
      // Progress is advisory: a broken pipe must not fail the work it reports on.
    }
  };
  let label: string | undefined;
  let last: ProgressUpdate | undefined;
  let meter = new RateMeter();
  let lastDraw = -Infinity;
  let shown = false; // live: a line is on screen
  const width = () => (opts.columns ?? terminalColumns()) - 1;
  const rateOf = (u: ProgressUpdate) => u.rate ?? meter.rate();

  const begin = (u: ProgressUpdate) => {
    if (u.label === label) return;
    if (label !== undefined && last !== undefined) finish(last); // a new task ends the old one
    label = u.label;
    meter = new RateMeter();
    // Live: draw at once. Plain: first line only after plainEveryMs, so short tasks print just
    // their final line (done) and logs carry no "0%" noise.
    lastDraw = live ? -Infinity : now();
  };
  const draw = (u: ProgressUpdate) => {
    if (live) {
      write(`\r${renderLine(u, rateOf(u), { bar: true, width: width() })}\x1b[K`);
      shown = true;
    } else {
      write(`${renderLine(u, rateOf(u), { bar: false })}\n`);
    }
  };
  const finish = (u: ProgressUpdate, note?: string) => {
    const line = renderLine(u, rateOf(u), { bar: live, width: live ? width() : undefined });
    write(`${live ? "\r" : ""}${line}${note ? `  ${note}` : ""}${live ? "\x1b[K" : ""}\n`);
    shown = false;
    label = undefined;
    last = undefined;
  };

  return {
    live,
    update(u) {
      begin(u);
      const t = now();
      meter.add(t, u.current);
      last = u;
      const complete = u.total !== undefined && u.current >= u.total;
      if (t - lastDraw >= (live ? redrawMs : plainEveryMs) || (live && complete)) {
        lastDraw = t;
        draw(u);
      }
    },
    done(u, note) {
      if (u !== undefined) {
        begin(u);
        meter.add(now(), u.current);
        last = u;
      }
      if (last !== undefined) finish(last, note);
      else if (note) this.log(note);
    },
    log(line) {
      write(`${live && shown ? "\r\x1b[K" : ""}${line}\n`);
      if (live && shown && last !== undefined) {
        shown = false;
        draw(last);
      }
    },
  };
}

function safeIsTerminal(): boolean {
  try {
    return Deno.stdout.isTerminal();
  } catch {
    return false;
  }
}
