/**
 * Emits 2x2 stride-2 max-pooling (forward with arg-max, backward by routing) and ReLU.
 *
 * Max-pool forward handles four outputs per step: two v128 loads per input row give 8 floats,
 * which a shuffle splits into even and odd columns, so the four window positions
 * (0,0) (0,1) (1,0) (1,1) are four vectors `a b c d`. Taking them in that row-major order
 * with a strict `>` keeps the first maximum on ties (and a NaN in the first position); the
 * arg-max vector (flat index into x) is selected with the same lane masks. Leftover columns
 * (ow % 4) run the same comparisons on scalars; odd trailing rows/columns are dropped (floor).
 *
 * @module
 */

import type { FuncBuilder, I32, ModuleBuilder } from "./emit.ts";
import type { Flavor } from "./simd.ts";

function params(f: FuncBuilder, n: number): I32[] {
  return Array.from({ length: n }, (_, i) => f.param(i, "i32"));
}

const EVEN = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const ODD = EVEN.map((b) => b + 4);

/**
 * `maxpool2_fwd(x, y, arg, planes, H, W)`: `y[p][i][j] = max of x[p][2i..2i+1][2j..2j+1]`,
 * `arg[p][i][j]` = the flat index in x of the first maximum (row-major window order).
 */
function emitMaxPoolForward(mod: ModuleBuilder): void {
  mod.func("maxpool2_fwd", Array(6).fill("i32"), [], (f) => {
    const [x, y, arg, planes, H, W] = params(f, 6);
    const [p, i, j, OH, OW, ow4, r0, base, yo, bestI, k] = Array.from(
      { length: 11 },
      () => f.local("i32"),
    );
    const [v0, v1, m, idx, cand, gt, one, wv, step] = Array.from(
      { length: 9 },
      () => f.local("v128"),
    );
    const best = f.local("f32"), val = f.local("f32");
    f.localGet(H).i32Const(1).i32ShrU().localSet(OH);
    f.localGet(W).i32Const(1).i32ShrU().localTee(OW).i32Const(-4).i32And().localSet(ow4);
    f.i32Const(1).i32x4Splat().localSet(one);
    f.localGet(W).i32x4Splat().localSet(wv);
    f.i32Const(8).i32x4Splat().localSet(step);
    f.i32Const(0).localSet(yo); // byte offset of y[p][i][j] from y (== of arg[...] from arg)
    f.for(p, 0, planes, 1, () => {
      f.for(i, 0, OH, 1, () => {
        // base = flat index of x[p][2i][0]; r0 = its byte address.
        f.localGet(p).localGet(H).i32Mul().localGet(i).i32Const(2).i32Mul().i32Add().localGet(W)
          .i32Mul().localSet(base);
        f.localGet(x).localGet(base).i32Const(4).i32Mul().i32Add().localSet(r0);
        // idx lanes: base + 2*lane, advanced by 8 per four outputs.
        f.localGet(base).i32x4Splat().v128ConstI32([0, 2, 4, 6]).i32x4Add().localSet(idx);
        f.for(j, 0, ow4, 4, () => {
          // Candidate k of the window, in row-major order, with its index offset.
          const window = (row: number, lanes: number[]) => {
            f.localGet(r0);
            if (row) f.localGet(W).i32Const(4).i32Mul().i32Add();
            f.v128Load().localSet(v0);
            f.localGet(r0);
            if (row) f.localGet(W).i32Const(4).i32Mul().i32Add();
            f.v128Load(16).localSet(v1);
            f.localGet(v0).localGet(v1).i8x16Shuffle(lanes);
          };
          window(0, EVEN);
          f.localSet(m);
          f.localGet(idx).localSet(cand);
          const offsets: [number, number[], (g: FuncBuilder) => void][] = [
            [0, ODD, (g) => g.localGet(idx).localGet(one).i32x4Add()],
            [1, EVEN, (g) => g.localGet(idx).localGet(wv).i32x4Add()],
            [1, ODD, (g) => g.localGet(idx).localGet(wv).i32x4Add().localGet(one).i32x4Add()],
          ];
          for (const [row, lanes, index] of offsets) {
            window(row, lanes); // value vector on the stack
            f.localTee(v0).localGet(m).f32x4Gt().localSet(gt);
            f.localGet(v0).localGet(m).localGet(gt).v128Bitselect().localSet(m);
            index(f);
            f.localGet(cand).localGet(gt).v128Bitselect().localSet(cand);
          }
          f.localGet(y).localGet(yo).i32Add().localGet(m).v128Store();
          f.localGet(arg).localGet(yo).i32Add().localGet(cand).v128Store();
          f.inc(yo, 16).inc(r0, 32);
          f.localGet(idx).localGet(step).i32x4Add().localSet(idx);
        });
        f.for(j, ow4, OW, 1, () => {
          // Scalar window: k walks (0,0) (0,1) (1,0) (1,1).
          f.localGet(base).localGet(j).i32Const(2).i32Mul().i32Add().localTee(bestI);
          f.i32Const(4).i32Mul().localGet(x).i32Add().f32Load().localSet(best);
          for (const off of ["1", "W", "W+1"]) {
            f.localGet(base).localGet(j).i32Const(2).i32Mul().i32Add();
            if (off !== "1") f.localGet(W).i32Add();
            if (off !== "W") f.i32Const(1).i32Add();
            f.localTee(k).i32Const(4).i32Mul().localGet(x).i32Add().f32Load().localTee(val);
            f.localGet(best).f32Gt().if(() => {
              f.localGet(val).localSet(best);
              f.localGet(k).localSet(bestI);
            });
          }
          f.localGet(y).localGet(yo).i32Add().localGet(best).f32Store();
          f.localGet(arg).localGet(yo).i32Add().localGet(bestI).i32Store();
          f.inc(yo, 4);
        });
      });
    });
  });
}

/**
 * `maxpool2_bwd(dy, arg, dx, count, dxLen, y) -> bad`: `dx = 0; dx[arg[i]] += dy[i]`. With
 * `y != 0` (the pooled values of a ReLU output) the ReLU backward is fused in: only `y[i] > 0`
 * routes. Indices outside `[0, dxLen)` are skipped and counted; the count is returned.
 */
function emitMaxPoolBackward(mod: ModuleBuilder): void {
  mod.func("maxpool2_bwd", Array(6).fill("i32"), ["i32"], (f) => {
    const [dy, arg, dx, count, dxLen, y] = params(f, 6);
    const [i, k, d, bad] = [f.local("i32"), f.local("i32"), f.local("i32"), f.local("i32")];
    f.localGet(dx).i32Const(0).localGet(dxLen).i32Const(4).i32Mul().memoryFill();
    f.for(i, 0, count, 1, () => {
      const route = () => {
        f.localGet(dx).localGet(k).i32Const(4).i32Mul().i32Add().localTee(d);
        f.localGet(d).f32Load();
        f.localGet(dy).localGet(i).i32Const(4).i32Mul().i32Add().f32Load().f32Add().f32Store();
      };
      f.localGet(arg).localGet(i).i32Const(4).i32Mul().i32Add().i32Load().localTee(k);
      f.localGet(dxLen).i32GeU().if(() => void f.inc(bad, 1), () => {
        f.localGet(y).i32Eqz().if(route, () => {
          f.localGet(y).localGet(i).i32Const(4).i32Mul().i32Add().f32Load().f32Const(0).f32Gt();
          f.if(route);
        });
      });
    });
    f.localGet(bad);
  });
}

/**
 * `relu_fwd(x, y, len)`: `y = (x < 0 ? 0 : x) + 0` (`f32x4.pmax(x, 0)`: NaN stays NaN; adding
 * +0 turns -0 into +0, as the plain loop does).
 */
function emitReluForward(mod: ModuleBuilder): void {
  mod.func("relu_fwd", Array(3).fill("i32"), [], (f) => {
    const [x, y, len] = params(f, 3);
    const [i, len4] = [f.local("i32"), f.local("i32")];
    f.localGet(len).i32Const(-4).i32And().localSet(len4);
    f.for(i, 0, len4, 4, () => {
      f.localGet(y).localGet(i).i32Const(4).i32Mul().i32Add();
      f.localGet(x).localGet(i).i32Const(4).i32Mul().i32Add().v128Load();
      f.v128ConstI32([0, 0, 0, 0]).f32x4Pmax().v128ConstI32([0, 0, 0, 0]).f32x4Add().v128Store();
    });
    f.for(i, len4, len, 1, () => {
      f.localGet(y).localGet(i).i32Const(4).i32Mul().i32Add();
      f.localGet(x).localGet(i).i32Const(4).i32Mul().i32Add().v128Load32Splat();
      f.v128ConstI32([0, 0, 0, 0]).f32x4Pmax().v128ConstI32([0, 0, 0, 0]).f32x4Add()
        .f32x4ExtractLane(0).f32Store();
    });
  });
}

/**
 * `relu_bwd(x, dy, dx, len)`: `dx = (x > 0 ? dy : 0) + 0`, a lane mask and an `and` (adding +0
 * turns a passed -0 into +0, as the plain loop does).
 */
function emitReluBackward(mod: ModuleBuilder): void {
  mod.func("relu_bwd", Array(4).fill("i32"), [], (f) => {
    const [x, dy, dx, len] = params(f, 4);
    const [i, len4, o] = [f.local("i32"), f.local("i32"), f.local("i32")];
    f.localGet(len).i32Const(-4).i32And().localSet(len4);
    const body = (load: () => void, store: () => void) => {
      f.localGet(i).i32Const(4).i32Mul().localSet(o);
      f.localGet(dx).localGet(o).i32Add();
      f.localGet(dy).localGet(o).i32Add();
      load();
      f.localGet(x).localGet(o).i32Add();
      load();
      f.v128ConstI32([0, 0, 0, 0]).f32x4Gt().v128And().v128ConstI32([0, 0, 0, 0]).f32x4Add();
      store();
    };
    f.for(i, 0, len4, 4, () => body(() => f.v128Load(), () => f.v128Store()));
    f.for(
      i,
      len4,
      len,
      1,
      () => body(() => f.v128Load32Splat(), () => f.f32x4ExtractLane(0).f32Store()),
    );
  });
}

/** Emits the pooling and ReLU kernels (the same for both flavours: no multiply-adds). */
export function emitPool(mod: ModuleBuilder, _flavor: Flavor): void {
  emitMaxPoolForward(mod);
  emitMaxPoolBackward(mod);
  emitReluForward(mod);
  emitReluBackward(mod);
}
