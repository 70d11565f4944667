/**
 * Where a JSON text stops being valid, as a line and column: `JSON.parse` only sometimes says
 * (V8 omits the position for many errors), and an error that names the file must also name the
 * line. Used only after `JSON.parse` has failed, so speed does not matter; the grammar is RFC
 * 8259's.
 *
 * @module
 */

/** A syntax error: 1-based line and column, and what was expected there. */
export interface JsonSyntaxError {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** What was wrong, e.g. `expected ',' or '}'`. */
  readonly message: string;
}

class Fail {
  constructor(readonly at: number, readonly message: string) {}
}

/** The 1-based line and column of `offset` in `text`. */
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

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** The first syntax error of `text`, or null if it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n && " \t\n\r".includes(text[i])) i++;
  };
  const found = () => i < n ? JSON.stringify(text[i]) : "end of file";
  const expect = (what: string) => new Fail(i, `unexpected ${found()}; expected ${what}`);
  const lit = (word: string) => {
    if (!text.startsWith(word, i)) throw expect("a JSON value");
    i += word.length;
  };
  const str = () => {
    i++; // the opening quote
    while (true) {
      if (i >= n) throw new Fail(i, "unterminated string");
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c < 0x20) throw new Fail(i, "control character in a string; escape it");
      if (c === 92) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            throw new Fail(i, "bad \\u escape; expected 4 hex digits");
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          throw new Fail(i, "bad escape in a string");
        }
        continue;
      }
      i++;
    }
    i++;
  };
  const number = () => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) throw new Fail(i, "malformed number");
    i += m[0].length;
  };
  // Containers: after '[' or '{', values separated by ',' until the closing bracket.
  const container = (close: "]" | "}", depth: number) => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    while (true) {
      if (close === "}") {
        ws();
        if (text[i] !== '"') throw expect("a property name");
        str();
        ws();
        if (text[i] !== ":") throw expect("':'");
        i++;
      }
      value(depth + 1);
      ws();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      throw expect(`',' or '${close}'`);
    }
  };
  const value = (depth: number): void => {
    if (depth > 512) throw new Fail(i, "nesting deeper than 512 levels");
    ws();
    const c = text[i];
    if (c === "{") container("}", depth);
    else if (c === "[") container("]", depth);
    else if (c === '"') str();
    else if (c === "t") lit("true");
    else if (c === "f") lit("false");
    else if (c === "n") lit("null");
    else if (c === "-" || (c >= "0" && c <= "9")) number();
    else throw expect("a JSON value");
  };
  try {
    value(0);
    ws();
    if (i < n) throw new Fail(i, `unexpected ${found()} after the JSON value`);
    return null;
  } catch (e) {
    if (!(e instanceof Fail)) throw e;
    return { ...lineColumn(text, e.at), message: e.message };
  }
}
