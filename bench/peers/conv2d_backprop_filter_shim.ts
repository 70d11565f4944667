/**
 * A Conv2DBackpropFilter kernel for TensorFlow.js's wasm backend, which ships none (4.22.0), so
 * `tf.grad` through `tf.conv2d` fails there with "Kernel 'Conv2DBackpropFilter' not registered".
 * Bench-only: TF.js is the peer we race, never a dependency of the library.
 *
 * Derivation (NHWC activations, HWIO filters, stride s, padding top/left pt/pl):
 *
 *   dW[kh, kw, c, o] = sum_{n, oh, ow} xpad[n, oh*s + kh, ow*s + kw, c] * dy[n, oh, ow, o]
 *
 * Rename the axes so this is an ordinary forward Conv2D (cross-correlation):
 *
 *   X'[c, h, w, n]   = x[n, h, w, c]      transpose x  by [3, 1, 2, 0]: batch C, channels N
 *   F'[oh, ow, n, o] = dy[n, oh, ow, o]   transpose dy by [1, 2, 0, 3]: an OHxOW filter, N -> O
 *   Y'[c, kh, kw, o] = sum_{oh, ow, n} X'pad[c, kh + oh*s, kw + ow*s, n] * F'[oh, ow, n, o]
 *
 * so Y' = conv2d(X', F', stride 1, dilation s, the forward's padding), and
 * dW = transpose(Y', [1, 2, 0, 3]). Y' is KH x KW spatially whenever the forward padding is the
 * exact one ('same' pads (OH-1)*s + KH - H in total); when a 'valid'/explicit forward with stride
 * s leaves rows unused, Y' has extra trailing rows/columns that no dy touched, so we slice them.
 *
 * @module
 */

import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";

type Pad = tf.Conv2DBackpropFilterAttrs["pad"];

/** The kernel function; registered by {@link registerConv2DBackpropFilterShim}. */
export function conv2dBackpropFilterViaConv2d(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
): tf.TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as tf.KernelBackend;
  const { x, dy } = inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat !== "NHWC") {
    throw new Error(
      `Conv2DBackpropFilter shim: dataFormat ${dataFormat} is not supported; the wasm backend's ` +
        "Conv2D is NHWC only, so train with NHWC activations.",
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    "channelsLast",
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const { top, bottom, left, right } = info.padInfo;
  const [n, outH, outW, outC] = dy.shape;
  if (n !== info.batchSize || outH !== info.outHeight || outW !== info.outWidth) {
    throw new Error(
      `Conv2DBackpropFilter shim: dy [${dy.shape}] does not match the forward output ` +
        `[${info.outShape}] of x [${x.shape}] with filter [${filterShape}].`,
    );
  }
  // TF.js sizes numeric padding with the height's stride and filter for both axes, so e.g.
  // strides [1, 2] with pad 1 yields windows past the padded input; no Conv2D can express that.
  if (
    (outH - 1) * sh + kh > info.inHeight + top + bottom ||
    (outW - 1) * sw + kw > info.inWidth + left + right
  ) {
    throw new Error(
      `Conv2DBackpropFilter shim: output [${info.outShape}] of x [${x.shape}] with filter ` +
        `[${filterShape}], strides [${sh}, ${sw}] reaches past the padded input; use 'same', ` +
        "'valid' or explicit padding.",
    );
  }
  const run = (name: string, ins: tf.NamedTensorInfoMap, at: tf.NamedAttrMap): tf.TensorInfo =>
    tf.getKernel(name, "wasm").kernelFunc({ inputs: ins, backend, attrs: at }) as tf.TensorInfo;

  const xT = run(tf.Transpose, { x }, { perm: [3, 1, 2, 0] });
  const dyT = run(tf.Transpose, { x: dy }, { perm: [1, 2, 0, 3] });
  const explicit: Pad = [[0, 0], [top, bottom], [left, right], [0, 0]];
  let y = run(tf.Conv2D, { x: xT, filter: dyT }, {
    strides: [1, 1],
    dilations: [sh, sw],
    pad: explicit,
    dataFormat: "NHWC",
  });
  backend.disposeData(xT.dataId);
  backend.disposeData(dyT.dataId);
  if (y.shape[1] !== kh || y.shape[2] !== kw) {
    const sliced = run(tf.Slice, { x: y }, {
      begin: [0, 0, 0, 0],
      size: [info.inChannels, kh, kw, outC],
    });
    backend.disposeData(y.dataId);
    y = sliced;
  }
  const dw = run(tf.Transpose, { x: y }, { perm: [1, 2, 0, 3] });
  backend.disposeData(y.dataId);
  return dw;
}

/** Registers the shim on the wasm backend (idempotent: a second call is a no-op). */
export function registerConv2DBackpropFilterShim(): void {
  const registered = tf.getKernelsForBackend("wasm")
    .some((k) => k.kernelName === tf.Conv2DBackpropFilter);
  if (registered) return;
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName: "wasm",
    kernelFunc: conv2dBackpropFilterViaConv2d as tf.KernelFunc,
  });
}
