import assert from "node:assert/strict";
import {
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsContents,
} from "../../src/lenet/safetensors.ts";
import { prngKey, randomNormal } from "../../src/tensor/random.ts";
import { type Tensor, tensor, zeros } from "../../src/tensor/tensor.ts";

const ascii = (s: string) => Array.from(new TextEncoder().encode(s));
const u64 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24, 0, 0, 0, 0];
const spaces = (k: number) => new Array(k).fill(0x20);

function right(r: ReturnType<typeof decodeSafetensors>): SafetensorsContents {
  if (r._tag === "Left") throw r.left;
  return r.right;
}

Deno.test("byte-exact: the reference implementation's documented serialization of attn0", () => {
  // huggingface/safetensors serializes {"attn0": F32 [1, 1, 2, 3] = 0..5} to N = 72: 65 bytes
  // of compact JSON plus 7 spaces, then the 24 data bytes.
  const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
  assert.equal(json.length, 65);
  const expected = new Uint8Array([
    ...[72, 0, 0, 0, 0, 0, 0, 0],
    ...ascii(json),
    ...spaces(7),
    ...[0, 0, 0, 0], // 0.0f
    ...[0, 0, 0x80, 0x3f], // 1.0f
    ...[0, 0, 0, 0x40], // 2.0f
    ...[0, 0, 0x40, 0x40], // 3.0f
    ...[0, 0, 0x80, 0x40], // 4.0f
    ...[0, 0, 0xa0, 0x40], // 5.0f
  ]);
  const x = tensor([[[[0, 1, 2], [3, 4, 5]]]]);
  assert.deepEqual(encodeSafetensors([["attn0", x]]), expected);
  const back = right(decodeSafetensors(expected));
  assert.deepEqual(back.tensors.get("attn0")?.shape, [1, 1, 2, 3]);
  assert.deepEqual(Array.from(back.tensors.get("attn0")!.data), [0, 1, 2, 3, 4, 5]);
});

Deno.test("byte-exact: empty files, with and without metadata (reference layouts)", () => {
  assert.deepEqual(
    encodeSafetensors([]),
    new Uint8Array([...u64(8), ...ascii("{}"), ...spaces(6)]),
  );
  const meta = '{"__metadata__":{"framework":"pt"}}';
  assert.deepEqual(
    encodeSafetensors([], { framework: "pt" }),
    new Uint8Array([...u64(40), ...ascii(meta), ...spaces(5)]),
  );
});

Deno.test("byte-exact: F64 before F32, names in order, metadata keys sorted", () => {
  const json = '{"__metadata__":{"epoch":"1","step":"3"},' +
    '"b":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
    '"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
    '"c":{"dtype":"F32","shape":[0],"data_offsets":[16,16]}}';
  const pad = (8 - (json.length % 8)) % 8;
  const expected = new Uint8Array([
    ...u64(json.length + pad),
    ...ascii(json),
    ...spaces(pad),
    ...[0, 0, 0, 0, 0, 0, 0xe0, 0x3f], // 0.5 (float64)
    ...[0, 0, 0x80, 0x3f, 0, 0, 0, 0x40], // 1.0f, 2.0f
  ]);
  const bytes = encodeSafetensors(
    [["c", zeros([0])], ["a", tensor([1, 2])], ["b", tensor([0.5], { dtype: "float64" })]],
    { step: "3", epoch: "1" },
  );
  assert.deepEqual(bytes, expected);
  assert.equal((bytes.length - 16) % 8, 0, "data starts 8-aligned");
});

Deno.test("decodes a hand-built file: pretty JSON, entries out of offset order", () => {
  const header = '{\n  "w": {"shape": [2], "dtype": "F64", "data_offsets": [4, 20]},\n' +
    '  "__metadata__": {"note": "h\\u00e9llo"},\n  "s": {"dtype": "F32", "shape": [], ' +
    '"data_offsets": [0, 4]}\n}\n';
  const headerBytes = ascii(header);
  const bytes = new Uint8Array([
    ...u64(headerBytes.length),
    ...headerBytes,
    ...[0, 0, 0x20, 0xc1], // -10.0f
    ...[0, 0, 0, 0, 0, 0, 0xf0, 0x3f], // 1.0
    ...[0, 0, 0, 0, 0, 0, 0, 0xc0], // -2.0
  ]);
  const r = right(decodeSafetensors(bytes, "hand.safetensors"));
  assert.deepEqual([...r.tensors.keys()], ["s", "w"], "offset order");
  assert.deepEqual(r.metadata, { note: "héllo" });
  const s = r.tensors.get("s")!, w = r.tensors.get("w")!;
  assert.deepEqual([s.shape, s.dtype, s.data[0]], [[], "float32", -10]);
  assert.deepEqual([w.shape, w.dtype, Array.from(w.data)], [[2], "float64", [1, -2]]);
});

Deno.test("round trip: float32 and float64, odd names, metadata, empty and scalar tensors", () => {
  const tensors: [string, Tensor][] = [
    ["param/c1.w", randomNormal(prngKey(1), [6, 1, 5, 5])],
    ["opt/m/f5.w", randomNormal(prngKey(2), [40, 12], { dtype: "float64" })],
    ["ünï/cødé ☃", tensor(3.25)],
    ["empty", zeros([0, 4], { dtype: "float64" })],
    ['q"uote\\', tensor([Infinity, -0, NaN])],
  ];
  const metadata = { variant: "modern", seed: "42", "clé": 'välue\n\t"' };
  const r = right(decodeSafetensors(encodeSafetensors(tensors, metadata)));
  assert.deepEqual(r.metadata, metadata);
  assert.equal(r.tensors.size, tensors.length);
  for (const [name, t] of tensors) {
    const back = r.tensors.get(name)!;
    assert.deepEqual([back.dtype, back.shape], [t.dtype, t.shape], name);
    assert.deepEqual(back.data, t.data, name);
  }
  assert.ok(Object.is(r.tensors.get('q"uote\\')!.data[1], -0));
});

Deno.test("encodeSafetensors rejects duplicate and reserved names", () => {
  assert.throws(
    () => encodeSafetensors([["a", tensor([1])], ["a", tensor([2])]]),
    /"a" is used twice/,
  );
  assert.throws(() => encodeSafetensors([["__metadata__", tensor([1])]]), /is reserved/);
});

/** A file from header text and `dataLength` data bytes (header padded like the reference). */
function file(header: string, dataLength: number, headerLength?: number): Uint8Array {
  const h = ascii(header);
  const pad = (8 - (h.length % 8)) % 8;
  return new Uint8Array([
    ...u64(headerLength ?? h.length + pad),
    ...h,
    ...spaces(pad),
    ...new Array(dataLength).fill(0),
  ]);
}

function rejects(bytes: Uint8Array, message: string) {
  const r = decodeSafetensors(bytes, "bad.safetensors");
  assert.equal(r._tag, "Left", `accepted; expected: ${message}`);
  if (r._tag === "Left") {
    assert.ok(r.left instanceof CheckpointError);
    assert.equal(r.left.message, message);
  }
}

const T = (name: string, dtype: string, shape: string, offsets: string) =>
  `"${name}":{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}`;

Deno.test("rejects malformed files with the file, byte offset and reason", () => {
  const B = "bad.safetensors: byte";
  rejects(
    new Uint8Array(5),
    `${B} 0: the file is 5 bytes long, too short for the 8-byte header length`,
  );
  rejects(
    new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0, 0x7b, 0x7d]),
    `${B} 0: header length 4294967296 is absurd (limit 100000000); not a safetensors file?`,
  );
  rejects(
    new Uint8Array([0x00, 0xe1, 0xf5, 0x05, 0, 0, 0, 0]),
    `${B} 0: header length 100000000 runs past the end of the file (8 bytes, so at most 0)`,
  );
  rejects(
    file("{}", 0, 64),
    `${B} 0: header length 64 runs past the end of the file (16 bytes, so at most 8)`,
  );
  rejects(
    file('["x"]', 0),
    `${B} 8: the header must start with '{' (a JSON object), found byte 0x5b`,
  );
  rejects(file("", 0), `${B} 8: the header must start with '{' (a JSON object), found nothing`);
  rejects(
    file("{", 0),
    `${B} 16: the header is not valid JSON: expected a string key, found the end of the text`,
  );
  const badUtf8 = file('{"__metadata__":{"a":"b"}}', 0);
  badUtf8[8 + 22] = 0xff; // inside the value "b"
  rejects(badUtf8, `${B} 30: the header is not valid UTF-8`);
  rejects(
    file('{"a":1,}', 0),
    `${B} 15: the header is not valid JSON: expected a string key, found "}"`,
  );
  rejects(
    file(`{${T("w", "F32", "[1]", "[0,4]")},${T("w", "F32", "[1]", "[4,8]")}}`, 8),
    `${B} 62: the header is not valid JSON: duplicate key "w"`,
  );
  rejects(
    file('{"w":[1,2]}', 0),
    `${B} 13: tensor "w" is an array; expected {"dtype", "shape", "data_offsets"}`,
  );
  rejects(
    file(`{${T("w", "F33", "[1]", "[0,4]")}}`, 4),
    `${B} 22: tensor "w": unknown dtype "F33"; expected "F32" or "F64"`,
  );
  rejects(
    file(`{${T("w", "BF16", "[2]", "[0,4]")}}`, 4),
    `${B} 22: tensor "w": unsupported dtype BF16; gradproof reads F32 and F64 only`,
  );
  rejects(
    file(`{${T("w", "F32", "[2,-1]", "[0,4]")}}`, 4),
    `${B} 36: tensor "w": shape [2,-1] has extent -1; extents must be integers >= 0 (below 2^53)`,
  );
  rejects(
    file(`{${T("w", "F32", "[2.5]", "[0,4]")}}`, 4),
    `${B} 36: tensor "w": shape [2.5] has extent 2.5; extents must be integers >= 0 (below 2^53)`,
  );
  rejects(
    file(`{${T("w", "F32", "[18446744073709551617]", "[0,4]")}}`, 4),
    `${B} 36: tensor "w": shape [18446744073709552000] has extent 18446744073709552000; extents must be integers >= 0 (below 2^53)`,
  );
  rejects(
    file(`{${T("w", "F32", "[65536,65536]", "[0,4]")}}`, 4),
    `${B} 36: tensor "w": shape [65536,65536] has 4294967296 elements, more than a tensor can hold (2^31 - 1)`,
  );
  rejects(
    file(`{${T("w", "F32", "[2]", "[0,8]")}}`, 4),
    `${B} 55: tensor "w": data_offsets [0, 8] run past the data section (4 bytes after the header)`,
  );
  rejects(
    file(`{${T("w", "F32", "[0]", "[4,0]")}}`, 4),
    `${B} 55: tensor "w": data_offsets [4, 0] end before they begin`,
  );
  rejects(
    file(`{${T("w", "F32", "[3]", "[0,8]")}}`, 8),
    `${B} 55: tensor "w": data_offsets [0, 8] hold 8 bytes, but F32 x shape [3] needs 12`,
  );
  rejects(
    file(`{${T("w", "F32", "[1]", "[0,4,8]")}}`, 8),
    `${B} 55: tensor "w": data_offsets [0,4,8] must be [begin, end], two integers >= 0`,
  );
  rejects(
    file(`{${T("a", "F32", "[2]", "[0,8]")},${T("b", "F32", "[2]", "[4,12]")}}`, 12),
    `${B} 108: tensor "b" [4, 12] overlaps tensor "a" (which ends at 8)`,
  );
  rejects(
    file(`{${T("a", "F32", "[1]", "[0,4]")},${T("b", "F32", "[1]", "[8,12]")}}`, 12),
    `${B} 124: a hole of 4 bytes between tensor "a" (ends at 4) and tensor "b" (begins at 8)`,
  );
  rejects(
    file(`{${T("a", "F32", "[1]", "[4,8]")}}`, 8),
    `${B} 64: a hole of 4 bytes between the start of the data section (ends at 0) and tensor "a" (begins at 4)`,
  );
  rejects(
    file(`{${T("a", "F32", "[1]", "[0,4]")}}`, 7),
    `${B} 68: 3 trailing bytes after tensor "a"; the data section must end with the last tensor`,
  );
  rejects(
    file('{"__metadata__":{"step":3}}', 0),
    `${B} 32: metadata "step" is a number; metadata values must be strings`,
  );
  rejects(
    file('{"__metadata__":["a"]}', 0),
    `${B} 24: "__metadata__" is an array; it must map strings to strings`,
  );
  rejects(
    file('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}', 4),
    `${B} 69: tensor "w" has an unknown field "extra"`,
  );
  rejects(
    file('{"w":{"dtype":"F32","shape":[1]}}', 4),
    `${B} 13: tensor "w" has no "data_offsets"`,
  );
});
