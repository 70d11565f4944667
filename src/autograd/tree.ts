/**
 * Parameter trees: tensors nested in plain records and arrays (`{ c1: { w, b }, fc: [...] }`).
 * The engine differentiates with respect to every tensor leaf and hands gradients back in the
 * same structure.
 *
 * @module
 */

import { TensorError } from "../tensor/errors.ts";
import { Tensor } from "../tensor/tensor.ts";

/**
 * A tensor, or plain records and arrays nesting tensors: the shape of parameters (and of their
 * gradients) that {@link import("./engine.ts").grad} accepts.
 */
export type TensorTree = Tensor | readonly TensorTree[] | { readonly [key: string]: TensorTree };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Rebuilds `tree` with every tensor leaf replaced by `leaf(t, path)`, visiting leaves in a fixed
 * order (array order, then record key order). Anything else than a tensor, array or plain record
 * is an error naming its path.
 */
export function mapTree(
  op: string,
  tree: unknown,
  path: string,
  leaf: (t: Tensor, path: string) => Tensor,
): TensorTree {
  if (tree instanceof Tensor) return leaf(tree, path);
  if (Array.isArray(tree)) return tree.map((v, i) => mapTree(op, v, `${path}[${i}]`, leaf));
  if (isPlainObject(tree)) {
    const out: Record<string, TensorTree> = {};
    for (const key of Object.keys(tree)) out[key] = mapTree(op, tree[key], `${path}.${key}`, leaf);
    return out;
  }
  const what = tree === null ? "null" : Array.isArray(tree) ? "array" : typeof tree;
  throw new TensorError(
    op,
    `${path} is ${what === "object" ? "an object that is not a plain record" : what}, not a ` +
      `Tensor; differentiated arguments must be tensors or plain records/arrays of tensors ` +
      `(pass other values through arguments left out of argnums)`,
  );
}

/** The leaves of `tree` in {@link mapTree} order, each with its path. */
export function treeLeaves(op: string, tree: unknown, path: string): [Tensor, string][] {
  const out: [Tensor, string][] = [];
  mapTree(op, tree, path, (t, p) => {
    out.push([t, p]);
    return t;
  });
  return out;
}
