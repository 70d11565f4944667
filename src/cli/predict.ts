/**
 * `deno task predict --checkpoint FILE IMAGE...`: read each PNG or PGM/PPM image (any size, dark
 * ink on light paper or the reverse), turn it into an MNIST-like 28x28 digit (polarity, crop,
 * 20x20 box, center of mass), normalize it as in training and print the predicted digit with the
 * probabilities of all ten.
 *
 * Exit codes: 0 ok, 1 an image or the checkpoint cannot be read, 2 usage error.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { preprocessDigit, readImageFile } from "../lenet/image.ts";
import { loadRun, normalizeImages } from "../lenet/run_checkpoint.ts";
import { softmax } from "../tensor/softmax.ts";
import { Tensor } from "../tensor/tensor.ts";
import { checkFile, EXIT, parseFlags, pathFlag, usageError, writeAll } from "./flags.ts";
import type { ProgressWriter } from "./progress.ts";

/** The `--help` text of `deno task predict`. */
export const PREDICT_USAGE: string = `Usage: deno task predict --checkpoint FILE [--json] IMAGE...

Classify images of handwritten digits with a trained model. Each image (PNG, or PGM/PPM) may have
any size and either polarity; it is cropped to the ink, scaled into a 20x20 box and centered by
its center of mass in 28x28, as MNIST's digits were.

Options:
  --checkpoint FILE   a checkpoint written by deno task train (required)
  --json              print a JSON array: [{"file", "digit", "probabilities": [10 numbers]}]
  -h, --help          show this help

Exit codes: 0 ok, 1 an unreadable image or checkpoint, 2 usage error.
`;

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  checkpoint: { type: "string" },
  json: { type: "boolean" },
} as const;

/** One image's prediction. */
export interface Prediction {
  /** The image file. */
  readonly file: string;
  /** The most probable digit. */
  readonly digit: number;
  /** The probability of each digit 0..9. */
  readonly probabilities: readonly number[];
}

/** What the command talks to (tests replace these). */
export interface PredictCliIo {
  /** Results; default Deno.stdout. */
  readonly stdout?: ProgressWriter;
  /** Errors; default Deno.stderr. */
  readonly stderr?: ProgressWriter;
}

/**
 * Runs `deno task predict` with `args` and returns the exit code; never throws.
 *
 * @example
 * ```ts
 * import { predictMain } from "./src/cli/predict.ts";
 * await predictMain(["--checkpoint", "runs/20250101-120000/checkpoint.safetensors", "seven.png"]);
 * ```
 */
export async function predictMain(args: readonly string[], io: PredictCliIo = {}): Promise<number> {
  const out = io.stdout ?? Deno.stdout, err = io.stderr ?? Deno.stderr;
  const cmd = "deno task predict";
  const parsed = parseFlags(args, OPTIONS, true);
  if (E.isLeft(parsed)) return usageError(err, cmd, parsed.left, PREDICT_USAGE);
  const f = parsed.right.values, files = parsed.right.positionals;
  if (f.help === true) {
    writeAll(out, PREDICT_USAGE);
    return EXIT.ok;
  }
  const ckpt = pathFlag("checkpoint", f.checkpoint, "runs/20250101-120000/checkpoint.safetensors");
  if (E.isLeft(ckpt)) return usageError(err, cmd, ckpt.left, PREDICT_USAGE);
  if (ckpt.right === undefined) {
    return usageError(err, cmd, "--checkpoint FILE is required", PREDICT_USAGE);
  }
  if (files.length === 0) {
    return usageError(err, cmd, "no image given: pass one or more PNG/PGM files", PREDICT_USAGE);
  }
  for (const path of [ckpt.right, ...files]) {
    const ok = await checkFile(path === ckpt.right ? "--checkpoint" : "image", path);
    if (E.isLeft(ok)) return usageError(err, cmd, ok.left, PREDICT_USAGE);
  }
  const run = await loadRun(ckpt.right)();
  if (E.isLeft(run)) {
    writeAll(err, `${cmd}: ${run.left}\n`);
    return EXIT.failure;
  }
  const { variant, state, normalization, config } = run.right;
  const batch = new Float32Array(files.length * 784);
  for (let i = 0; i < files.length; i++) {
    const img = await readImageFile(files[i])();
    const digit = E.isLeft(img) ? img : preprocessDigit(img.right, files[i]);
    if (E.isLeft(digit)) {
      writeAll(err, `${cmd}: ${digit.left.message}\n`);
      return EXIT.failure;
    }
    batch.set(digit.right.data, i * 784);
  }
  let x = normalizeImages(new Tensor(batch, [files.length, 1, 28, 28]), normalization);
  if (config.dtype === "float64") x = new Tensor(Float64Array.from(x.data), x.shape);
  const probs = softmax(variant.forward(state.params, x), -1).data;
  const predictions: Prediction[] = files.map((file, i) => {
    const p = Array.from(probs.subarray(i * 10, i * 10 + 10));
    let digit = 0;
    for (let j = 1; j < 10; j++) if (p[j] > p[digit]) digit = j;
    return { file, digit, probabilities: p };
  });
  if (f.json === true) {
    writeAll(out, `${JSON.stringify(predictions)}\n`);
    return EXIT.ok;
  }
  const width = Math.max(...files.map((s) => s.length));
  const lines = predictions.map((p) =>
    `${p.file.padEnd(width)}  ${p.digit}  (${(100 * p.probabilities[p.digit]).toFixed(1)}%)  ` +
    p.probabilities.map((v, j) => `${j}:${(100 * v).toFixed(1)}%`).join(" ")
  );
  writeAll(out, `${lines.join("\n")}\n`);
  return EXIT.ok;
}

if (import.meta.main) Deno.exit(await predictMain(Deno.args));
