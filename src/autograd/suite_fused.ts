/**
 * Suite rows of the fused conv ops (`conv2dRelu`, `conv2dReluMaxPool`): each is checked
 * against the composition of the reference definitions it fuses, with inputs that keep the
 * kinks of ReLU and max out of reach of the finite-difference step.
 *
 * @module
 */

import type { default as fcModule } from "npm:fast-check@4.3.0";
import { conv2d, conv2dRelu } from "../tensor/conv.ts";
import { conv2dReluMaxPool } from "../tensor/conv_block.ts";
import { fromData, type Tensor } from "../tensor/tensor.ts";
import * as ref from "./ref.ts";
import { int, pair } from "./suite_inputs.ts";
import { buildConv, convArb, type ConvParams, one, type SuiteCase } from "./suite_rows.ts";

type FastCheck = typeof fcModule;
type Arb<T> = fcModule.Arbitrary<T>;

/** Margin kept between a pre-activation and the ReLU's kink, and between a window's maxima. */
const MARGIN = 1e-3;

/**
 * conv2dRelu = relu(conv2d): integer inputs and weights with half-integer biases, so every
 * pre-activation is a half-integer, at least 0.5 from the ReLU's kink whatever the shapes.
 */
export function buildConvRelu(p: ConvParams): SuiteCase {
  const c = buildConv({ ...p, bias: true });
  const round = (t: Tensor, shift: number) =>
    fromData(Array.from(t.data, (v) => Math.round(1.5 * v) + shift), t.shape, {
      dtype: "float64",
    });
  const [x, w, b] = c.inputs;
  const opts = { stride: p.s, padding: p.padding, dilation: p.d };
  return one(
    [round(x, 0), round(w, 0), round(b, 0.5)],
    (x, w, b) => conv2dRelu(x, w, b, opts),
    (x, w, b) => ref.relu(ref.conv2d(x, w, b, opts)),
    ["x", "w", "b"],
  );
}

/** A conv block case: the convolution's parameters and the pooling window and stride. */
export interface ConvPoolParams {
  conv: ConvParams;
  k: [number, number];
  s: [number, number];
}

export const convPoolArb = (fc: FastCheck): Arb<ConvPoolParams> =>
  fc.record({ conv: convArb(fc), k: pair(fc, 1, 3), s: pair(fc, 1, 3) });

/**
 * Whether every pre-activation is at least MARGIN from 0 and, in every pooling window, the
 * largest positive activation beats the runner-up by MARGIN (so neither the ReLU nor the
 * arg-max can flip under the finite-difference step).
 */
function wellSeparated(z: Tensor, k: [number, number], s: [number, number]): boolean {
  if (z.data.some((v) => Math.abs(v) < MARGIN)) return false;
  const [n, o, h, w] = z.shape;
  for (let m = 0; m < n * o; m++) {
    for (let i = 0; i + k[0] <= h; i += s[0]) {
      for (let j = 0; j + k[1] <= w; j += s[1]) {
        let best = 0, second = 0;
        for (let a = 0; a < k[0]; a++) {
          for (let b = 0; b < k[1]; b++) {
            const v = Math.max(0, z.data[(m * h + i + a) * w + j + b]);
            if (v > best) [best, second] = [v, best];
            else if (v > second) second = v;
          }
        }
        if (best > 0 && best - second < MARGIN) return false;
      }
    }
  }
  return true;
}

/**
 * conv2dReluMaxPool = maxPool2d(relu(conv2d)): normal inputs, the seed advanced until the
 * pre-activations and window maxima are well separated (a few tries at these sizes); the
 * window shrinks to the convolution's output when that is smaller.
 */
export function buildConvReluPool({ conv, k, s }: ConvPoolParams): SuiteCase {
  const opts = { stride: conv.s, padding: conv.padding, dilation: conv.d };
  let inputs: readonly Tensor[] = [], kernel: [number, number] = k;
  for (let attempt = 0; attempt < 50; attempt++) {
    inputs = buildConv({ ...conv, bias: true, seed: conv.seed + 7919 * attempt }).inputs;
    const z = conv2d(inputs[0], inputs[1], inputs[2], opts);
    kernel = [Math.min(k[0], z.shape[2]), Math.min(k[1], z.shape[3])];
    if (wellSeparated(z, kernel, s)) break;
  }
  const pool = { kernel, stride: s };
  return one(
    [...inputs],
    (x, w, b) => conv2dReluMaxPool(x, w, b, opts, pool),
    (x, w, b) => ref.maxPool2d(ref.relu(ref.conv2d(x, w, b, opts)), kernel, { stride: s }),
    ["x", "w", "b"],
  );
}

/** Restricts a conv case to small sizes (few windows: separation is then easy to find). */
export const smallConvPoolArb = (fc: FastCheck): Arb<ConvPoolParams> =>
  convPoolArb(fc).chain((p) =>
    int(fc, 1, 2).map((n) => ({ ...p, conv: { ...p.conv, n, o: Math.min(p.conv.o, 3) } }))
  );
