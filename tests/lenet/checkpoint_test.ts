import assert from "node:assert/strict";
import {
  type Checkpoint,
  type CheckpointMeta,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  peekCheckpointMeta,
  saveCheckpoint,
  writeFileAtomic,
} from "../../src/lenet/checkpoint.ts";
import { adam, momentum } from "../../src/lenet/optim.ts";
import { decodeSafetensors, encodeSafetensors } from "../../src/lenet/safetensors.ts";
import { prngKey, randomNormal, split } from "../../src/tensor/random.ts";
import { tensor, zeros } from "../../src/tensor/tensor.ts";

const model = (seed: number) => {
  const [a, b] = split(prngKey(seed));
  return {
    c1: { w: randomNormal(a, [6, 1, 5, 5]), b: zeros([6]) },
    f6: { w: randomNormal(b, [12, 10]), b: zeros([10]) },
  };
};
type Model = ReturnType<typeof model>;

const META: CheckpointMeta = {
  variant: "modern",
  optimizer: "adam",
  seed: 42,
  step: 0,
  epoch: 1,
  batch: 17,
  key: { words: [0xdeadbeef, 42] },
  extra: { config: '{"lr":0.001}', schedule: "warmup:500+cosine" },
};

/** Adam state after two real steps, so the moments are not zeros. */
function trained(): Checkpoint<Model> {
  const opt = adam({ lr: 1e-3 });
  let params = model(1), state = opt.init(params);
  for (let i = 0; i < 2; i++) ({ params, state } = opt.step(params, model(10 + i), state));
  return { params, optState: state, meta: { ...META, step: state.step } };
}

Deno.test("checkpoint round trip: params, Adam moments, step and resume metadata", () => {
  const ckpt = trained();
  const bytes = encodeCheckpoint(ckpt);
  const raw = decodeSafetensors(bytes);
  assert.ok(raw._tag === "Right");
  assert.deepEqual([...raw.right.tensors.keys()].sort(), [
    "opt/m/c1.b",
    "opt/m/c1.w",
    "opt/m/f6.b",
    "opt/m/f6.w",
    "opt/v/c1.b",
    "opt/v/c1.w",
    "opt/v/f6.b",
    "opt/v/f6.w",
    "param/c1.b",
    "param/c1.w",
    "param/f6.b",
    "param/f6.w",
  ]);
  assert.deepEqual(raw.right.metadata, {
    batch: "17",
    config: '{"lr":0.001}',
    epoch: "1",
    format: "gradproof-checkpoint/1",
    key: "deadbeef:0000002a",
    optimizer: "adam",
    schedule: "warmup:500+cosine",
    seed: "42",
    step: "2",
    variant: "modern",
  });
  const back = decodeCheckpoint(bytes, "ck", model(99), ["m", "v"]);
  assert.ok(back._tag === "Right");
  assert.deepEqual(back.right.meta, { ...META, step: 2 });
  assert.equal(back.right.optState.step, 2);
  assert.deepEqual(back.right.params.f6.w.data, ckpt.params.f6.w.data);
  assert.deepEqual(back.right.optState.moments.v.c1.w.data, ckpt.optState.moments.v.c1.w.data);
  // Resuming from the decoded state continues bit for bit like the uninterrupted run.
  const opt = adam({ lr: 1e-3 });
  const a = opt.step(ckpt.params, model(12), ckpt.optState);
  const b = opt.step(back.right.params, model(12), back.right.optState);
  assert.deepEqual(a.params.c1.w.data, b.params.c1.w.data);
  assert.deepEqual(peekCheckpointMeta(bytes, "ck"), { _tag: "Right", right: { ...META, step: 2 } });
});

Deno.test("decodeCheckpoint rejects files that do not fit the model or optimizer", () => {
  const bytes = encodeCheckpoint(trained());
  const message = (
    r: ReturnType<typeof decodeCheckpoint>,
  ) => (r._tag === "Left" ? r.left.message : "accepted");
  const other = { ...model(1), f6: { w: zeros([12, 11]), b: zeros([10]) } };
  assert.equal(
    message(decodeCheckpoint(bytes, "ck", other)),
    'ck: parameters: tensor "param/f6.w": the model expects shape [12, 11], the file has [12, 10]',
  );
  const bigger = { ...model(1), extra: { w: zeros([2]) } };
  assert.equal(
    message(decodeCheckpoint(bytes, "ck", bigger)),
    'ck: parameters: tensor "param/extra.w" is missing',
  );
  const { f6: _, ...smaller } = model(1);
  assert.equal(
    message(decodeCheckpoint(bytes, "ck", smaller as unknown as Model)),
    'ck: 6 tensors "opt/m/f6.b", "opt/m/f6.w", "opt/v/f6.b" and 3 more do not belong to this ' +
      "model or optimizer",
  );
  assert.equal(
    message(decodeCheckpoint(bytes, "ck", model(1), momentum({ lr: 0.1 }).momentNames)),
    "ck: optimizer state has moments [m, v] that this optimizer does not use (it expects " +
      '[velocity]); the file was written by "adam": resume with that optimizer',
  );
  const plain = encodeSafetensors([["param/c1.w", zeros([6, 1, 5, 5])]], { step: "1" });
  assert.equal(
    message(decodeCheckpoint(plain, "x.safetensors", model(1))),
    'x.safetensors: metadata "format" is null, expected "gradproof-checkpoint/1"; is this a gradproof checkpoint?',
  );
  const noSeed = encodeSafetensors([], { format: "gradproof-checkpoint/1", step: "1" });
  assert.equal(
    message(decodeCheckpoint(noSeed, "s", {})),
    's: metadata "seed" is null; expected an integer',
  );
  const badStep = encodeSafetensors([], {
    format: "gradproof-checkpoint/1",
    seed: "-7",
    step: "-1",
  });
  assert.equal(
    message(decodeCheckpoint(badStep, "s", {})),
    's: metadata "step" is "-1"; expected an integer >= 0',
  );
  const badKey = encodeSafetensors([], {
    ...{ format: "gradproof-checkpoint/1", variant: "v", optimizer: "sgd" },
    ...{ seed: "1", step: "0", epoch: "0", batch: "0", key: "12" },
  });
  assert.equal(
    message(decodeCheckpoint(badKey, "s", {})),
    's: metadata "key" is "12"; expected "xxxxxxxx:xxxxxxxx"',
  );
  const partialMoments = encodeSafetensors(
    [["param/w", tensor([1])], ["opt/velocity/w", tensor([1])], ["opt/velocity/b", tensor([1])]],
    {
      format: "gradproof-checkpoint/1",
      variant: "v",
      optimizer: "momentum",
      seed: "1",
      step: "1",
      epoch: "0",
      batch: "1",
    },
  );
  assert.equal(
    message(decodeCheckpoint(partialMoments, "p", { w: tensor([0]) })),
    'p: tensor "opt/velocity/b" does not belong to this model or optimizer',
  );
});

Deno.test("saveCheckpoint + loadCheckpoint through a file; no temporary file left", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/ckpt.safetensors`;
    const ckpt = trained();
    assert.deepEqual(await saveCheckpoint(path, ckpt)(), { _tag: "Right", right: undefined });
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ckpt.safetensors"]);
    const back = await loadCheckpoint(path, model(5), ["m", "v"])();
    assert.ok(back._tag === "Right");
    assert.deepEqual(back.right.params.c1.w.data, ckpt.params.c1.w.data);
    const missing = await loadCheckpoint(`${dir}/nope.safetensors`, model(5))();
    assert.ok(missing._tag === "Left");
    assert.match(missing.left.message, /nope.safetensors: cannot read the file: No such file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("atomic write: a missing directory fails cleanly and creates nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await writeFileAtomic(`${dir}/absent/ck.safetensors`, new Uint8Array(10))();
    assert.ok(r._tag === "Left");
    assert.match(
      r.left.message,
      /absent\/ck.safetensors: cannot write the file: No such file or directory/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("atomic write: a failed rename removes the temporary file and keeps the target", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The target is a non-empty directory: the temp file is written, then the rename fails.
    await Deno.mkdir(`${dir}/ck.safetensors`);
    await Deno.writeTextFile(`${dir}/ck.safetensors/keep`, "x");
    const r = await writeFileAtomic(`${dir}/ck.safetensors`, new Uint8Array(1000))();
    assert.ok(r._tag === "Left");
    assert.match(r.left.message, /ck.safetensors: cannot write the file: /);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ck.safetensors"]);
    assert.equal(await Deno.readTextFile(`${dir}/ck.safetensors/keep`), "x");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("atomic write: a write failing midway (file size limit) leaves the old file intact", async () => {
  // A child process whose file size limit (ulimit -f, 4 KiB) makes the 100 kB write fail with
  // EFBIG halfway through (SIGXFSZ ignored so the write returns an error instead of killing it).
  const dir = await Deno.makeTempDir();
  try {
    const target = `${dir}/ck.safetensors`;
    await Deno.writeTextFile(target, "previous good checkpoint");
    const module = new URL("../../src/lenet/checkpoint.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/child.ts`,
      `import { writeFileAtomic } from ${JSON.stringify(module)};\n` +
        `const r = await writeFileAtomic(Deno.args[0], new Uint8Array(100_000).fill(7))();\n` +
        `console.log(r._tag === "Left" ? r.left.message : "written");\n`,
    );
    const deno = Deno.execPath();
    const script = `trap '' XFSZ; ulimit -f 4; exec "$0" run --quiet --allow-read --allow-write ` +
      `child.ts ck.safetensors`;
    const out = await new Deno.Command("bash", { args: ["-c", script, deno], cwd: dir }).output();
    const stdout = new TextDecoder().decode(out.stdout).trim();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(stdout, "ck.safetensors: cannot write the file: File too large (os error 27)");
    assert.equal(await Deno.readTextFile(target), "previous good checkpoint");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "child.ts",
      "ck.safetensors",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SGD checkpoints carry no moments and no key when the run has none", () => {
  const params = { w: tensor([1, 2], { dtype: "float64" }) };
  const meta: CheckpointMeta = { ...META, optimizer: "sgd", key: null, extra: {}, step: 5 };
  const bytes = encodeCheckpoint({ params, optState: { step: 5, moments: {} }, meta });
  const back = decodeCheckpoint(bytes, "sgd.safetensors", params, []);
  assert.ok(back._tag === "Right");
  assert.deepEqual(back.right.optState, { step: 5, moments: {} });
  assert.deepEqual(back.right.meta, meta);
  assert.equal(back.right.params.w.dtype, "float64");
  assert.throws(
    () =>
      encodeCheckpoint({
        params,
        optState: { step: 0, moments: {} },
        meta: { ...meta, extra: { step: "9" } },
      }),
    /encodeCheckpoint: extra metadata key "step" is reserved; rename it/,
  );
});
