/**
 * NumPy-style printing of tensors: values rounded to 4 decimals with trailing zeros trimmed,
 * columns aligned, the middle of long axes elided with `...` once a tensor has more than 1000
 * elements, and the shape and dtype at the end.
 *
 * @module
 */

import type { Tensor } from "./tensor.ts";

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;

/** One value as NumPy prints it: `1.`, `-0.5`, `0.3333`, `nan`, `inf`, `1.2346e+10`. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e8 || a < 1e-4)) return v.toExponential(PRECISION);
  const s = v.toFixed(PRECISION).replace(/0+$/, "");
  return s === "-0." ? "0." : s;
}

/**
 * Renders `t` as `tensor([[...], ...], shape=[...], dtype=...)`.
 *
 * @example
 * ```ts
 * import { tensor } from "./mod.ts";
 * console.log(tensor([[1, 2.5], [3, 4]]).toString());
 * // tensor([[1. , 2.5],
 * //         [3. , 4. ]], shape=[2, 2], dtype=float32)
 * ```
 */
export function formatTensor(t: Tensor): string {
  const { shape, data } = t;
  const elide = t.size > THRESHOLD;
  // Indices shown along an axis of extent n: all, or the edges around a `...` marker (-1).
  const shown = (n: number): number[] => {
    if (!elide || n <= 2 * EDGE_ITEMS) return Array.from({ length: n }, (_, i) => i);
    const head = Array.from({ length: EDGE_ITEMS }, (_, i) => i);
    const tail = Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i);
    return [...head, -1, ...tail];
  };
  const strides: number[] = new Array(shape.length);
  for (let s = 1, i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  // Align on the decimal point as NumPy does: integer parts padded left, fractions right.
  const split = (s: string): [string, string] => {
    const dot = s.indexOf(".");
    return dot < 0 || s.includes("e") ? [s, ""] : [s.slice(0, dot + 1), s.slice(dot + 1)];
  };
  let intWidth = 0;
  let fracWidth = 0;
  const visit = (axis: number, offset: number): void => {
    if (axis === shape.length) {
      const [i, f] = split(formatValue(data[offset]));
      intWidth = Math.max(intWidth, i.length);
      fracWidth = Math.max(fracWidth, f.length);
      return;
    }
    for (const i of shown(shape[axis])) if (i >= 0) visit(axis + 1, offset + i * strides[axis]);
  };
  visit(0, 0);
  const pad = (s: string): string => {
    const [i, f] = split(s);
    return i.padStart(intWidth) + f.padEnd(fracWidth);
  };
  const indent = "tensor(".length;
  const render = (axis: number, offset: number): string => {
    if (axis === shape.length) return pad(formatValue(data[offset]));
    const parts = shown(shape[axis]).map((i) =>
      i < 0 ? "..." : render(axis + 1, offset + i * strides[axis])
    );
    const depth = shape.length - axis - 1;
    const sep = depth === 0 ? ", " : "," + "\n".repeat(depth) + " ".repeat(indent + axis + 1);
    return "[" + parts.join(sep) + "]";
  };
  const body = shape.length === 0 ? formatValue(data[0]) : render(0, 0);
  return `tensor(${body}, shape=[${shape.join(", ")}], dtype=${t.dtype})`;
}
