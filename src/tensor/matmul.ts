/**
 * Matrix products on the shared GEMM kernel (`kernels/gemm.ts`; float32 on the active kernel
 * path, see `kernels/dispatch.ts`): `matmul` (2-D and batched, NumPy
 * semantics) and the fully connected layer `dense(x, W, b) = x W + b`.
 *
 * Backward rules (the matrix-calculus identities for `Y = A B`):
 * `dA = dY B^T`, `dB = A^T dY`; a batch axis along which an operand was broadcast sums its
 * gradient over that axis. For `Y = X W + b`: `dX = dY W^T`, `dW = X^T dY`,
 * `db = sum over the batch of dY`.
 *
 * Batches address their matrices in place through gemm's offsets: nothing is copied.
 *
 * @module
 */

import { broadcastIndex, broadcastShapes } from "./broadcast.ts";
import { fmtShape, TensorError } from "./errors.ts";
import { matmulKernel } from "./kernels/dispatch.ts";
import { allocData, Tensor } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { checkGrad, checkSameDType } from "./validate.ts";

/** Shapes of a (possibly batched) product, validated. */
interface MatmulShape {
  m: number;
  k: number;
  n: number;
  /** Broadcast batch shape. */
  batch: number[];
  /** Number of matrices in the output. */
  count: number;
  /** Per output matrix: the index of A's and of B's matrix. */
  ia: Int32Array;
  ib: Int32Array;
  outShape: number[];
}

function matmulShape(op: string, a: Tensor, b: Tensor): MatmulShape {
  if (a.rank < 2 || b.rank < 2) {
    throw new TensorError(
      op,
      `operands must have rank >= 2, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}; ` +
        `reshape a vector to a row [1, n] or a column [n, 1] first`,
    );
  }
  checkSameDType(op, a, b);
  const [m, k] = a.shape.slice(-2), [k2, n] = b.shape.slice(-2);
  if (k !== k2) {
    throw new TensorError(
      op,
      `inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} multiplies ` +
        `${m}x${k} by ${k2}x${n}; the last axis of A must equal the second-to-last of B ` +
        `(transpose an operand?)`,
    );
  }
  const ba = a.shape.slice(0, -2), bb = b.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes(op, ba, bb);
  } catch {
    throw new TensorError(
      op,
      `batch axes ${fmtShape(ba)} and ${fmtShape(bb)} of ${fmtShape(a.shape)} @ ` +
        `${fmtShape(b.shape)} cannot be broadcast together; each pair of batch extents ` +
        `(aligned from the right) must be equal or 1`,
    );
  }
  const count = batch.reduce((x, y) => x * y, 1);
  return {
    m,
    k,
    n,
    batch,
    count,
    ia: broadcastIndex(ba, batch),
    ib: broadcastIndex(bb, batch),
    outShape: [...batch, m, n],
  };
}

/** Whether each output matrix uses its own matrix of that operand (no broadcasting, no reuse). */
function isIdentity(idx: Int32Array, size: number): boolean {
  if (idx.length !== size) return false;
  for (let i = 0; i < idx.length; i++) if (idx[i] !== i) return false;
  return true;
}

/**
 * Matrix product `A @ B` for rank >= 2 operands. The last two axes are the matrices
 * (`[..., m, k] @ [..., k, n] -> [..., m, n]`); leading batch axes broadcast as in NumPy.
 *
 * Backward: `dA = dY B^T`, `dB = A^T dY`, each summed over the batch axes its operand was
 * broadcast along.
 *
 * @example
 * ```ts
 * import { matmul, tensor } from "./mod.ts";
 * const y = matmul(tensor([[1, 2], [3, 4]]), tensor([[5], [6]]));
 * console.log(y.shape, y.data); // [2, 1] Float32Array [17, 39]
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const s = matmulShape("matmul", a, b);
  const { m, k, n, count } = s;
  const out = allocData(a.dtype, count * m * n);
  if (count === 1 || (b.rank === 2 && isIdentity(s.ia, a.size / (m * k)))) {
    // One GEMM: the batch of A stacks into a (count*m) x k matrix when B is shared.
    matmulKernel(a.data, b.data, out, { m: count * m, n, k });
  } else {
    for (let i = 0; i < count; i++) {
      matmulKernel(a.data, b.data, out, {
        m,
        n,
        k,
        offA: s.ia[i] * m * k,
        offB: s.ib[i] * k * n,
        offC: i * m * n,
      });
    }
  }
  const y = new Tensor(out, s.outShape);
  return recordOp("matmul", [a, b], y, () => (g) => matmulBackward(g, a, b));
}

/**
 * VJP of {@link matmul}: from `dY = dA B + A dB`, `dA = dY B^T` and `dB = A^T dY`; a broadcast
 * operand accumulates the products of every output matrix that used it.
 *
 * @example
 * ```ts
 * import { matmulBackward, ones, tensor } from "./mod.ts";
 * const [dA, dB] = matmulBackward(ones([2, 1]), tensor([[1, 2], [3, 4]]), tensor([[5], [6]]));
 * console.log(dA.data, dB.data); // [5, 6, 5, 6] [4, 6]
 * ```
 */
export function matmulBackward(g: Tensor, a: Tensor, b: Tensor): [Tensor, Tensor] {
  const s = matmulShape("matmulBackward", a, b);
  checkGrad("matmulBackward", g, s.outShape, a.dtype);
  const { m, k, n, count } = s;
  const da = allocData(a.dtype, a.size), db = allocData(b.dtype, b.size);
  if (count === 1 || (b.rank === 2 && isIdentity(s.ia, a.size / (m * k)))) {
    // A stacks to (count*m) x k, dY to (count*m) x n: two GEMMs cover the whole batch.
    matmulKernel(g.data, b.data, da, { m: count * m, n: k, k: n, transB: true });
    matmulKernel(a.data, g.data, db, { m: k, n, k: count * m, transA: true });
  } else {
    // beta = 1 accumulates over output matrices that share an operand matrix (broadcasting).
    for (let i = 0; i < count; i++) {
      const offA = s.ia[i] * m * k, offB = s.ib[i] * k * n, offG = i * m * n;
      matmulKernel(g.data, b.data, da, {
        m,
        n: k,
        k: n,
        transB: true,
        beta: 1,
        offA: offG,
        offB,
        offC: offA,
      });
      matmulKernel(a.data, g.data, db, {
        m: k,
        n,
        k: m,
        transA: true,
        beta: 1,
        offA,
        offB: offG,
        offC: offB,
      });
    }
  }
  return [new Tensor(da, a.shape), new Tensor(db, b.shape)];
}

/** Validates the shapes of a dense layer. */
function denseShape(op: string, x: Tensor, w: Tensor, b: Tensor): void {
  checkSameDType(op, x, w);
  checkSameDType(op, x, b);
  if (
    x.rank !== 2 || w.rank !== 2 || b.rank !== 1 || x.shape[1] !== w.shape[0] ||
    b.shape[0] !== w.shape[1]
  ) {
    throw new TensorError(
      op,
      `expected x [N, in], W [in, out], b [out], got x ${fmtShape(x.shape)}, ` +
        `W ${fmtShape(w.shape)}, b ${fmtShape(b.shape)}; flatten x to 2-D first and make ` +
        `W's rows match x's columns and b's length match W's columns`,
    );
  }
}

/**
 * The fully connected layer `y = x W + b` for `x: [N, in]`, `W: [in, out]`, `b: [out]`. The bias
 * rows seed the output and the GEMM accumulates onto them (`beta = 1`): one pass, no temporary.
 *
 * Backward: `dX = dY W^T`, `dW = X^T dY`, `db = sum_n dY[n, :]`.
 *
 * @example
 * ```ts
 * import { dense, tensor } from "./mod.ts";
 * const y = dense(tensor([[1, 2]]), tensor([[1, 0, 1], [0, 1, 1]]), tensor([10, 20, 30]));
 * console.log(y.data); // Float32Array [11, 22, 33]
 * ```
 */
export function dense(x: Tensor, w: Tensor, b: Tensor): Tensor {
  denseShape("dense", x, w, b);
  const [N, K] = x.shape, M = w.shape[1];
  const out = allocData(x.dtype, N * M);
  for (let i = 0; i < N; i++) out.set(b.data, i * M);
  matmulKernel(x.data, w.data, out, { m: N, n: M, k: K, beta: 1 });
  const y = new Tensor(out, [N, M]);
  return recordOp("dense", [x, w, b], y, () => (g) => denseBackward(g, x, w, b));
}

/**
 * VJP of {@link dense}: `dX = dY W^T`, `dW = X^T dY`, `db = sum over the batch of dY`.
 *
 * @example
 * ```ts
 * import { denseBackward, ones, tensor } from "./mod.ts";
 * const [dx, dW, db] = denseBackward(
 *   ones([1, 3]),
 *   tensor([[1, 2]]),
 *   tensor([[1, 0, 1], [0, 1, 1]]),
 *   tensor([10, 20, 30]),
 * );
 * console.log(dx.data, dW.data, db.data); // [2, 2] [1, 1, 1, 2, 2, 2] [1, 1, 1]
 * ```
 */
export function denseBackward(
  g: Tensor,
  x: Tensor,
  w: Tensor,
  b: Tensor,
): [Tensor, Tensor, Tensor] {
  denseShape("denseBackward", x, w, b);
  const [N, K] = x.shape, M = w.shape[1];
  checkGrad("denseBackward", g, [N, M], x.dtype);
  const dx = allocData(x.dtype, N * K), dw = allocData(x.dtype, K * M), db = allocData(x.dtype, M);
  matmulKernel(g.data, w.data, dx, { m: N, n: K, k: M, transB: true });
  matmulKernel(x.data, g.data, dw, { m: K, n: M, k: N, transA: true });
  const gd = g.data;
  for (let i = 0; i < N; i++) {
    const row = i * M;
    for (let j = 0; j < M; j++) db[j] += gd[row + j];
  }
  return [new Tensor(dx, x.shape), new Tensor(dw, w.shape), new Tensor(db, b.shape)];
}
