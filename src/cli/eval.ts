/**
 * `deno task eval --checkpoint FILE`: accuracy, per-class precision and recall, and the
 * confusion matrix of a trained model on the MNIST test set (normalized as in training).
 *
 * Exit codes: 0 ok, 1 failure (data, unreadable checkpoint), 2 usage error.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { classStats } from "../lenet/metrics.ts";
import type { Dataset } from "../lenet/dataset.ts";
import { loadMnist } from "../lenet/mnist.ts";
import { loadRun } from "../lenet/run_checkpoint.ts";
import { evaluate } from "../lenet/train.ts";
import { downloadReporter } from "./data.ts";
import {
  all,
  checkFile,
  EXIT,
  intFlag,
  parseFlags,
  pathFlag,
  usageError,
  writeAll,
} from "./flags.ts";
import { createProgress, type ProgressWriter } from "./progress.ts";

/** The `--help` text of `deno task eval`. */
export const EVAL_USAGE: string = `Usage: deno task eval --checkpoint FILE [options]

Evaluate a trained model on the MNIST test set: accuracy, loss, per-class precision and recall,
and the confusion matrix (rows: true digit, columns: predicted digit).

Options:
  --checkpoint FILE   a checkpoint written by deno task train (required)
  --data DIR          MNIST directory (default $MNIST_DIR, else data/mnist)
  --offline           never download
  --limit N           evaluate on the first N test examples only
  --json              print one JSON object instead of tables
  -h, --help          show this help

Exit codes: 0 ok, 1 failure, 2 usage error.
`;

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  checkpoint: { type: "string" },
  data: { type: "string" },
  offline: { type: "boolean" },
  limit: { type: "string" },
  json: { type: "boolean" },
} as const;

/** What the command talks to (tests replace these). */
export interface EvalCliIo {
  /** Results; default Deno.stdout. */
  readonly stdout?: ProgressWriter;
  /** Errors; default Deno.stderr. */
  readonly stderr?: ProgressWriter;
}

const pct = (v: number) => (Number.isNaN(v) ? "-" : `${(100 * v).toFixed(2)}%`);

/** The confusion matrix as a text table (rows: true digit, columns: predicted). */
export function formatConfusion(m: Int32Array): string {
  const w = Math.max(5, String(Math.max(...m)).length + 1);
  const head = `true\\pred${Array.from({ length: 10 }, (_, p) => String(p).padStart(w)).join("")}`;
  const rows = Array.from(
    { length: 10 },
    (_, t) =>
      `${String(t).padStart(9)}${
        Array.from(m.subarray(t * 10, t * 10 + 10), (v) => String(v).padStart(w)).join("")
      }`,
  );
  return [head, ...rows].join("\n");
}

/**
 * Runs `deno task eval` with `args` and returns the exit code; never throws.
 *
 * @example
 * ```ts
 * import { evalMain } from "./src/cli/eval.ts";
 * Deno.exit(await evalMain(["--checkpoint", "runs/20250101-120000/checkpoint.safetensors"]));
 * ```
 */
export async function evalMain(args: readonly string[], io: EvalCliIo = {}): Promise<number> {
  const out = io.stdout ?? Deno.stdout, err = io.stderr ?? Deno.stderr;
  const cmd = "deno task eval";
  const parsed = parseFlags(args, OPTIONS);
  if (E.isLeft(parsed)) return usageError(err, cmd, parsed.left, EVAL_USAGE);
  const f = parsed.right.values;
  if (f.help === true) {
    writeAll(out, EVAL_USAGE);
    return EXIT.ok;
  }
  const checks = all(
    pathFlag("checkpoint", f.checkpoint, "runs/20250101-120000/checkpoint.safetensors"),
    pathFlag("data", f.data, "data/mnist"),
    intFlag("limit", f.limit, 1, 10_000),
  );
  if (E.isLeft(checks)) return usageError(err, cmd, checks.left, EVAL_USAGE);
  const [ckptPath, data, limit] = checks.right;
  if (ckptPath === undefined) {
    return usageError(err, cmd, "--checkpoint FILE is required", EVAL_USAGE);
  }
  const exists = await checkFile("--checkpoint", ckptPath);
  if (E.isLeft(exists)) return usageError(err, cmd, exists.left, EVAL_USAGE);
  const run = await loadRun(ckptPath)();
  if (E.isLeft(run)) {
    writeAll(err, `${cmd}: ${run.left}\n`);
    return EXIT.failure;
  }
  const { variant, state, normalization: norm, meta, config } = run.right;
  const json = f.json === true;
  const progress = createProgress({ out: json ? err : out, live: json ? false : undefined });
  const mnist = await loadMnist({
    dir: data,
    offline: f.offline === true,
    limit,
    onProgress: json ? undefined : downloadReporter(progress),
  })();
  if (E.isLeft(mnist)) {
    writeAll(err, `${cmd}: ${mnist.left.message}\n`);
    return mnist.left.kind === "invalid-option" ? EXIT.usage : EXIT.failure;
  }
  // The checkpoint's own scaling, whatever it is (the bytes are scaled a slice at a time).
  const test: Dataset = { ...mnist.right.test, normalization: norm };
  const t0 = performance.now();
  const e = evaluate(variant, state.params, test, undefined, { confusion: true });
  const seconds = (performance.now() - t0) / 1000;
  const confusion = e.confusion!;
  const stats = classStats(confusion);
  if (json) {
    writeAll(
      out,
      `${
        JSON.stringify({
          checkpoint: ckptPath,
          variant: variant.name,
          head: variant.head ?? "softmax",
          epoch: meta.epoch,
          step: meta.step,
          count: e.count,
          correct: e.correct,
          accuracy: e.accuracy,
          loss: e.loss,
          per_class: stats,
          confusion: Array.from({ length: 10 }, (_, t) =>
            Array.from(confusion.subarray(t * 10, t * 10 + 10))),
        })
      }\n`,
    );
    return EXIT.ok;
  }
  const lines = [
    `Checkpoint ${ckptPath}: LeNet-5 "${variant.name}"` +
    `${config.head !== null ? ` (head ${config.head})` : ""}, ${meta.epoch} epoch` +
    `${meta.epoch === 1 ? "" : "s"} (step ${meta.step})`,
    `Test set: ${e.count.toLocaleString("en-US")} examples from ${mnist.right.dir} ` +
    `(${Math.round(e.count / seconds).toLocaleString("en-US")} images/s)`,
    `Accuracy ${pct(e.accuracy)} (${e.correct.toLocaleString("en-US")}/` +
    `${e.count.toLocaleString("en-US")}), error ${pct(1 - e.accuracy)}, loss ${e.loss.toFixed(4)}`,
    "",
    "digit  precision  recall  support",
    ...stats.map((s) =>
      `${String(s.digit).padStart(5)}  ${pct(s.precision).padStart(9)}  ${
        pct(s.recall).padStart(6)
      }  ${String(s.support).padStart(7)}`
    ),
    "",
    "Confusion matrix (rows: true digit, columns: predicted digit):",
    formatConfusion(confusion),
  ];
  writeAll(out, `${lines.join("\n")}\n`);
  return EXIT.ok;
}

if (import.meta.main) Deno.exit(await evalMain(Deno.args));
