import assert from "node:assert/strict";
import {
  combinationEntropy,
  combinationEntropyBackward,
  combinationPenalty,
  combinationPenaltyBackward,
  combineConv2d,
  combineConv2dBackward,
  conv2d,
  full,
  grad,
  prngKey,
  randomNormal,
  softmax,
  Tensor,
  tensor,
  TensorError,
} from "../../mod.ts";
import { type Pullback, withRecorder } from "../../src/tensor/trace.ts";
import { assertBackwardMatchesFd } from "../autograd/helpers.ts";

/** Central differences of `sum(g * f(x))` with respect to each element of `x` (step 1e-5). */
function centralDiff(f: (x: Tensor) => Tensor, x: Tensor, g: Tensor): Float64Array {
  const out = new Float64Array(x.size);
  const at = (j: number, h: number): number => {
    const data = Float64Array.from(x.data);
    data[j] += h;
    const y = f(new Tensor(data, x.shape));
    let s = 0;
    for (let i = 0; i < y.size; i++) s += g.data[i] * y.data[i];
    return s;
  };
  for (let j = 0; j < x.size; j++) out[j] = (at(j, 1e-5) - at(j, -1e-5)) / 2e-5;
  return out;
}

const f64 = { dtype: "float64" } as const;
const normal = (seed: number, shape: number[], std = 1, dtype: "float32" | "float64" = "float64") =>
  randomNormal(prngKey(seed), shape, { dtype, std });

function recorded(f: () => Tensor): Pullback {
  let pullback: Pullback | undefined;
  withRecorder({ record: (_n, _i, _o, p) => (pullback = p) }, f);
  return pullback!;
}

Deno.test("y_j = sum_i alpha_ij (x_i * k_ij) + b_j: conv2d with the weight alpha_ij k_ij", () => {
  const x = normal(1, [2, 3, 6, 5]), k = normal(2, [4, 3, 3, 3]), c = normal(3, [3, 4], 2);
  const b = normal(4, [4]);
  const alpha = softmax(c, 0);
  const weighted = new Float64Array(k.size);
  for (let j = 0; j < 4; j++) {
    for (let i = 0; i < 3; i++) {
      for (let t = 0; t < 9; t++) {
        weighted[(j * 3 + i) * 9 + t] = alpha.data[i * 4 + j] * k.data[(j * 3 + i) * 9 + t];
      }
    }
  }
  const opts = { padding: "same" } as const;
  const y = combineConv2d(x, k, c, b, opts);
  const want = conv2d(x, new Tensor(weighted, k.shape), b, opts);
  assert.deepEqual(y.shape, [2, 4, 6, 5]);
  for (let t = 0; t < y.size; t++) assert.ok(Math.abs(y.data[t] - want.data[t]) < 1e-13);
  // One input map: alpha = 1, so it is conv2d exactly.
  const x1 = normal(5, [1, 1, 4, 4]), k1 = normal(6, [2, 1, 2, 2]);
  assert.deepEqual(
    Array.from(combineConv2d(x1, k1, normal(7, [1, 2]), null).data),
    Array.from(conv2d(x1, k1).data),
  );
});

Deno.test("backward: dc is the notes' alpha_i (dE/dalpha_i - sum_k dE/dalpha_k alpha_k)", () => {
  const x = normal(8, [2, 3, 5, 5]), k = normal(9, [2, 3, 3, 3]), c = normal(10, [3, 2], 2);
  const b = normal(11, [2]);
  const opts = { stride: 2, padding: 1 } as const;
  const f = ([x, k, c, b]: Tensor[]) => combineConv2d(x, k, c, b, opts);
  const delta = normal(12, f([x, k, c, b]).shape as number[]);
  const { dx, dk, dc, db } = combineConv2dBackward(delta, x, k, c, opts);
  assertBackwardMatchesFd("combineConv2d", (...xs) => f(xs), (g, [x, k, c]) => {
    const d = combineConv2dBackward(g, x, k, c, opts);
    return [d.dx, d.dk, d.dc, d.db];
  }, [x, k, c, b]);
  // dE/dalpha by finite differences through alpha itself, then the notes' softmax rule.
  const alpha = softmax(c, 0);
  const viaAlpha = (a: Tensor) => {
    const w = new Float64Array(k.size);
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < 3; i++) {
        for (let t = 0; t < 9; t++) {
          w[(j * 3 + i) * 9 + t] = a.data[i * 2 + j] * k.data[(j * 3 + i) * 9 + t];
        }
      }
    }
    return conv2d(x, new Tensor(w, k.shape), b, opts);
  };
  const dAlpha = centralDiff(viaAlpha, alpha, delta);
  for (let j = 0; j < 2; j++) {
    let dot = 0;
    for (let i = 0; i < 3; i++) dot += dAlpha[i * 2 + j] * alpha.data[i * 2 + j];
    for (let i = 0; i < 3; i++) {
      const want = alpha.data[i * 2 + j] * (dAlpha[i * 2 + j] - dot);
      assert.ok(Math.abs(dc.data[i * 2 + j] - want) < 1e-8 * (1 + Math.abs(want)));
    }
  }
  assert.deepEqual(
    recorded(() => f([x, k, c, b]))(delta).map((t) => Array.from(t!.data)),
    [dx, dk, dc, db].map((t) => Array.from(t.data)),
  );
});

Deno.test("the notes' |alpha| penalty is constant (lambda * Cout) and its gradient vanishes", () => {
  for (const [seed, spread] of [[1, 0.1], [2, 3], [3, 30]]) {
    const c = normal(seed, [6, 16], spread), lambda = 0.37;
    const value = combinationPenalty(c, lambda).data[0];
    assert.ok(Math.abs(value - lambda * 16) < 1e-14, `value ${value}`);
    const other = combinationPenalty(normal(seed + 10, [6, 16], spread), lambda).data[0];
    assert.ok(Math.abs(value - other) < 1e-14);
    // The notes' gradient lambda (|alpha_i| - alpha_i sum_k |alpha_k|): 0 up to rounding.
    const dc = combinationPenaltyBackward(tensor(1, f64), c, lambda);
    assert.ok(Math.max(...Array.from(dc.data, Math.abs)) < 1e-16, "hand rule");
    // And numerically: central differences of a constant are rounding noise.
    const fd = centralDiff((c) => combinationPenalty(c, lambda), c, tensor(1, f64));
    assert.ok(Math.max(...Array.from(fd, Math.abs)) < 1e-9, "finite differences");
    assert.deepEqual(
      Array.from(recorded(() => combinationPenalty(c, lambda))(tensor(1, f64))[0]!.data),
      Array.from(dc.data),
    );
  }
});

Deno.test("the entropy penalty sparsifies: its gradient flow makes each column one-hot", () => {
  const c0 = normal(4, [6, 3], 0.5);
  const h = (c: Tensor) => combinationEntropy(c, 1);
  const g = tensor(0.8, f64);
  const dc = combinationEntropyBackward(g, c0, 1);
  assertBackwardMatchesFd("combinationEntropy", h, (g, [c]) => [
    combinationEntropyBackward(g, c, 1),
  ], [c0]);
  // -alpha (log alpha + H), column by column
  const alpha = softmax(c0, 0);
  for (let j = 0; j < 3; j++) {
    let H = 0;
    for (let i = 0; i < 6; i++) H -= alpha.data[i * 3 + j] * Math.log(alpha.data[i * 3 + j]);
    for (let i = 0; i < 6; i++) {
      const a = alpha.data[i * 3 + j];
      assert.ok(Math.abs(dc.data[i * 3 + j] - -0.8 * a * (Math.log(a) + H)) < 1e-15);
    }
  }
  let c = c0;
  for (let step = 0; step < 300; step++) {
    const d = grad(h)(c);
    c = new Tensor(Float64Array.from(c.data, (v, i) => v - 2 * d.data[i]), c.shape);
  }
  const a = softmax(c, 0);
  assert.ok(h(c).data[0] < 0.05 * h(c0).data[0], `entropy ${h(c).data[0]} from ${h(c0).data[0]}`);
  for (let j = 0; j < 3; j++) {
    const col = [0, 1, 2, 3, 4, 5].map((i) => a.data[i * 3 + j]);
    assert.ok(Math.max(...col) > 0.95, `column ${j}: ${col}`);
  }
  // Uniform weights are the entropy's maximum: log Cin per column, zero gradient.
  const u = full([4, 2], 0, f64);
  assert.ok(Math.abs(combinationEntropy(u, 1).data[0] - 2 * Math.log(4)) < 1e-15);
  assert.ok(combinationEntropyBackward(tensor(1, f64), u, 1).data.every((v) => v === 0));
});

Deno.test("float32 in, float32 out; inputs never mutated", () => {
  const x = normal(13, [1, 2, 4, 4], 1, "float32"), k = normal(14, [3, 2, 2, 2], 1, "float32");
  const c = normal(15, [2, 3], 1, "float32");
  const before = [x, k, c].map((t) => Array.from(t.data));
  const y = combineConv2d(x, k, c, null);
  const g = combineConv2dBackward(y, x, k, c);
  const p = [combinationPenalty(c, 1), combinationEntropy(c, 1)];
  for (const t of [y, g.dx, g.dk, g.dc, g.db, ...p]) assert.equal(t.dtype, "float32");
  assert.deepEqual([x, k, c].map((t) => Array.from(t.data)), before);
});

Deno.test("errors name the op, the shapes and the fix", () => {
  const is = (re: RegExp) => (e: unknown) => e instanceof TensorError && re.test(e.message);
  const x = normal(1, [1, 2, 4, 4]), k = normal(2, [3, 2, 2, 2]);
  assert.throws(
    () => combineConv2d(x, k, normal(3, [3, 2]), null),
    is(/c must be \[Cin, Cout\] = \[2, 3\]/),
  );
  assert.throws(
    () => combineConv2d(x, k, normal(3, [2, 3]), normal(4, [2])),
    is(/bias must be \[3\]/),
  );
  assert.throws(
    () => combineConv2d(x, normal(2, [3, 1, 2, 2]), normal(3, [2, 3]), null),
    is(/channel mismatch/),
  );
  assert.throws(() => combinationPenalty(normal(1, [4]), 1), is(/\[Cin, Cout\]/));
  assert.throws(
    () => combinationEntropy(normal(1, [4, 2]), NaN),
    is(/lambda = NaN must be a finite number/),
  );
  assert.throws(
    () => combineConv2dBackward(normal(5, [1, 3, 2, 2]), x, k, normal(3, [2, 3])),
    is(
      /combineConv2dBackward: delta \[1, 3, 2, 2\] must have the forward output's shape \[1, 3, 3, 3\] \(x \[1, 2, 4, 4\], k \[3, 2, 2, 2\]\); pass the gradient/,
    ),
  );
});

Deno.test("float32 (the active kernel path, WebAssembly if available) agrees with float64", () => {
  const x = normal(16, [3, 6, 14, 14]), k = normal(17, [16, 6, 5, 5]), c = normal(18, [6, 16]);
  const b = normal(19, [16]), g = normal(20, [3, 16, 10, 10]);
  const to32 = (t: Tensor) => new Tensor(Float32Array.from(t.data), t.shape);
  const close = (a: Tensor, e: Tensor, what: string) => {
    const scale = Math.max(...Array.from(e.data, Math.abs));
    for (let i = 0; i < a.size; i++) {
      assert.ok(Math.abs(a.data[i] - e.data[i]) <= 1e-5 * scale, `${what}[${i}]`);
    }
  };
  close(combineConv2d(to32(x), to32(k), to32(c), to32(b)), combineConv2d(x, k, c, b), "y");
  const d32 = combineConv2dBackward(to32(g), to32(x), to32(k), to32(c));
  const d64 = combineConv2dBackward(g, x, k, c);
  for (const key of ["dx", "dk", "dc", "db"] as const) close(d32[key], d64[key], key);
});
