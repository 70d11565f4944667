/**
 * A strict little parser for the markup the report toolkit writes (XML-style: quoted attributes,
 * `<x />` for empty elements, `<style>` as raw text). Mismatched or unclosed tags throw, so
 * parsing is itself a well-formedness check; the browser test parses the same output as HTML.
 */

/** An element: tag, attributes (entities decoded), children. */
export interface Node {
  readonly tag: string;
  readonly attrs: Record<string, string>;
  readonly children: (Node | string)[];
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  "#39": "'",
};

function decode(s: string): string {
  return s.replace(/&([a-z]+|#39);/g, (m, e) => {
    const v = ENTITIES[e];
    if (v === undefined) throw new Error(`unknown entity ${m}`);
    return v;
  });
}

const TAG = /<([A-Za-z][A-Za-z0-9:_.-]*)((?:\s+[A-Za-z][A-Za-z0-9:_.-]*="[^"<]*")*)\s*(\/?)>/y;

/** Parses a document or fragment into a synthetic `#root` node. */
export function parse(src: string): Node {
  const root: Node = { tag: "#root", attrs: {}, children: [] };
  const stack: Node[] = [root];
  let i = 0;
  const top = () => stack[stack.length - 1];
  while (i < src.length) {
    const lt = src.indexOf("<", i);
    const textEnd = lt < 0 ? src.length : lt;
    if (textEnd > i) {
      const t = src.slice(i, textEnd);
      if (t.includes(">")) throw new Error(`stray '>' in text at ${i}`);
      top().children.push(decode(t));
    }
    if (lt < 0) break;
    if (src.startsWith("<!doctype", lt) || src.startsWith("<!DOCTYPE", lt)) {
      i = src.indexOf(">", lt) + 1;
      continue;
    }
    if (src[lt + 1] === "/") {
      const gt = src.indexOf(">", lt);
      const tag = src.slice(lt + 2, gt).trim();
      const open = stack.pop();
      if (open === undefined || open.tag !== tag) {
        throw new Error(`</${tag}> at ${lt} closes <${open?.tag}>`);
      }
      i = gt + 1;
      continue;
    }
    TAG.lastIndex = lt;
    const m = TAG.exec(src);
    if (m === null) throw new Error(`malformed tag at ${lt}: ${src.slice(lt, lt + 60)}`);
    const attrs: Record<string, string> = {};
    for (const a of m[2].matchAll(/([A-Za-z][A-Za-z0-9:_.-]*)="([^"]*)"/g)) {
      if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]} at ${lt}`);
      attrs[a[1]] = decode(a[2]);
    }
    const node: Node = { tag: m[1], attrs, children: [] };
    top().children.push(node);
    i = lt + m[0].length;
    if (m[3] === "/") continue;
    if (node.tag === "style") {
      const end = src.indexOf("</style>", i);
      node.children.push(src.slice(i, end));
      i = end + "</style>".length;
      continue;
    }
    stack.push(node);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${top().tag}>`);
  return root;
}

/** Every element below `n` (depth first) matching `pred`. */
export function findAll(n: Node, pred: (n: Node) => boolean): Node[] {
  const out: Node[] = [];
  const walk = (x: Node) => {
    for (const c of x.children) {
      if (typeof c === "string") continue;
      if (pred(c)) out.push(c);
      walk(c);
    }
  };
  walk(n);
  return out;
}

/** Elements by tag, optionally with a class among their classes. */
export function byTag(n: Node, tag: string, cls?: string): Node[] {
  return findAll(
    n,
    (x) => x.tag === tag && (cls === undefined || (x.attrs.class ?? "").split(" ").includes(cls)),
  );
}

/** The text content of `n`. */
export function textOf(n: Node): string {
  return n.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}
