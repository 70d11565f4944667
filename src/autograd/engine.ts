/**
 * Reverse-mode automatic differentiation with a functional API: {@link vjp}, {@link grad},
 * {@link valueAndGrad}.
 *
 * Each call runs `f` with its own tape installed (see `src/tensor/trace.ts`): every op whose
 * inputs include a tensor traced by that tape appends a node `(inputs, output, pullback)`. The
 * tape's order is the order ops ran, hence a topological order; the backward pass walks it in
 * reverse, handing each node the cotangent of its output and adding up the cotangents of
 * tensors used several times. Nothing is global: tapes are per call and tensors are tracked by
 * identity in a per-tape set, so nested and interleaved calls do not see each other's nodes.
 *
 * - Arguments are wrapped in fresh tensor objects (sharing the data, no copy) before `f` runs,
 *   so a tensor passed twice, or also captured by `f` as a constant, is told apart. The wrap is
 *   itself recorded as an identity op, so an enclosing `grad` still sees through it.
 * - Pullbacks run after `f`'s tape is uninstalled but inside any enclosing call, so the ops of
 *   a backward pass are recorded by the enclosing tapes: gradients of gradients work whenever
 *   the VJPs are built from recorded ops (all primitives' VJPs are). A hand-derived rule written
 *   with plain kernels would be a constant to an enclosing tape, so a silently wrong higher-order
 *   derivative; {@link backprop} turns that into an error (see `checkHigherOrder`).
 * - A pullback keeps no state between calls: calling it twice gives the same result.
 *
 * @module
 */

import { fmtShape, TensorError } from "../tensor/errors.ts";
import { full, Tensor, zeros } from "../tensor/tensor.ts";
import {
  installedRecorders,
  type Pullback,
  type Recorder,
  recordOp,
  withRecorder,
} from "../tensor/trace.ts";
import { sameShape } from "./indexing.ts";
import { add } from "./primitives.ts";
import { mapTree, type TensorTree } from "./tree.ts";

interface Node {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly pullback: Pullback;
}

/** One call's tape: the tensors it traces and the ops on them, in the order they ran. */
class Tape implements Recorder {
  readonly traced: Set<Tensor> = new Set();
  readonly nodes: Node[] = [];

  tracks(inputs: readonly Tensor[]): boolean {
    for (let i = 0; i < inputs.length; i++) if (this.traced.has(inputs[i])) return true;
    return false;
  }

  record(name: string, inputs: readonly Tensor[], output: Tensor, pullback: Pullback): void {
    // An op that hands back one of its inputs unchanged is the identity on it: nothing to add.
    if (inputs.includes(output)) return;
    if (this.traced.has(output)) {
      throw new TensorError(
        name,
        `returned a tensor that an earlier op already produced; ops must allocate a new ` +
          `Tensor for each output (share the buffer if needed: new Tensor(x.data, shape))`,
      );
    }
    this.traced.add(output);
    this.nodes.push({ name, inputs, output, pullback });
  }
}

/** The engine's own identity node, and the primitives (their VJPs are made of primitives). */
function isPrimitive(name: string): boolean {
  return name.startsWith("prim.") || name === "autograd.input";
}

/**
 * The enclosing tapes that differentiate through this node's pullback: those tracing its
 * cotangent or one of its inputs (which the pullback captures). Primitive nodes need no watch.
 */
function watchers(outer: readonly Tape[], node: Node, ct: Tensor): Tape[] {
  if (outer.length === 0 || isPrimitive(node.name)) return [];
  return outer.filter((t) => t.traced.has(ct) || t.tracks(node.inputs));
}

/**
 * Higher-order safety. A custom (hand-derived) pullback that ran while an enclosing tape traces
 * its cotangent or captured inputs must hand back gradients that tape traces, i.e. built from
 * recorded ops. A gradient computed by a plain kernel is a constant to that tape: the enclosing
 * derivative would silently drop every term through it, so this is an error instead.
 */
function checkHigherOrder(
  node: Node,
  grads: readonly (Tensor | null)[],
  needed: readonly boolean[],
  tapes: readonly Tape[],
): void {
  for (const t of tapes) {
    for (let i = 0; i < grads.length; i++) {
      const gi = grads[i];
      if (!needed[i] || gi === null || t.traced.has(gi)) continue;
      throw new TensorError(
        node.name,
        `cannot differentiate through this op's hand-derived backward rule (a higher-order ` +
          `derivative): an enclosing grad/vjp traces its cotangent or inputs, but the gradient ` +
          `it returned for input ${i} is computed by a plain kernel, which that enclosing call ` +
          `would see as a constant (a silently wrong answer). The fast ops' rules are ` +
          `first-order only: use the reference definition ref.${node.name} (built from the ` +
          `autograd's primitives) for higher-order derivatives, and ref.* for every other op ` +
          `of a function you differentiate twice`,
      );
    }
  }
}

/** Reverse walk of `tape` from output `y` with cotangent `g`; returns the leaves' cotangents. */
function backprop(tape: Tape, y: Tensor, g: Tensor): Map<Tensor, Tensor> {
  const cts = new Map<Tensor, Tensor>([[y, g]]);
  const nodes = tape.nodes;
  // The tapes of enclosing calls: they record the ops the pullbacks run (grad of grad).
  const outer = installedRecorders().filter((r): r is Tape => r instanceof Tape);
  for (let n = nodes.length - 1; n >= 0; n--) {
    const node = nodes[n];
    const { name, inputs, output, pullback } = node;
    const ct = cts.get(output);
    if (ct === undefined) continue;
    cts.delete(output);
    const needed = inputs.map((t) => tape.traced.has(t));
    const watching = watchers(outer, node, ct);
    const grads = pullback(ct, needed);
    if (grads.length !== inputs.length) {
      throw new TensorError(
        name,
        `backward returned ${grads.length} gradients for ${inputs.length} inputs; a VJP ` +
          `returns one gradient (or null) per input`,
      );
    }
    for (let i = 0; i < inputs.length; i++) {
      const gi = grads[i];
      if (!needed[i] || gi === null) continue;
      const x = inputs[i];
      if (!sameShape(gi.shape, x.shape) || gi.dtype !== x.dtype) {
        throw new TensorError(
          name,
          `backward returned a ${gi.dtype} gradient of shape ${fmtShape(gi.shape)} for input ` +
            `${i} of shape ${fmtShape(x.shape)} (${x.dtype}); each gradient must match its input`,
        );
      }
    }
    if (watching.length > 0) checkHigherOrder(node, grads, needed, watching);
    for (let i = 0; i < inputs.length; i++) {
      const gi = grads[i];
      if (!needed[i] || gi === null) continue;
      const x = inputs[i];
      const prev = cts.get(x);
      cts.set(x, prev === undefined ? gi : add(prev, gi));
    }
  }
  return cts;
}

/** A fresh tensor object over `t`'s data, seen by enclosing tapes as the identity of `t`. */
function alias(t: Tensor): Tensor {
  return recordOp("autograd.input", [t], new Tensor(t.data, t.shape), () => (g) => [g]);
}

/** A function as the engine calls it (argument types are checked at run time). */
type Fn = (...args: unknown[]) => unknown;

interface Traced {
  y: Tensor;
  tape: Tape;
  /** Per differentiated argument: the argument with aliased leaves, and its leaves in order. */
  trees: { tree: TensorTree; leaves: Tensor[] }[];
}

/** Runs `f(...args)` on a new tape that traces every tensor leaf of `args[k]`, k in argnums. */
function trace(
  op: string,
  f: Fn,
  args: readonly unknown[],
  argnums: readonly number[],
): Traced {
  const tape = new Tape();
  const callArgs = args.slice();
  const trees = argnums.map((k) => {
    const leaves: Tensor[] = [];
    const tree = mapTree(op, args[k], `argument ${k}`, (t) => {
      const a = alias(t);
      tape.traced.add(a);
      leaves.push(a);
      return a;
    });
    callArgs[k] = tree;
    return { tree, leaves };
  });
  const y = withRecorder(tape, () => f(...callArgs));
  if (!(y instanceof Tensor)) {
    const what = y instanceof Promise ? "a Promise (f must be synchronous)" : typeof y;
    throw new TensorError(op, `f must return a Tensor, but it returned ${what}`);
  }
  return { y, tape, trees };
}

/** The gradients for each differentiated argument, in its tree structure (zeros if unused). */
function gradients(traced: Traced, g: Tensor): TensorTree[] {
  const cts = backprop(traced.tape, traced.y, g);
  return traced.trees.map(({ tree, leaves }) => {
    let i = 0;
    return mapTree("autograd", tree, "", (leaf) => {
      const l = leaves[i++];
      return cts.get(l) ?? zeros(leaf.shape, { dtype: leaf.dtype });
    });
  });
}

function checkArgnums(op: string, argnums: readonly number[], nargs: number): void {
  argnums.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 0 || k >= nargs || argnums.indexOf(k) !== i) {
      throw new TensorError(
        op,
        `argnums [${argnums.join(", ")}] must be distinct argument positions in 0..${nargs - 1} ` +
          `(f was called with ${nargs} arguments)`,
      );
    }
  });
}

function scalarOutput(op: string, traced: Traced): Tensor {
  const y = traced.y;
  if (y.rank !== 0) {
    throw new TensorError(
      op,
      `f must return a scalar tensor (shape []), but it returned shape ${fmtShape(y.shape)}; ` +
        `reduce it to a scalar (e.g. sum or mean) or use vjp for non-scalar outputs`,
    );
  }
  return full([], 1, { dtype: y.dtype });
}

/**
 * Runs `f(...xs)` and returns its output `y` with the pullback `g -> (dL/dx for each x)`: the
 * vector-Jacobian product, with gradients in the same tree structure as `xs`.
 *
 * @example
 * ```ts
 * import { tensor, vjp, ref } from "./mod.ts";
 * const x = tensor([1, -2, 3], { dtype: "float64" });
 * const [y, pullback] = vjp((x) => ref.relu(x), x);
 * const [dx] = pullback(tensor([1, 1, 1], { dtype: "float64" }));
 * console.log(y.data, dx.data); // [1, 0, 3] [1, 0, 1]
 * ```
 */
export function vjp<A extends readonly unknown[]>(
  f: (...xs: A) => Tensor,
  ...xs: A
): [Tensor, (g: Tensor) => A] {
  const argnums = xs.map((_, i) => i);
  const traced = trace("vjp", f as unknown as Fn, xs, argnums);
  const y = traced.y;
  const pullback = (g: Tensor): A => {
    if (!(g instanceof Tensor) || !sameShape(g.shape, y.shape) || g.dtype !== y.dtype) {
      const got = g instanceof Tensor ? `${fmtShape(g.shape)} ${g.dtype}` : typeof g;
      throw new TensorError(
        "vjp",
        `the cotangent must match the output ${fmtShape(y.shape)} ${y.dtype}, got ${got}`,
      );
    }
    return gradients(traced, g) as unknown as A;
  };
  return [y, pullback];
}

/** The gradients `grad` returns for `argnums`: one tree, or a tuple of trees. */
export type GradsOf<A extends readonly unknown[], I> = I extends number ? A[I]
  : { -readonly [K in keyof I]: A[I[K] & number] };

function gradImpl(
  op: string,
  f: Fn,
  argnums: number | readonly number[],
): (...args: readonly unknown[]) => [Tensor, unknown] {
  const list = typeof argnums === "number" ? [argnums] : argnums;
  return (...args) => {
    checkArgnums(op, list, args.length);
    const traced = trace(op, f, args, list);
    const grads = gradients(traced, scalarOutput(op, traced));
    return [traced.y, typeof argnums === "number" ? grads[0] : grads];
  };
}

/**
 * The gradient of a scalar-valued `f` with respect to argument `argnums` (default 0), or a tuple
 * of gradients for a list of argument positions. Differentiated arguments are tensors or trees
 * of tensors (plain records and arrays); the gradients come back in the same structure, zeros
 * for tensors `f` does not use. Other arguments pass through untouched.
 *
 * @example
 * ```ts
 * import { grad, ref, type Tensor, tensor } from "./mod.ts";
 * const loss = (p: { w: Tensor; b: Tensor }, x: Tensor, t: Tensor) =>
 *   ref.mse(ref.dense(x, p.w, p.b), t);
 * const p = { w: tensor([[1], [2]], { dtype: "float64" }), b: tensor([0], { dtype: "float64" }) };
 * const x = tensor([[1, 1]], { dtype: "float64" }), t = tensor([[2]], { dtype: "float64" });
 * const g = grad(loss)(p, x, t); // { w: [[1], [1]], b: [1] }  (y - t = 1)
 * const [gp, gx] = grad(loss, [0, 1])(p, x, t); // gx = (y - t) W^T = [[1, 2]]
 * ```
 */
export function grad<A extends readonly unknown[], const I extends number | readonly number[] = 0>(
  f: (...args: A) => Tensor,
  argnums?: I,
): (...args: A) => GradsOf<A, I> {
  const g = gradImpl("grad", f as unknown as Fn, argnums ?? 0);
  return (...args: A) => g(...args)[1] as GradsOf<A, I>;
}

/**
 * Like {@link grad}, but also returns the value of `f`: `[f(...args), gradients]` from one
 * forward pass (the training step's call).
 *
 * @example
 * ```ts
 * import { ref, type Tensor, tensor, valueAndGrad } from "./mod.ts";
 * const logits = tensor([[2, 0, -1]], { dtype: "float64" });
 * const [loss, dz] = valueAndGrad((z: Tensor) => ref.crossEntropy(z, [0]))(logits);
 * console.log(loss.data[0], dz.data); // 0.1698..., softmax(z) - onehot(0)
 * ```
 */
export function valueAndGrad<
  A extends readonly unknown[],
  const I extends number | readonly number[] = 0,
>(f: (...args: A) => Tensor, argnums?: I): (...args: A) => [Tensor, GradsOf<A, I>] {
  const g = gradImpl("valueAndGrad", f as unknown as Fn, argnums ?? 0);
  return (...args: A) => g(...args) as [Tensor, GradsOf<A, I>];
}
