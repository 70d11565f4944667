/**
 * The pointer-level wasm kernels: operands already in the module's memory, addressed by byte
 * pointers from {@link WasmKernels.alloc}. This is the layer to build on when activations
 * stay in wasm memory across a training step (no copies); the Float32Array entry points in
 * `wasm_calls.ts` are these plus one copy in and one copy out.
 *
 * Scratch space (padded inputs, packed weights, transposed deltas, GEMM panels) is taken from
 * the arena above the current top and released before returning. Every operand needs 16 bytes
 * of readable slack after it (the arena adds 64). Outputs must not overlap inputs.
 *
 * @module
 */

import { KW_UNROLLED, KW_UNROLLED_WGRAD, TILE_CHANNELS, TILE_WIDTH } from "./conv_wasm.ts";
import { type Conv2dDims, convOutSize, convPads, type Pool2dDims } from "./dims.ts";
import { gemmWorkFloats } from "./gemm_wasm.ts";
import type { WasmKernels } from "./runtime.ts";

/** Layout of a pointer-level GEMM; leading dimensions default to the packed ones. */
export interface SgemmPtrArgs {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  lda?: number;
  ldb?: number;
  ldc?: number;
}

/** `C = alpha * op(A) op(B) + beta * C` on row-major matrices at byte pointers pa, pb, pc. */
export function sgemmPtr(K: WasmKernels, pa: number, pb: number, pc: number, g: SgemmPtrArgs) {
  const { m, n, k } = g;
  const mark = K.mark();
  const work = K.alloc(gemmWorkFloats(k, n));
  K.fn.sgemm(
    pa,
    pb,
    pc,
    m,
    n,
    k,
    g.lda ?? (g.transA ? m : k),
    g.ldb ?? (g.transB ? k : n),
    g.ldc ?? n,
    g.transA ? 1 : 0,
    g.transB ? 1 : 0,
    g.alpha ?? 1,
    g.beta ?? 0,
    work,
  );
  K.release(mark);
}

/** Output-channel groups `[o0, count]` of at most `size` channels. */
function groups(o: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let o0 = 0; o0 < o; o0 += size) out.push([o0, Math.min(size, o - o0)]);
  return out;
}

/** Which forward kernel: vectorized over output channels (`c`) or output width (`w`). */
export type ConvVariant = "c" | "w";

/**
 * The forward variant for `outC` output channels and output width `ow`: width vectors need
 * at least 8 outputs per row, and win when channel vectors of 8 would be partly empty.
 */
export function chooseVariant(outC: number, ow: number): ConvVariant {
  return ow >= TILE_WIDTH && outC <= TILE_CHANNELS ? "w" : "c";
}

/**
 * Packs a kernel run's weights into per-group `[inC][kh][kw][8]` blocks (groups of 8 output
 * channels for `c`, 6 for `w`, zero-padded); returns each group's byte pointer. `weight` is
 * OIHW `[outC][inC][kh][kw]`, or with `rot180` OIHW of the forward conv whose input gradient
 * this is: `[inC][outC][kh][kw]`, read rotated by 180 degrees.
 */
function packWeights(
  K: WasmKernels,
  variant: ConvVariant,
  outC: number,
  inC: number,
  kh: number,
  kw: number,
  weight: Float32Array,
  rot180: boolean,
): number[] {
  return groups(outC, variant === "c" ? 8 : TILE_CHANNELS).map(([o0, g]) => {
    const p = K.alloc(inC * kh * kw * 8);
    const f = K.f32;
    let q = p >> 2;
    for (let cc = 0; cc < inC; cc++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++, q += 8) {
          for (let t = 0; t < 8; t++) {
            const oo = o0 + t;
            f[q + t] = t >= g
              ? 0
              : rot180
              ? weight[((cc * outC + oo) * kh + kh - 1 - i) * kw + kw - 1 - j]
              : weight[((oo * inC + cc) * kh + i) * kw + j];
          }
        }
      }
    }
    return p;
  });
}

/** A group's bias (8 floats, zero past the group). */
function packBias(K: WasmKernels, bias: Float32Array | null, o0: number, g: number): number {
  const p = K.alloc(8);
  K.f32.fill(0, p >> 2, (p >> 2) + 8);
  if (bias) K.f32.set(bias.subarray(o0, o0 + g), p >> 2);
  return p;
}

/** The geometry of one forward-kernel run, in the kernel's own terms. */
interface FwdRun {
  n: number;
  inC: number;
  outC: number;
  hp: number;
  wp: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  /** Real (unpadded) input rows: top .. top+hin. */
  top: number;
  hin: number;
}

function forwardGroups(
  K: WasmKernels,
  variant: ConvVariant,
  px: number,
  weights: number[],
  biases: number[],
  py: number,
  r: FwdRun,
  relu: boolean,
): void {
  if (variant === "w" && r.ow < TILE_WIDTH) {
    throw new RangeError(`conv variant "w" needs an output width >= ${TILE_WIDTH}`);
  }
  const fn = K.fn[`conv_fwd_${variant}_k${r.kw <= KW_UNROLLED ? r.kw : 0}`];
  const plane = r.oh * r.ow;
  groups(r.outC, variant === "c" ? 8 : TILE_CHANNELS).forEach(([o0, g], i) => {
    fn(
      px,
      weights[i],
      biases[i],
      py + 4 * o0 * plane,
      r.n,
      r.inC,
      r.hp,
      r.wp,
      r.kh,
      r.kw,
      r.oh,
      r.ow,
      g,
      4 * r.outC * plane,
      relu ? 1 : 0,
      r.top,
      r.hin,
    );
  });
}

/**
 * Zero-pads `planes` h x w planes at px by `[top, bottom, left, right]` into scratch, or
 * returns px if there is no padding.
 */
function padded(
  K: WasmKernels,
  px: number,
  planes: number,
  h: number,
  w: number,
  [top, bottom, left, right]: readonly number[],
) {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return px;
  const hp = h + top + bottom, wp = w + left + right;
  const pp = K.alloc(planes * hp * wp);
  K.fn.conv_pad(px, pp, planes, h, w, top, left, hp, wp);
  return pp;
}

/** `Y = relu?(X ⋆ W + b)` with X at px (NCHW), Y at py; weights/bias from JS (they are small). */
export function conv2dForwardPtr(
  K: WasmKernels,
  px: number,
  weight: Float32Array,
  bias: Float32Array | null,
  py: number,
  d: Conv2dDims,
  relu = false,
  variant: ConvVariant = chooseVariant(d.o, convOutSize(d).ow),
): void {
  const { n, c, h, w, o, kh, kw } = d;
  const pads = convPads(d);
  const { oh, ow } = convOutSize(d);
  const mark = K.mark();
  const xp = padded(K, px, n * c, h, w, pads);
  const wts = packWeights(K, variant, o, c, kh, kw, weight, false);
  const bs = groups(o, variant === "c" ? 8 : TILE_CHANNELS).map(([o0, g]) =>
    packBias(K, bias, o0, g)
  );
  const run = {
    n,
    inC: c,
    outC: o,
    hp: h + pads[0] + pads[1],
    wp: w + pads[2] + pads[3],
    kh,
    kw,
    oh,
    ow,
    top: pads[0],
    hin: h,
  };
  forwardGroups(K, variant, xp, wts, bs, py, run, relu);
  K.release(mark);
}

/**
 * `dX = full_conv(dY, rot180(W))` (dY at pdy, dX at pdx): the forward kernel on dY padded by
 * kh-1-padTop rows above and kw-1-padLeft columns left (negative: cropped) inside an
 * (h+kh-1) x (w+kw-1) plane, which leaves kh-1-padBottom rows below and kw-1-padRight columns
 * right; weights `W'[c][o][i][j] = W[o][c][kh-1-i][kw-1-j]`.
 */
export function conv2dBackwardInputPtr(
  K: WasmKernels,
  pdy: number,
  weight: Float32Array,
  pdx: number,
  d: Conv2dDims,
  variant: ConvVariant = chooseVariant(d.c, d.w),
): void {
  const { n, c, h, w, o, kh, kw } = d;
  const { oh, ow } = convOutSize(d);
  const [padTop, , padLeft] = convPads(d);
  const qh = kh - 1 - padTop, qw = kw - 1 - padLeft;
  const hq = h + kh - 1, wq = w + kw - 1;
  const mark = K.mark();
  const pp = K.alloc(n * o * hq * wq);
  K.fn.conv_pad(pdy, pp, n * o, oh, ow, qh, qw, hq, wq);
  const wts = packWeights(K, variant, c, o, kh, kw, weight, true);
  const zero = packBias(K, null, 0, 0);
  // Real rows of the padded delta: qh .. qh+oh, clipped to the padded extent.
  const top = Math.max(qh, 0), hin = Math.min(qh + oh, hq) - top;
  const run = { n, inC: o, outC: c, hp: hq, wp: wq, kh, kw, oh: h, ow: w, top, hin };
  forwardGroups(K, variant, pp, wts, wts.map(() => zero), pdx, run, false);
  K.release(mark);
}

/**
 * `dW = valid_corr(Xpad, dY)` (X at px, dY at pdy, dW at pdw):
 * `dW[o][c][i][j] = sum_{n,p,q} dY[n][o][p][q] * Xpad[n][c][p+i][q+j]`.
 */
export function conv2dBackwardFilterPtr(
  K: WasmKernels,
  px: number,
  pdy: number,
  pdw: number,
  d: Conv2dDims,
): void {
  const { n, c, h, w, o, kh, kw } = d;
  const pads = convPads(d);
  const { oh, ow } = convOutSize(d);
  const opad = 8 * Math.ceil(o / 8), taps = c * kh * kw;
  const mark = K.mark();
  const xp = padded(K, px, n * c, h, w, pads);
  const pdyT = K.alloc(n * oh * ow * opad);
  K.fn.conv_nhwc(pdy, pdyT, n, o, oh * ow, opad);
  const fn = K.fn[`conv_wgrad_k${kw <= KW_UNROLLED_WGRAD ? kw : 0}`];
  for (const [o0, g] of groups(o, 8)) {
    fn(
      xp,
      pdyT + 4 * o0,
      pdw + 4 * o0 * taps,
      n,
      c,
      h + pads[0] + pads[1],
      w + pads[2] + pads[3],
      kh,
      kw,
      oh,
      ow,
      g,
      4 * opad,
      4 * taps,
      pads[0],
      h,
    );
  }
  K.release(mark);
}

/** `db[o] = sum over n and space of dY[n][o]` (dY at pdy, db at pdb). */
export function conv2dBackwardBiasPtr(
  K: WasmKernels,
  pdy: number,
  pdb: number,
  n: number,
  o: number,
  hw: number,
): void {
  K.fn.conv_bias_grad(pdy, pdb, n, o, hw);
}

/** 2x2 stride-2 max-pool of X at px into Y at py, arg-max (int32 flat indices) at parg. */
export function maxPool2x2ForwardPtr(
  K: WasmKernels,
  px: number,
  py: number,
  parg: number,
  d: Pool2dDims,
): void {
  K.fn.maxpool2_fwd(px, py, parg, d.n * d.c, d.h, d.w);
}

/**
 * `dX = 0; dX[arg[i]] += dY[i]` for `count` deltas; with `pReluOut` (pointer to the pooled
 * values of a ReLU output, or 0) only `reluOut[i] > 0` routes (fused ReLU backward). Throws
 * if an arg-max index is outside dX (after routing the others).
 */
export function maxPool2x2BackwardPtr(
  K: WasmKernels,
  pdy: number,
  parg: number,
  pdx: number,
  count: number,
  dxLength: number,
  pReluOut = 0,
): void {
  const bad = K.fn.maxpool2_bwd(pdy, parg, pdx, count, dxLength, pReluOut) as number;
  if (bad > 0) {
    throw new RangeError(`maxPool2x2Backward: ${bad} argmax indices outside dx of ${dxLength}`);
  }
}

/** `Y = X < 0 ? 0 : X` for `len` floats (py may equal px). */
export function reluForwardPtr(K: WasmKernels, px: number, py: number, len: number): void {
  K.fn.relu_fwd(px, py, len);
}

/** `dX = X > 0 ? dY : 0` for `len` floats (pdx may equal pdy). */
export function reluBackwardPtr(
  K: WasmKernels,
  px: number,
  pdy: number,
  pdx: number,
  len: number,
): void {
  K.fn.relu_bwd(px, pdy, pdx, len);
}
