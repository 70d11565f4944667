/**
 * Emits the direct 2-D convolution kernels (stride 1, NCHW activations): forward in two
 * vectorizations, weight gradient, bias gradient, and the layout helpers they need (zero
 * padding, NCHW -> NHWC).
 *
 * Register budget: x86-64 V8 gives wasm 15 usable xmm registers, so a tile holds at most 12
 * v128 accumulators + 2 vector operands + 1 broadcast (a 3-pixel x 16-channel tile with 4
 * weight vectors spilled: 20 vs 33 GFLOP/s for 6 x 8). The kernel-row taps `kw` are unrolled
 * for KW <= {@link KW_UNROLLED} (variants `_k1` .. `_k7`) so every operand address is a
 * constant offset from one pointer; `_k0` is the generic variant with a runtime kw loop.
 * Inputs are zero-padded beforehand (`conv_pad`) so the inner loops have no bounds tests, and
 * each output row only visits the kernel rows `kh` that land on real (not padding) input rows:
 * the input gradient, a full correlation on a delta padded by KH-1, skips ~30% of its
 * multiply-adds that way.
 *
 * `conv_fwd_c_k*` vectorizes over output channels (groups of G = 8, weights packed
 * `[C][KH][KW][8]`), register tile 4 adjacent output pixels x 2 channel vectors:
 *
 * ```
 * for n, oh, ow0 in steps of 4:            // the last tile overlaps the previous one so all
 *   acc[p][v] = bias[4v..4v+4]             // tiles are full (writes are idempotent)
 *   for c, kh (real rows only), kw:
 *     w0, w1 = W[c][kh][kw][0..8]
 *     for p < 4: s = splat(Xpad[n][c][oh+kh][ow0+p+kw]); acc[p][v] += s * w_v
 *   Y[n][o0+4v+lane][oh][ow0+p] = relu?(acc[p][v][lane])   // lanes scatter to channel planes
 * ```
 *
 * Why 4 pixels and not 6 (which has the GEMM's better loads-per-FMA ratio): with kw unrolled,
 * tap (p, kw) reads the same input as tap (p+1, kw-1). TurboFan merges those identical loads
 * and keeps the broadcasts live across taps, which with 12 accumulators spills: measured 44
 * GFLOP/s for 4 x 8 vs 25 for 6 x 8 on LeNet's conv2 (per-pixel pointers that defeat the
 * merging give 6 x 8 42: no gain, more code).
 *
 * `conv_fwd_w_k*` vectorizes over output width for layers with few output channels (LeNet's
 * first layer has 6: channel vectors would waste 25% of their lanes): tile 6 channels x 8
 * adjacent outputs (2 vectors), weights packed `[C][KH][KW][8]` and broadcast:
 *
 * ```
 * for n, oh, ow0 in steps of 8 (last overlapping), c, kh, kw:
 *   x0, x1 = Xpad[n][c][oh+kh][ow0+kw .. +8]             // two unaligned loads
 *   for o < 6: s = splat(W[c][kh][kw][o]); acc[o][v] += s * x_v
 * Y[n][o0+o][oh][ow0 .. +8] = relu?(acc[o])                // contiguous stores
 * ```
 *
 * The input gradient `dX = full_conv(dY, rot180(W))` runs these same kernels on the delta
 * padded by (KH-1-padH, KW-1-padW) with channel-swapped, rotated weights.
 *
 * `conv_wgrad_k*`: the weight gradient, the valid correlation of the input with the delta,
 * `dW[o][c][kh][kw] = sum_{n,oh,ow} dY[n][o][oh][ow] * Xpad[n][c][oh+kh][ow+kw]`, is a GEMM
 * with a K = N*OH*OW reduction. Vectorized over output channels with the delta transposed to
 * `[N][OH][OW][Opad]` (`conv_nhwc`) so one pixel's 8 deltas are two contiguous vectors; tile:
 * the KW taps of one kernel row (c, kh) x 2 channel vectors, reduced over every pixel:
 *
 * ```
 * for c, kh, channel group:
 *   for n, oh (real rows only), ow:
 *     d0, d1 = dYt[n][oh][ow][o0 .. o0+8]
 *     for kw: s = splat(Xpad[n][c][oh+kh][ow+kw]); acc[kw][v] += s * d_v
 *   dW[o0+4v+lane][c][kh][kw] = acc[kw][v][lane]
 * ```
 *
 * @module
 */

import type { FuncBuilder, I32, ModuleBuilder, V128 } from "./emit.ts";
import { emitConvLayout } from "./conv_layout_wasm.ts";
import { type Flavor, maddInto } from "./simd.ts";

/** Kernel widths with unrolled variants (`_k1`..`_k7`); wider kernels use `_k0`. */
export const KW_UNROLLED = 7;
/** Widest kernel rows the weight gradient unrolls (KW accumulator pairs must fit). */
export const KW_UNROLLED_WGRAD = 6;
/** Output pixels per tile of `conv_fwd_c` (see the module comment for why not 6). */
export const TILE_PIXELS = 4;
/** Taps per tile of the generic weight gradient (12 accumulators). */
export const TILE_TAPS = 6;
/** Output pixels per tile of `conv_fwd_w` (two vectors). */
export const TILE_WIDTH = 8;
/** Output channels per tile of `conv_fwd_w`. */
export const TILE_CHANNELS = 6;

function params(f: FuncBuilder, n: number): I32[] {
  return Array.from({ length: n }, (_, i) => f.param(i, "i32"));
}

function locals<T extends "i32" | "v128">(f: FuncBuilder, type: T, n: number) {
  return Array.from({ length: n }, () => f.local(type));
}

/** `out = min(i, end - width)`: the start of a tile that must not run past `end`. */
function overlapStart(f: FuncBuilder, i: I32, end: I32, width: number, out: I32): void {
  f.localGet(end).i32Const(width).i32Sub().localTee(out).localGet(i).localGet(out).localGet(i)
    .i32LtS().select().localSet(out);
}

/** `out = max(lo, a)` and `min(hi, b)` helpers on i32 locals/constants. */
function clampRange(f: FuncBuilder, lo: I32, hi: I32, a: () => void, b: () => void, kh: I32) {
  // lo = max(0, a), hi = min(kh, b)
  a();
  f.localTee(lo).i32Const(0).localGet(lo).i32Const(0).i32GtS().select().localSet(lo);
  b();
  f.localTee(hi).localGet(kh).localGet(hi).localGet(kh).i32LtS().select().localSet(hi);
}

/**
 * The taps of one kernel row: `tap(xOff, wOff)` emits one tap with constant byte offsets from
 * the row pointers `xr` (input) and `wp` (weights); unrolled for `kwc` taps, or a runtime loop
 * over `KW` advancing copies of the pointers when `kwc` is 0.
 */
function rowTaps(
  f: FuncBuilder,
  kwc: number,
  KW: I32,
  ptrs: { xr: I32; wp: I32; xk: I32; wk: I32; kw: I32 },
  wStep: number,
  tap: (x: I32, w: I32, xOff: number, wOff: number) => void,
): void {
  if (kwc > 0) {
    for (let t = 0; t < kwc; t++) tap(ptrs.xr, ptrs.wp, 4 * t, wStep * t);
    return;
  }
  f.localGet(ptrs.xr).localSet(ptrs.xk).localGet(ptrs.wp).localSet(ptrs.wk);
  f.for(ptrs.kw, 0, KW, 1, () => {
    tap(ptrs.xk, ptrs.wk, 0, 0);
    f.inc(ptrs.xk, 4).inc(ptrs.wk, wStep);
  });
}

/**
 * `conv_fwd_{c|w}_k{kwc}(x, w, bias, y, N, C, Hp, Wp, KH, KW, OH, OW, oCount, yImg, relu, top,
 * Hin)`: one group of output channels. x: padded input `[N][C][Hp][Wp]` whose real rows are
 * `top .. top+Hin`; w: the group's weights `[C][KH][KW][8]`; bias: `[8]`; y: `&Y[0][o0]` of an
 * output with `yImg` bytes per image and OH*OW per plane; only `oCount` channels are stored.
 * `relu != 0` stores `max(y, 0) + 0` (`pmax`: NaN stays NaN; `+ 0` makes -0 +0, as the plain
 * ReLU does). The `c` variant needs nothing of OW;
 * the `w` variant needs OW >= 8 and oCount <= 6.
 */
function emitConvForward(mod: ModuleBuilder, flavor: Flavor, kind: "c" | "w", kwc: number) {
  mod.func(`conv_fwd_${kind}_k${kwc}`, Array(17).fill("i32"), [], (f) => {
    const [x, w, bias, y, N, C, Hp, Wp, KH, KW, OH, OW, oCount, yImg, relu, top, Hin] = params(
      f,
      17,
    );
    const [n, oh, ow0, ow, c, kh, kw, xn, yn, xc, wc, xr, wp, xk, wk, q] = locals(f, "i32", 16);
    const [khLo, khHi, planeX, planeY, rowX, rowW, chanW] = locals(f, "i32", 7);
    const ptrs = { xr, wp, xk, wk, kw };
    const rows = kind === "c" ? TILE_PIXELS : TILE_CHANNELS; // accumulator rows
    const acc: V128[][] = Array.from({ length: rows }, () => locals(f, "v128", 2));
    const [op0, op1, s] = locals(f, "v128", 3);
    const mul = (i: number, v: number) => {
      f.localGet(s).localGet(v ? op1 : op0);
      maddInto(f, flavor, acc[i][v]);
    };
    f.localGet(Hp).localGet(Wp).i32Mul().i32Const(4).i32Mul().localSet(planeX);
    f.localGet(OH).localGet(OW).i32Mul().i32Const(4).i32Mul().localSet(planeY);
    f.localGet(Wp).i32Const(4).i32Mul().localSet(rowX);
    f.localGet(KW).i32Const(32).i32Mul().localTee(rowW).localGet(KH).i32Mul().localSet(chanW);

    const tile = (p: number) => {
      if (kind === "c") {
        for (let i = 0; i < p; i++) {
          for (let v = 0; v < 2; v++) f.localGet(bias).v128Load(16 * v).localSet(acc[i][v]);
        }
      } else {
        for (let o = 0; o < rows; o++) {
          f.localGet(bias).v128Load32Splat(4 * o).localTee(acc[o][0]).localSet(acc[o][1]);
        }
      }
      // xc = &Xpad[n][0][oh+khLo][ow], wc = &W[0][khLo][0][0]
      f.localGet(xn).localGet(oh).localGet(khLo).i32Add().localGet(rowX).i32Mul().i32Add()
        .localGet(ow).i32Const(4).i32Mul().i32Add().localSet(xc);
      f.localGet(w).localGet(khLo).localGet(rowW).i32Mul().i32Add().localSet(wc);
      f.for(c, 0, C, 1, () => {
        f.localGet(xc).localSet(xr).localGet(wc).localSet(wp);
        f.for(kh, khLo, khHi, 1, () => {
          rowTaps(f, kwc, KW, ptrs, 32, (xp, wq, xOff, wOff) => {
            if (kind === "c") {
              f.localGet(wq).v128Load(wOff).localSet(op0);
              f.localGet(wq).v128Load(wOff + 16).localSet(op1);
              for (let i = 0; i < p; i++) {
                f.localGet(xp).v128Load32Splat(xOff + 4 * i).localSet(s);
                mul(i, 0), mul(i, 1);
              }
            } else {
              f.localGet(xp).v128Load(xOff).localSet(op0);
              f.localGet(xp).v128Load(xOff + 16).localSet(op1);
              for (let o = 0; o < rows; o++) {
                f.localGet(wq).v128Load32Splat(wOff + 4 * o).localSet(s);
                mul(o, 0), mul(o, 1);
              }
            }
          });
          f.inc(xr, rowX).inc(wp, rowW);
        });
        f.inc(xc, planeX).inc(wc, chanW);
      });
      f.localGet(relu).if(() => {
        for (const a of acc.slice(0, kind === "c" ? p : rows)) {
          for (const r of a) {
            f.localGet(r).v128ConstI32([0, 0, 0, 0]).f32x4Pmax().v128ConstI32([0, 0, 0, 0])
              .f32x4Add().localSet(r);
          }
        }
      });
      // q = &Y[n][o0][oh][ow]; one plane further per channel.
      f.localGet(yn).localGet(oh).localGet(OW).i32Mul().localGet(ow).i32Add().i32Const(4).i32Mul()
        .i32Add().localSet(q);
      for (let o = 0; o < (kind === "c" ? 8 : rows); o++) {
        f.localGet(oCount).i32Const(o).i32GtS().if(() => {
          if (kind === "c") {
            const [v, l] = [o >> 2, o & 3];
            for (let i = 0; i < p; i++) f.localGet(q).localGet(acc[i][v]).v128Store32Lane(4 * i, l);
          } else {
            f.localGet(q).localGet(acc[o][0]).v128Store(0);
            f.localGet(q).localGet(acc[o][1]).v128Store(16);
          }
        });
        f.inc(q, planeY);
      }
    };

    const width = kind === "c" ? TILE_PIXELS : TILE_WIDTH;
    f.for(n, 0, N, 1, () => {
      f.localGet(x).localGet(n).localGet(C).i32Mul().localGet(planeX).i32Mul().i32Add().localSet(
        xn,
      );
      f.localGet(y).localGet(n).localGet(yImg).i32Mul().i32Add().localSet(yn);
      f.for(oh, 0, OH, 1, () => {
        // Real input rows are top..top+Hin: kh in [max(0, top-oh), min(KH, top+Hin-oh)).
        clampRange(
          f,
          khLo,
          khHi,
          () => f.localGet(top).localGet(oh).i32Sub(),
          () => f.localGet(top).localGet(Hin).i32Add().localGet(oh).i32Sub(),
          KH,
        );
        if (kind === "w") {
          f.for(ow0, 0, OW, width, () => (overlapStart(f, ow0, OW, width, ow), tile(width)));
        } else {
          f.localGet(OW).i32Const(width).i32GeS().if(
            () =>
              f.for(ow0, 0, OW, width, () => (overlapStart(f, ow0, OW, width, ow), tile(width))),
            () => f.for(ow, 0, OW, 1, () => tile(1)),
          );
        }
      });
    });
  });
}

/**
 * `conv_wgrad_k{kwc}(x, dyT, dw, N, C, Hp, Wp, KH, KW, OH, OW, oCount, dyStride, dwRow, top,
 * Hin)` for kwc >= 1: one group of 8 output channels. x: padded input `[N][C][Hp][Wp]`, real
 * rows `top .. top+Hin`; dyT: `&dYt[0][0][0][o0]` of the delta in `[N][OH][OW][Opad]` with
 * `dyStride` bytes per pixel; dw: `&dW[o0][0][0][0]` with `dwRow` bytes per output channel.
 */
function emitConvWeightGrad(mod: ModuleBuilder, flavor: Flavor, kwc: number): void {
  mod.func(`conv_wgrad_k${kwc}`, Array(16).fill("i32"), [], (f) => {
    const [x, dyT, dw, N, C, Hp, Wp, KH, KW, OH, OW, oCount, dyStride, dwRow, top, Hin] = params(
      f,
      16,
    );
    const [c, kh, n, oh, ow, ohLo, ohHi, xq, dyp, planeX, rowX, q] = locals(f, "i32", 12);
    const acc: V128[][] = Array.from({ length: kwc }, () => locals(f, "v128", 2));
    const [d0, d1, s] = locals(f, "v128", 3);
    f.localGet(Hp).localGet(Wp).i32Mul().i32Const(4).i32Mul().localSet(planeX);
    f.localGet(Wp).i32Const(4).i32Mul().localSet(rowX);
    f.for(c, 0, C, 1, () => {
      f.for(kh, 0, KH, 1, () => {
        for (const a of acc) for (const r of a) f.v128ConstI32([0, 0, 0, 0]).localSet(r);
        // Output rows whose input row oh+kh is real: [max(0, top-kh), min(OH, top+Hin-kh)).
        clampRange(
          f,
          ohLo,
          ohHi,
          () => f.localGet(top).localGet(kh).i32Sub(),
          () => f.localGet(top).localGet(Hin).i32Add().localGet(kh).i32Sub(),
          OH,
        );
        f.for(n, 0, N, 1, () => {
          f.for(oh, ohLo, ohHi, 1, () => {
            // xq = &Xpad[n][c][oh+kh][0]; dyp = &dYt[n][oh][0][o0]
            f.localGet(x).localGet(n).localGet(C).i32Mul().localGet(c).i32Add().localGet(planeX)
              .i32Mul().i32Add().localGet(oh).localGet(kh).i32Add().localGet(rowX).i32Mul()
              .i32Add().localSet(xq);
            f.localGet(dyT).localGet(n).localGet(OH).i32Mul().localGet(oh).i32Add().localGet(OW)
              .i32Mul().localGet(dyStride).i32Mul().i32Add().localSet(dyp);
            f.for(ow, 0, OW, 1, () => {
              f.localGet(dyp).v128Load(0).localSet(d0);
              f.localGet(dyp).v128Load(16).localSet(d1);
              for (let t = 0; t < kwc; t++) {
                f.localGet(xq).v128Load32Splat(4 * t).localSet(s);
                f.localGet(s).localGet(d0);
                maddInto(f, flavor, acc[t][0]);
                f.localGet(s).localGet(d1);
                maddInto(f, flavor, acc[t][1]);
              }
              f.inc(xq, 4).inc(dyp, dyStride);
            });
          });
        });
        // q = &dW[o0][c][kh][0]; one row further per channel.
        f.localGet(dw).localGet(c).localGet(KH).i32Mul().localGet(kh).i32Add().localGet(KW)
          .i32Mul().i32Const(4).i32Mul().i32Add().localSet(q);
        for (let o = 0; o < 8; o++) {
          f.localGet(oCount).i32Const(o).i32GtS().if(() => {
            for (let t = 0; t < kwc; t++) {
              f.localGet(q).localGet(acc[t][o >> 2]).v128Store32Lane(4 * t, o & 3);
            }
          });
          f.inc(q, dwRow);
        }
      });
    });
  });
}

/**
 * `conv_wgrad_k0(...)`, same signature: the generic weight gradient for any KW. Its tile is 6
 * consecutive flat taps t = (c*KH + kh)*KW + kw (the last tile overlapping), each with its own
 * runtime offset into the padded input; it does not skip padding rows.
 */
function emitConvWeightGradGeneric(mod: ModuleBuilder, flavor: Flavor): void {
  const T = TILE_TAPS;
  mod.func("conv_wgrad_k0", Array(16).fill("i32"), [], (f) => {
    const [x, dyT, dw, N, C, Hp, Wp, KH, KW, OH, OW, oCount, dyStride, dwRow] = params(f, 14);
    const [t0, t, j, taps, kk, n, oh, ow, xn, xq, dyp, planeX, q] = locals(f, "i32", 13);
    const xo = locals(f, "i32", T);
    const acc: V128[][] = Array.from({ length: T }, () => locals(f, "v128", 2));
    const [d0, d1, s] = locals(f, "v128", 3);
    f.localGet(KH).localGet(KW).i32Mul().localSet(kk);
    f.localGet(C).localGet(kk).i32Mul().localSet(taps);
    f.localGet(Hp).localGet(Wp).i32Mul().i32Const(4).i32Mul().localSet(planeX);

    const tile = (width: number) => {
      for (let i = 0; i < width; i++) {
        // tap t+i = (c*KH + kh)*KW + kw sits ((c*Hp + kh)*Wp + kw)*4 bytes from its pixel.
        f.localGet(t).i32Const(i).i32Add().localSet(j);
        f.localGet(j).localGet(kk).i32DivU().localGet(Hp).i32Mul();
        f.localGet(j).localGet(kk).i32RemU().localGet(KW).i32DivU().i32Add();
        f.localGet(Wp).i32Mul().localGet(j).localGet(KW).i32RemU().i32Add();
        f.i32Const(4).i32Mul().localSet(xo[i]);
        for (const a of acc[i]) f.v128ConstI32([0, 0, 0, 0]).localSet(a);
      }
      f.localGet(dyT).localSet(dyp);
      f.for(n, 0, N, 1, () => {
        f.localGet(x).localGet(n).localGet(C).i32Mul().localGet(planeX).i32Mul().i32Add()
          .localSet(xn);
        f.for(oh, 0, OH, 1, () => {
          f.localGet(xn).localGet(oh).localGet(Wp).i32Mul().i32Const(4).i32Mul().i32Add()
            .localSet(xq);
          f.for(ow, 0, OW, 1, () => {
            f.localGet(dyp).v128Load(0).localSet(d0);
            f.localGet(dyp).v128Load(16).localSet(d1);
            for (let i = 0; i < width; i++) {
              f.localGet(xq).localGet(xo[i]).i32Add().v128Load32Splat().localSet(s);
              f.localGet(s).localGet(d0);
              maddInto(f, flavor, acc[i][0]);
              f.localGet(s).localGet(d1);
              maddInto(f, flavor, acc[i][1]);
            }
            f.inc(xq, 4).inc(dyp, dyStride);
          });
        });
      });
      f.localGet(dw).localGet(t).i32Const(4).i32Mul().i32Add().localSet(q);
      for (let o = 0; o < 8; o++) {
        f.localGet(oCount).i32Const(o).i32GtS().if(() => {
          for (let i = 0; i < width; i++) {
            f.localGet(q).localGet(acc[i][o >> 2]).v128Store32Lane(4 * i, o & 3);
          }
        });
        f.inc(q, dwRow);
      }
    };

    f.localGet(taps).i32Const(T).i32GeS().if(
      () => f.for(t0, 0, taps, T, () => (overlapStart(f, t0, taps, T, t), tile(T))),
      () => f.for(t, 0, taps, 1, () => tile(1)),
    );
  });
}

/** Emits every convolution kernel of a flavour. */
export function emitConv(mod: ModuleBuilder, flavor: Flavor): void {
  for (let kwc = 0; kwc <= KW_UNROLLED; kwc++) {
    emitConvForward(mod, flavor, "c", kwc);
    emitConvForward(mod, flavor, "w", kwc);
  }
  emitConvWeightGradGeneric(mod, flavor);
  for (let kwc = 1; kwc <= KW_UNROLLED_WGRAD; kwc++) emitConvWeightGrad(mod, flavor, kwc);
  emitConvLayout(mod);
}
