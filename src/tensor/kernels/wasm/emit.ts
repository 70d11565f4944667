/**
 * A tiny WebAssembly binary emitter: enough of the format to write numeric kernels from
 * TypeScript at load time (no `.wasm` file in git, so importing `mod.ts` by URL keeps working).
 *
 * What it covers: LEB128 integers, the type/import/function/export/code sections, one imported
 * linear memory (optionally shared), functions with typed locals, structured control flow with
 * label handles (no hand-counted branch depths), scalar i32/f32 arithmetic, bulk memory, and the
 * SIMD128 instructions our kernels use, plus `f32x4.relaxed_madd` from relaxed SIMD.
 *
 * Instructions are methods named after the text format (`i32.add` -> `i32Add`,
 * `f32x4.relaxed_madd` -> `f32x4RelaxedMadd`) that append their encoding and return the builder,
 * so kernel code reads like WAT in stack order. Opcode numbers are from the WebAssembly core
 * specification 2.0 (SIMD, bulk memory) and the relaxed-SIMD proposal as merged into 3.0.
 *
 * @module
 */

/** WebAssembly value types. */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

const VALTYPE: Record<ValType, number> = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
};

/** Appends `n` (0 <= n < 2^32) as unsigned LEB128. */
export function uleb(out: number[], n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`uleb: ${n}`);
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

/** Appends `n` (-2^31 <= n < 2^31) as signed LEB128. */
export function sleb(out: number[], n: number): void {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
    throw new RangeError(`sleb: ${n}`);
  }
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7; // arithmetic shift keeps the sign
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

/** A function's local variable (parameters are locals too), typed by its value type. */
export interface Local<T extends ValType = ValType> {
  readonly index: number;
  readonly type: T;
}
/** An i32 local. */
export type I32 = Local<"i32">;
/** A v128 local. */
export type V128 = Local<"v128">;
/** An f32 local. */
export type F32 = Local<"f32">;

/** A branch target handed to the body of `block`/`loop`/`if`; `br(label)` computes the depth. */
export interface Label {
  readonly depth: number;
}

/** An i32 operand: a local, or a constant. */
export type I32Operand = I32 | number;

/** A function under construction: its signature, locals and body bytes. */
export class FuncBuilder {
  /** The parameters, as locals 0..n-1. */
  readonly params: readonly Local[];
  readonly #localTypes: ValType[] = [];
  readonly #body: number[] = [];
  #depth = 0;

  constructor(
    readonly name: string,
    readonly paramTypes: readonly ValType[],
    readonly resultTypes: readonly ValType[],
  ) {
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

  /** Appends raw bytes (used by the instruction methods). */
  #op(...bytes: number[]): this {
    for (const b of bytes) this.#body.push(b);
    return this;
  }

  /** A SIMD instruction: prefix 0xfd then the opcode as unsigned LEB128. */
  #simd(opcode: number): this {
    this.#body.push(0xfd);
    uleb(this.#body, opcode);
    return this;
  }

  /** memarg = alignment exponent, byte offset (both unsigned LEB128). */
  #memarg(alignLog2: number, offset: number): this {
    uleb(this.#body, alignLog2);
    uleb(this.#body, offset);
    return this;
  }

  // ---- structured control; the body receives the label to branch to ----

  #structured(opcode: number, body: (l: Label) => void): this {
    this.#op(opcode, 0x40); // 0x40: empty block type
    const label = { depth: ++this.#depth };
    body(label);
    this.#depth--;
    return this.#op(0x0b);
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
    this.#op(0x04, 0x40);
    const label = { depth: ++this.#depth };
    then(label);
    if (otherwise) {
      this.#op(0x05);
      otherwise(label);
    }
    this.#depth--;
    return this.#op(0x0b);
  }
  #rel(l: Label): number {
    if (l.depth > this.#depth) throw new Error(`${this.name}: branch to a closed label`);
    return this.#depth - l.depth;
  }
  /** `br label`. */
  br(l: Label): this {
    this.#op(0x0c);
    uleb(this.#body, this.#rel(l));
    return this;
  }
  /** `br_if label` (consumes an i32). */
  brIf(l: Label): this {
    this.#op(0x0d);
    uleb(this.#body, this.#rel(l));
    return this;
  }
  /** `return`. */
  return(): this {
    return this.#op(0x0f);
  }
  /** `call f` by function index. */
  call(funcIndex: number): this {
    this.#op(0x10);
    uleb(this.#body, funcIndex);
    return this;
  }
  /** `drop`. */
  drop(): this {
    return this.#op(0x1a);
  }
  /** `select` (untyped form: i32/f32 operands). */
  select(): this {
    return this.#op(0x1b);
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

  // ---- variables and constants ----

  /** Pushes an i32 operand (local.get or i32.const). */
  get(x: I32Operand): this {
    return typeof x === "number" ? this.i32Const(x) : this.localGet(x);
  }
  /** `local.get`. */
  localGet(l: Local): this {
    this.#op(0x20);
    uleb(this.#body, l.index);
    return this;
  }
  /** `local.set`. */
  localSet(l: Local): this {
    this.#op(0x21);
    uleb(this.#body, l.index);
    return this;
  }
  /** `local.tee`. */
  localTee(l: Local): this {
    this.#op(0x22);
    uleb(this.#body, l.index);
    return this;
  }
  /** `i32.const`. */
  i32Const(n: number): this {
    this.#op(0x41);
    sleb(this.#body, n | 0);
    return this;
  }
  /** `f32.const`. */
  f32Const(x: number): this {
    const bytes = new Uint8Array(new Float32Array([x]).buffer);
    return this.#op(0x43, ...bytes);
  }
  /** `local += delta` for an i32 local. */
  inc(l: I32, delta: I32Operand): this {
    return this.localGet(l).get(delta).i32Add().localSet(l);
  }

  // ---- scalar memory (alignments are natural: 2^2 bytes) ----

  /** `i32.load offset`. */
  i32Load(offset = 0): this {
    return this.#op(0x28).#memarg(2, offset);
  }
  /** `f32.load offset`. */
  f32Load(offset = 0): this {
    return this.#op(0x2a).#memarg(2, offset);
  }
  /** `i32.store offset`. */
  i32Store(offset = 0): this {
    return this.#op(0x36).#memarg(2, offset);
  }
  /** `f32.store offset`. */
  f32Store(offset = 0): this {
    return this.#op(0x38).#memarg(2, offset);
  }
  /** `memory.copy` (dst, src, bytes). */
  memoryCopy(): this {
    return this.#op(0xfc, 10, 0, 0);
  }
  /** `memory.fill` (dst, byte value, bytes). */
  memoryFill(): this {
    return this.#op(0xfc, 11, 0);
  }

  // ---- i32 and f32 arithmetic ----

  /** `i32.eqz`. */
  i32Eqz(): this {
    return this.#op(0x45);
  }
  /** `i32.eq`. */
  i32Eq(): this {
    return this.#op(0x46);
  }
  /** `i32.ne`. */
  i32Ne(): this {
    return this.#op(0x47);
  }
  /** `i32.lt_s`. */
  i32LtS(): this {
    return this.#op(0x48);
  }
  /** `i32.gt_s`. */
  i32GtS(): this {
    return this.#op(0x4a);
  }
  /** `i32.le_s`. */
  i32LeS(): this {
    return this.#op(0x4c);
  }
  /** `i32.ge_s`. */
  i32GeS(): this {
    return this.#op(0x4e);
  }
  /** `i32.add`. */
  i32Add(): this {
    return this.#op(0x6a);
  }
  /** `i32.sub`. */
  i32Sub(): this {
    return this.#op(0x6b);
  }
  /** `i32.mul`. */
  i32Mul(): this {
    return this.#op(0x6c);
  }
  /** `i32.div_u`. */
  i32DivU(): this {
    return this.#op(0x6e);
  }
  /** `i32.rem_u`. */
  i32RemU(): this {
    return this.#op(0x70);
  }
  /** `i32.and`. */
  i32And(): this {
    return this.#op(0x71);
  }
  /** `i32.or`. */
  i32Or(): this {
    return this.#op(0x72);
  }
  /** `i32.shl`. */
  i32Shl(): this {
    return this.#op(0x74);
  }
  /** `i32.shr_u`. */
  i32ShrU(): this {
    return this.#op(0x76);
  }
  /** `f32.eq`. */
  f32Eq(): this {
    return this.#op(0x5b);
  }
  /** `f32.gt`. */
  f32Gt(): this {
    return this.#op(0x5e);
  }
  /** `f32.add`. */
  f32Add(): this {
    return this.#op(0x92);
  }
  /** `f32.mul`. */
  f32Mul(): this {
    return this.#op(0x94);
  }

  // ---- SIMD128 (opcodes after the 0xfd prefix) ----

  /** `v128.load offset` (alignment hint 1 byte: operands are often unaligned). */
  v128Load(offset = 0): this {
    return this.#simd(0x00).#memarg(0, offset);
  }
  /** `v128.load32_splat offset`: one f32/i32 from memory into all four lanes. */
  v128Load32Splat(offset = 0): this {
    return this.#simd(0x09).#memarg(2, offset);
  }
  /** `v128.load64_zero offset`: two lanes from memory, the upper two zero. */
  v128Load64Zero(offset = 0): this {
    return this.#simd(0x5d).#memarg(0, offset);
  }
  /** `v128.store offset`. */
  v128Store(offset = 0): this {
    return this.#simd(0x0b).#memarg(0, offset);
  }
  /** `v128.store32_lane offset lane`: stores one lane. */
  v128Store32Lane(offset: number, lane: number): this {
    return this.#simd(0x5a).#memarg(2, offset).#op(lane);
  }
  /** `v128.const` with four i32 lanes. */
  v128ConstI32(lanes: readonly [number, number, number, number]): this {
    const bytes = new Uint8Array(new Int32Array(lanes).buffer);
    return this.#simd(0x0c).#op(...bytes);
  }
  /** `i8x16.shuffle` with the 16 byte-lane indices (0-15: first operand, 16-31: second). */
  i8x16Shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new RangeError("i8x16.shuffle needs 16 lane indices");
    return this.#simd(0x0d).#op(...lanes);
  }
  /** Pushes lane `lane` of `v` broadcast to all four lanes (a shuffle of `v` with itself). */
  f32x4SplatLane(v: V128, lane: number): this {
    const b = [0, 1, 2, 3].map((i) => 4 * lane + i);
    return this.localGet(v).localGet(v).i8x16Shuffle([...b, ...b, ...b, ...b]);
  }
  /** `i32x4.splat`. */
  i32x4Splat(): this {
    return this.#simd(0x11);
  }
  /** `f32x4.splat`. */
  f32x4Splat(): this {
    return this.#simd(0x13);
  }
  /** `f32x4.extract_lane lane`. */
  f32x4ExtractLane(lane: number): this {
    return this.#simd(0x1f).#op(lane);
  }
  /** `f32x4.gt` (lane mask: all ones where a > b). */
  f32x4Gt(): this {
    return this.#simd(0x44);
  }
  /** `v128.and`. */
  v128And(): this {
    return this.#simd(0x4e);
  }
  /** `v128.bitselect` (a, b, mask): bits of a where mask is 1, else b. */
  v128Bitselect(): this {
    return this.#simd(0x52);
  }
  /** `i32x4.add`. */
  i32x4Add(): this {
    return this.#simd(0xae);
  }
  /** `f32x4.add`. */
  f32x4Add(): this {
    return this.#simd(0xe4);
  }
  /** `f32x4.mul`. */
  f32x4Mul(): this {
    return this.#simd(0xe6);
  }
  /** `f32x4.max` (IEEE-style: NaN-propagating, -0 < +0). */
  f32x4Max(): this {
    return this.#simd(0xe9);
  }
  /** `f32x4.pmax` (a, b) = `a < b ? b : a` per lane; one `maxps` on x86. */
  f32x4Pmax(): this {
    return this.#simd(0xeb);
  }
  /** `f32x4.relaxed_madd` (a, b, c) = `a * b + c`, fused or not as the host chooses. */
  f32x4RelaxedMadd(): this {
    return this.#simd(0x105);
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
    return [...out, ...this.#body, 0x0b];
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
