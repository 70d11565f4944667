/**
 * The Deno side of the browser tests: find Chromium, run the real `deno task serve` as a child
 * (its command line read from deno.json, so the test runs exactly the task's permissions), and
 * run the driver (`driver.ts`) in its own process with a time limit. Screenshots go to
 * `runs/ci-artifacts/` (gitignored).
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { DemoResult, DriverConfig, DriverResult, ReportResult } from "./protocol.ts";

const ROOT = new URL("../../../", import.meta.url);

/** Where the browser tests leave their screenshots and run folders. */
export const ARTIFACTS: string = fileURLToPath(new URL("runs/ci-artifacts", ROOT));

/** Debian's Chromium, or `$CHROMIUM_PATH`. */
export const CHROMIUM: string = Deno.env.get("CHROMIUM_PATH") || "/usr/bin/chromium";

/** Throws, with the command that installs it, unless Chromium is there. */
export async function requireChromium(): Promise<void> {
  try {
    const st = await Deno.stat(CHROMIUM);
    if (st.isFile) return;
  } catch {
    // reported below
  }
  throw new Error(
    `Chromium not found at ${CHROMIUM}. The browser tests need Debian's chromium: ` +
      `run "apt-get update && apt-get install -y chromium" (.ci/run does), or set CHROMIUM_PATH.`,
  );
}

/** The `serve` task's command line from deno.json, so the test runs exactly its permissions. */
async function serveTaskArgs(): Promise<string[]> {
  const cfg = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const words = (cfg.tasks.serve as string).split(/\s+/);
  assert.equal(words[0], "deno");
  return words.slice(1);
}

/** A running `deno task serve`. */
export interface ServeChild {
  /** The page's URL. */
  readonly url: string;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `deno task serve --port 0 ...extra` as a child; resolves with its URL once it listens
 * (killed after 60 s if it never does).
 */
export async function startServeTask(extra: readonly string[] = []): Promise<ServeChild> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...(await serveTaskArgs()), "--port", "0", ...extra],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    await child.status;
  };
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const timeout = setTimeout(() => child.kill("SIGTERM"), 60_000);
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) {
        const err = await new Response(child.stderr).text();
        await child.status;
        throw new Error(`deno task serve exited before listening:\n${seen}\n${err}`);
      }
      seen += value;
      const m = /gradproof demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(seen);
      if (m !== null) {
        reader.releaseLock();
        child.stdout.cancel().catch(() => {});
        child.stderr.cancel().catch(() => {});
        return { url: m[1], stop };
      }
    }
  } finally {
    clearTimeout(timeout);
  }
}

/** Runs the driver on `jobs` (killed after 120 s); resolves with what it saw. */
export async function runDriver(jobs: DriverConfig["jobs"]): Promise<DriverResult> {
  const cfg: DriverConfig = { chromium: CHROMIUM, artifacts: ARTIFACTS, jobs };
  const cfgFile = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(cfgFile, JSON.stringify(cfg));
    const out = await new Deno.Command(Deno.execPath(), {
      // -A: see the driver's header (playwright-core needs it under Deno).
      args: [
        "run",
        "-A",
        "--no-prompt",
        fileURLToPath(new URL("driver.ts", import.meta.url)),
        cfgFile,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    if (out.code !== 0) {
      throw new Error(
        `browser driver failed (exit ${out.code}):\n${new TextDecoder().decode(out.stderr)}`,
      );
    }
    return JSON.parse(stdout.trim().split("\n").pop()!);
  } finally {
    await Deno.remove(cfgFile);
  }
}

/** The result of a demo job (asserting its kind). */
export function demoResult(r: DriverResult["results"][number]): DemoResult {
  assert.equal(r.kind, "demo");
  return r as DemoResult;
}

/** The result of a report job (asserting its kind). */
export function reportResult(r: DriverResult["results"][number]): ReportResult {
  assert.equal(r.kind, "report");
  return r as ReportResult;
}

/** What a report page must hold (counts of its SVG elements). */
export interface ReportExpectation {
  /** Section ids, in order. */
  readonly sections: readonly string[];
  /** Curves (`path.series`). */
  readonly seriesPaths: number;
  /** Confusion heat-map cells (`rect.cell`). */
  readonly cells: number;
  /** Embedded map images (`image.map`): filters, feature and delta maps, digits. */
  readonly mapImages: number;
  /** Digit cards (`g.digit`). */
  readonly digitCards: number;
}

/**
 * The report as Chromium saw it: the expected sections and SVG elements, every embedded PNG
 * decodes, no script, and nothing fetched but the file itself (it works offline).
 */
export function assertReportPage(rep: ReportResult, want: ReportExpectation, file: string): void {
  assert.deepEqual(rep.sections, want.sections);
  assert.equal(rep.seriesPaths, want.seriesPaths);
  assert.equal(rep.cells, want.cells);
  assert.equal(rep.mapImages, want.mapImages);
  assert.equal(rep.brokenImages, 0, "every embedded PNG decodes in Chromium");
  assert.equal(rep.digitCards, want.digitCards);
  assert.equal(rep.scripts, 0);
  assert.deepEqual(rep.requests, [new URL(`file://${file}`).href], "no fetch but the file");
}

/** Asserts each file is a PNG of some substance; prints its path (a CI artifact). */
export async function assertScreenshots(paths: readonly string[]): Promise<void> {
  for (const shot of paths) {
    const png = await Deno.readFile(shot);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], `${shot} is a PNG`);
    assert.ok(png.length > 20_000, `${shot} has content (${png.length} bytes)`);
    console.log(`screenshot: ${shot}`);
  }
}
