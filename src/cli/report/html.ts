/**
 * Markup building with escaping enforced by the type checker.
 *
 * Every builder returns {@link Markup}, a branded string. `el` takes only `Markup` children, so a
 * plain string (a run name, a model name, a caption read from a file) must pass through
 * {@link text} (which escapes it) before it can reach the output; forgetting is a type error, not
 * an injection. {@link raw} is reserved for constant strings written in this code base (CSS).
 *
 * Output conventions (so the HTML is also well-formed XML, which the tests rely on): attribute
 * values are always double-quoted and escaped, empty elements are written `<x ... />`.
 *
 * @module
 */

declare const markupBrand: unique symbol;

/** A string of trusted markup: produced only by the builders of this module. */
export type Markup = string & { readonly [markupBrand]: true };

/** An attribute value; `false`, `null` and `undefined` omit the attribute, `true` writes it bare. */
export type AttrValue = string | number | boolean | null | undefined;

/** Attributes of an element, written in insertion order. */
export type Attrs = Readonly<Record<string, AttrValue>>;

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes `& < > " '` so `s` is inert both as element text and inside a quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Text content: escaped. */
export function text(s: string | number): Markup {
  return escapeHtml(String(s)) as Markup;
}

/** Trusted constant markup (CSS, fixed snippets). Never pass data read from files or users. */
export function raw(s: string): Markup {
  return s as Markup;
}

/** Concatenates markup fragments. */
export function join(parts: readonly Markup[], sep = ""): Markup {
  return parts.join(sep) as Markup;
}

/**
 * A number for an attribute or label: integers as-is, others rounded to `digits` decimals with
 * trailing zeros dropped (`12.50` -> `12.5`), so coordinates stay short.
 */
export function num(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return "0";
  if (Number.isInteger(x)) return String(x);
  const s = x.toFixed(digits);
  const t = s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
  return t === "-0" ? "0" : t;
}

const NAME = /^[A-Za-z][A-Za-z0-9:_.-]*$/;

function attrString(a: Attrs): string {
  let out = "";
  for (const [k, v] of Object.entries(a)) {
    if (!NAME.test(k)) throw new Error(`html: invalid attribute name ${JSON.stringify(k)}`);
    if (v === false || v === null || v === undefined) continue;
    if (v === true) out += ` ${k}="${k}"`;
    else out += ` ${k}="${escapeHtml(typeof v === "number" ? num(v) : v)}"`;
  }
  return out;
}

/**
 * An element. With no children it is written self-closing (`<rect ... />`), which HTML accepts
 * for void and foreign (SVG) elements; for HTML elements that need a closing tag pass `text("")`.
 *
 * @example
 * ```ts
 * import { el, text } from "./html.ts";
 * el("p", { class: "note" }, text("1 < 2")); // <p class="note">1 &lt; 2</p>
 * ```
 */
export function el(tag: string, a: Attrs = {}, ...children: readonly Markup[]): Markup {
  if (!NAME.test(tag)) throw new Error(`html: invalid tag name ${JSON.stringify(tag)}`);
  const open = `<${tag}${attrString(a)}`;
  if (children.length === 0) return `${open} />` as Markup;
  return `${open}>${children.join("")}</${tag}>` as Markup;
}

/** An SVG `<text>` at `(x, y)` with escaped content; extra attributes such as `text-anchor`. */
export function svgText(
  x: number,
  y: number,
  s: string,
  a: Attrs = {},
): Markup {
  return el("text", { x: num(x), y: num(y), ...a }, text(s));
}
