/**
 * End to end in Debian's Chromium (headless, driven by playwright-core): the demo served by the
 * real `deno task serve` command, real MNIST test digits drawn stroke by stroke with the mouse
 * (and one stroke by touch), and the report of a synthetic run folder opened offline.
 * Screenshots land in `runs/ci-artifacts/` (gitignored): `demo.png` and `report.png`.
 *
 * Chromium is required: CI installs it (`.ci/run`); a missing browser fails this test with the
 * command that installs it.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { correlation } from "../../src/cli/demo/preprocess.ts";
import { reportMain } from "../../src/cli/report.ts";
import type { DriverConfig, DriverResult } from "./browser/driver.ts";
import { testDigits } from "./mnist_fixture.ts";
import { writeSyntheticRun } from "./report/fixture.ts";

const ROOT = new URL("../../", import.meta.url);
const ARTIFACTS = fileURLToPath(new URL("runs/ci-artifacts", ROOT));
const CHROMIUM = Deno.env.get("CHROMIUM_PATH") || "/usr/bin/chromium";

async function requireChromium(): Promise<void> {
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

/** Starts `deno task serve --port 0` as a child; resolves with its URL once it listens. */
async function startServeTask(): Promise<{ url: string; child: Deno.ChildProcess }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...(await serveTaskArgs()), "--port", "0"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const timeout = setTimeout(() => child.kill("SIGTERM"), 60_000);
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) {
        const err = await new Response(child.stderr).text();
        throw new Error(`deno task serve exited before listening:\n${seen}\n${err}`);
      }
      seen += value;
      const m = /gradproof demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(seen);
      if (m !== null) {
        reader.releaseLock();
        child.stdout.cancel().catch(() => {});
        child.stderr.cancel().catch(() => {});
        return { url: m[1], child };
      }
    }
  } finally {
    clearTimeout(timeout);
  }
}

async function runDriver(cfg: DriverConfig): Promise<DriverResult> {
  const cfgFile = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(cfgFile, JSON.stringify(cfg));
    const out = await new Deno.Command(Deno.execPath(), {
      // -A: see the driver's header (playwright-core needs it under Deno).
      args: [
        "run",
        "-A",
        "--no-prompt",
        fileURLToPath(new URL("browser/driver.ts", import.meta.url)),
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

const sum = (a: readonly number[]) => a.reduce((s, v) => s + v, 0);

Deno.test("browser: draw MNIST digits in the demo, see the input and layer views; report offline", async () => {
  await requireChromium();
  // Test digits #3, #2, #1, #0 (0, 1, 2, 7): the 7 drawn last stays on the pad for the screenshot.
  const digits = (await testDigits(4)).reverse();
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const runDir = `${ARTIFACTS}/run`;
  await Deno.remove(runDir, { recursive: true }).catch(() => {});
  const allDigits = await testDigits(100); // every class, for the report's fixture
  await writeSyntheticRun(runDir, { digits: allDigits });
  const reportFile = `${ARTIFACTS}/report.html`;
  const silent = { out: () => {}, err: (s: string) => console.error(s) };
  assert.equal(await reportMain(["--run", runDir, "--out", reportFile], silent), 0);

  const { url, child } = await startServeTask();
  let result: DriverResult;
  try {
    result = await runDriver({
      chromium: CHROMIUM,
      demoUrl: url,
      digits: digits.map((d) => ({ label: d.label, pixels: Array.from(d.pixels) })),
      reportFile,
      artifacts: ARTIFACTS,
    });
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }

  const demo = result.demo;
  assert.deepEqual(demo.pageErrors, [], "no script errors in the page");
  assert.deepEqual(demo.foreignRequests, [], "the page fetches nothing but its own server");
  assert.equal(demo.initial.model, "fixed edge bank (no trained model)");
  assert.equal(demo.initial.error, null);
  assert.equal(demo.initial.deltasAvailable, false);
  assert.deepEqual(
    demo.deltaRadiosDisabled,
    [false, true, true],
    "delta toggle off without a model",
  );
  assert.match(demo.note, /No trained model is loaded/);
  assert.equal(sum(demo.initial.input), 0, "an empty pad gives an empty input");

  demo.drawn.forEach((s, k) => {
    const d = digits[k];
    const r = correlation(s.input, Array.from(d.pixels, (v) => v / 255));
    assert.ok(
      r > 0.8,
      `digit #${d.index} (${d.label}): the 28x28 input correlates ${r.toFixed(3)}`,
    );
    assert.equal(s.error, null);
    assert.equal(s.prediction, null, "no prediction without a trained model");
    assert.deepEqual(s.layers.map((l) => [l.shape, l.maps]), [
      [[6, 28, 28], 6],
      [[6, 28, 28], 6],
      [[6, 14, 14], 6],
    ]);
    assert.equal(s.renderedMaps, 18);
  });
  assert.equal(demo.layerCanvasesInDom, 18);
  assert.equal(sum(demo.afterClear.input), 0, "Clear empties the input");
  // The touch stroke is a vertical line: ink in the middle columns only, centred by mass.
  const touchInk = demo.touch.input;
  assert.ok(sum(touchInk) > 10, "touch drawing reached the canvas");
  let cx = 0;
  touchInk.forEach((v, i) => (cx += v * (i % 28)));
  cx /= sum(touchInk);
  assert.ok(Math.abs(cx - 14) < 1.5, `touch stroke centred at column ${cx.toFixed(2)}`);

  const rep = result.report;
  assert.deepEqual(rep.sections, ["curves", "confusion", "filters", "layers", "mistakes"]);
  assert.equal(rep.seriesPaths, 4);
  assert.equal(rep.cells, 100);
  assert.equal(rep.mapImages, 6 + 2 * (6 + 6 + 6 + 1 + 1) + 1 + 12);
  assert.equal(rep.brokenImages, 0, "every embedded PNG decodes in Chromium");
  assert.equal(rep.digitCards, 13);
  assert.equal(rep.scripts, 0);
  assert.deepEqual(rep.requests, [new URL(`file://${reportFile}`).href], "no fetch but the file");

  for (const shot of [demo.screenshot, rep.screenshot]) {
    const png = await Deno.readFile(shot);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], `${shot} is a PNG`);
    assert.ok(png.length > 20_000, `${shot} has content (${png.length} bytes)`);
  }
});
