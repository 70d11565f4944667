/**
 * The demo page's script: `src/cli/demo/page.ts` and the library modules it imports, bundled for
 * the browser in memory with Deno's bundler (`Deno.bundle`, the API behind `deno bundle`; it
 * needs `--unstable-bundle`, which `deno task serve` passes). npm dependencies are inlined, so
 * the page needs nothing but the server.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

interface BundleMessage {
  text?: string;
  location?: { file?: string; line?: number; column?: number } | null;
}

interface BundleResult {
  success: boolean;
  errors: BundleMessage[];
  outputFiles?: { text(): string }[];
}

type BundleFn = (options: {
  entrypoints: string[];
  platform: "browser";
  format: "esm";
  write: false;
  minify?: boolean;
}) => Promise<BundleResult>;

/** The page script's entry module. */
export const DEMO_ENTRY: URL = new URL("../demo/page.ts", import.meta.url);

function fmt(m: BundleMessage): string {
  const loc = m.location?.file ? ` (${m.location.file}:${m.location.line ?? "?"})` : "";
  return `${m.text ?? JSON.stringify(m)}${loc}`;
}

/** Bundles `entry` (default: the demo page) into one ES module; throws with the bundler's errors. */
export async function bundleDemo(entry: URL = DEMO_ENTRY): Promise<string> {
  const bundle = (Deno as unknown as { bundle?: BundleFn }).bundle;
  if (typeof bundle !== "function") {
    throw new Error(
      "Deno.bundle is not available: run with --unstable-bundle (deno task serve does)",
    );
  }
  if (entry.protocol !== "file:") {
    throw new Error(`the demo must be served from a local checkout, not ${entry.href}`);
  }
  const result = await bundle({
    entrypoints: [fileURLToPath(entry)],
    platform: "browser",
    format: "esm",
    write: false,
  });
  const out = result.outputFiles?.[0];
  if (!result.success || out === undefined) {
    const why = result.errors.map(fmt).join("\n  ") || "no output";
    throw new Error(`bundling ${fileURLToPath(entry)} failed:\n  ${why}`);
  }
  return out.text();
}
