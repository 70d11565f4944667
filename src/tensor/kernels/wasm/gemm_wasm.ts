/**
 * Emits the single-precision GEMM of the wasm backend:
 * `C = alpha * op(A) op(B) + beta * C` on row-major matrices with explicit leading dimensions
 * (the contract of `../gemm.ts`, plus `lda/ldb/ldc` so callers can address sub-matrices).
 *
 * Structure (after BLIS/GotoBLAS, simplified for 128-bit vectors and 16 xmm registers):
 *
 * ```
 * for pc in K by KC:                      // a K block: the packed B block stays in L2
 *   pack B[pc:pc+kc, :] into NR-wide panels (or read B in place, see below)
 *   for ic in M by MC:                    // MC x KC of A (read in place) stays in L2
 *     for each NR panel of B:             // the KC x NR panel (8 KB) stays in L1
 *       for each MR rows of A:            // MR x NR register tile, KC multiply-adds deep
 *         micro-kernel: acc[MR][NR/4] += splat(A[i][p]) * B[p][j..j+4]
 * ```
 *
 * The micro-kernel keeps an MR x NR = 5 x 8 tile of C in 10 v128 accumulators; per k it issues
 * 2 vector loads of B, 5 broadcast loads of A and 10 multiply-adds. x86-64 V8 gives wasm 15
 * usable xmm registers: 6 x 8 (12 accumulators + 2 B vectors + 1 broadcast) fits exactly with
 * the fused multiply-add, but the mul+add flavour needs one more register for each product
 * and spills (25 vs 38 GFLOP/s on 512^3); 5 x 8 measured as fast or faster in both flavours
 * (relaxed: 50 vs 47 GFLOP/s on 512^3), so both use it.
 *
 * A is never packed: each A element is broadcast with `v128.load32_splat` straight from the
 * caller's layout. For a row-major A the MR row pointers walk along k (unrolled by 4 with
 * constant offsets); for a transposed A (stored K x M) the MR values of one k are adjacent,
 * exactly the layout packing would produce, so one pointer walks down k.
 *
 * B is packed into contiguous KC x NR panels (zero-padded past n) when it is transposed, or
 * when its rows are long enough that reading NR floats per row at stride `ldb` would thrash the
 * L1 sets; a narrow row-major B (n <= NARROW_N, e.g. im2col convolutions with 6 or 16 output
 * channels, or the 64-wide delta of a weight gradient) is read in place: no copy at all.
 *
 * Edge tiles: rows past a multiple of MR use a micro-kernel emitted for that row count; columns
 * past a multiple of NR are computed in full vectors (the extra lanes read padding or the next
 * row, which is harmless: lanes never mix) and stored lane by lane. Kernels therefore read up to
 * 16 bytes past the end of B and C: callers leave that much slack after each operand.
 *
 * @module
 */

import type { F32, FuncBuilder, I32, ModuleBuilder, V128 } from "./emit.ts";
import { type Flavor, maddInto } from "./simd.ts";

/** Register tile rows. */
export const MR = 5;
/** Register tile columns (two v128 vectors). */
export const NR = 8;
/** Depth of a K block: 256 keeps a 5 x 256 sliver of A (5 KB) and an NR panel (8 KB) in L1. */
export const KC = 256;
/** Rows of an A block (a multiple of MR): 190 x 256 floats = 190 KB, well inside a 1 MB L2. */
export const MC = 190;
/** Row-major B with at most this many columns is read in place instead of packed. */
export const NARROW_N = 64;

/** Floats of scratch `sgemm` needs for packing B of a `k x n` product. */
export function gemmWorkFloats(k: number, n: number): number {
  return Math.min(k, KC) * Math.ceil(n / NR) * NR;
}

/**
 * Emits the micro-kernel for `mr` rows (1..MR) and an A layout. Signature:
 * `(a, lda4, b, bStride, kc, c, ldc4, nr, alpha, beta)`, byte pointers and byte strides:
 * `C[0:mr, 0:nr] = alpha * A[0:mr, 0:kc] * B[0:kc, 0:NR] + beta * C` where A(r, p) is at
 * `a + r*lda4 + 4p` (`rows`) or `a + p*lda4 + 4r` (`kmajor`), B(p, :) at `b + p*bStride`.
 * `beta == 0` never reads C (so NaNs there do not leak into the result).
 */
function emitMicroKernel(mod: ModuleBuilder, flavor: Flavor, mr: number, aLayout: string) {
  const nv = NR / 4;
  return mod.func(
    `gemm_uk_${aLayout}_${mr}`,
    ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "f32", "f32"],
    [],
    (f) => {
      const [a, lda4, b, bStride, kc, c, ldc4, nr] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
        f.param(i, "i32")
      );
      const alpha = f.param(8, "f32"), beta = f.param(9, "f32");
      const acc: V128[][] = [];
      for (let r = 0; r < mr; r++) acc.push(Array.from({ length: nv }, () => f.local("v128")));
      const bv = Array.from({ length: nv }, () => f.local("v128"));
      const av = f.local("v128");
      const p = f.local("i32");

      // One k step: load the NR-wide row of B, then per row of A broadcast one value and
      // multiply-add it into that row's accumulators. `aAddr(r)` pushes A(r, p)'s address.
      const step = (aAddr: (r: number) => number, bOff: number) => {
        for (let v = 0; v < nv; v++) f.localGet(b).v128Load(bOff + 16 * v).localSet(bv[v]);
        for (let r = 0; r < mr; r++) {
          const off = aAddr(r);
          f.v128Load32Splat(off).localSet(av);
          for (let v = 0; v < nv; v++) {
            f.localGet(av).localGet(bv[v]);
            maddInto(f, flavor, acc[r][v]);
          }
        }
      };

      if (aLayout === "rows") {
        // Row pointers ar[r] = a + r*lda4; k unrolled by 4 so the A offsets are constants.
        const ar: I32[] = [a];
        for (let r = 1; r < mr; r++) {
          const l = f.local("i32");
          f.localGet(a).localGet(lda4).i32Const(r).i32Mul().i32Add().localSet(l);
          ar.push(l);
        }
        const kc4 = f.local("i32");
        f.localGet(kc).i32Const(-4).i32And().localSet(kc4);
        f.for(p, 0, kc4, 4, () => {
          for (let u = 0; u < 4; u++) {
            step((r) => (f.localGet(ar[r]), 4 * u), 0);
            f.inc(b, bStride);
          }
          for (const l of ar) f.inc(l, 16);
        });
        f.for(p, kc4, kc, 1, () => {
          step((r) => (f.localGet(ar[r]), 0), 0);
          f.inc(b, bStride);
          for (const l of ar) f.inc(l, 4);
        });
      } else {
        f.for(p, 0, kc, 1, () => {
          step((r) => (f.localGet(a), 4 * r), 0);
          f.inc(b, bStride).inc(a, lda4);
        });
      }

      emitTileStore(f, acc, c, ldc4, nr, alpha, beta);
    },
    false,
  );
}

/**
 * Stores the accumulator tile: `C = alpha * acc + beta * C` (C not read when beta == 0),
 * whole vectors where all 4 columns are inside `nr`, single lanes otherwise.
 */
export function emitTileStore(
  f: FuncBuilder,
  acc: V128[][],
  c: I32,
  ldc4: I32,
  nr: I32,
  alpha: F32,
  beta: F32,
): void {
  const va = f.local("v128"), vb = f.local("v128"), res = f.local("v128");
  const row = f.local("i32"), betaZero = f.local("i32");
  f.localGet(alpha).f32x4Splat().localSet(va);
  f.localGet(beta).f32x4Splat().localSet(vb);
  f.localGet(beta).f32Const(0).f32Eq().localSet(betaZero);
  f.localGet(c).localSet(row);
  acc.forEach((accRow, r) => {
    if (r > 0) f.inc(row, ldc4);
    accRow.forEach((x, v) => {
      f.localGet(va).localGet(x).f32x4Mul().localSet(res);
      f.localGet(betaZero).i32Eqz().if(() => {
        f.localGet(row).v128Load(16 * v).localGet(vb).f32x4Mul().localGet(res).f32x4Add();
        f.localSet(res);
      });
      f.localGet(nr).i32Const(4 * v + 4).i32GeS().if(
        () => void f.localGet(row).localGet(res).v128Store(16 * v),
        () => {
          for (let l = 0; l < 4; l++) {
            f.localGet(nr).i32Const(4 * v + l).i32GtS().if(() => {
              f.localGet(row).localGet(res).v128Store32Lane(16 * v + 4 * l, l);
            });
          }
        },
      );
    });
  });
}

/**
 * Emits `gemm_pack_b(b, ldb4, transB, kc, n, dst)`: copies the kc x n block of B whose first
 * element is at `b` into NR-wide panels, panel q at `dst + q*kc*NR*4`, row p of a panel at
 * `+ p*NR*4`, zeros past column n. B(p, j) is at `b + p*ldb4 + 4j`, or `b + j*ldb4 + 4p` when
 * transposed (the packing is where the transpose happens).
 */
function emitPackB(mod: ModuleBuilder): number {
  return mod.func("gemm_pack_b", ["i32", "i32", "i32", "i32", "i32", "i32"], [], (f) => {
    const [b, ldb4, transB, kc, n, dst] = [0, 1, 2, 3, 4, 5].map((i) => f.param(i, "i32"));
    const j0 = f.local("i32"), p = f.local("i32"), jj = f.local("i32");
    const src = f.local("i32"), out = f.local("i32"), cols = f.local("i32");
    f.localGet(dst).localSet(out);
    f.for(j0, 0, n, NR, () => {
      // cols = min(NR, n - j0)
      f.localGet(n).localGet(j0).i32Sub().localTee(cols).i32Const(NR).localGet(cols)
        .i32Const(NR).i32LtS().select().localSet(cols);
      f.localGet(transB).if(
        () => {
          // Transposed: column j of op(B) is a contiguous row of the stored matrix.
          f.localGet(out).i32Const(0).localGet(kc).i32Const(NR * 4).i32Mul().memoryFill();
          f.for(jj, 0, cols, 1, () => {
            f.localGet(b).localGet(j0).localGet(jj).i32Add().localGet(ldb4).i32Mul().i32Add();
            f.localSet(src);
            f.for(p, 0, kc, 1, () => {
              f.localGet(out).localGet(p).i32Const(NR * 4).i32Mul().i32Add()
                .localGet(jj).i32Const(4).i32Mul().i32Add();
              f.localGet(src).f32Load().f32Store();
              f.inc(src, 4);
            });
          });
        },
        () => {
          f.localGet(b).localGet(j0).i32Const(4).i32Mul().i32Add().localSet(src);
          f.localGet(cols).i32Const(NR).i32Eq().if(
            () => {
              f.for(p, 0, kc, 1, () => {
                for (let v = 0; v < NR / 4; v++) {
                  f.localGet(out).localGet(p).i32Const(NR * 4).i32Mul().i32Add();
                  f.localGet(src).v128Load(16 * v).v128Store(16 * v);
                }
                f.inc(src, ldb4);
              });
            },
            () => {
              f.localGet(out).i32Const(0).localGet(kc).i32Const(NR * 4).i32Mul().memoryFill();
              f.for(p, 0, kc, 1, () => {
                f.for(jj, 0, cols, 1, () => {
                  f.localGet(out).localGet(p).i32Const(NR * 4).i32Mul().i32Add()
                    .localGet(jj).i32Const(4).i32Mul().i32Add();
                  f.localGet(src).localGet(jj).i32Const(4).i32Mul().i32Add().f32Load().f32Store();
                });
                f.inc(src, ldb4);
              });
            },
          );
        },
      );
      f.localGet(out).localGet(kc).i32Const(NR * 4).i32Mul().i32Add().localSet(out);
    });
  }, false);
}

/**
 * Emits the exported
 * `sgemm(a, b, c, m, n, k, lda, ldb, ldc, transA, transB, alpha, beta, work)`:
 * byte pointers a, b, c and `work` (scratch of {@link gemmWorkFloats} floats, 16-byte aligned),
 * dimensions and leading dimensions in elements. Loop nest as in the module comment.
 */
export function emitGemm(mod: ModuleBuilder, flavor: Flavor): void {
  const uk: Record<string, number[]> = { rows: [], kmajor: [] };
  for (const layout of ["rows", "kmajor"]) {
    for (let mr = 1; mr <= MR; mr++) uk[layout][mr] = emitMicroKernel(mod, flavor, mr, layout);
  }
  const packB = emitPackB(mod);
  const params = Array(13).fill("i32");
  params.splice(11, 0, "f32", "f32"); // alpha, beta after transB
  mod.func("sgemm", params, [], (f) => {
    const [a, b, c, m, n, k, lda, ldb, ldc, transA, transB] = Array.from(
      { length: 11 },
      (_, i) => f.param(i, "i32"),
    );
    const alpha = f.param(11, "f32"), beta = f.param(12, "f32"), work = f.param(13, "i32");
    const [lda4, ldb4, ldc4, pc, kc, ic, icEnd, j0, i, mr, nr] = Array.from(
      { length: 11 },
      () => f.local("i32"),
    );
    const [packed, bBase, bStride, panelStride, aBase, rowStep, bp] = Array.from(
      { length: 7 },
      () => f.local("i32"),
    );
    const betaP = f.local("f32");
    for (const [ld, ld4] of [[lda, lda4], [ldb, ldb4], [ldc, ldc4]]) {
      f.localGet(ld).i32Const(4).i32Mul().localSet(ld4);
    }
    // Pack B unless it is row-major and narrow enough to read in place.
    f.localGet(transB).localGet(n).i32Const(NARROW_N).i32GtS().i32Or().localSet(packed);

    const min = (x: I32, cap: number | I32, out: I32) => {
      // out = min(x, cap)
      f.localGet(x).get(cap).localGet(x).get(cap).i32LtS().select().localSet(out);
    };
    const callTile = (layout: string) => {
      // A(i, pc) is at aBase + i*rowStep; C(i, j0) at c + i*ldc4 + 4*j0.
      const args = () => {
        f.localGet(aBase).localGet(i).localGet(rowStep).i32Mul().i32Add();
        f.localGet(lda4).localGet(bp).localGet(bStride).localGet(kc);
        f.localGet(c).localGet(i).localGet(ldc4).i32Mul().i32Add()
          .localGet(j0).i32Const(4).i32Mul().i32Add();
        f.localGet(ldc4).localGet(nr).localGet(alpha).localGet(betaP);
      };
      f.localGet(mr).i32Const(MR).i32Eq().if(
        () => void (args(), f.call(uk[layout][MR])),
        () => {
          for (let r = 1; r < MR; r++) {
            f.localGet(mr).i32Const(r).i32Eq().if(() => void (args(), f.call(uk[layout][r])));
          }
        },
      );
    };

    f.for(pc, 0, k, KC, () => {
      f.localGet(k).localGet(pc).i32Sub().localSet(kc);
      min(kc, KC, kc);
      f.localGet(beta).f32Const(1).localGet(pc).i32Eqz().select().localSet(betaP);
      f.localGet(packed).if(
        () => {
          // B(pc, 0) is at b + pc*ldb4 (row-major) or b + 4*pc (transposed).
          f.localGet(b).localGet(pc).i32Const(4).localGet(ldb4).localGet(transB).select()
            .i32Mul().i32Add();
          f.localGet(ldb4).localGet(transB).localGet(kc).localGet(n).localGet(work);
          f.call(packB);
          f.localGet(work).localSet(bBase);
          f.i32Const(NR * 4).localSet(bStride);
          f.localGet(kc).i32Const(NR * 4).i32Mul().localSet(panelStride);
        },
        () => {
          f.localGet(b).localGet(pc).localGet(ldb4).i32Mul().i32Add().localSet(bBase);
          f.localGet(ldb4).localSet(bStride);
          f.i32Const(NR * 4).localSet(panelStride);
        },
      );
      // A(i, pc) at a + pc*4 + i*lda4 (row-major) or a + pc*lda4 + 4i (transposed).
      f.localGet(transA).if(
        () => {
          f.localGet(a).localGet(pc).localGet(lda4).i32Mul().i32Add().localSet(aBase);
          f.i32Const(4).localSet(rowStep);
        },
        () => {
          f.localGet(a).localGet(pc).i32Const(4).i32Mul().i32Add().localSet(aBase);
          f.localGet(lda4).localSet(rowStep);
        },
      );
      f.for(ic, 0, m, MC, () => {
        f.localGet(ic).i32Const(MC).i32Add().localSet(icEnd);
        min(icEnd, m, icEnd);
        f.localGet(bBase).localSet(bp);
        f.for(j0, 0, n, NR, () => {
          f.localGet(n).localGet(j0).i32Sub().localSet(nr);
          min(nr, NR, nr);
          f.for(i, ic, icEnd, MR, () => {
            f.localGet(icEnd).localGet(i).i32Sub().localSet(mr);
            min(mr, MR, mr);
            f.localGet(transA).if(() => callTile("kmajor"), () => callTile("rows"));
          });
          f.inc(bp, panelStride);
        });
      });
    });
  });
}
