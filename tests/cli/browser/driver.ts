/// <reference lib="dom" />
/**
 * The browser half of `tests/cli/serve_browser_test.ts`, run as its own process:
 * `deno run -A tests/cli/browser/driver.ts <config.json>`.
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

/** What the test asks for. */
export interface DriverConfig {
  /** Chromium executable. */
  readonly chromium: string;
  /** The demo page URL (served on 127.0.0.1). */
  readonly demoUrl: string;
  /** Digits to draw, 784 bytes each (as plain arrays). */
  readonly digits: readonly { readonly label: number; readonly pixels: readonly number[] }[];
  /** The generated report file to open (file://). */
  readonly reportFile: string;
  /** Folder for the screenshots. */
  readonly artifacts: string;
}

/** The demo state the page exposes (`window.__demo.state`), as far as the test reads it. */
export interface SeenState {
  model: string;
  deltasAvailable: boolean;
  prediction: number | null;
  probabilities: number[] | null;
  input: number[];
  layers: { name: string; shape: number[]; maps: number }[];
  renderedMaps: number;
  updates: number;
  error: string | null;
}

/** What the driver reports. */
export interface DriverResult {
  readonly demo: {
    readonly initial: SeenState;
    readonly drawn: SeenState[];
    readonly touch: SeenState;
    readonly afterClear: SeenState;
    readonly deltaRadiosDisabled: boolean[];
    readonly note: string;
    readonly layerCanvasesInDom: number;
    readonly foreignRequests: string[];
    readonly pageErrors: string[];
    readonly screenshot: string;
  };
  readonly report: {
    readonly sections: string[];
    readonly seriesPaths: number;
    readonly cells: number;
    readonly mapImages: number;
    readonly brokenImages: number;
    readonly digitCards: number;
    readonly requests: string[];
    readonly scripts: number;
    readonly screenshot: string;
  };
}

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

async function demo(browser: Browser, cfg: DriverConfig): Promise<DriverResult["demo"]> {
  const context = await browser.newContext({
    viewport: { width: 1180, height: 1000 },
    hasTouch: true,
  });
  const page = await context.newPage();
  const origin = new URL(cfg.demoUrl).origin;
  const foreign: string[] = [], errors: string[] = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(cfg.demoUrl);
  await page.evaluate(() => __demo.ready);
  const initial = await page.evaluate(() => __demo.flush());
  await touchStroke(page);
  const touch = await page.evaluate(() => __demo.flush());
  await page.evaluate(() => __demo.clear());
  const afterClear = await page.evaluate(() => __demo.flush());
  // The last digit drawn stays on the pad for the screenshot.
  const drawn: SeenState[] = [];
  for (const d of cfg.digits) {
    await page.evaluate(() => __demo.clear());
    await drawDigit(page, d.pixels);
    drawn.push(await page.evaluate(() => __demo.flush()));
  }
  const deltaRadiosDisabled = await page.$$eval(
    'input[name="mode"]',
    (els) => els.map((e) => (e as HTMLInputElement).disabled),
  );
  const note = await page.locator("#model-note").innerText();
  const layerCanvasesInDom = await page.locator("#layer-views canvas").count();
  const screenshot = `${cfg.artifacts}/demo.png`;
  await page.screenshot({ path: screenshot, fullPage: true });
  await context.close();
  return {
    initial,
    drawn,
    touch,
    afterClear,
    deltaRadiosDisabled,
    note,
    layerCanvasesInDom,
    foreignRequests: foreign,
    pageErrors: errors,
    screenshot,
  };
}

async function report(browser: Browser, cfg: DriverConfig): Promise<DriverResult["report"]> {
  const context = await browser.newContext({ viewport: { width: 1180, height: 1000 } });
  const page = await context.newPage();
  const requests: string[] = [];
  // Anything but the file itself (and its data: images) would be an external fetch: record
  // and block it, so a report that needs the network fails here, offline.
  await page.route("**/*", (route) => {
    const url = route.request().url();
    requests.push(url);
    return url.startsWith("file:") ? route.continue() : route.abort();
  });
  await page.goto(new URL(`file://${cfg.reportFile}`).href);
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
  const screenshot = `${cfg.artifacts}/report.png`;
  await page.screenshot({ path: screenshot, fullPage: true });
  await context.close();
  return { ...seen, requests, screenshot };
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
    const result: DriverResult = {
      demo: await demo(browser, cfg),
      report: await report(browser, cfg),
    };
    console.log(JSON.stringify(result));
  } finally {
    await browser.close();
  }
}
