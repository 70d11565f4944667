/**
 * Parameter trees: a model's parameters as nested readonly records and arrays of tensors.
 *
 * A tree such as `{ c1: { w, b }, f6: { w, b } }` is walked in a fixed order: record keys in
 * their insertion order (as the model declares them; note that JavaScript puts integer-like keys
 * such as `"0"` first), array items by index. Each leaf has a dotted path (`"c1.w"`,
 * `"layers.0.b"`) that names it in error messages and checkpoints.
 *
 * Every helper here walks a *template* tree (the first argument) and looks the other trees up by
 * key, so their key order does not matter, but their keys, lengths, shapes and dtypes must match.
 * Trees are rebuilt fresh (and frozen); tensors are never written to.
 *
 * Declare parameter records with `type`, not `interface`: TypeScript gives interfaces no implicit
 * index signature, so an interface is not assignable to {@link Params}.
 *
 * @module
 */

import { fmtShape, TensorError } from "../tensor/errors.ts";
import { Tensor } from "../tensor/tensor.ts";

/** A tensor, or a readonly array or record of parameter trees. */
export type Params = Tensor | readonly Params[] | { readonly [key: string]: Params };

/** One leaf of a flattened tree: its dotted path and its tensor. */
export type ParamEntry = readonly [path: string, tensor: Tensor];

function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

function join(path: string, key: string | number): string {
  return path === "" ? String(key) : `${path}.${key}`;
}

function describe(x: unknown): string {
  if (isTensor(x)) return `a tensor ${fmtShape(x.shape)} ${x.dtype}`;
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (typeof x === "object" && x !== null) return `a record {${Object.keys(x).join(", ")}}`;
  return String(x);
}

/**
 * The first difference between `template` and `other`, as a sentence naming the path, or `null`
 * when both have the same keys, array lengths, shapes and dtypes.
 */
export function paramsMismatch(
  template: Params,
  other: Params,
  names: readonly [string, string] = ["expected", "got"],
): string | null {
  const [a, b] = names;
  const walk = (t: unknown, o: unknown, path: string): string | null => {
    const at = path === "" ? "at the root" : `at "${path}"`;
    if (isTensor(t)) {
      if (!isTensor(o)) return `${at}: ${a} ${describe(t)}, ${b} ${describe(o)}`;
      if (t.dtype !== o.dtype) return `${at}: ${a} dtype ${t.dtype}, ${b} ${o.dtype}`;
      const same = t.shape.length === o.shape.length && t.shape.every((d, i) => d === o.shape[i]);
      return same ? null : `${at}: ${a} shape ${fmtShape(t.shape)}, ${b} ${fmtShape(o.shape)}`;
    }
    if (Array.isArray(t)) {
      if (!Array.isArray(o) || o.length !== t.length) {
        return `${at}: ${a} ${describe(t)}, ${b} ${describe(o)}`;
      }
      for (let i = 0; i < t.length; i++) {
        const m = walk(t[i], o[i], join(path, i));
        if (m !== null) return m;
      }
      return null;
    }
    if (typeof t !== "object" || t === null) return `${at}: ${a} is not a parameter tree`;
    if (typeof o !== "object" || o === null || Array.isArray(o) || isTensor(o)) {
      return `${at}: ${a} ${describe(t)}, ${b} ${describe(o)}`;
    }
    for (const key of Object.keys(t)) {
      if (!Object.hasOwn(o, key)) return `at "${join(path, key)}": ${b} has no such entry`;
      const m = walk(
        (t as Record<string, unknown>)[key],
        (o as Record<string, unknown>)[key],
        join(path, key),
      );
      if (m !== null) return m;
    }
    for (const key of Object.keys(o)) {
      if (!Object.hasOwn(t, key)) return `at "${join(path, key)}": ${a} has no such entry`;
    }
    return null;
  };
  return walk(template, other, "");
}

/**
 * Throws a {@link TensorError} from `op` naming the first difference between the trees.
 * @param names how to call the two trees in the message, e.g. `["params", "grads"]`
 */
export function assertParamsMatch(
  op: string,
  template: Params,
  other: Params,
  names: readonly [string, string] = ["expected", "got"],
): void {
  const m = paramsMismatch(template, other, names);
  if (m !== null) {
    throw new TensorError(op, `${names[0]} and ${names[1]} differ ${m}; pass trees of one model`);
  }
}

/** Visits the leaves of `tree` in order; `f` receives the path and the leaf. */
function visit(tree: Params, f: (path: string, t: Tensor) => void, path = ""): void {
  if (isTensor(tree)) {
    f(path, tree);
  } else if (Array.isArray(tree)) {
    for (let i = 0; i < tree.length; i++) visit(tree[i], f, join(path, i));
  } else {
    const rec = tree as { readonly [key: string]: Params };
    for (const key of Object.keys(rec)) visit(rec[key], f, join(path, key));
  }
}

/**
 * The leaves of `tree` as `[path, tensor]` pairs in the tree's order.
 *
 * @example
 * ```ts
 * import { flattenParams, zeros } from "./mod.ts";
 * const p = { c1: { w: zeros([6, 1, 5, 5]), b: zeros([6]) } };
 * console.log(flattenParams(p).map(([path]) => path)); // ["c1.w", "c1.b"]
 * ```
 */
export function flattenParams(tree: Params): ParamEntry[] {
  const out: ParamEntry[] = [];
  visit(tree, (path, t) => out.push([path, t]));
  return out;
}

/**
 * The total number of scalars in the tree.
 *
 * @example
 * ```ts
 * import { countParams, zeros } from "./mod.ts";
 * console.log(countParams({ w: zeros([400, 120]), b: zeros([120]) })); // 48120
 * ```
 */
export function countParams(tree: Params): number {
  let n = 0;
  visit(tree, (_, t) => (n += t.size));
  return n;
}

/**
 * A tree of `template`'s structure whose leaves are `leaves`, taken in the template's order
 * (the inverse of {@link flattenParams}). Each leaf must have its template leaf's shape and
 * dtype.
 */
export function rebuildParams<P extends Params>(template: P, leaves: readonly Tensor[]): P {
  let k = 0;
  const build = (t: Params, path: string): Params => {
    if (isTensor(t)) {
      const leaf = leaves[k++];
      if (leaf === undefined) {
        throw new TensorError(
          "rebuildParams",
          `ran out of leaves at "${path}" (got ${leaves.length})`,
        );
      }
      const m = paramsMismatch(t, leaf, ["template", "leaf"]);
      if (m !== null) throw new TensorError("rebuildParams", `leaf ${k - 1} ${m}`);
      return leaf;
    }
    if (Array.isArray(t)) return Object.freeze(t.map((x, i) => build(x, join(path, i))));
    const rec = t as { readonly [key: string]: Params };
    const out: Record<string, Params> = {};
    for (const key of Object.keys(rec)) out[key] = build(rec[key], join(path, key));
    return Object.freeze(out);
  };
  const tree = build(template, "");
  if (k !== leaves.length) {
    throw new TensorError("rebuildParams", `got ${leaves.length} leaves for a tree of ${k}`);
  }
  return tree as P;
}

/**
 * The leaves of each tree in `trees`, in `template`'s order: `result[i][j]` is leaf `j` of tree
 * `i`. Throws a {@link TensorError} from `op` if a tree's structure differs from the template.
 */
export function alignedLeaves(
  op: string,
  template: Params,
  trees: readonly (readonly [name: string, tree: Params])[],
): Tensor[][] {
  return trees.map(([name, tree]) => {
    assertParamsMatch(op, template, tree, ["params", name]);
    const leaves: Tensor[] = [];
    collect(template, tree, leaves);
    return leaves;
  });
}

/** Pushes the leaves of `other` (known to match `template`) in the template's order. */
function collect(template: Params, other: Params, out: Tensor[]): void {
  if (isTensor(template)) {
    out.push(other as Tensor);
  } else if (Array.isArray(template)) {
    const o = other as readonly Params[];
    for (let i = 0; i < template.length; i++) collect(template[i], o[i], out);
  } else {
    const t = template as { readonly [key: string]: Params };
    const o = other as { readonly [key: string]: Params };
    for (const key of Object.keys(t)) collect(t[key], o[key], out);
  }
}

/**
 * A tree of the same structure with `f` applied to every leaf.
 *
 * @example
 * ```ts
 * import { mapParams, tensor, Tensor } from "./mod.ts";
 * const p = { w: tensor([1, 2]) };
 * const doubled = mapParams(p, (t) => new Tensor(t.data.map((v) => 2 * v), t.shape));
 * console.log(doubled.w.data); // Float32Array [2, 4]
 * ```
 */
export function mapParams<P extends Params>(tree: P, f: (t: Tensor, path: string) => Tensor): P {
  return rebuildParams(tree, flattenParams(tree).map(([path, t]) => f(t, path)));
}

/**
 * Combines two trees of the same structure leaf by leaf (the result has `a`'s structure).
 * Throws a {@link TensorError} naming the first differing path if they do not match.
 *
 * @example
 * ```ts
 * import { tensor, Tensor, zipParams } from "./mod.ts";
 * const sum = zipParams({ w: tensor([1, 2]) }, { w: tensor([3, 4]) }, (x, y) =>
 *   new Tensor(x.data.map((v, i) => v + y.data[i]), x.shape));
 * console.log(sum.w.data); // Float32Array [4, 6]
 * ```
 */
export function zipParams<P extends Params>(
  a: P,
  b: P,
  f: (x: Tensor, y: Tensor, path: string) => Tensor,
): P {
  const paths = flattenParams(a);
  const [xs, ys] = alignedLeaves("zipParams", a, [["a", a], ["b", b]]);
  return rebuildParams(a, xs.map((x, i) => f(x, ys[i], paths[i][0])));
}

/**
 * Combines three trees of the same structure leaf by leaf (the result has `a`'s structure).
 *
 * @example
 * ```ts
 * import { tensor, Tensor, zip3Params } from "./mod.ts";
 * const fma = zip3Params({ w: tensor([1]) }, { w: tensor([2]) }, { w: tensor([3]) }, (x, y, z) =>
 *   new Tensor(x.data.map((v, i) => v * y.data[i] + z.data[i]), x.shape));
 * console.log(fma.w.data); // Float32Array [5]
 * ```
 */
export function zip3Params<P extends Params>(
  a: P,
  b: P,
  c: P,
  f: (x: Tensor, y: Tensor, z: Tensor, path: string) => Tensor,
): P {
  const paths = flattenParams(a);
  const [xs, ys, zs] = alignedLeaves("zip3Params", a, [["a", a], ["b", b], ["c", c]]);
  return rebuildParams(a, xs.map((x, i) => f(x, ys[i], zs[i], paths[i][0])));
}
