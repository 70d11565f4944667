/**
 * A tiny WebAssembly binary emitter: enough of the format to write numeric kernels from
 * TypeScript at load time (no `.wasm` file in git, so importing `mod.ts` by URL keeps working).
 *
 * What it covers: LEB128 integers, the type/import/function/export/code sections, one imported
 * linear memory (optionally shared), functions with typed locals, structured control flow with
 * label handles (no hand-counted branch depths), scalar i32/f32 arithmetic, bulk memory, and the
 * SIMD128 instructions our kernels use, plus `f32x4.relaxed_madd` from relaxed SIMD.
 *
 * The instruction methods (named after the text format, in stack order) are in
 * `instructions.ts`; this file adds locals, structured control flow and the module layout.
 *
 * @module
 */

import {
  type I32,
  type I32Operand,
  Instructions,
  type Local,
  uleb,
  VALTYPE,
  type ValType,
} from "./instructions.ts";

export {
  type F32,
  type I32,
  type I32Operand,
  type Local,
  sleb,
  uleb,
  type V128,
  type ValType,
} from "./instructions.ts";

/** A branch target handed to the body of `block`/`loop`/`if`; `br(label)` computes the depth. */
export interface Label {
  readonly depth: number;
}

/** A function under construction: its signature, locals and body bytes. */
export class FuncBuilder extends Instructions {
  /** The parameters, as locals 0..n-1. */
  readonly params: readonly Local[];
  readonly #localTypes: ValType[] = [];
  #depth = 0;

  constructor(
    readonly name: string,
    readonly paramTypes: readonly ValType[],
    readonly resultTypes: readonly ValType[],
  ) {
    super();
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  /** Declares a fresh local of `type`. */
  local<T extends ValType>(type: T): Local<T> {
    const index = this.paramTypes.length + this.#localTypes.length;
    this.#localTypes.push(type);
    return { index, type };
  }

  /** The parameter `i`, checked to have type `type`. */
  param<T extends ValType>(i: number, type: T): Local<T> {
    const p = this.params[i];
    if (p?.type !== type) throw new TypeError(`${this.name}: param ${i} is not ${type}`);
    return p as Local<T>;
  }

  // ---- structured control; the body receives the label to branch to ----

  #structured(opcode: number, body: (l: Label) => void): this {
    this.op(opcode, 0x40); // 0x40: empty block type
    const label = { depth: ++this.#depth };
    body(label);
    this.#depth--;
    return this.op(0x0b);
  }
  /** `block ... end`; branching to the label exits the block. */
  block(body: (exit: Label) => void): this {
    return this.#structured(0x02, body);
  }
  /** `loop ... end`; branching to the label jumps back to the top. */
  loop(body: (top: Label) => void): this {
    return this.#structured(0x03, body);
  }
  /** `if ... [else ...] end`, consuming an i32 condition. */
  if(then: (exit: Label) => void, otherwise?: (exit: Label) => void): this {
    this.op(0x04, 0x40);
    const label = { depth: ++this.#depth };
    then(label);
    if (otherwise) {
      this.op(0x05);
      otherwise(label);
    }
    this.#depth--;
    return this.op(0x0b);
  }
  #rel(l: Label): number {
    if (l.depth > this.#depth) throw new Error(`${this.name}: branch to a closed label`);
    return this.#depth - l.depth;
  }
  /** `br label`. */
  br(l: Label): this {
    this.op(0x0c);
    uleb(this.body, this.#rel(l));
    return this;
  }
  /** `br_if label` (consumes an i32). */
  brIf(l: Label): this {
    this.op(0x0d);
    uleb(this.body, this.#rel(l));
    return this;
  }
  /** `return`. */
  return(): this {
    return this.op(0x0f);
  }
  /** `call f` by function index. */
  call(funcIndex: number): this {
    this.op(0x10);
    uleb(this.body, funcIndex);
    return this;
  }
  /** `drop`. */
  drop(): this {
    return this.op(0x1a);
  }
  /** `select` (untyped form: i32/f32 operands). */
  select(): this {
    return this.op(0x1b);
  }

  /**
   * `for (i = start; i < end; i += step) body()` on signed i32, written as a guarded do-while
   * (`if (i < end) loop { body; i += step; br_if (i < end) }`) so each iteration takes one
   * branch. `end` is re-read every iteration, so it may be a local the body does not change.
   */
  for(i: I32, start: I32Operand, end: I32Operand, step: number, body: () => void): this {
    this.get(start).localSet(i);
    this.localGet(i).get(end).i32LtS();
    return this.if(() => {
      this.loop((top) => {
        body();
        this.localGet(i).i32Const(step).i32Add().localTee(i).get(end).i32LtS().brIf(top);
      });
    });
  }
  /** The encoded body: local declarations (runs of equal types), instructions, `end`. */
  encode(): number[] {
    const out: number[] = [];
    const runs: [number, ValType][] = [];
    for (const t of this.#localTypes) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    uleb(out, runs.length);
    for (const [count, t] of runs) {
      uleb(out, count);
      out.push(VALTYPE[t]);
    }
    if (this.#depth !== 0) throw new Error(`${this.name}: unclosed block`);
    return [...out, ...this.body, 0x0b];
  }
}

/** How the module's single linear memory is imported (as `env.memory`). */
export interface MemoryImport {
  /** Initial size in 64 KiB pages. */
  minPages: number;
  /** Maximum size in pages (required for shared memory). */
  maxPages?: number;
  /** Shared memory (`WebAssembly.Memory({ shared: true })`): its views never detach on grow. */
  shared?: boolean;
}

/** Builds a module: one imported memory, functions, exports. */
export class ModuleBuilder {
  readonly #funcs: FuncBuilder[] = [];
  readonly #exported = new Set<FuncBuilder>();

  constructor(readonly memory: MemoryImport) {}

  /**
   * Declares a function and returns its index (for `call`); `build` writes its body.
   * Functions are exported under their name unless `exported` is false.
   */
  func(
    name: string,
    params: readonly ValType[],
    results: readonly ValType[],
    build: (f: FuncBuilder) => void,
    exported = true,
  ): number {
    const f = new FuncBuilder(name, params, results);
    build(f);
    this.#funcs.push(f);
    if (exported) this.#exported.add(f);
    return this.#funcs.length - 1;
  }

  /** The number of functions declared so far (= the index the next one gets). */
  get funcCount(): number {
    return this.#funcs.length;
  }

  /** The module's bytes. */
  encode(): Uint8Array<ArrayBuffer> {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // "\0asm", version 1
    const section = (id: number, content: number[]) => {
      out.push(id);
      uleb(out, content.length);
      for (const b of content) out.push(b);
    };
    const vec = (items: number[][]) => {
      const v: number[] = [];
      uleb(v, items.length);
      for (const it of items) for (const b of it) v.push(b);
      return v;
    };
    const name = (s: string) => {
      const bytes = [...new TextEncoder().encode(s)];
      const v: number[] = [];
      uleb(v, bytes.length);
      return [...v, ...bytes];
    };

    // Type section: one entry per distinct signature.
    const sigs: string[] = [];
    const typeOf = this.#funcs.map((f) => {
      const key = `${f.paramTypes.join(",")}->${f.resultTypes.join(",")}`;
      if (!sigs.includes(key)) sigs.push(key);
      return sigs.indexOf(key);
    });
    section(
      1,
      vec(sigs.map((key) => {
        const [ps, rs] = key.split("->").map((s) => s ? s.split(",") as ValType[] : []);
        const t = [0x60];
        uleb(t, ps.length);
        t.push(...ps.map((p) => VALTYPE[p]));
        uleb(t, rs.length);
        t.push(...rs.map((r) => VALTYPE[r]));
        return t;
      })),
    );

    // Import section: env.memory with limits (flags 0: min; 1: min, max; 3: shared min, max).
    const { minPages, maxPages, shared } = this.memory;
    if (shared && maxPages === undefined) throw new Error("a shared memory needs maxPages");
    const limits: number[] = [shared ? 0x03 : maxPages === undefined ? 0x00 : 0x01];
    uleb(limits, minPages);
    if (maxPages !== undefined) uleb(limits, maxPages);
    section(2, vec([[...name("env"), ...name("memory"), 0x02, ...limits]]));

    section(
      3,
      vec(typeOf.map((t) => {
        const v: number[] = [];
        uleb(v, t);
        return v;
      })),
    );

    const exports = this.#funcs.flatMap((f, i) => {
      if (!this.#exported.has(f)) return [];
      const e = [...name(f.name), 0x00];
      uleb(e, i);
      return [e];
    });
    section(7, vec(exports));

    section(
      10,
      vec(this.#funcs.map((f) => {
        const body = f.encode();
        const v: number[] = [];
        uleb(v, body.length);
        return [...v, ...body];
      })),
    );
    return new Uint8Array(out);
  }
}
