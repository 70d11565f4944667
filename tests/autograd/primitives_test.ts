import assert from "node:assert/strict";
import { full, grad, gradcheck, type Tensor, tensor, TensorError, vjp } from "../../mod.ts";
import * as P from "../../src/autograd/primitives.ts";
import { type PrimitiveName, primitiveNames } from "../../src/autograd/primitives.ts";
import { withRecorder } from "../../src/tensor/trace.ts";
import { assertPasses, distinct, f64, normal } from "./helpers.ts";

interface Case {
  /** Shown in failure reports. */
  label: string;
  inputs: Tensor[];
  f: (...xs: Tensor[]) => Tensor;
}

const F64 = { dtype: "float64" } as const;
const positive = (seed: number, shape: number[]): Tensor => P.exp(normal(seed, shape, 0.5));

/**
 * One or more cases per primitive. The type demands an entry for every primitive, so adding a
 * primitive without a test is a type error (and the runtime check below catches the rest).
 */
const cases: { [P in PrimitiveName]: Case[] } = {
  add: [{ label: "add", inputs: [normal(1, [2, 3]), normal(2, [2, 3])], f: P.add }],
  sub: [{ label: "sub", inputs: [normal(3, [4]), normal(4, [4])], f: P.sub }],
  mul: [{ label: "mul", inputs: [normal(5, [3, 2]), normal(6, [3, 2])], f: P.mul }],
  div: [{ label: "div", inputs: [normal(7, [5]), positive(8, [5])], f: P.div }],
  neg: [{ label: "neg", inputs: [normal(9, [2, 2])], f: P.neg }],
  exp: [{ label: "exp", inputs: [normal(10, [6])], f: P.exp }],
  log: [{ label: "log", inputs: [positive(11, [6])], f: P.log }],
  tanh: [{ label: "tanh", inputs: [normal(12, [2, 3])], f: P.tanh }],
  maximum: [{
    label: "maximum",
    // Two grids offset by half a step: never equal, so no ties.
    inputs: [distinct(13, [2, 4]), P.add(distinct(14, [2, 4]), full([2, 4], 0.05, F64))],
    f: P.maximum,
  }],
  sum: [
    { label: "sum all", inputs: [normal(15, [2, 3, 4])], f: (x) => P.sum(x) },
    { label: "sum [0, 2]", inputs: [normal(16, [2, 3, 4])], f: (x) => P.sum(x, [0, 2]) },
    { label: "sum -1 keep", inputs: [normal(17, [2, 3])], f: (x) => P.sum(x, -1, true) },
    { label: "sum none", inputs: [normal(18, [3])], f: (x) => P.sum(x, []) },
  ],
  max: [
    { label: "max all", inputs: [distinct(19, [3, 4])], f: (x) => P.max(x) },
    { label: "max [1, 2]", inputs: [distinct(20, [2, 3, 2])], f: (x) => P.max(x, [1, 2]) },
    { label: "max 0 keep", inputs: [distinct(21, [3, 2])], f: (x) => P.max(x, 0, true) },
  ],
  broadcastTo: [
    {
      label: "[3,1]->[2,3,4]",
      inputs: [normal(22, [3, 1])],
      f: (x) => P.broadcastTo(x, [2, 3, 4]),
    },
    { label: "[]->[2,2]", inputs: [normal(23, [])], f: (x) => P.broadcastTo(x, [2, 2]) },
    { label: "[1,4]->[3,4]", inputs: [normal(24, [1, 4])], f: (x) => P.broadcastTo(x, [3, 4]) },
  ],
  reshape: [{ label: "reshape", inputs: [normal(25, [2, 6])], f: (x) => P.reshape(x, [3, 1, 4]) }],
  transpose: [
    { label: "perm", inputs: [normal(26, [2, 3, 4])], f: (x) => P.transpose(x, [2, 0, 1]) },
    { label: "reverse", inputs: [normal(27, [3, 2])], f: (x) => P.transpose(x) },
  ],
  pad: [
    {
      label: "lo/hi/interior",
      inputs: [normal(28, [2, 3])],
      f: (x) => P.pad(x, [[1, 0, 1], [2, 1, 2]], 0.5),
    },
    {
      label: "plain",
      inputs: [normal(29, [1, 2, 2])],
      f: (x) => P.pad(x, [[0, 0], [1, 1], [0, 2]]),
    },
  ],
  slice: [
    {
      label: "strided",
      inputs: [normal(30, [5, 7])],
      f: (x) => P.slice(x, [1, 0], [5, 7], [2, 3]),
    },
    { label: "unit", inputs: [normal(31, [3, 4])], f: (x) => P.slice(x, [1, 1], [3, 2]) },
  ],
  gather: [{
    label: "repeated indices",
    inputs: [normal(32, [2, 4, 3])],
    f: (x) => P.gather(x, 1, [3, 0, 3, 3, 1]),
  }],
  scatterAdd: [{
    label: "repeated indices",
    inputs: [normal(33, [2, 5])],
    f: (x) => P.scatterAdd(x, -1, [1, 1, 0, 3, 1], 4),
  }],
  matmul: [{ label: "matmul", inputs: [normal(34, [3, 4]), normal(35, [4, 2])], f: P.matmul }],
};

Deno.test("prim: every primitive of the VJP table has test cases", () => {
  assert.deepEqual(Object.keys(cases).sort(), [...primitiveNames].sort());
  assert.equal(primitiveNames.length, 19);
});

/** Names of the ops recorded while `f` runs with every input traced. */
function recordedNames(f: () => unknown): string[] {
  const names: string[] = [];
  withRecorder({ tracks: () => true, record: (name) => names.push(name) }, f);
  return names;
}

for (const name of primitiveNames) {
  Deno.test(`prim.${name}: VJP and its own VJP agree with central differences`, () => {
    for (const { label, inputs, f } of cases[name]) {
      assert.ok(recordedNames(() => f(...inputs)).includes(`prim.${name}`), `${label} records`);
      // First order: the VJP against a random cotangent (non-scalar outputs) or the gradient.
      assertPasses(gradcheck(f, inputs, { label: `prim.${name} ${label}` }));
      // Second order: the VJP is itself made of primitives, so x -> <w, vjp(x)(u)> has a
      // gradient too (a Hessian-vector product), which must also match finite differences.
      const [y] = vjp(f, ...inputs);
      const u = normal(99, y.shape);
      const ws = inputs.map((x, i) => normal(100 + i, x.shape));
      const h = (...xs: Tensor[]) => {
        const gs = vjp(f, ...xs)[1](u);
        return gs.map((g, i) => P.sum(P.mul(g, ws[i]))).reduce((a, b) => P.add(a, b));
      };
      assertPasses(gradcheck(h, inputs, { label: `prim.${name} ${label} (second order)` }));
    }
  });
}

Deno.test("prim forward: re-indexing primitives place elements where the formulas say", () => {
  const x = f64([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(Array.from(P.transpose(x).data), [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(P.transpose(x).shape, [3, 2]);
  const bt = P.broadcastTo(f64([[10], [20]]), [3, 2, 2]);
  assert.deepEqual(Array.from(bt.data), [10, 10, 20, 20, 10, 10, 20, 20, 10, 10, 20, 20]);
  assert.deepEqual(Array.from(P.slice(x, [0, 0], [2, 3], [1, 2]).data), [1, 3, 4, 6]);
  assert.deepEqual(Array.from(P.slice(x, [1, 1], [2, 3]).data), [5, 6]);
  const padded = P.pad(f64([1, 2, 3]), [[1, 2, 1]], 9);
  assert.deepEqual(Array.from(padded.data), [9, 1, 9, 2, 9, 3, 9, 9]);
  assert.deepEqual(P.pad(f64([[1]]), [[0, 1], [2, 0]]).shape, [2, 3]);
  assert.deepEqual(Array.from(P.gather(x, 1, [2, 0, 2]).data), [3, 1, 3, 6, 4, 6]);
  assert.deepEqual(Array.from(P.gather(x, 0, [1]).data), [4, 5, 6]);
  const sc = P.scatterAdd(f64([[1, 2, 3]]), 1, [2, 0, 2], 4);
  assert.deepEqual(Array.from(sc.data), [2, 0, 4, 0]);
  assert.deepEqual(Array.from(P.sum(x, 0).data), [5, 7, 9]);
  assert.deepEqual(P.sum(x, 1, true).shape, [2, 1]);
  assert.deepEqual(Array.from(P.sum(x).data), [21]);
  assert.deepEqual(Array.from(P.max(x, -1).data), [3, 6]);
  const m = P.matmul(x, f64([[1, 0], [0, 1], [1, 1]]));
  assert.deepEqual(Array.from(m.data), [4, 5, 10, 11]);
  assert.deepEqual(Array.from(P.maximum(f64([1, 5]), f64([3, 2])).data), [3, 5]);
  assert.equal(P.reshape(x, [6]).data, x.data, "reshape shares the buffer");
});

Deno.test("prim ties: max routes to the first maximum in row-major order; maximum to a", () => {
  const x = f64([[1, 3, 3], [2, 2, 0]]);
  const g = grad((x: Tensor) => P.sum(P.max(x, 1)))(x);
  assert.deepEqual(Array.from(g.data), [0, 1, 0, 1, 0, 0]);
  // Over several axes: the first maximum in the flat order of the reduced block.
  const y = f64([[[3, 1], [2, 3]], [[0, 4], [4, 4]]]);
  const gy = grad((y: Tensor) => P.sum(P.max(y, [1, 2])))(y);
  assert.deepEqual(Array.from(gy.data), [1, 0, 0, 0, 0, 1, 0, 0]);
  const gAll = grad((y: Tensor) => P.max(y))(y);
  assert.deepEqual(Array.from(gAll.data), [0, 0, 0, 0, 0, 1, 0, 0]);
  const [ga, gb] = grad((a: Tensor, b: Tensor) => P.sum(P.maximum(a, b)), [0, 1])(
    f64([1, 2, 3]),
    f64([1, 0, 4]),
  );
  assert.deepEqual([Array.from(ga.data), Array.from(gb.data)], [[1, 1, 0], [0, 0, 1]]);
});

Deno.test("prim errors: shapes and options are checked first, naming the primitive", () => {
  const x = f64([[1, 2, 3], [4, 5, 6]]);
  const err = (re: RegExp) => (e: unknown) => e instanceof TensorError && re.test(e.message);
  assert.throws(
    () => P.add(x, f64([1, 2, 3])),
    err(/prim\.add: shapes \[2, 3\] and \[3\] differ.*broadcastTo/),
  );
  const x32 = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.throws(() => P.mul(x, x32), err(/prim\.mul: dtypes differ \(float64 and float32\)/));
  assert.throws(() => P.sum(x, 2), err(/prim\.sum: axis 2 is out of range for shape \[2, 3\]/));
  assert.throws(() => P.max(x, [0, -2]), err(/prim\.max: axis -2 is repeated/));
  assert.throws(() => P.broadcastTo(x, [3, 3]), err(/cannot broadcast \[2, 3\] to \[3, 3\]/));
  assert.throws(() => P.reshape(x, [4]), err(/cannot reshape \[2, 3\] \(6 elements\) to \[4\]/));
  assert.throws(() => P.transpose(x, [0, 0]), err(/prim\.transpose/));
  assert.throws(() => P.pad(x, [[1, 1]]), err(/prim\.pad: widths .* do not fit \[2, 3\]/));
  assert.throws(() => P.slice(x, [0, 2], [2, 1]), err(/prim\.slice: .*0 <= start <= stop/));
  assert.throws(
    () => P.gather(x, 1, [3]),
    err(/prim\.gather: index 3 at position 0 is not an integer in \[0, 3\)/),
  );
  assert.throws(() => P.scatterAdd(x, 0, [0], 2), err(/prim\.scatterAdd: 1 indices for axis 0/));
  assert.throws(
    () => P.matmul(x, x),
    err(/prim\.matmul: cannot multiply \[2, 3\] float64 by \[2, 3\]/),
  );
  assert.throws(() => P.max(f64([[]]), 1), err(/cannot take the max over empty axes/));
});
