import assert from "node:assert/strict";
import { KW_UNROLLED, KW_UNROLLED_WGRAD } from "../../../../src/tensor/kernels/wasm/conv_wasm.ts";
import { kernelsFor } from "../../../../src/tensor/kernels/wasm/kernels.ts";
import { KERNEL_PATHS, wasmKernels } from "../../../../src/tensor/kernels/wasm/runtime.ts";
import {
  conv2dBackwardInputWasm,
  conv2dForwardWasm,
} from "../../../../src/tensor/kernels/wasm/wasm_calls.ts";
import {
  assertClose,
  convBackwardRef,
  convForwardRef,
  type ConvShape,
  outSize,
  randomF32,
  rng,
} from "./reference.ts";

/** Forward (with and without bias/ReLU) and all three gradients on every path. */
function checkAllPaths(r: () => number, d: ConvShape, label: string): void {
  const [oh, ow] = outSize(d);
  const x = randomF32(r, d.n * d.c * d.h * d.w), w = randomF32(r, d.o * d.c * d.kh * d.kw);
  const b = randomF32(r, d.o), dy = randomF32(r, d.n * d.o * oh * ow);
  const fwd = convForwardRef(x, w, b, d), fwdRelu = convForwardRef(x, w, null, d, true);
  const bwd = convBackwardRef(x, w, dy, d);
  // The fused ReLU backward masks dy by a ReLU output (here: the forward's, rounded).
  const reluOut = Float32Array.from(fwdRelu.value);
  const masked = dy.map((v, i) => reluOut[i] > 0 ? v : 0);
  const bwdRelu = convBackwardRef(x, w, masked, d);
  const what = (path: string, k: string) => `${path} ${k} ${label} ${JSON.stringify(d)}`;
  for (const path of KERNEL_PATHS) {
    const k = kernelsFor(path);
    const y = new Float32Array(dy.length).fill(NaN);
    k.conv2dForward(x, w, b, y, d);
    assertClose(y, fwd, what(path, "forward"));
    y.fill(NaN);
    k.conv2dForward(x, w, null, y, d, { relu: true });
    assertClose(y, fwdRelu, what(path, "forward relu"));
    const dx = new Float32Array(x.length).fill(NaN);
    k.conv2dBackwardInput(dy, w, dx, d);
    assertClose(dx, bwd.dx, what(path, "input grad"));
    const dw = new Float32Array(w.length).fill(NaN);
    k.conv2dBackwardFilter(x, dy, dw, d);
    assertClose(dw, bwd.dw, what(path, "weight grad"));
    const db = new Float32Array(d.o).fill(NaN);
    k.conv2dBackwardBias(dy, db, d);
    assertClose(db, bwd.db, what(path, "bias grad"));
    const fresh = () => ({
      dx: new Float32Array(x.length).fill(NaN),
      dw: new Float32Array(w.length).fill(NaN),
      db: new Float32Array(d.o).fill(NaN),
    });
    const all = fresh();
    k.conv2dBackward(dy, x, w, all, d);
    assertClose(all.dx, bwd.dx, what(path, "conv2dBackward dx"));
    assertClose(all.dw, bwd.dw, what(path, "conv2dBackward dw"));
    assertClose(all.db, bwd.db, what(path, "conv2dBackward db"));
    const fused = fresh();
    k.conv2dBackward(dy, x, w, { ...fused, dx: null }, d, reluOut);
    assert.ok(fused.dx.every(Number.isNaN), "dx not written when not asked for");
    assertClose(fused.dw, bwdRelu.dw, what(path, "conv2dBackward+relu dw"));
    assertClose(fused.db, bwdRelu.db, what(path, "conv2dBackward+relu db"));
    k.conv2dBackward(dy, x, w, { dx: fused.dx, dw: null, db: null }, d, reluOut);
    assertClose(fused.dx, bwdRelu.dx, what(path, "conv2dBackward+relu dx"));
    if (oh >= 2 && ow >= 2) checkBlock(k, x, w, reluOut, d, oh, ow, what(path, "block"));
  }
}

/**
 * The conv block (conv -> relu -> 2x2 max-pool, no bias) against the pooled reference: values
 * within the conv's error bound, the arg-max exact, and the gradients of the routed delta.
 */
function checkBlock(
  k: ReturnType<typeof kernelsFor>,
  x: Float32Array,
  w: Float32Array,
  z: Float32Array,
  d: ConvShape,
  oh: number,
  ow: number,
  label: string,
): void {
  const ph = oh >> 1, pw = ow >> 1, count = d.n * d.o * ph * pw;
  const want = new Float32Array(count), arg = new Int32Array(count);
  for (let m = 0, t = 0; m < d.n * d.o; m++) {
    for (let i = 0; i < ph; i++) {
      for (let j = 0; j < pw; j++, t++) {
        const base = (m * oh + 2 * i) * ow + 2 * j;
        let best = base;
        for (const c of [base + 1, base + ow, base + ow + 1]) if (z[c] > z[best]) best = c;
        want[t] = z[best];
        arg[t] = best;
      }
    }
  }
  const y = new Float32Array(count).fill(NaN), argmax = new Int32Array(count).fill(-1);
  k.conv2dReluPoolForward(x, w, null, y, argmax, d);
  y.forEach((v, t) => {
    const tol = 1e-5 * (1 + Math.abs(want[t]));
    assert.ok(Math.abs(v - want[t]) <= tol, `${label} forward ${t}: ${v} vs ${want[t]}`);
  });
  assert.deepEqual(Array.from(argmax), Array.from(arg), `${label} arg-max`);
  const dy = Float32Array.from({ length: count }, (_, t) => ((t * 37) % 11) / 5 - 1);
  const dz = new Float32Array(z.length);
  for (let t = 0; t < count; t++) if (want[t] > 0) dz[arg[t]] += dy[t];
  const ref = convBackwardRef(x, w, dz, d);
  const grads = {
    dx: new Float32Array(x.length).fill(NaN),
    dw: new Float32Array(w.length).fill(NaN),
    db: new Float32Array(d.o).fill(NaN),
  };
  k.conv2dReluPoolBackward(dy, want, arg, x, w, grads, d);
  assertClose(grads.dx, ref.dx, `${label} dx`);
  assertClose(grads.dw, ref.dw, `${label} dw`);
  assertClose(grads.db, ref.db, `${label} db`);
}

Deno.test("conv2d kernels: LeNet-5 layer shapes (batch 2) on every path", () => {
  const r = rng(11);
  checkAllPaths(r, { n: 2, c: 1, h: 28, w: 28, o: 6, kh: 5, kw: 5, padH: 2, padW: 2 }, "conv1");
  checkAllPaths(r, { n: 2, c: 6, h: 14, w: 14, o: 16, kh: 5, kw: 5 }, "conv2");
});

Deno.test("conv2d kernels: every unrolled and generic kernel width, paddings, channel groups", () => {
  const r = rng(12);
  // kw 1..KW_UNROLLED+2 covers every unrolled forward/weight-grad variant and the generic ones;
  // widths above and below the 6-pixel and 8-wide tiles; output channels across groups of 8.
  for (let kw = 1; kw <= KW_UNROLLED + 2; kw++) {
    const kh = 1 + (kw * 3) % 4;
    checkAllPaths(
      r,
      { n: 2, c: 2, h: kh + 4, w: kw + 9, o: 1 + (kw * 5) % 19, kh, kw },
      `kw=${kw}`,
    );
  }
  assert.ok(KW_UNROLLED_WGRAD < KW_UNROLLED + 2);
  checkAllPaths(r, { n: 1, c: 3, h: 4, w: 4, o: 9, kh: 3, kw: 3, padH: 1, padW: 1 }, "narrow");
  checkAllPaths(r, { n: 1, c: 2, h: 3, w: 2, o: 4, kh: 2, kw: 2 }, "tiny");
  checkAllPaths(r, { n: 1, c: 1, h: 1, w: 1, o: 1, kh: 1, kw: 1 }, "1x1");
  // Padding larger than the kernel minus one: the input gradient crops the delta.
  checkAllPaths(r, { n: 2, c: 2, h: 5, w: 9, o: 3, kh: 2, kw: 3, padH: 3, padW: 4 }, "wide pad");
  checkAllPaths(r, { n: 1, c: 2, h: 6, w: 10, o: 17, kh: 3, kw: 5, padH: 0, padW: 2 }, "pad W");
});

Deno.test('conv2d kernels: asymmetric padding ("same" with an even kernel) on every path', () => {
  const r = rng(15);
  const pad = (padH: number, padBottom: number, padW: number, padRight: number) => ({
    padH,
    padBottom,
    padW,
    padRight,
  });
  checkAllPaths(r, { n: 2, c: 2, h: 7, w: 12, o: 5, kh: 4, kw: 4, ...pad(1, 2, 1, 2) }, "same 4x4");
  checkAllPaths(r, { n: 1, c: 3, h: 6, w: 9, o: 9, kh: 2, kw: 3, ...pad(0, 1, 2, 0) }, "mixed");
  checkAllPaths(r, { n: 1, c: 1, h: 5, w: 10, o: 2, kh: 3, kw: 2, ...pad(3, 0, 0, 3) }, "one side");
});

Deno.test("conv2d kernels: random shapes on every path (seeded)", () => {
  const r = rng(13);
  const int = (lo: number, hi: number) => lo + Math.floor((r() + 1) / 2 * (hi - lo + 1));
  for (let t = 0; t < 12; t++) {
    const kh = int(1, 5), kw = int(1, 8);
    const d = {
      n: int(1, 3),
      c: int(1, 4),
      h: int(kh, 12),
      w: int(kw, 16),
      o: int(1, 18),
      kh,
      kw,
      padH: int(0, 3),
      padW: int(0, 3),
      padBottom: int(0, 3),
      padRight: int(0, 3),
    };
    checkAllPaths(r, d, `random #${t}`);
  }
});

Deno.test("conv2d wasm: both forward vectorizations agree with the definition", () => {
  const r = rng(14);
  for (const flavor of ["relaxed", "simd"] as const) {
    const K = wasmKernels(flavor);
    for (
      const d of [
        { n: 2, c: 1, h: 12, w: 12, o: 6, kh: 5, kw: 5, padH: 2, padW: 2 },
        { n: 1, c: 3, h: 9, w: 13, o: 11, kh: 3, kw: 4, padH: 1 },
        { n: 2, c: 2, h: 6, w: 12, o: 2, kh: 2, kw: 9, padW: 3 },
      ]
    ) {
      const [oh, ow] = outSize(d);
      const x = randomF32(r, d.n * d.c * d.h * d.w), w = randomF32(r, d.o * d.c * d.kh * d.kw);
      const b = randomF32(r, d.o), dy = randomF32(r, d.n * d.o * oh * ow);
      const fwd = convForwardRef(x, w, b, d, true), dx = convBackwardRef(x, w, dy, d).dx;
      for (const variant of ["c", "w"] as const) {
        const y = new Float32Array(dy.length).fill(NaN);
        conv2dForwardWasm(K, x, w, b, y, d, true, variant);
        assertClose(y, fwd, `${flavor} forward ${variant} ${JSON.stringify(d)}`);
        const g = new Float32Array(x.length).fill(NaN);
        conv2dBackwardInputWasm(K, dy, w, g, d, variant);
        assertClose(g, dx, `${flavor} input grad ${variant} ${JSON.stringify(d)}`);
      }
    }
    const tooNarrow = { n: 1, c: 1, h: 7, w: 7, o: 2, kh: 1, kw: 1 };
    assert.throws(
      () =>
        conv2dForwardWasm(
          K,
          new Float32Array(49),
          new Float32Array(2),
          null,
          new Float32Array(98),
          tooNarrow,
          false,
          "w",
        ),
      /output width >= 8/,
    );
  }
});

Deno.test("conv2d kernels: float64 runs the plain kernels; wrong sizes are rejected", () => {
  const d = { n: 1, c: 1, h: 3, w: 3, o: 1, kh: 2, kw: 2 };
  const x = Float64Array.from({ length: 9 }, (_, i) => i + 0.1),
    w = Float64Array.from([1, 2, 3, 4]);
  for (const path of KERNEL_PATHS) {
    const k = kernelsFor(path);
    const y = new Float64Array(4);
    k.conv2dForward(x, w, Float64Array.from([0.5]), y, d);
    // y[p][q] = 0.5 + x[p][q] + 2 x[p][q+1] + 3 x[p+1][q] + 4 x[p+1][q+1]
    const want = [0, 1, 3, 4].map((i) => 0.5 + x[i] + 2 * x[i + 1] + 3 * x[i + 3] + 4 * x[i + 4]);
    assert.deepEqual(Array.from(y), want, path);
    assert.throws(
      () => k.conv2dForward(x, w, null, new Float64Array(5), d),
      /y has 5 elements, expected 4/,
    );
    assert.throws(
      () => k.conv2dBackwardFilter(x, new Float64Array(4), new Float64Array(4), { ...d, kh: 4 }),
      /kernel 4x2 larger than the padded input/,
    );
    const grads = { dx: new Float64Array(8), dw: null, db: null };
    assert.throws(
      () => k.conv2dBackward(new Float64Array(4), x, w, grads, d),
      /conv2dBackward: dxOut has 8 elements, expected 9/,
    );
  }
});

Deno.test("conv2d wasm: the generic (runtime kw loop) kernels equal the unrolled ones", () => {
  // The generic kernels only run for kw > 7 (forward) / kw > 6 (weight grad) through the
  // entry points; here they run on small kernels too, including the weight gradient's
  // one-tap tiles (fewer than 6 taps), against the unrolled kernels on the same data.
  const r = rng(15);
  for (const flavor of ["relaxed", "simd"] as const) {
    const K = wasmKernels(flavor);
    for (const [c, kh, kw] of [[1, 1, 2], [2, 3, 3], [1, 1, 5]]) {
      const [n, hp, wp, oh, ow] = [2, kh + 3, kw + 6, 4, 7];
      K.reset();
      const x = K.put(randomF32(r, n * c * hp * wp));
      const wts = K.put(randomF32(r, c * kh * kw * 8));
      const bias = K.put(randomF32(r, 8));
      const dyT = K.put(randomF32(r, n * oh * ow * 8));
      const out = [K.alloc(n * 8 * oh * ow), K.alloc(n * 8 * oh * ow)];
      const dw = [K.alloc(8 * c * kh * kw), K.alloc(8 * c * kh * kw)];
      K.f32.fill(0, out[0] >> 2, (dw[1] >> 2) + 8 * c * kh * kw); // channel 7 is not stored
      ["conv_fwd_c_k0", `conv_fwd_c_k${kw}`].forEach((f, i) =>
        K.fn[f](x, wts, bias, out[i], n, c, hp, wp, kh, kw, oh, ow, 7, 4 * 8 * oh * ow, 0, 1, 2)
      );
      ["conv_wgrad_k0", `conv_wgrad_k${kw}`].forEach((f, i) =>
        K.fn[f](x, dyT, dw[i], n, c, hp, wp, kh, kw, oh, ow, 8, 32, 4 * c * kh * kw, 0, hp)
      );
      const view = (p: number, len: number) => K.f32.slice(p >> 2, (p >> 2) + len);
      const y0 = view(out[0], n * 8 * oh * ow), y1 = view(out[1], n * 8 * oh * ow);
      for (let i = 0; i < y0.length; i++) {
        assert.ok(Math.abs(y0[i] - y1[i]) <= 1e-5 * (1 + Math.abs(y1[i])), `${flavor} fwd ${i}`);
      }
      const g0 = view(dw[0], 8 * c * kh * kw), g1 = view(dw[1], 8 * c * kh * kw);
      for (let i = 0; i < g0.length; i++) {
        assert.ok(Math.abs(g0[i] - g1[i]) <= 1e-5 * (1 + Math.abs(g1[i])), `${flavor} wgrad ${i}`);
      }
    }
  }
});
