import assert from "node:assert/strict";
import { either as E } from "npm:fp-ts@2.16.11";
import {
  full,
  gradcheck,
  type GradcheckFailure,
  type GradcheckReport,
  ref,
  Tensor,
  tensor,
  TensorError,
} from "../../mod.ts";
import * as P from "../../src/autograd/primitives.ts";
import { recordOp } from "../../src/tensor/trace.ts";
import { assertPasses, f64, normal } from "./helpers.ts";

/** An op written like the fast ops: its forward by a loop, its VJP by hand (possibly wrong). */
function handTanh(x: Tensor, bug: { at: number; factor: number } | null = null): Tensor {
  const out = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) out[i] = Math.tanh(x.data[i]);
  const y = new Tensor(out, x.shape);
  return recordOp("handTanh", [x], y, () => (g) => {
    const dx = new Float64Array(x.size);
    for (let i = 0; i < x.size; i++) dx[i] = g.data[i] * (1 - out[i] * out[i]);
    if (bug) dx[bug.at] *= bug.factor;
    return [new Tensor(dx, x.shape)];
  });
}

function left(r: ReturnType<typeof gradcheck>): GradcheckFailure {
  if (E.isRight(r)) assert.fail(`expected a failure, got a pass: ${JSON.stringify(r.right)}`);
  return r.left;
}

Deno.test("gradcheck: a correct function passes and reports what it compared", () => {
  const x = normal(1, [2, 3]), w = normal(2, [3, 4]);
  const f = (x: Tensor, w: Tensor) => P.sum(P.tanh(P.matmul(x, w)));
  const report: GradcheckReport = assertPasses(gradcheck(f, [x, w], { label: "tanh(xW)" }));
  assert.equal(report.label, "tanh(xW)");
  assert.equal(report.mode, "full");
  assert.deepEqual(report.outputShape, []);
  assert.deepEqual(report.inputs.map((i) => [i.name, i.checked, i.failures]), [
    ["input 0", 6, 0],
    ["input 1", 12, 0],
  ]);
  assert.equal(report.evaluations, 2 * (6 + 12));
  assert.deepEqual([report.eps, report.atol, report.rtol], [1e-5, 1e-8, 1e-6]);
  assert.ok(report.maxRelError < 1e-8, `max rel error ${report.maxRelError}`);
  assert.ok(report.inputs[1].worst !== null && report.inputs[1].worst.index.length === 2);
  // Results are fp-ts Eithers.
  const e: E.Either<GradcheckFailure, GradcheckReport> = gradcheck(f, [x, w]);
  assert.equal(E.match(() => "left", () => "right")(e), "right");
});

Deno.test("gradcheck: a wrong gradient at one coordinate is Left naming the input and coordinate", () => {
  const x = normal(3, [2, 3]);
  const fail = left(
    gradcheck((x) => P.sum(handTanh(x, { at: 5, factor: 1.001 })), [x], {
      label: "handTanh",
      names: ["z"],
    }),
  );
  assert.equal(fail.failed.length, 1);
  const [inp] = fail.failed;
  assert.equal(inp.name, "z");
  assert.equal(inp.failures, 1);
  assert.deepEqual(inp.worst?.index, [1, 2]);
  assert.match(fail.message, /^gradcheck failed for handTanh\n/);
  assert.match(fail.message, /handTanh: z \[2, 3\]: 1 of 6 coordinates out of tolerance/);
  assert.match(fail.message, /worst coordinate \[1, 2\]: analytic -?\d\.\d+, numeric -?\d\.\d+/);
  assert.match(fail.message, /rel error 5\.\d+e-4; atol 1e-8, rtol 0\.000001\)/);
  // The same op without the bug passes.
  assertPasses(gradcheck((x) => P.sum(handTanh(x)), [x]));
});

Deno.test("gradcheck: non-scalar outputs are checked through a seeded random cotangent (VJP)", () => {
  // A hand-written matmul whose weight gradient forgets a transpose: A g instead of A^T g.
  const badMatmul = (a: Tensor, b: Tensor) =>
    recordOp("badMatmul", [a, b], P.stopGradient(P.matmul(a, b)), () => (g) => [
      P.matmul(g, P.transpose(b)),
      P.matmul(a, g),
    ]);
  const a = normal(4, [3, 3]), b = normal(5, [3, 3]);
  const fail = left(gradcheck(badMatmul, [a, b], { label: "badMatmul", names: ["A", "B"] }));
  assert.deepEqual(fail.outputShape, [3, 3]);
  assert.deepEqual(fail.failed.map((i) => i.name), ["B"]);
  assert.match(fail.message, /badMatmul: B \[3, 3\]: 9 of 9 coordinates out of tolerance/);
  assertPasses(gradcheck(P.matmul, [a, b]));
  // The same seed gives the same report; another seed another cotangent.
  const again = left(gradcheck(badMatmul, [a, b], { label: "badMatmul", names: ["A", "B"] }));
  assert.deepEqual(again, fail);
  const other = left(gradcheck(badMatmul, [a, b], { seed: 1, names: ["A", "B"] }));
  assert.notEqual(other.failed[0].worst?.analytic, fail.failed[0].worst?.analytic);
});

Deno.test("gradcheck: projection mode checks u^T J v along random directions", () => {
  const x = normal(6, [2, 3, 8, 8]), w = normal(7, [4, 3, 3, 3]);
  const conv = (x: Tensor, w: Tensor) => ref.conv2d(x, w, null, { padding: "same" });
  const report = assertPasses(gradcheck(conv, [x, w], { mode: "projection", projections: 3 }));
  assert.equal(report.mode, "projection");
  assert.equal(report.evaluations, 2 * 3 * 2);
  assert.deepEqual(report.inputs.map((i) => i.checked), [3, 3]);
  assert.equal(report.inputs[0].worst?.kind, "projection");
  const fail = left(
    gradcheck((x) => handTanh(x, { at: 17, factor: 1.01 }), [x], { mode: "projection" }),
  );
  assert.match(fail.message, /input 0 \[2, 3, 8, 8\]: 2 of 2 projections out of tolerance/);
});

Deno.test("gradcheck: sampled coordinates are seeded; trees are named by path", () => {
  const params = { conv: { w: normal(8, [2, 1, 3, 3]), b: normal(9, [2]) } };
  const x = normal(10, [1, 1, 5, 5]);
  const f = (p: typeof params, x: Tensor) => P.sum(ref.conv2d(x, p.conv.w, p.conv.b));
  const r1 = assertPasses(gradcheck(f, [params, x], { samples: 4, names: ["params", "x"] }));
  assert.deepEqual(r1.inputs.map((i) => [i.name, i.checked]), [
    ["params.conv.w", 4],
    ["params.conv.b", 2],
    ["x", 4],
  ]);
  assert.equal(r1.evaluations, 2 * (4 + 2 + 4));
  const r2 = assertPasses(gradcheck(f, [params, x], { samples: 4, names: ["params", "x"] }));
  assert.deepEqual(r2, r1);
  // A broken bias gradient inside the tree is reported by its path.
  const bad = (p: typeof params, x: Tensor) =>
    P.sum(ref.conv2d(x, p.conv.w, handTanh(p.conv.b, { at: 1, factor: 2 })));
  const fail = left(gradcheck(bad, [params, x], { names: ["params", "x"] }));
  assert.deepEqual(fail.failed.map((i) => [i.name, i.worst?.index]), [["params.conv.b", [1]]]);
});

Deno.test("gradcheck: atol covers near-zero gradients; both tolerances must be exceeded to fail", () => {
  // y = 1e-6 x with a VJP off by 1e-9 absolute: relative error ~5e-4, absolute 1e-9.
  const tiny = (x: Tensor) =>
    recordOp("tiny", [x], P.stopGradient(P.mul(x, f64([1e-6, 1e-6]))), () => (g) => [
      P.mul(g, f64([1e-6 + 1e-9, 1e-6 + 1e-9])),
    ]);
  const x = f64([0.5, -2]);
  const pass = assertPasses(gradcheck((x) => P.sum(tiny(x)), [x]));
  assert.ok(pass.maxRelError > 1e-4 && pass.maxAbsError < 2e-9);
  const fail = left(gradcheck((x) => P.sum(tiny(x)), [x], { atol: 1e-10 }));
  assert.equal(fail.failed[0].failures, 2);
  // NaN gradients always fail.
  const nan = (x: Tensor) =>
    recordOp("nan", [x], P.stopGradient(x), () => (g) => [P.mul(g, f64([NaN, 1]))]);
  assert.match(left(gradcheck((x) => P.sum(nan(x)), [x])).message, /worst coordinate \[0\]/);
});

Deno.test("gradcheck: float32 inputs or outputs and bad options are errors, not failures", () => {
  const x32 = tensor([1, 2]);
  assert.throws(() => gradcheck((x) => P.sum(x), [x32], { label: "sum" }), (e: unknown) => {
    assert.ok(e instanceof TensorError);
    assert.match(e.message, /gradcheck: sum: input 0 is float32; gradients are checked in float64/);
    assert.match(e.message, /\{ dtype: "float64" \}/);
    return true;
  });
  const toF32 = (x: Tensor) => P.stopGradient(tensor(Array.from(x.data)));
  assert.throws(() => gradcheck(toF32, [f64([1])]), /returned float32; it must compute in float64/);
  assert.throws(() => gradcheck((x) => x, [f64([1])], { eps: 0 }), /option eps = 0/);
  assert.throws(() => gradcheck((x) => x, [f64([1])], { samples: 1.5 }), /option samples = 1\.5/);
});

/** Reverses axis `axis` of `t` (a gather with reversed indices): rot180 on axes 2 and 3. */
function flip(t: Tensor, axis: number): Tensor {
  const n = t.shape[axis];
  return P.gather(t, axis, Array.from({ length: n }, (_, i) => n - 1 - i));
}

const times = (t: Tensor, c: number): Tensor => P.mul(t, full(t.shape, c, { dtype: t.dtype }));

/** Hand rules as the derivations state them, each with an optional classic mistake. */
const hand = {
  /** dX = full_conv(dY, rot180(W)) over output maps; dW = valid_corr(X, dY). */
  conv(x: Tensor, w: Tensor, mistake: boolean): Tensor {
    const y = P.stopGradient(ref.conv2d(x, w));
    return recordOp("conv2d", [x, w], y, () => (g) => {
      const wt = P.transpose(w, [1, 0, 2, 3]);
      const kernel = mistake ? wt : flip(flip(wt, 2), 3);
      const swap = (t: Tensor) => P.transpose(t, [1, 0, 2, 3]);
      return [ref.conv2d(g, kernel, null, { padding: "full" }), swap(ref.conv2d(swap(x), swap(g)))];
    });
  },
  /** Mean-pool backward spreads delta / k^2 (Kronecker upsampling). */
  avgPool(x: Tensor, mistake: boolean): Tensor {
    const y = P.stopGradient(ref.avgPool2d(x, 2));
    return recordOp("avgPool2d", [x], y, () => (g) => {
      const up = ref.upsample(g, 2);
      return [mistake ? up : times(up, 1 / 4)];
    });
  },
  /** Softmax + cross-entropy (sum): dZ = softmax(z) - onehot(t). */
  crossEntropy(z: Tensor, labels: number[], mistake: boolean): Tensor {
    const y = P.stopGradient(ref.crossEntropy(z, labels, { reduction: "sum" }));
    return recordOp("crossEntropy", [z], y, () => (g) => {
      const [n, c] = z.shape;
      const onehot = new Float64Array(n * c);
      labels.forEach((l, i) => (onehot[i * c + l] = mistake ? 0 : 1));
      const dz = P.sub(P.stopGradient(ref.softmax(z)), new Tensor(onehot, z.shape));
      return [P.mul(dz, P.broadcastTo(P.reshape(g, [1, 1]), z.shape))];
    });
  },
};

Deno.test("gradcheck negative controls: the derivations' classic mistakes are caught", () => {
  const x = normal(11, [2, 2, 6, 6]), w = normal(12, [3, 2, 3, 3]), z = normal(13, [3, 4]);
  const names = { names: ["x", "W"] };
  assertPasses(gradcheck((x, w) => hand.conv(x, w, false), [x, w], { label: "conv2d", ...names }));
  const conv = left(
    gradcheck((x, w) => hand.conv(x, w, true), [x, w], { label: "conv2d", ...names }),
  );
  assert.deepEqual(conv.failed.map((i) => i.name), ["x"]);
  assert.match(conv.message, /^gradcheck failed for conv2d\n {2}conv2d: x \[2, 2, 6, 6\]/);

  assertPasses(gradcheck((x) => hand.avgPool(x, false), [x], { label: "avgPool2d" }));
  const pool = left(gradcheck((x) => hand.avgPool(x, true), [x], { label: "avgPool2d" }));
  assert.match(pool.message, /avgPool2d: input 0 \[2, 2, 6, 6\]: 144 of 144 coordinates/);

  const labels = [1, 3, 0];
  assertPasses(gradcheck((z) => hand.crossEntropy(z, labels, false), [z], { label: "softmaxCE" }));
  const ce = left(
    gradcheck((z) => hand.crossEntropy(z, labels, true), [z], { label: "softmaxCE" }),
  );
  assert.match(ce.message, /softmaxCE: input 0 \[3, 4\]: 3 of 12 coordinates out of tolerance/);
});
