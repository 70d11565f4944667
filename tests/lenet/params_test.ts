import assert from "node:assert/strict";
import {
  assertParamsMatch,
  countParams,
  flattenParams,
  mapParams,
  paramsMismatch,
  rebuildParams,
  zip3Params,
  zipParams,
} from "../../src/lenet/params.ts";
import { TensorError } from "../../src/tensor/errors.ts";
import { fromData, type Tensor, tensor, zeros } from "../../src/tensor/tensor.ts";

/** The modern LeNet-5's parameter shapes: 61,706 scalars. */
const lenet = () => ({
  c1: { w: zeros([6, 1, 5, 5]), b: zeros([6]) },
  c3: { w: zeros([16, 6, 5, 5]), b: zeros([16]) },
  f5: { w: zeros([400, 120]), b: zeros([120]) },
  f6: { w: zeros([120, 84]), b: zeros([84]) },
  out: { w: zeros([84, 10]), b: zeros([10]) },
});

const add = (x: Tensor, y: Tensor) => fromData(x.data.map((v, i) => v + y.data[i]), x.shape);

Deno.test("flattenParams walks records in declaration order and arrays by index", () => {
  const tree = { z: { w: tensor([1]), b: tensor([2]) }, layers: [tensor([3]), { k: tensor([4]) }] };
  const flat = flattenParams(tree);
  assert.deepEqual(flat.map(([p]) => p), ["z.w", "z.b", "layers.0", "layers.1.k"]);
  assert.deepEqual(flat.map(([, t]) => t.data[0]), [1, 2, 3, 4]);
  assert.deepEqual(flattenParams(lenet()).map(([p]) => p), [
    "c1.w",
    "c1.b",
    "c3.w",
    "c3.b",
    "f5.w",
    "f5.b",
    "f6.w",
    "f6.b",
    "out.w",
    "out.b",
  ]);
  assert.deepEqual(flattenParams(tensor([1, 2])).map(([p]) => p), [""]);
});

Deno.test("countParams of the modern LeNet-5 is 61,706", () => {
  assert.equal(countParams(lenet()), 61_706);
  assert.equal(countParams({}), 0);
});

Deno.test("paramsMismatch names the first differing path, shape, dtype or key", () => {
  const a = lenet();
  assert.equal(paramsMismatch(a, lenet()), null);
  assert.equal(
    paramsMismatch(a, { ...a, f5: { w: zeros([400, 121]), b: zeros([120]) } }),
    'at "f5.w": expected shape [400, 120], got [400, 121]',
  );
  assert.equal(
    paramsMismatch(a, {
      ...a,
      c3: { w: zeros([16, 6, 5, 5], { dtype: "float64" }), b: zeros([16]) },
    }),
    'at "c3.w": expected dtype float32, got float64',
  );
  const { out: _, ...noOut } = a;
  assert.equal(paramsMismatch(a, noOut), 'at "out": got has no such entry');
  assert.equal(paramsMismatch(noOut, a), 'at "out": expected has no such entry');
  assert.equal(
    paramsMismatch({ l: [tensor([1])] }, { l: [tensor([1]), tensor([2])] }, ["params", "grads"]),
    'at "l": params an array of 1, grads an array of 2',
  );
  assert.equal(
    paramsMismatch({ w: tensor([1]) }, { w: { x: tensor([1]) } }),
    'at "w": expected a tensor [1] float32, got a record {x}',
  );
  assert.throws(
    () => assertParamsMatch("sgd", a, noOut, ["params", "grads"]),
    (e: unknown) =>
      e instanceof TensorError &&
      e.message === 'sgd: params and grads differ at "out": grads has no such entry; ' +
          "pass trees of one model",
  );
});

Deno.test("zipParams and zip3Params match by key, not by key order", () => {
  const a = { w: tensor([1, 2]), b: tensor([10]) };
  const b = { b: tensor([5]), w: tensor([3, 4]) }; // same keys, other order
  const sum = zipParams(a, b, add);
  assert.deepEqual(Object.keys(sum), ["w", "b"]);
  assert.deepEqual(Array.from(sum.w.data), [4, 6]);
  assert.deepEqual(Array.from(sum.b.data), [15]);
  const paths: string[] = [];
  const s3 = zip3Params(a, b, a, (x, y, z, path) => (paths.push(path), add(add(x, y), z)));
  assert.deepEqual(Array.from(s3.w.data), [5, 8]);
  assert.deepEqual(paths, ["w", "b"]);
  assert.throws(() => zipParams(a, { w: tensor([1, 2]) } as typeof a, add), /"b": b has no such/);
  assert.ok(Object.isFrozen(sum));
});

Deno.test("mapParams and rebuildParams keep the structure and never touch the inputs", () => {
  const tree = { layers: [{ w: tensor([1, 2]) }, { w: tensor([3]) }] };
  const doubled = mapParams(tree, (t, path) => {
    assert.ok(path.startsWith("layers."));
    return fromData(t.data.map((v) => 2 * v), t.shape);
  });
  assert.deepEqual(Array.from(doubled.layers[1].w.data), [6]);
  assert.deepEqual(Array.from(tree.layers[0].w.data), [1, 2]);
  assert.ok(Array.isArray(doubled.layers));
  const rebuilt = rebuildParams(tree, [tensor([7, 8]), tensor([9])]);
  assert.deepEqual(Array.from(rebuilt.layers[0].w.data), [7, 8]);
  assert.throws(() => rebuildParams(tree, [tensor([7, 8])]), /ran out of leaves at "layers.1.w"/);
  assert.throws(() => rebuildParams(tree, [tensor([7]), tensor([9])]), /shape \[2\], leaf \[1\]/);
  assert.throws(() => rebuildParams(tree, [tensor([1, 2]), tensor([9]), tensor([0])]), /3 leaves/);
});
