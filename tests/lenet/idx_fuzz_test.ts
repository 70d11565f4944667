/**
 * Property-based fuzzing of the IDX parser (fast-check, fixed seeds: failures reproduce).
 *
 * Whatever the bytes, the parser must return a typed error or a result consistent with the
 * bytes: never throw, never hang, and never allocate more than the input holds. Allocation is
 * observed directly: while the parser runs, the global typed-array and ArrayBuffer constructors
 * are wrapped to record every size requested.
 */

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import { either as E } from "npm:fp-ts@2.16.11";
import type { IdxErrorKind } from "../../src/lenet/data_error.ts";
import {
  encodeIdx,
  type IdxArray,
  type IdxDType,
  parseIdx,
  parseIdxHeader,
} from "../../src/lenet/idx.ts";
import { readIdxBytes } from "../../src/lenet/idx_file.ts";
import { gzip } from "./mirror_server.ts";

const PARSE_KINDS: readonly IdxErrorKind[] = [
  "bad-magic",
  "unsupported-type",
  "bad-dims",
  "dims-overflow",
  "truncated",
  "trailing-bytes",
];

const CTORS = [
  "ArrayBuffer",
  "Uint8Array",
  "Int8Array",
  "Int16Array",
  "Int32Array",
  "Float32Array",
  "Float64Array",
  "DataView",
] as const;

/** Runs `fn` and returns the largest allocation (in bytes) any typed array constructor saw. */
function largestAllocation<T>(fn: () => T): [T, number] {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = CTORS.map((name) => [name, g[name]] as const);
  let largest = 0;
  for (const [name, ctor] of saved) {
    g[name] = new Proxy(ctor as new (...a: unknown[]) => object, {
      construct(target, args) {
        const a0 = args[0];
        if (typeof a0 === "number") {
          const per = (target as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
          largest = Math.max(largest, a0 * per);
        }
        return Reflect.construct(target, args);
      },
    });
  }
  try {
    return [fn(), largest];
  } finally {
    for (const [name, ctor] of saved) g[name] = ctor;
  }
}

Deno.test("idx fuzz: the allocation probe sees the parser's own allocations", () => {
  // Without this, a probe that saw nothing would make the properties below vacuous.
  const file = encodeIdx({ dtype: "int32", shape: [5, 3], data: new Int32Array(15) });
  const [r, allocated] = largestAllocation(() => parseIdx(file));
  assert.ok(E.isRight(r));
  assert.equal(allocated, 15 * 4); // exactly the decoded data, which the file holds
  assert.equal(largestAllocation(() => new Float32Array(100))[1], 400);
});

/** The property every parse must satisfy. */
function checkParse(input: Uint8Array): void {
  const t = performance.now();
  const [r, allocated] = largestAllocation(() => parseIdx(input, "fuzz"));
  assert.ok(performance.now() - t < 250, "parse took too long");
  assert.ok(
    allocated <= input.length,
    `allocated ${allocated} bytes for a ${input.length}-byte input`,
  );
  if (E.isLeft(r)) {
    assert.ok(PARSE_KINDS.includes(r.left.kind as IdxErrorKind), r.left.kind);
    assert.ok(r.left.message.startsWith("fuzz: at byte "));
    return;
  }
  // A success must describe the bytes exactly.
  const n = r.right.shape.reduce((a, b) => a * b, 1);
  assert.equal(r.right.data.length, n);
  assert.equal(4 + 4 * r.right.shape.length + n * r.right.data.BYTES_PER_ELEMENT, input.length);
}

const DTYPES: readonly IdxDType[] = ["uint8", "int8", "int16", "int32", "float32", "float64"];

/** Valid IDX files with small random shapes and contents. */
const validIdx: fc.Arbitrary<Uint8Array> = fc
  .record({
    dtype: fc.constantFrom(...DTYPES),
    shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
    seed: fc.integer(),
  })
  .map(({ dtype, shape, seed }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = dtype === "uint8"
      ? new Uint8Array(n)
      : dtype === "int8"
      ? new Int8Array(n)
      : dtype === "int16"
      ? new Int16Array(n)
      : dtype === "int32"
      ? new Int32Array(n)
      : dtype === "float32"
      ? new Float32Array(n)
      : new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = ((seed + i * 2654435761) % 251) - 100;
    const a: IdxArray = { dtype, shape, data };
    return encodeIdx(a);
  });

Deno.test("idx: a 100-byte file claiming 2^31 images fails at once, allocating nothing", () => {
  const claims: [number[], IdxErrorKind][] = [
    [[0x80, 0, 0, 0], "bad-dims"], // 2^31 images: an absurd extent
    [[0x7f, 0xff, 0xff, 0xff], "dims-overflow"], // 2^31 - 1 images of 28x28: too many elements
    [[0, 0x0f, 0x42, 0x40], "truncated"], // 10^6 images: 784 MB are not in 100 bytes
  ];
  for (const [n, kind] of claims) {
    const file = new Uint8Array(100);
    file.set([0, 0, 8, 3, ...n, 0, 0, 0, 28, 0, 0, 0, 28]);
    const t = performance.now();
    const h = parseIdxHeader(file);
    const [r, allocated] = largestAllocation(() => parseIdx(file));
    assert.ok(performance.now() - t < 50);
    assert.equal(allocated, 0);
    assert.ok(E.isLeft(h) && E.isLeft(r));
    assert.equal(r.left.kind, kind);
  }
  const mid = new Uint8Array(100);
  mid.set([0, 0, 8, 3, 0, 0x0f, 0x42, 0x40, 0, 0, 0, 28, 0, 0, 0, 28]);
  const e = parseIdx(mid);
  assert.ok(E.isLeft(e));
  assert.match(e.left.message, /expected 784,000,016 bytes .*got 100 bytes/);
});

Deno.test("idx fuzz: random bytes -> typed error or an exact parse, never a throw", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), checkParse), {
    seed: 4242,
    numRuns: 2000,
  });
});

Deno.test("idx fuzz: random bytes behind a plausible header prefix", () => {
  // Random dims and type codes after a correct magic reach the deeper checks.
  const arb = fc
    .tuple(
      fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x00, 0xff),
      fc.integer({ min: 0, max: 5 }),
      fc.uint8Array({ maxLength: 80 }),
    )
    .map(([t, rank, rest]) => new Uint8Array([0, 0, t, rank, ...rest]));
  fc.assert(fc.property(arb, checkParse), { seed: 7, numRuns: 3000 });
});

Deno.test("idx fuzz: mutated headers of valid files", () => {
  const arb = fc.tuple(
    validIdx,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
  );
  fc.assert(
    fc.property(arb, ([file, edits]) => {
      const b = file.slice();
      const headerLen = 4 + 4 * b[3];
      for (const [pos, value] of edits) b[pos % headerLen] = value;
      checkParse(b);
    }),
    { seed: 99, numRuns: 2000 },
  );
});

Deno.test("idx fuzz: every truncation inside and just after the header is `truncated`", () => {
  fc.assert(
    fc.property(validIdx, (file) => {
      const headerLen = 4 + 4 * file[3];
      for (let cut = 0; cut < Math.min(file.length, headerLen + 9); cut++) {
        const r = parseIdx(file.subarray(0, cut), "cut");
        assert.ok(E.isLeft(r), `cut at ${cut} of ${file.length} parsed`);
        assert.equal(r.left.kind, "truncated");
        assert.equal(r.left.offset, cut);
      }
      assert.ok(E.isRight(parseIdx(file)));
    }),
    { seed: 5, numRuns: 300 },
  );
});

Deno.test("idx fuzz: huge claims in tiny files never allocate", () => {
  const arb = fc.tuple(
    fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e),
    fc.array(fc.integer({ min: 1, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 0, max: 100 }),
  );
  fc.assert(
    fc.property(arb, ([type, dims, extra]) => {
      const b = new Uint8Array(4 + 4 * dims.length + extra);
      const v = new DataView(b.buffer);
      b[2] = type;
      b[3] = dims.length;
      dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
      checkParse(b);
    }),
    { seed: 31, numRuns: 2000 },
  );
});

Deno.test("idx fuzz: gzipped inputs (valid, garbage, truncated) through the streaming reader", async () => {
  const dir = await Deno.makeTempDir({ prefix: "idx-fuzz-" });
  try {
    let i = 0;
    const arb = fc.tuple(
      fc.oneof(validIdx, fc.uint8Array({ maxLength: 64 })),
      fc.constantFrom("gzip", "garbage", "cut"),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([payload, how]) => {
        const gz = await gzip(payload as Uint8Array<ArrayBuffer>);
        const bytes = how === "gzip"
          ? gz
          : how === "cut"
          ? gz.subarray(0, gz.length >> 1)
          : new Uint8Array([0x1f, 0x8b, ...payload]);
        const p = `${dir}/f${i++}`;
        await Deno.writeFile(p, bytes);
        const r = await readIdxBytes(p)();
        if (E.isLeft(r)) {
          assert.ok([...PARSE_KINDS, "corrupt-gzip"].includes(r.left.kind), r.left.message);
          return;
        }
        assert.equal(how, "gzip"); // a corrupted or cut stream must never read as complete
        assert.deepEqual(r.right, payload);
        checkParse(r.right);
      }),
      { seed: 2024, numRuns: 60 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
