/**
 * A strict JSON reader for untrusted file headers (safetensors): RFC 8259 grammar, objects
 * returned as insertion-ordered maps (no prototype pitfalls such as a `"__proto__"` key), the
 * offset of every object value kept for error messages, and duplicate keys rejected, which
 * `JSON.parse` silently resolves by keeping the last one. Also a UTF-8 validator that reports the
 * offset of the first bad byte, and {@link findJsonSyntaxError}, the same grammar used to say on
 * which line and column a text `JSON.parse` rejected goes wrong (V8 omits the position for many
 * errors; the run-folder readers must name the line). Internal: not exported from `mod.ts`.
 *
 * @module
 */

/** A parsed JSON value; objects are {@link JsonObject}s. */
export type Json = null | boolean | number | string | readonly Json[] | JsonObject;

/** A JSON object: its entries in file order and where each value starts (character index). */
export class JsonObject {
  /** Key -> value, in the order of the text. */
  readonly entries: Map<string, Json> = new Map();
  /** Key -> character index where its value starts. */
  readonly offsets: Map<string, number> = new Map();
}

/** Where and why parsing failed; `offset` is a character index into the text. */
export interface JsonError {
  /** Character index of the problem. */
  readonly offset: number;
  /** What was wrong. */
  readonly message: string;
}

class Fail {
  constructor(readonly offset: number, readonly message: string) {}
}

const MAX_DEPTH = 64;
/** Deep enough for anything `JSON.parse` accepts in practice; bounds the recursion. */
const SYNTAX_MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** Parses `text` as one JSON value (surrounding whitespace allowed), or says where it is not. */
export function parseJsonStrict(text: string): { value: Json } | { error: JsonError } {
  return parse(text, MAX_DEPTH, true);
}

/** A syntax error: 1-based line and column, and what was wrong there. */
export interface JsonSyntaxError {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** What was wrong, e.g. `expected ',' or '}' in an object, found "x"`. */
  readonly message: string;
}

/** The 1-based line and column of character `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1, start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/**
 * The first syntax error of `text`, or null when `JSON.parse` would accept it: the strict grammar
 * with duplicate keys allowed (as `JSON.parse` allows them) and a deeper nesting bound. Meant for
 * the error path, after `JSON.parse` has thrown, so it builds values it then drops.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  const r = parse(text, SYNTAX_MAX_DEPTH, false);
  return "error" in r ? { ...lineColumn(text, r.error.offset), message: r.error.message } : null;
}

function parse(
  text: string,
  maxDepth: number,
  rejectDuplicates: boolean,
): { value: Json } | { error: JsonError } {
  let i = 0;
  const fail = (why: string, at = i): never => {
    throw new Fail(at, why);
  };
  const ws = () => {
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    }
  };
  const found = () => (i < text.length ? JSON.stringify(text[i]) : "the end of the text");
  const string = (): string => {
    const start = i++;
    let out = "";
    for (;;) {
      if (i >= text.length) fail("unterminated string", start);
      const c = text[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c.charCodeAt(0) < 0x20) fail("control character inside a string (escape it)");
      if (c !== "\\") {
        out += c;
        i++;
        continue;
      }
      const e = text[i + 1];
      if (e === "u") {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("\\u must be followed by 4 hex digits");
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        i += 2;
      } else {
        fail(`invalid escape \\${e ?? ""}`);
      }
    }
  };
  const value = (depth: number): Json => {
    if (depth > maxDepth) fail(`nesting deeper than ${maxDepth} levels`);
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj = new JsonObject();
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a string key, found ${found()}`);
        const keyAt = i;
        const key = string();
        if (rejectDuplicates && obj.entries.has(key)) {
          fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
        }
        ws();
        if (text[i] !== ":") {
          fail(`expected ':' after key ${JSON.stringify(key)}, found ${found()}`);
        }
        i++;
        ws();
        obj.offsets.set(key, i);
        obj.entries.set(key, value(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
        } else if (text[i] === "}") {
          i++;
          return obj;
        } else {
          fail(`expected ',' or '}' in an object, found ${found()}`);
        }
      }
    }
    if (c === "[") {
      i++;
      const arr: Json[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
        } else if (text[i] === "]") {
          i++;
          return arr;
        } else {
          fail(`expected ',' or ']' in an array, found ${found()}`);
        }
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m !== null) {
      i += m[0].length;
      return Number(m[0]);
    }
    return fail(`expected a JSON value, found ${found()}`);
  };
  try {
    const v = value(0);
    ws();
    if (i < text.length) fail(`unexpected ${found()} after the JSON value`);
    return { value: v };
  } catch (e) {
    if (e instanceof Fail) return { error: { offset: e.offset, message: e.message } };
    throw e;
  }
}

/**
 * The offset of the first byte of `bytes` that breaks UTF-8 (overlong forms, surrogates and
 * code points above U+10FFFF included), or -1 when all of it is valid.
 */
export function invalidUtf8At(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number, lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // no overlong 3-byte forms
      if (b === 0xed) hi = 0x9f; // no UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // no overlong 4-byte forms
      if (b === 0xf4) hi = 0x8f; // nothing above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}
