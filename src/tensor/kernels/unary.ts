/**
 * Loops of the unary elementwise ops and of the activations' fused backward rules. The op is
 * chosen once by a `switch` outside the loop; each case runs its own plain loop.
 *
 * @module
 */

import type { TensorData } from "../tensor.ts";

/** LeCun's scaled tanh `A tanh(S x)` (LeCun et al. 1998, appendix A): A = 1.7159, S = 2/3. */
export const SCALED_TANH_A = 1.7159;
/** The inner slope `S = 2/3` of the scaled tanh. */
export const SCALED_TANH_S = 2 / 3;

/** Names of the unary forward loops. */
export type UnaryKernel =
  | "neg"
  | "exp"
  | "log"
  | "sqrt"
  | "square"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "scaledTanh";

/** `out[i] = f(x[i])` for the unary op `kind`. */
export function mapUnary(kind: UnaryKernel, x: TensorData, out: TensorData): void {
  const n = x.length;
  switch (kind) {
    case "neg":
      for (let i = 0; i < n; i++) out[i] = -x[i];
      return;
    case "exp":
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]);
      return;
    case "log":
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
      return;
    case "sqrt":
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
      return;
    case "square":
      for (let i = 0; i < n; i++) out[i] = x[i] * x[i];
      return;
    case "sigmoid":
      // 1 / (1 + e^-x) overflows harmlessly: e^-x = Infinity gives 0, the correct limit.
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
      return;
    case "tanh":
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
      return;
    case "relu":
      // Branch-free: with random signs a `v > 0 ? v : 0` branch mispredicts half the time (3-6x
      // slower here). `v * [v > 0]` is exact except for NaN/-Infinity, caught by a branch that
      // is almost never taken; NaN stays visible, -0 + 0 = +0.
      for (let i = 0; i < n; i++) {
        const v = x[i], r = v * +(v > 0);
        out[i] = r === r ? r + 0 : v === -Infinity ? 0 : v;
      }
      return;
    case "scaledTanh":
      for (let i = 0; i < n; i++) out[i] = SCALED_TANH_A * Math.tanh(SCALED_TANH_S * x[i]);
      return;
  }
}

/** `out[i] = x[i] ** p`, with the common exponents computed exactly as their named ops do. */
export function powLoop(x: TensorData, p: number, out: TensorData): void {
  const n = x.length;
  if (p === 2) { for (let i = 0; i < n; i++) out[i] = x[i] * x[i]; }
  else if (p === 1) out.set(x);
  else if (p === 0.5) { for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); }
  else if (p === -1) { for (let i = 0; i < n; i++) out[i] = 1 / x[i]; }
  else for (let i = 0; i < n; i++) out[i] = Math.pow(x[i], p);
}

/** `out[i] = min(max(x[i], lo), hi)`; NaN stays NaN. */
export function clampLoop(x: TensorData, lo: number, hi: number, out: TensorData): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

/**
 * `g * mask` for a 0/1 mask without a data-dependent branch, but exact: a masked-out
 * non-finite `g` (Infinity * 0 = NaN) still gives 0, and -0 becomes +0.
 */
function gate(g: number, mask: number): number {
  const r = g * mask;
  return r === r ? r + 0 : mask ? r : 0;
}

/** `out[i] = lo <= x[i] <= hi ? g[i] : 0`: clamp's gradient passes inside the closed range. */
export function clampGradLoop(
  g: TensorData,
  x: TensorData,
  lo: number,
  hi: number,
  out: TensorData,
): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = gate(g[i], +(v >= lo) * +(v <= hi));
  }
}

/** Names of the fused activation backward loops, each written in terms of the output `y`. */
export type ActivationGrad = "sigmoid" | "tanh" | "relu" | "scaledTanh";

/** `out[i] = g[i] * f'(x[i])` with `f'` expressed through the forward output `y`. */
export function activationGrad(
  kind: ActivationGrad,
  g: TensorData,
  y: TensorData,
  out: TensorData,
): void {
  const n = y.length;
  switch (kind) {
    case "sigmoid":
      // s' = s (1 - s)
      for (let i = 0; i < n; i++) out[i] = g[i] * y[i] * (1 - y[i]);
      return;
    case "tanh":
      // tanh' = 1 - t^2
      for (let i = 0; i < n; i++) out[i] = g[i] * (1 - y[i] * y[i]);
      return;
    case "relu":
      // relu'(x) = [x > 0]; y > 0 exactly when x > 0, so relu'(0) = 0.
      for (let i = 0; i < n; i++) out[i] = gate(g[i], +(y[i] > 0));
      return;
    case "scaledTanh": {
      // d/dx A tanh(S x) = A S (1 - tanh^2(S x)) = A S (1 - (y / A)^2)
      const as = SCALED_TANH_A * SCALED_TANH_S, inv = 1 / SCALED_TANH_A;
      for (let i = 0; i < n; i++) {
        const t = y[i] * inv;
        out[i] = g[i] * as * (1 - t * t);
      }
      return;
    }
  }
}
