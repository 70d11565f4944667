/**
 * LeNet-5 `modern` inference: the forward pass to the logits at batch 1000 (no tape), in
 * images/s, on each kernel path in the same run (interleaved rounds, CPU-time medians), with
 * the time of each op.
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
import { isSupported, KERNEL_PATHS, type KernelPath } from "../src/tensor/kernels/wasm/runtime.ts";
import { activate, initLeNet, lenetForward, lenetLayers, syntheticBatch } from "./lenet_local.ts";
import { interleaved, peakRssMb, type TimedCase } from "./rounds.ts";

/** The forward pass and its per-op cases for `path` at `batch` images. */
export function setupInference(path: KernelPath, batch: number) {
  activate(path);
  const params = initLeNet(0);
  const { x } = syntheticBatch(batch, 2);
  const layers = lenetLayers(params);
  const acts: Tensor[] = [x];
  for (const l of layers) acts.push(l.run(acts[acts.length - 1]));
  const on = (fn: () => unknown) => () => {
    activate(path);
    return fn();
  };
  const forward = on(() => lenetForward(params, x));
  const cases: TimedCase[] = [
    { name: `${path}|forward`, fn: forward },
    ...layers.map((l, i) => ({ name: `${path}|${l.name}`, fn: on(() => l.run(acts[i])) })),
  ];
  return { path, batch, forward, cases, layerNames: layers.map((l) => l.name) };
}

const supported = KERNEL_PATHS.filter(isSupported);

function report(setups: ReturnType<typeof setupInference>[], rounds: number): string {
  const med = interleaved(setups.flatMap((s) => s.cases), { rounds });
  const batch = setups[0].batch;
  const lines = [
    `LeNet-5 modern inference (logits), batch ${batch}, float32: median CPU ms per call ` +
    `(${rounds} interleaved rounds)`,
    `${"op".padEnd(14)}${setups.map((s) => s.path.padStart(14)).join("")}`,
  ];
  for (const name of setups[0].layerNames) {
    lines.push(
      `${name.padEnd(14)}${
        setups.map((s) => med[`${s.path}|${name}`].medianMs.toFixed(3).padStart(14)).join("")
      }`,
    );
  }
  lines.push(
    `${"forward".padEnd(14)}${
      setups.map((s) => med[`${s.path}|forward`].medianMs.toFixed(3).padStart(14)).join("")
    }`,
  );
  lines.push("");
  for (const s of setups) {
    const { medianMs, wallMs } = med[`${s.path}|forward`];
    lines.push(
      `${s.path.padEnd(13)} ${Math.round(batch / medianMs * 1000)} images/s ` +
        `(${medianMs.toFixed(2)} ms CPU, ${wallMs.toFixed(2)} ms wall per batch of ${batch})`,
    );
  }
  lines.push(`peak RSS ${peakRssMb().toFixed(0)} MB`);
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      batch: { type: "string", default: "1000" },
      paths: { type: "string", default: supported.join(",") },
      rounds: { type: "string", default: "9" },
    },
  });
  const setups = values.paths.split(",").map((p) =>
    setupInference(p as KernelPath, Number(values.batch))
  );
  console.log(report(setups, Number(values.rounds)));
  activate("auto");
} else {
  const setups = supported.map((p) => setupInference(p, 1000));
  for (const s of setups) {
    Deno.bench(`LeNet-5 inference, batch 1000 images ${s.path}`, {
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
