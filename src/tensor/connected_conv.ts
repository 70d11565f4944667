/**
 * Partially connected convolution, the C3 layer of LeCun et al. 1998: output map `j` reads only
 * the input maps listed in `table[j]`, each through its own kernel (one kernel per connection):
 *
 * `y[n,j] = b_j + sum_{i in table[j]} valid_corr(x[n,i], k_{ji})`
 *
 * (cross-correlation as everywhere in the networks, with conv2d's stride/padding/dilation).
 * Connections are numbered in table order: output map 0's inputs first, in the order listed, so
 * `kernels[c]` is the kernel of the `c`-th (output, input) pair. Parameters:
 * `(sum_j |table[j]|) * kh * kw + Cout`; C3 has `60 * 25 + 16 = 1,516`.
 *
 * Backward, with `delta_j = dL/dy_j`:
 *
 * - `dX_i = sum over connections (j, i) of full_corr(delta_j, rot180(k_ji))`, i.e.
 *   `full_conv(delta_j, k_ji)` for our correlating forward (the notes, whose forward is a true
 *   convolution, write it `full_conv(delta_j, rot180(k_ji))`);
 * - `dk_ji = valid_corr(x_i, delta_j)`, summed over the batch;
 * - `db_j = sum(delta_j)` over batch and space.
 *
 * Implementation: the connection kernels are laid into a dense OIHW weight that is zero where
 * the table has no connection, and conv2d's kernels do the work. A zero weight contributes
 * nothing to `y` or to `dX`, so those are exactly the sums over connections above; `dk` is the
 * dense weight gradient read at the connections. For C3 (60 of 96 pairs) this multiplies some
 * zeros, but it runs on conv2d's kernel path (`kernels/dispatch.ts`: WebAssembly for float32,
 * the plain kernels for float64) instead of copying the kernels.
 *
 * @module
 */

import {
  checkSameDType,
  type Conv2dOptions,
  fmtConvOptions,
  resolveConv2d,
} from "./conv_options.ts";
import { fmtShape, TensorError } from "./errors.ts";
import type { Conv2dGeometry } from "./kernels/conv.ts";
import { convForward, convGrads } from "./kernels/dispatch.ts";
import { allocData, Tensor, type TensorData } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { checkDelta } from "./validate.ts";

/**
 * For each output map, the input maps it reads (each listed once). Connection `c` is the `c`-th
 * (output, input) pair in this order.
 *
 * @example
 * ```ts
 * import type { ConnectionTable } from "./mod.ts";
 * const table: ConnectionTable = [[0, 1], [1, 2], [0, 1, 2]]; // 3 outputs, 7 connections
 * ```
 */
export type ConnectionTable = readonly (readonly number[])[];

/**
 * Table I of LeCun et al. 1998: which of the 6 S2 maps each of the 16 C3 maps reads. Maps 0-5
 * take 3 contiguous S2 maps (cyclically), 6-11 take 4 contiguous, 12-14 take 4 non-contiguous,
 * 15 takes all 6: 60 connections.
 *
 * @example
 * ```ts
 * import { LECUN_C3_TABLE } from "./mod.ts";
 * console.log(LECUN_C3_TABLE[4], LECUN_C3_TABLE.flat().length); // [0, 4, 5] 60
 * ```
 */
export const LECUN_C3_TABLE: ConnectionTable = Object.freeze(
  [
    [0, 1, 2],
    [1, 2, 3],
    [2, 3, 4],
    [3, 4, 5],
    [0, 4, 5],
    [0, 1, 5],
    [0, 1, 2, 3],
    [1, 2, 3, 4],
    [2, 3, 4, 5],
    [0, 3, 4, 5],
    [0, 1, 4, 5],
    [0, 1, 2, 5],
    [0, 1, 3, 4],
    [1, 2, 4, 5],
    [0, 2, 3, 5],
    [0, 1, 2, 3, 4, 5],
  ].map((row) => Object.freeze(row)),
);

/** A validated layer: its conv2d geometry and, per connection, its offset in the dense weight. */
interface Resolved {
  g: Conv2dGeometry;
  /** `at[c]` = start of connection `c`'s kernel in the dense `[Cout, Cin, kh, kw]` weight. */
  at: Int32Array;
}

function resolve(
  op: string,
  x: Tensor,
  kernels: Tensor,
  bias: Tensor | null,
  table: ConnectionTable,
  opts: Conv2dOptions,
): Resolved {
  const ctx = () =>
    `x ${fmtShape(x.shape)}, kernels ${fmtShape(kernels.shape)}, bias ${
      bias ? fmtShape(bias.shape) : "null"
    }, table ${JSON.stringify(table)}, options ${fmtConvOptions(opts)}`;
  if (kernels.rank !== 3) {
    throw new TensorError(
      op,
      `kernels must be [connections, kh, kw], one kernel per connection (${ctx()}); ` +
        `reshape them to rank 3`,
    );
  }
  if (!Array.isArray(table) || table.length < 1) {
    throw new TensorError(op, `table must list the input maps of each output map (${ctx()})`);
  }
  const cin = x.rank === 4 ? x.shape[1] : 0;
  let count = 0;
  table.forEach((row, j) => {
    const ok = Array.isArray(row) && row.length >= 1 &&
      row.every((i) => Number.isInteger(i) && i >= 0 && i < cin) &&
      new Set(row).size === row.length;
    if (!ok && x.rank === 4) {
      throw new TensorError(
        op,
        `table[${j}] = ${JSON.stringify(row)} must list distinct input maps in 0..${cin - 1}, ` +
          `at least one (${ctx()}); fix the connection table`,
      );
    }
    count += Array.isArray(row) ? row.length : 0;
  });
  const cout = table.length;
  const [, kh, kw] = kernels.shape;
  const { geometry: g } = resolveConv2d(op, x.shape, [cout, cin, kh, kw], opts);
  if (kernels.shape[0] !== count) {
    throw new TensorError(
      op,
      `the table has ${count} connections but kernels has ${kernels.shape[0]} (${ctx()}); ` +
        `pass one kh x kw kernel per connection, in table order`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout)) {
    throw new TensorError(
      op,
      `bias must be [${cout}], one value per output map (${ctx()}); pass a rank-1 bias or null`,
    );
  }
  checkSameDType(
    op,
    bias ? [["x", x], ["kernels", kernels], ["bias", bias]] : [
      ["x", x],
      ["kernels", kernels],
    ],
  );
  const at = new Int32Array(count);
  const khw = kh * kw;
  let c = 0;
  table.forEach((row, j) => {
    for (const i of row) at[c++] = (j * cin + i) * khw;
  });
  return { g, at };
}

/** The dense OIHW weight: each connection's kernel at its (output, input) slot, zeros elsewhere. */
function denseWeight(kernels: Tensor, r: Resolved): TensorData {
  const { g, at } = r;
  const khw = g.kh * g.kw;
  const w = allocData(kernels.dtype, g.outC * g.inC * khw);
  for (let c = 0; c < at.length; c++) {
    w.set(kernels.data.subarray(c * khw, (c + 1) * khw), at[c]);
  }
  return w;
}

/**
 * Partially connected 2-D convolution (LeCun 1998's C3): `x` `[N, Cin, H, W]`, one kernel per
 * connection `kernels` `[connections, kh, kw]`, `bias` `[Cout]` (or null), and `table` listing
 * for each of the `Cout` output maps the input maps it reads. Output `[N, Cout, Ho, Wo]`:
 * `y[n,j] = b_j + sum_{i in table[j]} valid_corr(x[n,i], k_ji)`, with conv2d's options.
 * Backward: {@link connectedConv2dBackward}.
 *
 * @example
 * ```ts
 * import { connectedConv2d, ones, tensor } from "./mod.ts";
 * const x = tensor([[[[1, 2], [3, 4]], [[10, 20], [30, 40]]]]); // [1, 2, 2, 2]
 * // map 0 reads input 0; map 1 reads inputs 0 and 1 (3 connections, 2x2 kernels of ones)
 * const y = connectedConv2d(x, ones([3, 2, 2]), tensor([0, 1]), [[0], [0, 1]]);
 * console.log(y.data); // Float32Array [10, 111]
 * ```
 */
export function connectedConv2d(
  x: Tensor,
  kernels: Tensor,
  bias: Tensor | null,
  table: ConnectionTable,
  opts: Conv2dOptions = {},
): Tensor {
  const r = resolve("connectedConv2d", x, kernels, bias, table, opts);
  const { g } = r;
  const w = denseWeight(kernels, r);
  const y = allocData(x.dtype, g.batch * g.outC * g.outH * g.outW);
  convForward(x.data, w, bias ? bias.data : null, y, g);
  const out = new Tensor(y, [g.batch, g.outC, g.outH, g.outW]);
  const inputs = bias ? [x, kernels, bias] : [x, kernels];
  return recordOp("connectedConv2d", inputs, out, () => (delta, needed) => {
    const grads = connectedGrads("connectedConv2dBackward", delta, x, kernels, r, w, [
      needed?.[0] ?? true,
      needed?.[1] ?? true,
      bias !== null && (needed?.[2] ?? true),
    ]);
    return bias ? [grads.dx, grads.dkernels, grads.dbias] : [grads.dx, grads.dkernels];
  });
}

/**
 * The gradients of {@link connectedConv2d}.
 *
 * @example
 * ```ts
 * import { type ConnectedConv2dGrads, connectedConv2dBackward, ones } from "./mod.ts";
 * const g: ConnectedConv2dGrads = connectedConv2dBackward(
 *   ones([1, 2, 1, 1]), ones([1, 2, 2, 2]), ones([3, 2, 2]), [[0], [0, 1]],
 * );
 * console.log(g.dx.shape, g.dkernels.shape, g.dbias.data); // [1, 2, 2, 2] [3, 2, 2] Float32Array [1, 1]
 * ```
 */
export interface ConnectedConv2dGrads {
  /** `dL/dx`, shape `[N, Cin, H, W]`. */
  dx: Tensor;
  /** `dL/dkernels`, shape `[connections, kh, kw]`. */
  dkernels: Tensor;
  /** `dL/dbias`, shape `[Cout]` (whether or not the forward had a bias). */
  dbias: Tensor;
}

/**
 * VJP of {@link connectedConv2d}: given `delta = dL/dy` `[N, Cout, Ho, Wo]` and the forward's
 * inputs, as the derivation states it,
 *
 * - `dX_i = sum over connections (j, i) of full_corr(delta_j, rot180(k_ji))` (= `full_conv(delta_j,
 *   k_ji)`), cropped by the padding as in conv2d;
 * - `dk_ji = valid_corr(x_i, delta_j)` summed over the batch:
 *   `dk_ji[p,q] = sum_{n,a,b} x[n,i, a*sh + p*dh - pt, b*sw + q*dw - pl] delta[n,j,a,b]`;
 * - `db_j = sum_{n,a,b} delta[n,j,a,b]`.
 *
 * @example
 * ```ts
 * import { connectedConv2dBackward, ones, tensor } from "./mod.ts";
 * const x = tensor([[[[1, 2], [3, 4]], [[10, 20], [30, 40]]]]);
 * const { dkernels } = connectedConv2dBackward(ones([1, 2, 1, 1]), x, ones([3, 2, 2]), [[0], [0, 1]]);
 * console.log(dkernels.data); // Float32Array [1, 2, 3, 4, 1, 2, 3, 4, 10, 20, 30, 40]
 * ```
 */
export function connectedConv2dBackward(
  delta: Tensor,
  x: Tensor,
  kernels: Tensor,
  table: ConnectionTable,
  opts: Conv2dOptions = {},
): ConnectedConv2dGrads {
  const r = resolve("connectedConv2dBackward", x, kernels, null, table, opts);
  const grads = connectedGrads(
    "connectedConv2dBackward",
    delta,
    x,
    kernels,
    r,
    denseWeight(kernels, r),
    [true, true, true],
  );
  return { dx: grads.dx!, dkernels: grads.dkernels!, dbias: grads.dbias! };
}

/** The three gradients, each only where `need` asks for it (else null). */
function connectedGrads(
  op: string,
  delta: Tensor,
  x: Tensor,
  kernels: Tensor,
  { g, at }: Resolved,
  w: TensorData,
  [needX, needK, needB]: [boolean, boolean, boolean],
): { dx: Tensor | null; dkernels: Tensor | null; dbias: Tensor | null } {
  checkDelta(
    op,
    delta,
    [g.batch, g.outC, g.outH, g.outW],
    `x ${fmtShape(x.shape)}, kernels ${fmtShape(kernels.shape)}`,
    "pass the gradient of connectedConv2d's output with the same x, kernels, table and options",
  );
  checkSameDType(op, [["delta", delta], ["x", x]]);
  const dx = needX ? allocData(x.dtype, x.size) : null;
  const dw = needK ? allocData(x.dtype, w.length) : null;
  const db = needB ? allocData(x.dtype, g.outC) : null;
  convGrads(delta.data, x.data, w, null, { dx, dw, db }, g);
  let dkernels: Tensor | null = null;
  if (dw) {
    const khw = g.kh * g.kw;
    const dk = allocData(x.dtype, kernels.size);
    for (let c = 0; c < at.length; c++) dk.set(dw.subarray(at[c], at[c] + khw), c * khw);
    dkernels = new Tensor(dk, kernels.shape);
  }
  return {
    dx: dx ? new Tensor(dx, x.shape) : null,
    dkernels,
    dbias: db ? new Tensor(db, [g.outC]) : null,
  };
}
