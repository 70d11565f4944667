/**
 * Emits the convolutions' helper kernels: the bias gradient and the two layout changes the
 * multiply-add kernels rely on (zero padding, NCHW -> NHWC for the weight gradient's delta).
 * None of them multiplies, so both flavours share them.
 *
 * @module
 */

import type { FuncBuilder, I32, ModuleBuilder } from "./emit.ts";

function params(f: FuncBuilder, n: number): I32[] {
  return Array.from({ length: n }, (_, i) => f.param(i, "i32"));
}

function locals<T extends "i32" | "v128">(f: FuncBuilder, type: T, n: number) {
  return Array.from({ length: n }, () => f.local(type));
}

/**
 * `conv_bias_grad(dy, db, N, O, HW)`: `db[o] = sum_{n, pixel} dY[n][o][pixel]`, four partial
 * sums per vector lane, then the lanes.
 */
function emitBiasGrad(mod: ModuleBuilder): void {
  mod.func("conv_bias_grad", Array(5).fill("i32"), [], (f) => {
    const [dy, db, N, O, HW] = params(f, 5);
    const [o, n, i, p, hw4] = Array.from({ length: 5 }, () => f.local("i32"));
    const acc = f.local("v128"), tail = f.local("f32");
    f.localGet(HW).i32Const(-4).i32And().localSet(hw4);
    f.for(o, 0, O, 1, () => {
      f.v128ConstI32([0, 0, 0, 0]).localSet(acc);
      f.f32Const(0).localSet(tail);
      f.for(n, 0, N, 1, () => {
        f.localGet(dy).localGet(n).localGet(O).i32Mul().localGet(o).i32Add().localGet(HW).i32Mul()
          .i32Const(4).i32Mul().i32Add().localSet(p);
        f.for(i, 0, hw4, 4, () => {
          f.localGet(p).v128Load().localGet(acc).f32x4Add().localSet(acc);
          f.inc(p, 16);
        });
        f.for(i, hw4, HW, 1, () => {
          f.localGet(p).f32Load().localGet(tail).f32Add().localSet(tail);
          f.inc(p, 4);
        });
      });
      f.localGet(db).localGet(o).i32Const(4).i32Mul().i32Add();
      f.localGet(acc).f32x4ExtractLane(0).localGet(acc).f32x4ExtractLane(1).f32Add();
      f.localGet(acc).f32x4ExtractLane(2).localGet(acc).f32x4ExtractLane(3).f32Add().f32Add();
      f.localGet(tail).f32Add().f32Store();
    });
  });
}

/**
 * `conv_pad(src, dst, planes, H, W, top, left, Hp, Wp)`: `dst[pl][i][j] = src[pl][i-top][j-left]`
 * where that exists, else 0. `top`/`left` may be negative (cropping), which the input gradient
 * needs when the forward padding exceeds the kernel size minus one.
 */
function emitPad(mod: ModuleBuilder): void {
  mod.func("conv_pad", Array(9).fill("i32"), [], (f) => {
    const [src, dst, planes, H, W, top, left, Hp, Wp] = params(f, 9);
    const [pl, i, si, j0, j1, d, sp] = Array.from({ length: 7 }, () => f.local("i32"));
    // Whole output zeroed once, then the rows that have a source copied in.
    f.localGet(dst).i32Const(0).localGet(planes).localGet(Hp).i32Mul().localGet(Wp).i32Mul()
      .i32Const(4).i32Mul().memoryFill();
    // Columns j0..j1 of a dst row come from src columns j0-left..j1-left.
    f.localGet(left).i32Const(0).localGet(left).i32Const(0).i32GtS().select().localSet(j0);
    f.localGet(W).localGet(left).i32Add().localTee(j1).localGet(Wp).localGet(j1).localGet(Wp)
      .i32LtS().select().localSet(j1);
    f.localGet(j1).localGet(j0).i32GtS().if(() => {
      f.for(pl, 0, planes, 1, () => {
        f.for(i, 0, Hp, 1, () => {
          f.localGet(i).localGet(top).i32Sub().localTee(si).i32Const(0).i32GeS()
            .localGet(si).localGet(H).i32LtS().i32And().if(() => {
              f.localGet(dst).localGet(pl).localGet(Hp).i32Mul().localGet(i).i32Add().localGet(Wp)
                .i32Mul().localGet(j0).i32Add().i32Const(4).i32Mul().i32Add().localSet(d);
              f.localGet(src).localGet(pl).localGet(H).i32Mul().localGet(si).i32Add().localGet(W)
                .i32Mul().localGet(j0).localGet(left).i32Sub().i32Add().i32Const(4).i32Mul()
                .i32Add().localSet(sp);
              f.localGet(d).localGet(sp).localGet(j1).localGet(j0).i32Sub().i32Const(4).i32Mul()
                .memoryCopy();
            });
        });
      });
    });
  });
}

/** i8x16.shuffle bytes selecting 32-bit lanes (0-3: first operand, 4-7: second). */
function lanes32(sel: number[]): number[] {
  return sel.flatMap((l) => [0, 1, 2, 3].map((b) => 4 * l + b));
}

/**
 * `conv_nhwc(src, dst, N, C, HW, Cpad)`: `dst[n][pixel][c] = src[n][c][pixel]`, channels
 * C..Cpad zero (Cpad a multiple of 4). Blocks of 4 channels x 4 pixels are transposed in
 * registers (4 loads, 8 shuffles, 4 stores), with zero vectors standing in for channels past C;
 * pixels past a multiple of 4 are moved one float at a time.
 */
function emitNhwc(mod: ModuleBuilder): void {
  mod.func("conv_nhwc", Array(6).fill("i32"), [], (f) => {
    const [src, dst, N, C, HW, Cpad] = params(f, 6);
    const [n, c, i, sp, dp, cs, hw4, sImg, dImg, rows] = locals(f, "i32", 10);
    const r = locals(f, "v128", 4), t = locals(f, "v128", 4);
    f.localGet(Cpad).i32Const(4).i32Mul().localSet(cs); // bytes per dst pixel
    f.localGet(HW).i32Const(-4).i32And().localSet(hw4);
    f.for(n, 0, N, 1, () => {
      f.localGet(src).localGet(n).localGet(C).i32Mul().localGet(HW).i32Mul().i32Const(4).i32Mul()
        .i32Add().localSet(sImg);
      f.localGet(dst).localGet(n).localGet(HW).i32Mul().localGet(cs).i32Mul().i32Add()
        .localSet(dImg);
      f.for(c, 0, Cpad, 4, () => {
        f.for(i, 0, hw4, 4, () => {
          // r[j] = src[n][c+j][i..i+4]
          f.localGet(sImg).localGet(c).localGet(HW).i32Mul().localGet(i).i32Add().i32Const(4)
            .i32Mul().i32Add().localSet(sp);
          f.localGet(C).localGet(c).i32Sub().localSet(rows); // real channels in this block
          for (let j = 0; j < 4; j++) {
            f.localGet(rows).i32Const(j).i32GtS().if(
              () => void f.localGet(sp).v128Load().localSet(r[j]),
              () => void f.v128ConstI32([0, 0, 0, 0]).localSet(r[j]),
            );
            f.localGet(sp).localGet(HW).i32Const(4).i32Mul().i32Add().localSet(sp);
          }
          // 4x4 transpose: interleave pairs of rows, then pairs of pairs.
          f.localGet(r[0]).localGet(r[1]).i8x16Shuffle(lanes32([0, 4, 1, 5])).localSet(t[0]);
          f.localGet(r[2]).localGet(r[3]).i8x16Shuffle(lanes32([0, 4, 1, 5])).localSet(t[1]);
          f.localGet(r[0]).localGet(r[1]).i8x16Shuffle(lanes32([2, 6, 3, 7])).localSet(t[2]);
          f.localGet(r[2]).localGet(r[3]).i8x16Shuffle(lanes32([2, 6, 3, 7])).localSet(t[3]);
          // dst[n][i+j][c..c+4]
          f.localGet(dImg).localGet(i).localGet(cs).i32Mul().i32Add().localGet(c).i32Const(4)
            .i32Mul().i32Add().localSet(dp);
          for (let j = 0; j < 4; j++) {
            const [x, y] = j < 2 ? [t[0], t[1]] : [t[2], t[3]];
            f.localGet(dp).localGet(x).localGet(y)
              .i8x16Shuffle(lanes32(j % 2 === 0 ? [0, 1, 4, 5] : [2, 3, 6, 7])).v128Store();
            f.inc(dp, cs);
          }
        });
      });
      // Pixels past hw4, one float at a time (zero past C).
      f.for(c, 0, Cpad, 1, () => {
        f.for(i, hw4, HW, 1, () => {
          f.localGet(dImg).localGet(i).localGet(cs).i32Mul().i32Add().localGet(c).i32Const(4)
            .i32Mul().i32Add().localSet(dp);
          f.localGet(c).localGet(C).i32LtS().if(
            () => {
              f.localGet(dp).localGet(sImg).localGet(c).localGet(HW).i32Mul().localGet(i)
                .i32Add().i32Const(4).i32Mul().i32Add().f32Load().f32Store();
            },
            () => void f.localGet(dp).f32Const(0).f32Store(),
          );
        });
      });
    });
  });
}

/** Emits `conv_bias_grad`, `conv_pad` and `conv_nhwc`. */
export function emitConvLayout(mod: ModuleBuilder): void {
  emitBiasGrad(mod);
  emitPad(mod);
  emitNhwc(mod);
}
