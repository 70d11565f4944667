/**
 * `deno task train`: train a LeNet-5 on MNIST with a live progress line, per-epoch evaluation,
 * metrics, checkpoints, resume and a final summary.
 *
 * Exit codes: 0 done (or stopped early), 1 failure (data, disk, divergence), 2 usage error,
 * 130 interrupted by Ctrl-C (after saving a checkpoint and printing the resume command).
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import {
  checkTrainConfig,
  DEFAULT_TRAIN_CONFIG,
  flagName,
  parseInit,
  type TrainConfig,
} from "../lenet/config.ts";
import { getVariant, headsOf, type Variant, VARIANTS } from "../lenet/model.ts";
import { countParams } from "../lenet/params.ts";
import { loadRun, type RunCheckpoint } from "../lenet/run_checkpoint.ts";
import { RUN_FILES, train, type TrainSummary } from "../lenet/trainer.ts";
import { formatSchedule, parseSchedule } from "../lenet/schedule.ts";
import { prngKey } from "../tensor/random.ts";
import type { Either } from "../tensor/result.ts";
import { downloadReporter } from "./data.ts";
import {
  all,
  checkFile,
  choiceFlag,
  EXIT,
  intFlag,
  numFlag,
  parseFlags,
  pathFlag,
  usageError,
  writeAll,
} from "./flags.ts";
import { createProgress, formatDuration, type ProgressWriter } from "./progress.ts";

const D = DEFAULT_TRAIN_CONFIG;

/** The `--help` text of `deno task train`. */
export const TRAIN_USAGE: string = `Usage: deno task train [options]

Train LeNet-5 on MNIST (downloaded and verified on first use), evaluating on the test set after
every epoch. Writes checkpoint.safetensors, best.safetensors, metrics.jsonl and report.json into
the run folder. Same seed, same machine: bit-identical weights, also across --resume.

Training:
  --epochs N            epochs (default ${D.epochs})
  --batch-size B        examples per step (default ${D.batchSize})
  --lr X                peak learning rate (default ${D.lr})
  --optimizer NAME      adam, sgd or momentum (default ${D.optimizer})
  --momentum M          momentum coefficient of --optimizer momentum (default ${D.momentum})
  --nesterov            Nesterov momentum (with --optimizer momentum)
  --weight-decay W      L2 weight decay (default ${D.weightDecay})
  --schedule S          constant | step:EPOCHS[:GAMMA] | cosine[:FLOOR] | warmup:STEPS[+...]
                        (default ${D.schedule}: the rate rises linearly over 300
                        steps, then decays to 0 along a cosine over the run)
  --seed S              seed of initialization, shuffling and augmentation (default ${D.seed})
  --variant NAME        model (default ${D.variant}; a variant's own defaults, below, come
                        under the flags): ${Object.keys(VARIANTS).join(", ")}
  --head NAME           the variant's output layer, its own by default (${headsHelp()})
  --init I              he, glorot or lecun, optionally -uniform/-normal (default ${D.init};
                        modern only: the other variants refuse it and initialize as their
                        sources did)
  --augment             random shifts (<= 2 px), rotations, scalings and elastic distortions
  --dtype T             float32 or float64 (default ${D.dtype})
  --limit N             train on the first N training examples only
  --test-limit N        evaluate on the first N test examples only
  --validation N        hold out the last N training examples as a validation split
  --patience P          stop after P epochs without a lower validation loss (needs --validation)
  --workers N           compute each batch's gradient on N threads (this one + N-1 Workers);
                        the batch is cut into --shards shards (default 2 with --workers) whose
                        gradients are summed in a fixed order: N changes the speed, never the
                        weights (N <= shards). Opt-in: on a busy machine it can be slower
  --shards S            gradient shards per batch (default ${D.shards}; 2 with --workers)

Variant defaults (replacing the ones above):
${variantDefaultsHelp()}
Data and files:
  --data DIR            MNIST directory (default $MNIST_DIR, else data/mnist; missing files
                        are downloaded there)
  --offline             never download
  --out DIR             run folder (default runs/<YYYYMMDD-HHMMSS>, printed at the start)
  --resume FILE         continue the run saved in FILE with its settings (--out defaults to
                        FILE's folder); the result equals an uninterrupted run bit for bit
  --checkpoint-every K  also save the checkpoint every K steps (default: at each epoch end,
                        and on Ctrl-C)
  -h, --help            show this help

Environment: MNIST_DIR (default --data), MNIST_MIRROR (download mirrors), CI=true (plain
progress lines instead of a live line).
Exit codes: 0 done, 1 failure, 2 usage error, 130 interrupted (checkpoint saved).
`;

/** `NAME: own, other` for each variant with more than one head. */
function headsHelp(): string {
  return Object.values(VARIANTS).filter((v) => headsOf(v).length > 1).map((v) =>
    `${v.name}: ${headsOf(v).join(" or ")}`
  ).join("; ");
}

/** `  NAME  key value, ...` for each variant that brings training defaults. */
function variantDefaultsHelp(): string {
  const lines = Object.values(VARIANTS).filter((v) => v.defaults !== undefined).map((v) => {
    const flags = Object.entries(v.defaults!).map(([k, val]) =>
      `--${flagName(k as keyof TrainConfig)} ${val}`
    );
    // Wrapped at 100 columns, continuation lines under the first flag.
    const rows = [`  ${v.name.padEnd(20)}`];
    for (const f of flags) {
      const last = rows.length - 1;
      if (rows[last].length + 1 + f.length > 100) rows.push(`${" ".repeat(22)} ${f}`);
      else rows[last] += ` ${f}`;
    }
    return rows.join("\n");
  });
  return lines.length === 0 ? "  (none)\n" : `${lines.join("\n")}\n`;
}

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  lr: { type: "string" },
  optimizer: { type: "string" },
  momentum: { type: "string" },
  nesterov: { type: "boolean" },
  "weight-decay": { type: "string" },
  schedule: { type: "string" },
  seed: { type: "string" },
  variant: { type: "string" },
  head: { type: "string" },
  init: { type: "string" },
  augment: { type: "boolean" },
  dtype: { type: "string" },
  limit: { type: "string" },
  "test-limit": { type: "string" },
  validation: { type: "string" },
  patience: { type: "string" },
  data: { type: "string" },
  offline: { type: "boolean" },
  out: { type: "string" },
  resume: { type: "string" },
  "checkpoint-every": { type: "string" },
  workers: { type: "string" },
  shards: { type: "string" },
} as const;

/** Validated command line of `deno task train`. */
export interface TrainArgs {
  /** Configuration values given on the command line (the rest take defaults). */
  readonly given: Partial<TrainConfig>;
  /** `--data`. */
  readonly data?: string;
  /** `--offline`. */
  readonly offline: boolean;
  /** `--out`. */
  readonly out?: string;
  /** `--resume`. */
  readonly resume?: string;
  /** `--checkpoint-every` (0: epoch ends only). */
  readonly checkpointEvery: number;
  /** `--workers` (threads computing gradient shards), if given. */
  readonly workers?: number;
  /** `--help`. */
  readonly help: boolean;
}

/**
 * Parses and validates the flags of `deno task train` (no file system access); a left is one
 * line naming the flag.
 *
 * @example
 * ```ts
 * import { parseTrainArgs } from "./src/cli/train.ts";
 * console.log(parseTrainArgs(["--epochs", "2"])); // Right, given { epochs: 2 }
 * console.log(parseTrainArgs(["--epochs", "0"])); // Left: --epochs "0" is invalid: ...
 * ```
 */
export function parseTrainArgs(args: readonly string[]): Either<string, TrainArgs> {
  const parsed = parseFlags(args, OPTIONS);
  if (E.isLeft(parsed)) return parsed;
  const f = parsed.right.values;
  const pos = (v: number) => v > 0;
  const checks = all(
    intFlag("epochs", f.epochs, 1),
    intFlag("batch-size", f["batch-size"], 1, 60_000),
    numFlag("lr", f.lr, pos, "a number > 0"),
    choiceFlag("optimizer", f.optimizer, ["adam", "sgd", "momentum"] as const),
    numFlag("momentum", f.momentum, (v) => v >= 0 && v < 1, "a number in [0, 1)"),
    numFlag("weight-decay", f["weight-decay"], (v) => v >= 0, "a number >= 0"),
    intFlag("seed", f.seed, -Number.MAX_SAFE_INTEGER),
    choiceFlag("variant", f.variant, Object.keys(VARIANTS)),
    choiceFlag("dtype", f.dtype, ["float32", "float64"] as const),
    intFlag("limit", f.limit, 1),
    intFlag("test-limit", f["test-limit"], 1),
    intFlag("validation", f.validation, 0, 59_999),
    intFlag("patience", f.patience, 1),
    pathFlag("data", f.data, "data/mnist"),
    pathFlag("out", f.out, "runs/mine"),
    pathFlag("resume", f.resume, "runs/20250101-120000/checkpoint.safetensors"),
    intFlag("checkpoint-every", f["checkpoint-every"], 1),
    intFlag("workers", f.workers, 1, 64),
    intFlag("shards", f.shards, 1, 64),
  );
  if (E.isLeft(checks)) return checks;
  const [
    epochs,
    batchSize,
    lr,
    optimizer,
    momentum,
    weightDecay,
    seed,
    variant,
    dtype,
    limit,
    testLimit,
    validation,
    patience,
    data,
    out,
    resume,
    checkpointEvery,
    workers,
    shards,
  ] = checks.right;
  let schedule: string | undefined;
  if (typeof f.schedule === "string") {
    const s = parseSchedule(f.schedule);
    if (E.isLeft(s)) return s;
    schedule = formatSchedule(s.right);
  }
  if (typeof f.init === "string" && E.isLeft(parseInit(f.init))) return parseInit(f.init) as never;
  if (f.head !== undefined && (typeof f.head !== "string" || f.head.trim() === "")) {
    return E.left("--head needs a name, e.g. --head softmax");
  }
  const given: Record<string, unknown> = {
    epochs,
    batchSize,
    lr,
    optimizer,
    momentum,
    nesterov: f.nesterov === true ? true : undefined,
    weightDecay,
    schedule,
    seed,
    variant,
    head: f.head,
    init: f.init,
    augment: f.augment === true ? true : undefined,
    dtype,
    limit,
    testLimit,
    validation,
    patience,
    shards,
  };
  for (const k of Object.keys(given)) if (given[k] === undefined) delete given[k];
  return E.right({
    given: given as Partial<TrainConfig>,
    data,
    offline: f.offline === true,
    out,
    resume,
    checkpointEvery: checkpointEvery ?? 0,
    ...(workers !== undefined ? { workers } : {}),
    help: f.help === true,
  });
}

/**
 * The configuration of a run: a fresh run takes the defaults, then the variant's own defaults
 * over them, then the flags over both; a resumed run takes the checkpoint's, and a flag that
 * contradicts it is an error (the run would no longer be the one that was started).
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./src/cli/train.ts";
 * const c = resolveConfig({ variant: "notes-sigmoid", lr: 0.5 });
 * if (c._tag === "Right") console.log(c.right.optimizer, c.right.lr, c.right.batchSize); // "sgd" 0.5 50
 * ```
 */
export function resolveConfig(
  given: Partial<TrainConfig>,
  stored?: TrainConfig,
): Either<string, TrainConfig> {
  if (stored === undefined) {
    const v = getVariant(given.variant ?? DEFAULT_TRAIN_CONFIG.variant, given.head);
    if (E.isLeft(v)) return v;
    if (given.init !== undefined && v.right.takesInitScheme !== true) {
      return E.left(
        `--init ${given.init} does not apply to --variant ${v.right.name}: it initializes as its ` +
          `source did; drop --init`,
      );
    }
    return checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, ...v.right.defaults, ...given });
  }
  for (const [k, v] of Object.entries(given) as [keyof TrainConfig, unknown][]) {
    if (stored[k] !== v) {
      return E.left(
        `--${flagName(k)} ${JSON.stringify(v)} differs from the resumed run's ` +
          `${JSON.stringify(stored[k])}; a resumed run keeps its settings: drop the flag`,
      );
    }
  }
  return E.right(stored);
}

/** What the command talks to (tests replace these). */
export interface TrainCliIo {
  /** Progress and summary; default Deno.stdout. */
  readonly stdout?: ProgressWriter;
  /** Errors; default Deno.stderr. */
  readonly stderr?: ProgressWriter;
  /** Ctrl-C: aborting it stops after the current step with a checkpoint. */
  readonly signal?: AbortSignal;
  /** Force the live progress line on or off. */
  readonly live?: boolean;
}

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${
    p(d.getMinutes())
  }${p(d.getSeconds())}`;
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

function quote(s: string): string {
  return /^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs `deno task train` with `args` and returns the exit code; never throws, never prints a
 * stack trace for a user error.
 *
 * @example
 * ```ts
 * import { trainMain } from "./src/cli/train.ts";
 * Deno.exit(await trainMain(["--epochs", "1", "--limit", "2000", "--out", "/tmp/quick"]));
 * ```
 */
export async function trainMain(args: readonly string[], io: TrainCliIo = {}): Promise<number> {
  const out = io.stdout ?? Deno.stdout;
  const err = io.stderr ?? Deno.stderr;
  const cmd = "deno task train";
  const parsed = parseTrainArgs(args);
  if (E.isLeft(parsed)) return usageError(err, cmd, parsed.left, TRAIN_USAGE);
  const a = parsed.right;
  if (a.help) {
    writeAll(out, TRAIN_USAGE);
    return EXIT.ok;
  }
  let resume: RunCheckpoint | undefined;
  if (a.resume !== undefined) {
    const exists = await checkFile("--resume", a.resume);
    if (E.isLeft(exists)) return usageError(err, cmd, exists.left, TRAIN_USAGE);
    const loaded = await loadRun(a.resume)();
    if (E.isLeft(loaded)) return usageError(err, cmd, `cannot resume: ${loaded.left}`, TRAIN_USAGE);
    resume = loaded.right;
  }
  // --workers alone shards each batch in 2 (a fresh run; a resumed run keeps its shards).
  const given = a.workers !== undefined && a.given.shards === undefined && resume === undefined
    ? { ...a.given, shards: 2 }
    : a.given;
  const config = resolveConfig(given, resume?.config);
  if (E.isLeft(config)) return usageError(err, cmd, config.left, TRAIN_USAGE);
  const c = config.right;
  if (a.workers !== undefined && a.workers > c.shards) {
    return usageError(
      err,
      cmd,
      `--workers ${a.workers} needs at least as many shards; the run has ${c.shards}: pass ` +
        `--shards ${a.workers} (a fresh run) or fewer workers`,
      TRAIN_USAGE,
    );
  }
  const outDir = a.out ?? (a.resume !== undefined ? dirname(a.resume) : `runs/${timestamp()}`);
  if (resume === undefined) {
    try {
      await Deno.stat(`${outDir}/${RUN_FILES.checkpoint}`);
      return usageError(
        err,
        cmd,
        `${outDir} already holds a run (${RUN_FILES.checkpoint}); continue it with --resume ` +
          `${outDir}/${RUN_FILES.checkpoint}, or choose another --out`,
        TRAIN_USAGE,
      );
    } catch { /* a fresh folder, as it should be */ }
  }
  const progress = createProgress({ out: io.stdout, live: io.live });
  const found = getVariant(c.variant, c.head);
  if (E.isLeft(found)) return usageError(err, cmd, found.left, TRAIN_USAGE);
  const variant: Variant = found.right;
  const initial = variant.init(prngKey(0), { dtype: c.dtype });
  const params = countParams(initial);
  const opt = c.optimizer === "momentum"
    ? `momentum ${c.momentum}${c.nesterov ? " (Nesterov)" : ""}`
    : c.optimizer === "adam"
    ? "Adam"
    : "SGD";
  progress.log(
    `LeNet-5 "${c.variant}" (${params.toLocaleString("en-US")} parameters), ${opt} lr ${c.lr} ` +
      `${c.schedule}${c.weightDecay > 0 ? ` wd ${c.weightDecay}` : ""}, batch ${c.batchSize}, ` +
      `${c.epochs} epoch${c.epochs === 1 ? "" : "s"}, seed ${c.seed}` +
      `${c.augment ? ", augmented" : ""}${c.dtype === "float64" ? ", float64" : ""}` +
      `${c.head !== null ? `, head ${c.head}` : ""}` +
      `${c.shards > 1 ? `, ${c.shards} gradient shards` : ""}` +
      `${a.workers !== undefined ? ` on ${a.workers} thread${a.workers === 1 ? "" : "s"}` : ""}`,
  );
  const about = variant.describe?.(initial);
  if (about !== undefined) progress.log(about);
  progress.log(
    resume === undefined
      ? `Run folder: ${outDir}`
      : `Resuming ${a.resume} at epoch ${resume.state.epoch + 1}, batch ${resume.state.batch} ` +
        `(step ${resume.state.step}); run folder: ${outDir}`,
  );
  const resumeCmd = [
    "deno task train --resume",
    quote(`${outDir}/${RUN_FILES.checkpoint}`),
    ...(a.data !== undefined ? ["--data", quote(a.data)] : []),
    ...(a.offline ? ["--offline"] : []),
  ].join(" ");
  let result;
  try {
    result = await train({
      config: c,
      out: outDir,
      dataDir: a.data,
      offline: a.offline,
      checkpointEvery: a.checkpointEvery,
      resume,
      workers: a.workers,
    }, { progress, signal: io.signal, onDownload: downloadReporter(progress) });
  } catch (e) {
    writeAll(err, `${cmd}: unexpected failure: ${e instanceof Error ? e.message : e}\n`);
    return EXIT.failure;
  }
  if (E.isLeft(result)) {
    const f = result.left;
    if (f.kind === "data" && f.error.kind === "aborted") {
      writeAll(err, `Interrupted while loading MNIST: ${f.message}\n`);
      return EXIT.interrupted;
    }
    if (f.kind === "data" && f.error.kind === "invalid-option") {
      return usageError(err, cmd, f.message, TRAIN_USAGE);
    }
    const what = f.kind === "diverged" ? "training diverged at " : "";
    writeAll(err, `${cmd}: ${what}${f.message}\n`);
    return EXIT.failure;
  }
  const s = result.right;
  if (s.status === "interrupted") {
    writeAll(
      out,
      `Interrupted at epoch ${s.state.epoch + 1}, batch ${s.state.batch} (step ${s.state.step}). ` +
        `Checkpoint saved: ${s.checkpoint}\nResume with: ${resumeCmd}\n`,
    );
    return EXIT.interrupted;
  }
  writeAll(out, summaryText(s, c));
  return EXIT.ok;
}

function summaryText(s: TrainSummary, c: TrainConfig): string {
  const p = s.progress;
  const lines = [
    `${s.status === "early-stopped" ? "Stopped early" : "Done"}: ${s.state.epoch} epoch` +
    `${s.state.epoch === 1 ? "" : "s"} in ${formatDuration(p.elapsedSeconds)} ` +
    `(${Math.round(s.examplesPerSecond).toLocaleString("en-US")} examples/s while training).`,
  ];
  if (s.finalTest !== null) {
    lines.push(
      `  final test accuracy ${(100 * s.finalTest.accuracy).toFixed(2)}% ` +
        `(${s.finalTest.correct}/${s.finalTest.count}, loss ${s.finalTest.loss.toFixed(4)})`,
    );
  }
  if (p.best !== null) {
    lines.push(
      `  best ${p.best.metric.replace("_", " ")} ${(100 * p.best.value).toFixed(2)}% at epoch ` +
        `${p.best.epoch}`,
    );
  }
  if (s.learned !== null) lines.push(s.learned.text, `  (written to ${s.learned.path})`);
  lines.push(`  checkpoint  ${s.checkpoint}`);
  if (s.bestCheckpoint !== null) lines.push(`  best        ${s.bestCheckpoint}`);
  lines.push(`  metrics     ${s.out}/${RUN_FILES.metrics}`);
  lines.push(`  report      ${s.out}/${RUN_FILES.report}`);
  lines.push(`Evaluate: deno task eval --checkpoint ${quote(s.checkpoint)}`);
  if (c.limit !== null || c.testLimit !== null) {
    lines.push(`(trained on ${c.limit ?? "all"} examples, tested on ${c.testLimit ?? "all"})`);
  }
  return `${lines.join("\n")}\n`;
}

if (import.meta.main) {
  const ctl = new AbortController();
  const onInt = () => {
    // First Ctrl-C: finish the step, save a checkpoint, print the resume command. Second: now.
    if (ctl.signal.aborted) Deno.exit(EXIT.interrupted);
    ctl.abort();
  };
  try {
    Deno.addSignalListener("SIGINT", onInt);
  } catch {
    // signals unsupported here: the default Ctrl-C behaviour stays
  }
  Deno.exit(await trainMain(Deno.args, { signal: ctl.signal }));
}
