/// <reference lib="dom" />
/**
 * The browser half of the browser tests (`tests/cli/serve_browser_test.ts`,
 * `tests/cli/trained_browser_test.ts`; their Deno half is `harness.ts`), run as its own
 * process: `deno run -A tests/cli/browser/driver.ts <config.json>`. The config lists jobs (open
 * the demo and draw, or open a report file); the messages are typed in `protocol.ts`.
 *
 * Type-checked apart from the rest (`deno task check:browser`): its page callbacks need the DOM
 * library types, which must not leak into the shared check.
 *
 * Why a separate process: playwright-core probes `/proc/sys/fs/binfmt_misc/WSLInterop` when it
 * loads, which Deno allows only under `--allow-all`; the test suite itself runs with narrower
 * permissions. The driver only drives the browser and reports what it saw as one JSON line on
 * stdout; every assertion stays in the test.
 *
 * Chromium is Debian's (`/usr/bin/chromium`, or `$CHROMIUM_PATH`), headless, with the flags that
 * keep it off the network (this machine has none): no background networking, component updates,
 * sync or QUIC, and a fresh profile (playwright makes a new temporary user-data-dir per launch).
 */

import { type Browser, chromium, type Page } from "npm:playwright-core@1.65.1";
import type {
  DemoJob,
  DemoResult,
  DriverConfig,
  DriverResult,
  ReportJob,
  ReportResult,
  SeenCanvases,
  SeenState,
  SeenView,
} from "./protocol.ts";

const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

declare const __demo: {
  ready: Promise<void>;
  state: SeenState;
  flush(): SeenState;
  clear(): void;
};

/** Draws a 28x28 digit as horizontal strokes: one per run of inked pixels in each row. */
async function drawDigit(page: Page, pixels: readonly number[]): Promise<void> {
  const box = await page.locator("#pad").boundingBox();
  if (box === null) throw new Error("#pad has no bounding box");
  const cell = box.width / 28;
  const at = (x: number, y: number) => [box.x + (x + 0.5) * cell, box.y + (y + 0.5) * cell];
  for (let y = 0; y < 28; y++) {
    let x = 0;
    while (x < 28) {
      if (pixels[y * 28 + x] < 96) {
        x++;
        continue;
      }
      const start = x;
      while (x < 28 && pixels[y * 28 + x] >= 96) x++;
      const [ax, ay] = at(start, y), [bx, by] = at(x - 1, y);
      await page.mouse.move(ax, ay);
      await page.mouse.down();
      await page.mouse.move(bx, by);
      await page.mouse.up();
    }
  }
}

/** One stroke with a touch pointer (CDP touch events, as a finger would send them). */
async function touchStroke(page: Page): Promise<void> {
  const box = await page.locator("#pad").boundingBox();
  if (box === null) throw new Error("#pad has no bounding box");
  const cdp = await page.context().newCDPSession(page);
  const pt = (t: number) => ({
    x: box.x + box.width * 0.5,
    y: box.y + box.height * (0.2 + 0.6 * t),
  });
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [pt(0)] });
  for (let k = 1; k <= 12; k++) {
    await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [pt(k / 12)] });
  }
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  await cdp.detach();
}

/** The layer views now in the DOM: canvases per layer and how many are not one flat color. */
function canvases(page: Page): Promise<SeenCanvases[]> {
  return page.$$eval("#layer-views .layer", (boxes) =>
    boxes.map((box) => {
      const all = [...box.querySelectorAll("canvas")] as HTMLCanvasElement[];
      const painted = all.filter((c) => {
        const ctx = c.getContext("2d");
        if (ctx === null || c.width === 0 || c.height === 0) return false;
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        for (let i = 4; i < d.length; i += 4) {
          if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return true;
        }
        return false;
      });
      return {
        layer: (box as HTMLElement).dataset.layer ?? "",
        canvases: all.length,
        painted: painted.length,
      };
    }));
}

async function view(page: Page): Promise<SeenView> {
  const state = await page.evaluate(() => __demo.flush());
  return { state, canvases: await canvases(page) };
}

async function demo(browser: Browser, job: DemoJob, artifacts: string): Promise<DemoResult> {
  const context = await browser.newContext({
    viewport: { width: 1180, height: 1000 },
    hasTouch: true,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const origin = new URL(job.url).origin;
  const foreign: string[] = [], errors: string[] = [], screenshots: string[] = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(job.url);
  await page.evaluate(() => __demo.ready);
  const initial = await page.evaluate(() => __demo.flush());
  let touch: SeenState | null = null, afterClear: SeenState | null = null;
  if (job.touch) {
    await touchStroke(page);
    touch = await page.evaluate(() => __demo.flush());
    await page.evaluate(() => __demo.clear());
    afterClear = await page.evaluate(() => __demo.flush());
  }
  // The last digit drawn stays on the pad for the screenshots.
  const drawn: SeenState[] = [];
  for (const d of job.digits) {
    await page.evaluate(() => __demo.clear());
    await drawDigit(page, d.pixels);
    drawn.push(await page.evaluate(() => __demo.flush()));
  }
  const activations = await view(page);
  const shot = async (suffix: string) => {
    const path = `${artifacts}/${job.name}${suffix}.png`;
    await page.screenshot({ path, fullPage: true });
    screenshots.push(path);
  };
  await shot("");
  let deltaPredicted: SeenView | null = null, deltaLabel: SeenView | null = null;
  if (job.deltaLabel !== null) {
    // The toggle as a user flips it: the radio (its change event re-renders the views).
    await page.locator('input[name="mode"][value="delta-predicted"]').check();
    deltaPredicted = await view(page);
    await shot("-delta");
    await page.locator("#delta-label").selectOption(String(job.deltaLabel));
    await page.locator('input[name="mode"][value="delta-label"]').check();
    deltaLabel = await view(page);
  }
  const radios = () =>
    page.$$eval('input[name="mode"]', (els) => els.map((e) => (e as HTMLInputElement).disabled));
  const deltaRadiosDisabled = await radios();
  const note = await page.locator("#model-note").innerText();
  const kernelPathShown = await page.locator("#kernel-path").innerText();
  const quickTrainOffered = await page.locator("#quick-train").isVisible();
  let quick: DemoResult["quick"] = null;
  if (job.quickTrain) {
    await page.locator("#quick-train").click();
    await page.waitForFunction(
      () => __demo.state.training === "done" || __demo.state.training === "failed",
      null,
      { timeout: 90_000, polling: 100 },
    );
    const v = await view(page);
    quick = {
      view: v,
      note: await page.locator("#model-note").innerText(),
      radiosDisabled: await radios(),
    };
    await shot("-quick");
  }
  await context.close();
  return {
    kind: "demo",
    initial,
    touch,
    afterClear,
    drawn,
    activations,
    deltaPredicted,
    deltaLabel,
    deltaRadiosDisabled,
    note,
    kernelPathShown,
    quickTrainOffered,
    quick,
    foreignRequests: foreign,
    pageErrors: errors,
    screenshots,
  };
}

async function report(browser: Browser, job: ReportJob, artifacts: string): Promise<ReportResult> {
  const context = await browser.newContext({ viewport: { width: 1180, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const requests: string[] = [];
  // Anything but the file itself (and its data: images) would be an external fetch: record
  // and block it, so a report that needs the network fails here, offline.
  await page.route("**/*", (route) => {
    const url = route.request().url();
    requests.push(url);
    return url.startsWith("file:") ? route.continue() : route.abort();
  });
  await page.goto(new URL(`file://${job.file}`).href);
  const seen = await page.evaluate(async () => {
    const images = [...document.querySelectorAll("svg image")] as SVGImageElement[];
    // Decode every data: URL the way the browser does; count the ones that fail.
    let broken = 0;
    for (const im of images) {
      const img = new Image();
      img.src = im.getAttribute("href") ?? "";
      try {
        await img.decode();
        if (img.naturalWidth === 0) broken++;
      } catch {
        broken++;
      }
    }
    return {
      sections: [...document.querySelectorAll("section")].map((s) => s.id),
      seriesPaths: document.querySelectorAll("svg path.series").length,
      cells: document.querySelectorAll("svg rect.cell").length,
      mapImages: document.querySelectorAll("svg image.map").length,
      brokenImages: broken,
      digitCards: document.querySelectorAll("svg g.digit").length,
      scripts: document.querySelectorAll("script").length,
    };
  });
  const screenshot = `${artifacts}/${job.name}.png`;
  await page.screenshot({ path: screenshot, fullPage: true });
  await context.close();
  return { kind: "report", ...seen, requests, screenshots: [screenshot] };
}

if (import.meta.main) {
  const cfg = JSON.parse(await Deno.readTextFile(Deno.args[0])) as DriverConfig;
  const browser = await chromium.launch({
    executablePath: cfg.chromium,
    headless: true,
    args: FLAGS,
    timeout: 30_000,
  });
  try {
    const results: DriverResult["results"] = [];
    for (const job of cfg.jobs) {
      results.push(
        job.kind === "demo"
          ? await demo(browser, job, cfg.artifacts)
          : await report(browser, job, cfg.artifacts),
      );
    }
    console.log(JSON.stringify({ results } satisfies DriverResult));
  } finally {
    await browser.close();
  }
}
