/**
 * LeNet-5 `modern` inference: the forward pass to the logits at batch 1000 (no tape), in
 * images/s, on each kernel path in the same run (interleaved rounds, CPU-time medians), with
 * the time of each op. The column `public` is what a user calls: `modern.forward` from
 * src/lenet/model.ts on the default (auto-detected) kernel path, fed images scaled from uint8
 * by `datasetImages` (the scaling is included); the last line is its figure,
 * `inference_images_per_s=<n>`.
 *
 * ```sh
 * deno run --allow-env --allow-read bench/inference_bench.ts            # table, every path
 * deno run --allow-env --allow-read bench/inference_bench.ts --batch 256 --paths wasm-relaxed
 * deno bench --allow-env --allow-read bench/inference_bench.ts          # Deno's harness
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Tensor } from "../mod.ts";
import { dataset, datasetImages } from "../src/lenet/dataset.ts";
import { modern } from "../src/lenet/model.ts";
import { isSupported, KERNEL_PATHS, type KernelPath } from "../src/tensor/kernels/wasm/runtime.ts";
import {
  activate,
  type Fusion,
  initLeNet,
  lenetForward,
  lenetLayers,
  syntheticBatch,
} from "./lenet_local.ts";
import { interleaved, peakRssMb, type TimedCase } from "./rounds.ts";

/**
 * The forward pass and its per-op cases for `path` at `batch` images; `fusion` picks the
 * model's conv blocks (`Fusion` in lenet_local.ts).
 */
export function setupInference(path: KernelPath, batch: number, fusion: Fusion = "none") {
  activate(path);
  const label = `${path}${fusion === "none" ? "" : fusion === "relu" ? " fused" : " block"}`;
  const params = initLeNet(0);
  const { x } = syntheticBatch(batch, 2);
  const layers = lenetLayers(params, undefined, fusion);
  const acts: Tensor[] = [x];
  for (const l of layers) acts.push(l.run(acts[acts.length - 1]));
  const on = (fn: () => unknown) => () => {
    activate(path);
    return fn();
  };
  const forward = on(() => lenetForward(params, x, undefined, fusion));
  const cases: TimedCase[] = [
    { name: `${label}|forward`, fn: forward },
    ...layers.map((l, i) => ({ name: `${label}|${l.name}`, fn: on(() => l.run(acts[i])) })),
  ];
  return { label, path, batch, forward, cases, layerNames: layers.map((l) => l.name) };
}

/** The public path: uint8 bytes -> `datasetImages` -> `modern.forward`, auto kernel path. */
export function setupPublic(batch: number) {
  const params = initLeNet(0);
  const { x } = syntheticBatch(batch, 2);
  const pixels = Uint8Array.from(x.data, (v) => Math.round(v * 255));
  const d = dataset(pixels, new Uint8Array(batch));
  const forward = () => {
    activate("auto");
    return modern.forward(params, datasetImages(d));
  };
  const label = "public";
  return {
    label,
    path: "auto" as const,
    batch,
    forward,
    cases: [{ name: `${label}|forward`, fn: forward }] as TimedCase[],
    layerNames: [] as string[],
  };
}

const supported = KERNEL_PATHS.filter(isSupported);

type Setup = ReturnType<typeof setupInference> | ReturnType<typeof setupPublic>;

function report(setups: Setup[], rounds: number): string {
  const med = interleaved(setups.flatMap((s) => s.cases), { rounds });
  const batch = setups[0].batch;
  const lines = [
    `LeNet-5 modern inference (logits), batch ${batch}, float32: median CPU ms per call ` +
    `(${rounds} interleaved rounds)`,
    `${"op".padEnd(14)}${setups.map((s) => s.label.padStart(20)).join("")}`,
  ];
  const cell = (s: { label: string }, name: string) =>
    (med[`${s.label}|${name}`]?.medianMs.toFixed(3) ?? "-").padStart(20);
  const names = setups.reduce(
    (a, s) => s.layerNames.length > a.length ? s.layerNames : a,
    [] as string[],
  );
  for (const name of names) {
    lines.push(`${name.padEnd(14)}${setups.map((s) => cell(s, name)).join("")}`);
  }
  lines.push(`${"forward".padEnd(14)}${setups.map((s) => cell(s, "forward")).join("")}`);
  lines.push("");
  for (const s of setups) {
    const { medianMs, wallMs } = med[`${s.label}|forward`];
    lines.push(
      `${s.label.padEnd(19)} ${Math.round(batch / medianMs * 1000)} images/s ` +
        `(${medianMs.toFixed(2)} ms CPU, ${wallMs.toFixed(2)} ms wall per batch of ${batch})`,
    );
  }
  lines.push(`peak RSS ${peakRssMb().toFixed(0)} MB`);
  const pub = setups.find((s) => s.label === "public");
  if (pub !== undefined) {
    const ms = med["public|forward"].medianMs;
    lines.push(`inference_images_per_s=${Math.round(batch / ms * 1000)}`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      batch: { type: "string", default: "1000" },
      paths: {
        type: "string",
        default: [...supported, "wasm-relaxed fused", "wasm-relaxed block", "public"].join(","),
      },
      rounds: { type: "string", default: "9" },
    },
  });
  // "<path> fused": the model with conv2dRelu layers; "<path> block": conv2dReluMaxPool.
  const setups = values.paths.split(",").map((p): Setup => {
    if (p === "public") return setupPublic(Number(values.batch));
    const [path, flag] = p.split(" ");
    const fusion = flag === "block" ? "block" : flag === "fused" ? "relu" : "none";
    return setupInference(path as KernelPath, Number(values.batch), fusion);
  });
  console.log(report(setups, Number(values.rounds)));
  activate("auto");
} else {
  const setups = [
    ...supported.map((p) => setupInference(p, 1000)),
    setupInference("wasm-relaxed", 1000, "relu"),
    setupInference("wasm-relaxed", 1000, "block"),
    setupPublic(1000),
  ];
  for (const s of setups) {
    Deno.bench(`LeNet-5 inference, batch 1000 images ${s.label}`, {
      group: "inference",
      baseline: s.path === "js",
      n: 10,
      warmup: 2,
    }, () => void s.forward());
  }
  let printed = false;
  Deno.bench("images/s table (interleaved)", { n: 1, warmup: 0 }, () => {
    if (printed) return;
    printed = true;
    console.log(report(setups, 5));
  });
}
