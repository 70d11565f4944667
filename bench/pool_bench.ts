/**
 * Pooling forward and backward at the LeNet-5 sizes (batch 64, float32, 2x2 windows, stride 2):
 * after conv1 `[64, 6, 28, 28]` and after conv2 `[64, 16, 10, 10]`.
 *
 * - `deno bench bench/pool_bench.ts`: Deno's harness (time per call).
 * - `deno run bench/pool_bench.ts`: a table of ms and input elements per second (median of 15
 *   calls after warm-up).
 *
 * @module
 */

import {
  avgPool2d,
  avgPool2dBackward,
  maxPool2dBackward,
  maxPool2dWithArgmax,
  type Pool2dOptions,
  prngKey,
  randomUniform,
  split,
  type Tensor,
  upsample,
  upsampleBackward,
} from "../mod.ts";
import { measure } from "./timing.ts";

interface Case {
  name: string;
  x: Tensor;
  delta: Tensor;
}

const opts: Pool2dOptions = { kernel: 2 };

function poolCase(shape: number[], seed: number): Case {
  const [k1, k2] = split(prngKey(seed), 2);
  const [N, C, H, W] = shape;
  return {
    name: `2x2 pool of ${shape.join("x")}`,
    x: randomUniform(k1, shape, { low: -1, high: 1 }),
    delta: randomUniform(k2, [N, C, H / 2, W / 2], { low: -1, high: 1 }),
  };
}

const cases: Case[] = [poolCase([64, 6, 28, 28], 1), poolCase([64, 16, 10, 10], 2)];

function jobs(c: Case): { label: string; fn: () => unknown }[] {
  const { argmax } = maxPool2dWithArgmax(c.x, opts);
  return [
    { label: "maxPool2d forward (with argmax)", fn: () => maxPool2dWithArgmax(c.x, opts) },
    { label: "maxPool2dBackward", fn: () => maxPool2dBackward(c.delta, argmax, c.x.shape) },
    { label: "avgPool2d forward", fn: () => avgPool2d(c.x, opts) },
    { label: "avgPool2dBackward", fn: () => avgPool2dBackward(c.delta, c.x.shape, opts) },
    { label: "upsample x2 (of the pooled delta)", fn: () => upsample(c.delta, 2) },
    { label: "upsampleBackward x2", fn: () => upsampleBackward(c.x, 2) },
  ];
}

if (import.meta.main) {
  console.log("pooling, float32, batch 64; median of 15 calls after warm-up\n");
  for (const c of cases) {
    console.log(c.name);
    for (const j of jobs(c)) {
      const t = measure(j.fn);
      const rate = c.x.size / t.medianMs / 1e6; // G elements of the full-size map per second
      console.log(
        `  ${j.label.padEnd(36)} ${t.medianMs.toFixed(3).padStart(7)} ms  ${
          rate.toFixed(2).padStart(5)
        } Gelem/s`,
      );
    }
  }
} else {
  for (const c of cases) {
    for (const j of jobs(c)) {
      Deno.bench({
        name: `${c.name}: ${j.label}`,
        group: c.name,
        fn: () => void j.fn(),
      });
    }
  }
}
