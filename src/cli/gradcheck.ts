/**
 * `deno task gradcheck`: runs the gradient suite (every differentiable op, three-way checks on
 * random cases) and prints a table: op, cases, max rel error hand vs autograd, max rel error vs
 * finite differences, pass/fail. Exit status 0 when every op passes, 1 on any failure, 2 on a
 * usage error (unknown flag or op, bad number).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { either as E } from "npm:fp-ts@2.16.11";
import type { Either } from "../tensor/result.ts";
import {
  formatGradientSuiteHeader,
  formatGradientSuiteRow,
  formatGradientSuiteSummary,
  gradientSuiteOps,
  type GradientSuiteOptions,
  type GradientSuiteReport,
  runGradientSuite,
} from "../autograd/suite.ts";

/** What the command runs: the suite's options, or `help`. */
export interface GradcheckConfig {
  readonly help: boolean;
  readonly seed: number;
  readonly cases: number;
  readonly samples: number;
  readonly ops: readonly string[] | undefined;
}

/** The usage text of `--help`. */
export const USAGE: string = `deno task gradcheck [options]

Proves every differentiable op's hand-derived backward rule three ways on random cases (float64):
the hand rule vs the autograd's reference definition (<= 1e-10 (1 + |g|)), and each vs central
finite differences (gradcheck: rtol 1e-6, atol 1e-8). Prints one table row per op.

Options:
  --seed <int>      fast-check seed; the same seed gives the same cases (default 1)
  --cases <int>     random cases per op (default 100)
  --samples <int>   coordinates per input checked by finite differences (default 16)
  --op <name>       run only these ops; repeat it or give a comma list (default: all)
  -h, --help        print this help

Exit status: 0 all passed, 1 a check failed (the counterexample and how to reproduce it are
printed), 2 usage error.

Ops: ${gradientSuiteOps.join(", ")}
`;

/** Parses a positive (or any, with `min`) integer flag, or says what is wrong. */
function integer(name: string, raw: string | undefined, fallback: number, min: number) {
  if (raw === undefined) return E.right(fallback);
  const v = Number(raw);
  return Number.isInteger(v) && v >= min && raw.trim() !== ""
    ? E.right(v)
    : E.left(`--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
}

/**
 * Parses the command line (strict: unknown flags and stray arguments are errors). Left is a
 * message for the user.
 */
export function parseFlags(args: readonly string[]): Either<string, GradcheckConfig> {
  let values;
  try {
    ({ values } = parseArgs({
      args: args.slice(),
      strict: true,
      allowPositionals: false,
      options: {
        seed: { type: "string" },
        cases: { type: "string" },
        samples: { type: "string" },
        op: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    return E.left(e instanceof Error ? e.message : String(e));
  }
  const seed = integer("seed", values.seed, 1, -(2 ** 31));
  const cases = integer("cases", values.cases, 100, 1);
  const samples = integer("samples", values.samples, 16, 1);
  for (const v of [seed, cases, samples]) if (E.isLeft(v)) return v;
  const ops = values.op?.flatMap((o) => o.split(",")).map((o) => o.trim()).filter((o) => o);
  const unknown = (ops ?? []).filter((o) => !gradientSuiteOps.includes(o));
  if (unknown.length > 0) {
    return E.left(
      `unknown op${unknown.length > 1 ? "s" : ""} ${unknown.map((o) => `"${o}"`).join(", ")}; ` +
        `valid ops: ${gradientSuiteOps.join(", ")}`,
    );
  }
  return E.right({
    help: values.help ?? false,
    seed: (seed as E.Right<number>).right,
    cases: (cases as E.Right<number>).right,
    samples: (samples as E.Right<number>).right,
    ops: ops && ops.length > 0 ? ops : undefined,
  });
}

/** Where output goes, and the suite runner (both replaceable in tests). */
export interface GradcheckIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly run: (opts: GradientSuiteOptions) => Promise<GradientSuiteReport>;
}

const defaultIo: GradcheckIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  run: runGradientSuite,
};

/** Runs the command; resolves to its exit status (0 pass, 1 failure, 2 usage error). */
export async function main(args: readonly string[], io: GradcheckIo = defaultIo): Promise<number> {
  const parsed = parseFlags(args);
  if (E.isLeft(parsed)) {
    io.err(`gradcheck: ${parsed.left}\nRun with --help for usage.`);
    return 2;
  }
  const cfg = parsed.right;
  if (cfg.help) {
    io.out(USAGE);
    return 0;
  }
  // The table's rows print as each op finishes; the summary and failures at the end.
  io.out(formatGradientSuiteHeader());
  const report = await io.run({
    seed: cfg.seed,
    cases: cfg.cases,
    samples: cfg.samples,
    ops: cfg.ops,
    onRow: (row) => io.out(formatGradientSuiteRow(row)),
  });
  io.out(`\n${formatGradientSuiteSummary(report)}`);
  return report.passed ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
