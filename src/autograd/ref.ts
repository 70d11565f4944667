/**
 * The public reference set (`ref` in `mod.ts`): a reference definition for every differentiable
 * fast op, each written only with the autograd's elementary primitives so that its gradient
 * comes from the chain rule alone. `reference.ts` holds the network ops (conv2d, pooling,
 * upsample, activations, softmax, losses, dense), `reference_elementwise.ts` the elementwise
 * ops, `reference_shape.ts` reductions, layout and matmul, `reference_correlate.ts` rot180 and
 * the single-map correlations, `reference_lenet.ts` the ops of LeCun 1998 and the notes' learned
 * combinations.
 *
 * @module
 */

export * from "./reference.ts";
export * from "./reference_elementwise.ts";
export * from "./reference_shape.ts";
export * from "./reference_correlate.ts";
export * from "./reference_lenet.ts";
