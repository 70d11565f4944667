/**
 * Test helpers for the commands: in-process runs with captured output, the real CLI spawned
 * through `Deno.execPath()`, and checkpoint comparisons. MNIST comes from `$MNIST_DIR` or
 * `../shared/mnist` beside the checkout, never from the network (`--offline`).
 */

import { decodeSafetensors } from "../../src/lenet/safetensors.ts";
import { peekCheckpointMeta } from "../../src/lenet/checkpoint.ts";
import type { ProgressWriter } from "../../src/cli/progress.ts";

/** The shared MNIST folder. */
export const MNIST: string = Deno.env.get("MNIST_DIR") ??
  new URL("../../../shared/mnist/", import.meta.url).pathname;

/** The repository root. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** A writer that keeps what it is given. */
export function sink(): ProgressWriter & { text(): string } {
  const parts: string[] = [];
  const dec = new TextDecoder();
  return {
    writeSync(b: Uint8Array) {
      parts.push(dec.decode(b));
      return b.length;
    },
    text: () => parts.join(""),
  };
}

/** Runs a command's main in-process; returns its exit code and output. */
export async function runMain(
  main: (
    args: readonly string[],
    io: { stdout: ProgressWriter; stderr: ProgressWriter },
  ) => Promise<number>,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = sink(), err = sink();
  const code = await main(args, { stdout: out, stderr: err });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** Spawns `src/cli/<script>.ts` with the test's permissions, CI=true and MNIST_DIR set. */
export function spawnCli(script: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      `${ROOT}src/cli/${script}.ts`,
      ...args,
    ],
    env: { CI: "true", MNIST_DIR: MNIST, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Waits for a spawned command; returns its code, signal and output. */
export async function finish(child: Deno.ChildProcess) {
  const r = await child.output();
  const dec = new TextDecoder();
  return {
    code: r.code,
    signal: r.signal,
    stdout: dec.decode(r.stdout),
    stderr: dec.decode(r.stderr),
  };
}

/** The `step` of the checkpoint at `path`, or -1 while there is none. */
export async function checkpointStep(path: string): Promise<number> {
  try {
    const meta = peekCheckpointMeta(await Deno.readFile(path), path);
    return meta._tag === "Right" ? meta.right.step : -1;
  } catch {
    return -1;
  }
}

/** Polls until the checkpoint at `path` has reached `step` (or the child exits). */
export async function waitForStep(path: string, step: number, child: Deno.ChildProcess) {
  let exited = false;
  child.status.then(() => (exited = true));
  for (;;) {
    if (await checkpointStep(path) >= step) return;
    if (exited) throw new Error(`the run exited before its checkpoint reached step ${step}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every tensor of a safetensors file by name, as raw bytes (for bit-for-bit comparisons). */
export async function tensorBytes(path: string): Promise<Map<string, number[]>> {
  const c = decodeSafetensors(await Deno.readFile(path), path);
  if (c._tag === "Left") throw c.left;
  const out = new Map<string, number[]>();
  for (const [name, t] of c.right.tensors) {
    out.set(name, Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)));
  }
  return out;
}

/** metrics.jsonl without its timing fields. */
export async function metricsWithoutTimes(path: string): Promise<unknown[]> {
  return (await Deno.readTextFile(path)).trim().split("\n").map((l) => {
    const { examples_per_s: _, epoch_seconds: __, ...rest } = JSON.parse(l);
    return rest;
  });
}
