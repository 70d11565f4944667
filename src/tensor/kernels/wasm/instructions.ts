/**
 * The instruction set of the emitter: value types, LEB128, and one method per WebAssembly
 * instruction our kernels use, named after the text format (`i32.add` -> `i32Add`,
 * `f32x4.relaxed_madd` -> `f32x4RelaxedMadd`). Each appends its encoding to the body and
 * returns the builder, so kernel code reads like WAT in stack order. Opcode numbers are from
 * the WebAssembly core specification 2.0 (SIMD, bulk memory) and the relaxed-SIMD proposal as
 * merged into 3.0. Structured control flow and locals live in `emit.ts`.
 *
 * @module
 */

/** WebAssembly value types. */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

/** Binary codes of the value types. */
export const VALTYPE: Record<ValType, number> = {
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

/** An i32 operand: a local, or a constant. */
export type I32Operand = I32 | number;

/** The instructions, appended to a function body (see `FuncBuilder` in `emit.ts`). */
export abstract class Instructions {
  /** The body's bytes so far (without the local declarations and final `end`). */
  protected readonly body: number[] = [];

  /** Appends raw bytes. */
  protected op(...bytes: number[]): this {
    for (const b of bytes) this.body.push(b);
    return this;
  }

  /** A SIMD instruction: prefix 0xfd then the opcode as unsigned LEB128. */
  protected simd(opcode: number): this {
    this.body.push(0xfd);
    uleb(this.body, opcode);
    return this;
  }

  /** memarg = alignment exponent, byte offset (both unsigned LEB128). */
  protected memarg(alignLog2: number, offset: number): this {
    uleb(this.body, alignLog2);
    uleb(this.body, offset);
    return this;
  }

  // ---- variables and constants ----

  /** Pushes an i32 operand (local.get or i32.const). */
  get(x: I32Operand): this {
    return typeof x === "number" ? this.i32Const(x) : this.localGet(x);
  }
  /** `local.get`. */
  localGet(l: Local): this {
    this.op(0x20);
    uleb(this.body, l.index);
    return this;
  }
  /** `local.set`. */
  localSet(l: Local): this {
    this.op(0x21);
    uleb(this.body, l.index);
    return this;
  }
  /** `local.tee`. */
  localTee(l: Local): this {
    this.op(0x22);
    uleb(this.body, l.index);
    return this;
  }
  /** `i32.const`. */
  i32Const(n: number): this {
    this.op(0x41);
    sleb(this.body, n | 0);
    return this;
  }
  /** `f32.const`. */
  f32Const(x: number): this {
    const bytes = new Uint8Array(new Float32Array([x]).buffer);
    return this.op(0x43, ...bytes);
  }
  /** `local += delta` for an i32 local. */
  inc(l: I32, delta: I32Operand): this {
    return this.localGet(l).get(delta).i32Add().localSet(l);
  }

  // ---- scalar memory (alignments are natural: 2^2 bytes) ----

  /** `i32.load offset`. */
  i32Load(offset = 0): this {
    return this.op(0x28).memarg(2, offset);
  }
  /** `f32.load offset`. */
  f32Load(offset = 0): this {
    return this.op(0x2a).memarg(2, offset);
  }
  /** `i32.store offset`. */
  i32Store(offset = 0): this {
    return this.op(0x36).memarg(2, offset);
  }
  /** `f32.store offset`. */
  f32Store(offset = 0): this {
    return this.op(0x38).memarg(2, offset);
  }
  /** `memory.copy` (dst, src, bytes). */
  memoryCopy(): this {
    return this.op(0xfc, 10, 0, 0);
  }
  /** `memory.fill` (dst, byte value, bytes). */
  memoryFill(): this {
    return this.op(0xfc, 11, 0);
  }

  // ---- i32 and f32 arithmetic ----

  /** `i32.eqz`. */
  i32Eqz(): this {
    return this.op(0x45);
  }
  /** `i32.eq`. */
  i32Eq(): this {
    return this.op(0x46);
  }
  /** `i32.ne`. */
  i32Ne(): this {
    return this.op(0x47);
  }
  /** `i32.lt_s`. */
  i32LtS(): this {
    return this.op(0x48);
  }
  /** `i32.gt_s`. */
  i32GtS(): this {
    return this.op(0x4a);
  }
  /** `i32.le_s`. */
  i32LeS(): this {
    return this.op(0x4c);
  }
  /** `i32.ge_s`. */
  i32GeS(): this {
    return this.op(0x4e);
  }
  /** `i32.ge_u`. */
  i32GeU(): this {
    return this.op(0x4f);
  }
  /** `i32.add`. */
  i32Add(): this {
    return this.op(0x6a);
  }
  /** `i32.sub`. */
  i32Sub(): this {
    return this.op(0x6b);
  }
  /** `i32.mul`. */
  i32Mul(): this {
    return this.op(0x6c);
  }
  /** `i32.div_u`. */
  i32DivU(): this {
    return this.op(0x6e);
  }
  /** `i32.rem_u`. */
  i32RemU(): this {
    return this.op(0x70);
  }
  /** `i32.and`. */
  i32And(): this {
    return this.op(0x71);
  }
  /** `i32.or`. */
  i32Or(): this {
    return this.op(0x72);
  }
  /** `i32.shl`. */
  i32Shl(): this {
    return this.op(0x74);
  }
  /** `i32.shr_u`. */
  i32ShrU(): this {
    return this.op(0x76);
  }
  /** `f32.eq`. */
  f32Eq(): this {
    return this.op(0x5b);
  }
  /** `f32.gt`. */
  f32Gt(): this {
    return this.op(0x5e);
  }
  /** `f32.add`. */
  f32Add(): this {
    return this.op(0x92);
  }
  /** `f32.mul`. */
  f32Mul(): this {
    return this.op(0x94);
  }

  // ---- SIMD128 (opcodes after the 0xfd prefix) ----

  /** `v128.load offset` (alignment hint 1 byte: operands are often unaligned). */
  v128Load(offset = 0): this {
    return this.simd(0x00).memarg(0, offset);
  }
  /** `v128.load32_splat offset`: one f32/i32 from memory into all four lanes. */
  v128Load32Splat(offset = 0): this {
    return this.simd(0x09).memarg(2, offset);
  }
  /** `v128.load64_zero offset`: two lanes from memory, the upper two zero. */
  v128Load64Zero(offset = 0): this {
    return this.simd(0x5d).memarg(0, offset);
  }
  /** `v128.store offset`. */
  v128Store(offset = 0): this {
    return this.simd(0x0b).memarg(0, offset);
  }
  /** `v128.store32_lane offset lane`: stores one lane. */
  v128Store32Lane(offset: number, lane: number): this {
    return this.simd(0x5a).memarg(2, offset).op(lane);
  }
  /** `v128.const` with four i32 lanes. */
  v128ConstI32(lanes: readonly [number, number, number, number]): this {
    const bytes = new Uint8Array(new Int32Array(lanes).buffer);
    return this.simd(0x0c).op(...bytes);
  }
  /** `i8x16.shuffle` with the 16 byte-lane indices (0-15: first operand, 16-31: second). */
  i8x16Shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new RangeError("i8x16.shuffle needs 16 lane indices");
    return this.simd(0x0d).op(...lanes);
  }
  /** Pushes lane `lane` of `v` broadcast to all four lanes (a shuffle of `v` with itself). */
  f32x4SplatLane(v: V128, lane: number): this {
    const b = [0, 1, 2, 3].map((i) => 4 * lane + i);
    return this.localGet(v).localGet(v).i8x16Shuffle([...b, ...b, ...b, ...b]);
  }
  /** `i32x4.splat`. */
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  /** `f32x4.splat`. */
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  /** `f32x4.extract_lane lane`. */
  f32x4ExtractLane(lane: number): this {
    return this.simd(0x1f).op(lane);
  }
  /** `f32x4.gt` (lane mask: all ones where a > b). */
  f32x4Gt(): this {
    return this.simd(0x44);
  }
  /** `v128.and`. */
  v128And(): this {
    return this.simd(0x4e);
  }
  /** `v128.bitselect` (a, b, mask): bits of a where mask is 1, else b. */
  v128Bitselect(): this {
    return this.simd(0x52);
  }
  /** `i32x4.add`. */
  i32x4Add(): this {
    return this.simd(0xae);
  }
  /** `f32x4.add`. */
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  /** `f32x4.mul`. */
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  /** `f32x4.max` (IEEE-style: NaN-propagating, -0 < +0). */
  f32x4Max(): this {
    return this.simd(0xe9);
  }
  /** `f32x4.pmax` (a, b) = `a < b ? b : a` per lane; one `maxps` on x86. */
  f32x4Pmax(): this {
    return this.simd(0xeb);
  }
  /** `f32x4.relaxed_madd` (a, b, c) = `a * b + c`, fused or not as the host chooses. */
  f32x4RelaxedMadd(): this {
    return this.simd(0x105);
  }
}
