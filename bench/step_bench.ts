/**
 * One LeNet-5 `modern` training step at batch 64 in float32: `valueAndGrad` of the mean
 * softmax cross-entropy over the fast ops, then an SGD-momentum update (lr 0.01, mu 0.9), on
 * each kernel path in the same run (interleaved rounds, medians), with a per-op breakdown.
 *
 * ```sh
 * deno run --allow-env --allow-read bench/step_bench.ts            # table, every path
 * deno run --allow-env --allow-read bench/step_bench.ts --batch 128 --paths wasm-relaxed,js
 * deno bench --allow-env --allow-read bench/step_bench.ts          # Deno's harness, ex/s table
 * ```
 *
 * Rows: each op's forward alone (untraced) and its backward alone (the op's own pullback, with
 * the `needed` flags the engine passes in a real step: conv1 skips dX), the optimizer, the whole
 * step, and `vg - sum of ops = valueAndGrad - sum(forward) - sum(backward)`: the autograd's own
 * work (taping, cotangent bookkeeping, argument wrapping) minus what the ops save inside a
 * step. Alone, an op copies its input into wasm memory; inside a step, the input is usually
 * still there from the kernel that wrote it (`src/tensor/kernels/wasm/resident.ts`), so this
 * line can go negative. The op times include their allocations; the line "alloc + copy"
 * estimates that share by allocating and filling a fresh array like every tensor a step makes.
 *
 * Columns (`--paths`, comma-separated): a kernel path, optionally followed by `copy` (the
 * wasm-resident reuse off: every operand copied in and out), `fused` (the model with
 * `conv2dRelu` layers) or `block` (with `conv2dReluMaxPool` blocks), e.g. "wasm-relaxed block".
 * CPU-time medians (steadier than wall time on a shared machine); "fastest" is the least
 * disturbed round. Times are CPU medians and ms; ex/s = batch / median.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { momentum, ones, type Tensor, valueAndGrad } from "../mod.ts";
import { isSupported, KERNEL_PATHS, type KernelPath } from "../src/tensor/kernels/wasm/runtime.ts";
import { type Pullback, withRecorder } from "../src/tensor/trace.ts";
import {
  activate,
  type Fusion,
  initLeNet,
  lenetForward,
  lenetLayers,
  type LeNetParams,
  stepFlops,
  syntheticBatch,
} from "./lenet_local.ts";
import { interleaved, peakRssMb, type TimedCase } from "./rounds.ts";

/** Runs `f` and returns the pullback of the single op it records, with that op's inputs. */
function capture(f: () => Tensor): { pullback: Pullback; inputs: readonly Tensor[] } {
  let got: { pullback: Pullback; inputs: readonly Tensor[] } | undefined;
  withRecorder({ record: (_n, inputs, _y, pullback) => void (got = { pullback, inputs }) }, f);
  if (!got) throw new Error("the layer recorded no op");
  return got;
}

/** Everything one path's benchmark needs, built with that path active. */
export interface StepSetup {
  /** The path, plus " copy" when wasm-resident copies are off. */
  label: string;
  path: KernelPath;
  batch: number;
  /** A full step: valueAndGrad + optimizer update. */
  step: () => void;
  cases: TimedCase[];
  layerNames: string[];
}

/**
 * Builds the step and the per-op cases for `path` at batch `batch`; `resident: false` copies
 * every operand in and out of wasm memory; `fusion` picks the model's conv blocks (`Fusion`).
 */
export function setupStep(
  path: KernelPath,
  batch: number,
  { resident = true, fusion = "none" as Fusion } = {},
): StepSetup {
  const label = `${path}${resident || path === "js" ? "" : " copy"}${
    fusion === "none" ? "" : fusion === "relu" ? " fused" : " block"
  }`;
  activate(path, resident);
  const params = initLeNet(0);
  const { x, labels } = syntheticBatch(batch, 1);
  const layers = lenetLayers(params, labels, fusion);
  const acts: Tensor[] = [x];
  for (const l of layers) acts.push(l.run(acts[acts.length - 1]));
  const pbs = layers.map((l, i) => capture(() => l.run(acts[i])));
  // The engine passes needed[j] = "input j is traced": everything but the images.
  const needed = pbs.map(({ inputs }, i) => inputs.map((_, j) => !(i === 0 && j === 0)));
  const cts: Tensor[] = new Array(layers.length + 1);
  cts[layers.length] = ones([]);
  for (let i = layers.length - 1; i > 0; i--) cts[i] = pbs[i].pullback(cts[i + 1], needed[i])[0]!;

  const loss = (p: LeNetParams, xb: Tensor) => lenetForward(p, xb, labels, fusion);
  const vg = valueAndGrad(loss);
  const opt = momentum({ lr: 0.01, momentum: 0.9 });
  let state = opt.init(params);
  const [, grads] = vg(params, x);
  const on = (fn: () => unknown) => () => {
    activate(path, resident);
    return fn();
  };
  const step = on(() => {
    const [, g] = vg(params, x);
    state = opt.step(params, g, state).state;
  });
  const tag = (s: string) => `${label}|${s}`;
  const cases: TimedCase[] = [
    { name: tag("step"), fn: step },
    { name: tag("valueAndGrad"), fn: on(() => vg(params, x)) },
    { name: tag("forward"), fn: on(() => lenetForward(params, x, labels, fusion)) },
    { name: tag("optimizer"), fn: on(() => opt.step(params, grads, state)) },
    ...layers.map((l, i) => ({ name: tag(`fwd ${l.name}`), fn: on(() => l.run(acts[i])) })),
    ...layers.map((l, i) => ({
      name: tag(`bwd ${l.name}`),
      fn: on(() => pbs[i].pullback(cts[i + 1], needed[i])),
    })),
  ];
  if (path === "js") {
    // Allocation + one copy of every tensor a step makes: the activations and their gradients.
    const made = [...acts.slice(1), ...cts.slice(1, layers.length)].map((t) => t.data);
    cases.push({
      name: tag("alloc+copy"),
      fn: () => {
        for (const d of made) new Float32Array(d.length).set(d);
      },
    });
  }
  return { label, path, batch, step, cases, layerNames: layers.map((l) => l.name) };
}

const f2 = (v: number) => (Number.isNaN(v) ? "-" : v.toFixed(3)).padStart(9);

function report(setups: StepSetup[], rounds: number): string {
  const med = interleaved(setups.flatMap((s) => s.cases), { rounds });
  const get = (p: string, n: string) => med[`${p}|${n}`]?.medianMs ?? NaN;
  const paths = setups.map((s) => s.label);
  const batch = setups[0].batch;
  // Column width: the longest label + " fwd" + the bwd column, and some air.
  const W = Math.max(28, ...paths.map((p) => p.length + 15));
  const header = `${"op".padEnd(22)}${
    paths.map((p) => `${p} fwd`.padStart(W - 9) + "bwd".padStart(9)).join("")
  }`;
  const lines = [
    `LeNet-5 modern training step, batch ${batch}, float32: median CPU ms per call ` +
    `(${rounds} interleaved rounds)`,
    header,
  ];
  const names = setups.reduce(
    (a, s) => s.layerNames.length > a.length ? s.layerNames : a,
    [] as string[],
  );
  for (const name of names) {
    lines.push(
      `${name.padEnd(22)}${
        paths.map((p) => f2(get(p, `fwd ${name}`)).padStart(W - 9) + f2(get(p, `bwd ${name}`)))
          .join(
            "",
          )
      }`,
    );
  }
  const sum = (p: string, dir: string) =>
    names.reduce((s, n) => s + (get(p, `${dir} ${n}`) || 0), 0);
  const row = (label: string, f: (p: string) => number) =>
    lines.push(`${label.padEnd(22)}${paths.map((p) => f2(f(p)).padStart(W)).join("")}`);
  lines.push("");
  row("sum of op forwards", (p) => sum(p, "fwd"));
  row("sum of op backwards", (p) => sum(p, "bwd"));
  row("forward (untraced)", (p) => get(p, "forward"));
  row("valueAndGrad", (p) => get(p, "valueAndGrad"));
  row("vg - sum of ops", (p) => get(p, "valueAndGrad") - sum(p, "fwd") - sum(p, "bwd"));
  row("optimizer", (p) => get(p, "optimizer"));
  row("step", (p) => get(p, "step"));
  const js = paths.includes("js") ? get("js", "step") : NaN;
  lines.push("");
  for (const p of paths) {
    const ms = get(p, "step");
    lines.push(
      `${p.padEnd(18)} step ${ms.toFixed(2)} ms (fastest ${med[`${p}|step`].minMs.toFixed(2)}, ` +
        `wall ${med[`${p}|step`].wallMs.toFixed(2)})  ${
          Math.round(batch / ms * 1000)
        } examples/s  ${(stepFlops(batch) / ms / 1e6).toFixed(1)} GFLOP/s  ${
          Number.isNaN(js) ? "" : `x${(js / ms).toFixed(2)} vs js`
        }`,
    );
  }
  const ac = med["js|alloc+copy"];
  if (ac) {
    lines.push(
      `alloc + copy of every tensor a step makes (estimate): ${ac.medianMs.toFixed(3)} ms`,
    );
  }
  lines.push(`peak RSS ${peakRssMb().toFixed(0)} MB`);
  return lines.join("\n");
}

const supported = KERNEL_PATHS.filter(isSupported);

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      batch: { type: "string", default: "64" },
      paths: {
        type: "string",
        default: [...supported, "wasm-relaxed copy", "wasm-relaxed fused", "wasm-relaxed block"]
          .join(","),
      },
      rounds: { type: "string", default: "9" },
    },
  });
  // "<path> copy": a wasm path with the wasm-resident copies off (every operand copied);
  // "<path> fused": the model with conv2dRelu layers; "<path> block": conv2dReluMaxPool.
  const setups = values.paths.split(",").map((p) => {
    const [path, ...flags] = p.split(" ") as [KernelPath, ...string[]];
    return setupStep(path, Number(values.batch), {
      resident: !flags.includes("copy"),
      fusion: flags.includes("block") ? "block" : flags.includes("fused") ? "relu" : "none",
    });
  });
  console.log(report(setups, Number(values.rounds)));
  activate("auto");
} else {
  const setups = [
    ...supported.map((p) => setupStep(p, 64)),
    setupStep("wasm-relaxed", 64, { fusion: "block" }),
  ];
  for (const s of setups) {
    Deno.bench(`LeNet-5 step batch 64 (${(stepFlops(64) / 1e6).toFixed(1)} MFLOP) ${s.label}`, {
      group: "step",
      baseline: s.path === "js",
      n: 30,
      warmup: 5,
    }, s.step);
  }
  let printed = false;
  Deno.bench("examples/s table (interleaved)", { n: 1, warmup: 0 }, () => {
    if (printed) return;
    printed = true;
    console.log(report(setups, 5));
  });
}
