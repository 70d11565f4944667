/**
 * Flag parsing and validation shared by `train`, `eval` and `predict`: `node:util` parseArgs in
 * strict mode, every check an `Either<string, _>` whose left is one clear line, and the common
 * exit path of a usage error (that line, the usage, exit code 2, no stack trace).
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { either as E } from "npm:fp-ts@2.16.11";
import type { Either } from "../tensor/result.ts";
import type { ProgressWriter } from "./progress.ts";

/** Exit codes of the commands. */
export const EXIT = Object.freeze({ ok: 0, failure: 1, usage: 2, interrupted: 130 });

/** The parsed flags (strings and booleans) and positionals. */
export interface ParsedFlags {
  /** Flag values by name. */
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  /** Positional arguments. */
  readonly positionals: readonly string[];
}

/**
 * Parses `args` strictly: an unknown flag, a missing value or a stray positional is a left with
 * parseArgs's message made short (no `ERR_PARSE_ARGS_...` code).
 */
export function parseFlags(
  args: readonly string[],
  options: NonNullable<ParseArgsConfig["options"]>,
  allowPositionals = false,
): Either<string, ParsedFlags> {
  try {
    const r = parseArgs({ args: [...args], options, strict: true, allowPositionals });
    return E.right({
      values: r.values as Record<string, string | boolean | undefined>,
      positionals: r.positionals,
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // One line: parseArgs's advice for script authors about positionals is dropped.
    return E.left(
      msg.replace(/\.?\s*To specify a positional argument.*$/s, "").replace(/\s*\n\s*/g, " ")
        .trim(),
    );
  }
}

const INT = /^[+-]?\d+$/;
const NUM = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * An integer flag in `[min, max]`, or `fallback` when absent.
 *
 * @example
 * ```ts
 * import { intFlag } from "./src/cli/flags.ts";
 * console.log(intFlag("epochs", "3", 1)); // { _tag: "Right", right: 3 }
 * console.log(intFlag("epochs", "three", 1)._tag); // "Left"
 * ```
 */
export function intFlag(
  name: string,
  text: string | boolean | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): Either<string, number | undefined> {
  if (text === undefined) return E.right(undefined);
  const v = typeof text === "string" && INT.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    return E.left(`--${name} ${JSON.stringify(text)} is invalid: need an integer ${range}`);
  }
  return E.right(v);
}

/** A number flag satisfying `ok` (described by `need`), or undefined when absent. */
export function numFlag(
  name: string,
  text: string | boolean | undefined,
  ok: (v: number) => boolean,
  need: string,
): Either<string, number | undefined> {
  if (text === undefined) return E.right(undefined);
  const v = typeof text === "string" && NUM.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isFinite(v) || !ok(v)) {
    return E.left(`--${name} ${JSON.stringify(text)} is invalid: need ${need}`);
  }
  return E.right(v);
}

/** One of `choices`, or undefined when absent. */
export function choiceFlag<T extends string>(
  name: string,
  text: string | boolean | undefined,
  choices: readonly T[],
): Either<string, T | undefined> {
  if (text === undefined) return E.right(undefined);
  return typeof text === "string" && (choices as readonly string[]).includes(text)
    ? E.right(text as T)
    : E.left(`--${name} ${JSON.stringify(text)} is invalid: use ${choices.join(", ")}`);
}

/** A non-empty string flag, or undefined when absent. */
export function pathFlag(
  name: string,
  text: string | boolean | undefined,
  example: string,
): Either<string, string | undefined> {
  if (text === undefined) return E.right(undefined);
  return typeof text === "string" && text.trim() !== ""
    ? E.right(text)
    : E.left(`--${name} needs a path, e.g. --${name} ${example}`);
}

/** Whether `path` is a readable regular file; a left names the flag and the problem. */
export async function checkFile(what: string, path: string): Promise<Either<string, string>> {
  try {
    const st = await Deno.stat(path);
    return st.isFile ? E.right(path) : E.left(`${what} ${path} is not a file`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return E.left(`${what} ${path}: no such file`);
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      return E.left(
        `${what} ${path}: no permission to read it (the task may read only data/ and runs/; ` +
          `run the script with deno run --allow-read to read elsewhere)`,
      );
    }
    return E.left(`${what} ${path}: ${e instanceof Error ? e.message : e}`);
  }
}

const enc = new TextEncoder();

/** Writes all of `s`, never throwing (a closed pipe has nowhere left to report to). */
export function writeAll(w: ProgressWriter, s: string): void {
  try {
    const b = enc.encode(s);
    for (let o = 0; o < b.length;) o += w.writeSync(b.subarray(o));
  } catch {
    // nothing to do
  }
}

/**
 * Reports a usage error: `<command>: <message>`, a blank line, the usage; returns exit code 2.
 */
export function usageError(
  err: ProgressWriter,
  command: string,
  message: string,
  usage: string,
): number {
  writeAll(err, `${command}: ${message}\n\n${usage}`);
  return EXIT.usage;
}

/** Collects the first left of a list of checks, or the values. */
export function all<T extends readonly Either<string, unknown>[]>(
  ...checks: T
): Either<string, { [K in keyof T]: T[K] extends Either<string, infer A> ? A : never }> {
  for (const c of checks) if (E.isLeft(c)) return c as Either<string, never>;
  return E.right(
    checks.map((c) => (c as { right: unknown }).right) as {
      [K in keyof T]: T[K] extends Either<string, infer A> ? A : never;
    },
  );
}
