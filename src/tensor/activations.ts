/**
 * Activations: sigmoid, tanh, relu and LeCun's scaled tanh.
 *
 * Each derivative is written in terms of the forward output `y` (no second transcendental call
 * in the backward pass), so each `<op>Backward(g, y)` takes the upstream gradient and the
 * forward's output:
 * `sigmoid' = s (1 - s)`, `tanh' = 1 - t^2`, `relu' = [x > 0]` (0 at 0),
 * `scaledTanh'(x) = A S (1 - tanh^2(S x)) = A S (1 - (y / A)^2)` with `A = 1.7159`, `S = 2/3`.
 *
 * @module
 */

import { reluBackward as reluGradKernel, reluForward as reluKernel } from "./kernels/dispatch.ts";
import { type ActivationGrad, activationGrad } from "./kernels/unary.ts";
import { allocData, Tensor } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { unaryKernel } from "./unary.ts";
import { checkGrad } from "./validate.ts";

/** The fused backward loop `g * f'(y)`, after checking that `g` matches `y`. */
function fusedGrad(kind: ActivationGrad, g: Tensor, y: Tensor): Tensor {
  checkGrad(`${kind}Backward`, g, y.shape, y.dtype);
  const out = allocData(y.dtype, y.size);
  // ReLU runs on the active kernel path for float32 (see kernels/dispatch.ts).
  if (kind === "relu") reluGradKernel(g.data, y.data, out);
  else activationGrad(kind, g.data, y.data, out);
  return new Tensor(out, y.shape);
}

/** Computes an activation and records its output-based backward. */
function activation(kind: ActivationGrad, x: Tensor): Tensor {
  let y: Tensor;
  if (kind === "relu") {
    y = new Tensor(allocData(x.dtype, x.size), x.shape);
    reluKernel(x.data, y.data);
  } else y = unaryKernel(kind, x);
  return recordOp(kind, [x], y, () => (g) => [fusedGrad(kind, g, y)]);
}

/**
 * The logistic function `s = 1 / (1 + e^-x)`.
 *
 * Backward: `dX = g * s (1 - s)`.
 *
 * @example
 * ```ts
 * import { sigmoid, tensor } from "./mod.ts";
 * console.log(sigmoid(tensor([0])).data); // Float32Array [0.5]
 * ```
 */
export function sigmoid(x: Tensor): Tensor {
  return activation("sigmoid", x);
}

/**
 * VJP of {@link sigmoid} given its output `s`: `s' = s (1 - s)`.
 *
 * @example
 * ```ts
 * import { ones, sigmoidBackward, tensor } from "./mod.ts";
 * console.log(sigmoidBackward(ones([1]), tensor([0.5])).data); // Float32Array [0.25]
 * ```
 */
export function sigmoidBackward(g: Tensor, s: Tensor): Tensor {
  return fusedGrad("sigmoid", g, s);
}

/**
 * The hyperbolic tangent `t = tanh(x)`.
 *
 * Backward: `dX = g * (1 - t^2)`.
 *
 * @example
 * ```ts
 * import { tanh, tensor } from "./mod.ts";
 * console.log(tanh(tensor([0])).data); // Float32Array [0]
 * ```
 */
export function tanh(x: Tensor): Tensor {
  return activation("tanh", x);
}

/**
 * VJP of {@link tanh} given its output `t`: `tanh' = 1 - t^2`.
 *
 * @example
 * ```ts
 * import { ones, tanhBackward, tensor } from "./mod.ts";
 * console.log(tanhBackward(ones([1]), tensor([0.5])).data); // Float32Array [0.75]
 * ```
 */
export function tanhBackward(g: Tensor, t: Tensor): Tensor {
  return fusedGrad("tanh", g, t);
}

/**
 * The rectifier `max(x, 0)` (NaN stays NaN).
 *
 * Backward: `dX = g * [x > 0]`; by convention `relu'(0) = 0`.
 *
 * @example
 * ```ts
 * import { relu, tensor } from "./mod.ts";
 * console.log(relu(tensor([-1, 0, 2])).data); // Float32Array [0, 0, 2]
 * ```
 */
export function relu(x: Tensor): Tensor {
  return activation("relu", x);
}

/**
 * VJP of {@link relu} given its output `y`: `relu'(x) = [x > 0] = [y > 0]`, so 0 at 0.
 *
 * @example
 * ```ts
 * import { ones, relu, reluBackward, tensor } from "./mod.ts";
 * const y = relu(tensor([-1, 0, 2]));
 * console.log(reluBackward(ones([3]), y).data); // Float32Array [0, 0, 1]
 * ```
 */
export function reluBackward(g: Tensor, y: Tensor): Tensor {
  return fusedGrad("relu", g, y);
}

/**
 * LeCun's scaled hyperbolic tangent `y = 1.7159 tanh(2x/3)` (LeCun et al. 1998): chosen so that
 * `f(±1) = ±1` and the gain is largest around the targets.
 *
 * Backward: `dX = g * 1.7159 * 2/3 * (1 - tanh^2(2x/3))`.
 *
 * @example
 * ```ts
 * import { scaledTanh, tensor } from "./mod.ts";
 * console.log(scaledTanh(tensor([1], { dtype: "float64" })).data[0].toFixed(4)); // "1.0000"
 * ```
 */
export function scaledTanh(x: Tensor): Tensor {
  return activation("scaledTanh", x);
}

/**
 * VJP of {@link scaledTanh} given its output `y`: with `tanh(2x/3) = y / 1.7159`,
 * `f'(x) = 1.7159 * 2/3 * (1 - (y / 1.7159)^2)`.
 *
 * @example
 * ```ts
 * import { ones, scaledTanhBackward, zeros } from "./mod.ts";
 * console.log(scaledTanhBackward(ones([1]), zeros([1])).data[0].toFixed(4)); // "1.1439"
 * ```
 */
export function scaledTanhBackward(g: Tensor, y: Tensor): Tensor {
  return fusedGrad("scaledTanh", g, y);
}
