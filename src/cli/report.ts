/**
 * `deno task report --run DIR [--out FILE] [--digit INDEX]`: writes one self-contained HTML
 * report (inline SVG and CSS, no scripts, no network) for a training run folder.
 *
 * The run folder contract (`metrics.jsonl`, `report.json`) is documented in
 * `src/lenet/run_files.ts`. Exit codes: 0 written, 1 a file is missing or invalid (the message
 * names the file and line or field), 2 bad flags.
 *
 * @module
 */

import { either as E } from "npm:fp-ts@2.16.11";
import { all, intFlag, parseFlags, pathFlag } from "./flags.ts";
import { pickDigit, renderReport } from "./report/render.ts";
import { formatRunError, readRun, REPORT_FILE } from "../lenet/run_files.ts";

const USAGE = `Usage: deno task report --run DIR [--out FILE] [--digit INDEX]

Writes an HTML report of a training run: loss and accuracy curves, the confusion matrix, the
conv filters, the feature and delta maps of every layer for one test digit, and the most
confidently wrong test digits. The file is self-contained (works offline).

  --run DIR       the run folder (holds metrics.jsonl, and report.json once training ended)
  --out FILE      where to write the HTML (default: DIR/report.html)
  --digit INDEX   the test digit whose layer maps to show, by test-set index (default: the
                  first digit report.json has maps for)
  -h, --help      this help

Exit codes: 0 written, 1 missing or invalid run files, 2 bad flags.
`;

/** Where the command writes its messages (injectable for tests). */
export interface Io {
  /** Normal output (stdout). */
  readonly out: (line: string) => void;
  /** Errors and notes (stderr). */
  readonly err: (line: string) => void;
}

const consoleIo: Io = { out: (s) => console.log(s), err: (s) => console.error(s) };

interface ReportFlags {
  readonly run: string;
  readonly out: string;
  readonly digit: number | undefined;
}

/** Parses and validates argv: Right(flags), Left("help"), or Left(a usage error message). */
export function parseReportFlags(args: readonly string[]): E.Either<string, ReportFlags> {
  const parsed = parseFlags(args, {
    run: { type: "string" },
    out: { type: "string" },
    digit: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (E.isLeft(parsed)) return parsed;
  const v = parsed.right.values;
  if (v.help) return E.left("help");
  if (v.run === undefined) return E.left("--run DIR is required (the training run folder)");
  const checked = all(
    pathFlag("run", v.run, "runs/demo"),
    pathFlag("out", v.out, "report.html"),
    intFlag("digit", v.digit, 0),
  );
  if (E.isLeft(checked)) return checked;
  const [run, out, digit] = checked.right as [string, string | undefined, number | undefined];
  return E.right({ run, out: out ?? `${run.replace(/\/+$/, "")}/report.html`, digit });
}

/** Runs the command; returns the exit code. */
export async function reportMain(args: readonly string[], io: Io = consoleIo): Promise<number> {
  const flags = parseReportFlags(args);
  if (E.isLeft(flags)) {
    if (flags.left === "help") {
      io.out(USAGE);
      return 0;
    }
    io.err(`report: ${flags.left}\n\n${USAGE}`);
    return 2;
  }
  const { run: dir, out, digit } = flags.right;
  const run = await readRun(dir);
  if (E.isLeft(run)) {
    io.err(`report: ${formatRunError(run.left)}`);
    return 1;
  }
  let chosen = null;
  if (run.right.report !== null) {
    const picked = pickDigit(run.right.report, digit);
    if (E.isLeft(picked)) {
      io.err(`report: ${picked.left}`);
      return 2;
    }
    chosen = picked.right;
  } else {
    io.err(
      `report: note: ${dir}/${REPORT_FILE} not found (the trainer writes it at the end); ` +
        `the report shows the curves only`,
    );
  }
  const html = renderReport(run.right, chosen);
  try {
    await Deno.writeTextFile(out, html);
  } catch (e) {
    io.err(`report: cannot write ${out}: ${(e as Error).message}`);
    return 1;
  }
  const kb = (new TextEncoder().encode(html).length / 1024).toFixed(1);
  io.out(`report: wrote ${out} (${kb} KiB, ${run.right.metrics.length} epochs)`);
  return 0;
}

if (import.meta.main) Deno.exit(await reportMain(Deno.args));
