/**
 * Training checkpoints: parameters, optimizer state and everything needed to resume exactly,
 * in one safetensors file written atomically.
 *
 * Tensor names: `param/<path>` for each parameter (`param/c1.w`) and `opt/<moment>/<path>` for
 * each optimizer moment (`opt/m/c1.w`, `opt/v/c1.w`, `opt/velocity/f6.b`). Metadata (all
 * strings): `format` (`gradproof-checkpoint/1`), `variant`, `optimizer`, `seed`, `step`
 * (optimizer updates applied), `epoch` (epochs completed), `batch` (batches done in the epoch
 * under way), `key` (the PRNG key to continue with, two 32-bit words in hex, `"a1b2c3d4:0000002a"`)
 * and any extra strings the trainer adds (its configuration, say).
 *
 * Writing goes to `<file>.tmp-<random>` in the same directory, is flushed to disk (`fsync`),
 * then renamed over `<file>`: a crash at any moment leaves either the old file or the new one
 * under the final name, never a partial file. On failure the temporary file is removed.
 *
 * @module
 */

import { either as E, taskEither as TE } from "npm:fp-ts@2.16.11";
import { pipe } from "npm:fp-ts@2.16.11/lib/function.js";
import { TensorError } from "../tensor/errors.ts";
import type { PRNGKey } from "../tensor/random.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { OptimizerState } from "./optim.ts";
import { flattenParams, type Params, paramsMismatch, rebuildParams } from "./params.ts";
import { CheckpointError, decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
import type { Either, TaskEither } from "../tensor/result.ts";

/** The `format` metadata value this module writes and reads. */
export const CHECKPOINT_FORMAT = "gradproof-checkpoint/1";

/** Where a training run stands, stored as the checkpoint's metadata. */
export interface CheckpointMeta {
  /** Model variant, e.g. `"modern"`. */
  readonly variant: string;
  /** Optimizer name, e.g. `"adam"`. */
  readonly optimizer: string;
  /** The run's seed. */
  readonly seed: number;
  /** Optimizer updates applied so far. */
  readonly step: number;
  /** Epochs completed. */
  readonly epoch: number;
  /** Batches done in the epoch under way (0 at an epoch boundary). */
  readonly batch: number;
  /** The PRNG key to continue with, if the run keeps one. */
  readonly key: PRNGKey | null;
  /** Further strings the trainer wants back on resume (configuration, schedule...). */
  readonly extra: Readonly<Record<string, string>>;
}

/** A training checkpoint: parameters, optimizer state and metadata. */
export interface Checkpoint<P extends Params> {
  /** The model's parameters. */
  readonly params: P;
  /** The optimizer's state (its `step` equals `meta.step`). */
  readonly optState: OptimizerState<P>;
  /** Where the run stands. */
  readonly meta: CheckpointMeta;
}

const RESERVED = ["format", "variant", "optimizer", "seed", "step", "epoch", "batch", "key"];

function metaToStrings(meta: CheckpointMeta): Record<string, string> {
  for (const k of Object.keys(meta.extra)) {
    if (RESERVED.includes(k)) {
      throw new TensorError("encodeCheckpoint", `extra metadata key "${k}" is reserved; rename it`);
    }
  }
  const out: Record<string, string> = {
    ...meta.extra,
    format: CHECKPOINT_FORMAT,
    variant: meta.variant,
    optimizer: meta.optimizer,
    seed: String(meta.seed),
    step: String(meta.step),
    epoch: String(meta.epoch),
    batch: String(meta.batch),
  };
  if (meta.key !== null) {
    out.key = meta.key.words.map((w) => (w >>> 0).toString(16).padStart(8, "0")).join(":");
  }
  return out;
}

/** Reads the metadata of a decoded checkpoint file, checking every reserved field. */
export function parseCheckpointMeta(
  metadata: Readonly<Record<string, string>>,
  file: string,
): Either<CheckpointError, CheckpointMeta> {
  const fail = (why: string) => E.left(new CheckpointError(file, null, why));
  if (metadata.format !== CHECKPOINT_FORMAT) {
    return fail(
      `metadata "format" is ${JSON.stringify(metadata.format ?? null)}, expected ` +
        `"${CHECKPOINT_FORMAT}"; is this a gradproof checkpoint?`,
    );
  }
  const ints: Record<string, number> = {};
  for (const k of ["seed", "step", "epoch", "batch"]) {
    const s = metadata[k];
    const ok = s !== undefined && /^-?\d+$/.test(s) && Number.isSafeInteger(Number(s)) &&
      (k === "seed" || Number(s) >= 0);
    if (!ok) {
      const want = k === "seed" ? "an integer" : "an integer >= 0";
      return fail(`metadata "${k}" is ${JSON.stringify(s ?? null)}; expected ${want}`);
    }
    ints[k] = Number(s);
  }
  for (const k of ["variant", "optimizer"]) {
    if (metadata[k] === undefined) return fail(`metadata has no "${k}"`);
  }
  let key: PRNGKey | null = null;
  if (metadata.key !== undefined) {
    const m = /^([0-9a-f]{8}):([0-9a-f]{8})$/.exec(metadata.key);
    if (m === null) {
      return fail(
        `metadata "key" is ${JSON.stringify(metadata.key)}; expected "xxxxxxxx:xxxxxxxx"`,
      );
    }
    key = { words: [parseInt(m[1], 16), parseInt(m[2], 16)] };
  }
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (!RESERVED.includes(k)) extra[k] = v;
  return E.right({
    variant: metadata.variant,
    optimizer: metadata.optimizer,
    seed: ints.seed,
    step: ints.step,
    epoch: ints.epoch,
    batch: ints.batch,
    key,
    extra,
  });
}

/**
 * A checkpoint as safetensors bytes.
 *
 * @example
 * ```ts
 * import { encodeCheckpoint, sgd, zeros } from "./mod.ts";
 * const params = { f: { w: zeros([2, 2]), b: zeros([2]) } };
 * const bytes = encodeCheckpoint({
 *   params,
 *   optState: sgd({ lr: 0.1 }).init(params),
 *   meta: { variant: "tiny", optimizer: "sgd", seed: 0, step: 0, epoch: 0, batch: 0, key: null, extra: {} },
 * });
 * ```
 */
export function encodeCheckpoint<P extends Params>(ckpt: Checkpoint<P>): Uint8Array {
  const named: [string, Tensor][] = flattenParams(ckpt.params).map(([p, t]) => [`param/${p}`, t]);
  for (const [name, tree] of Object.entries(ckpt.optState.moments)) {
    for (const [p, t] of flattenParams(tree)) named.push([`opt/${name}/${p}`, t]);
  }
  return encodeSafetensors(named, metaToStrings({ ...ckpt.meta, step: ckpt.optState.step }));
}

/**
 * The metadata of a checkpoint file without matching its tensors to a model (e.g. to learn the
 * variant before building the model's template).
 */
export function peekCheckpointMeta(
  bytes: Uint8Array,
  file: string,
): Either<CheckpointError, CheckpointMeta> {
  return pipe(
    decodeSafetensors(bytes, file),
    E.chain((c) => parseCheckpointMeta(c.metadata, file)),
  );
}

/**
 * Decodes a checkpoint and lays its tensors out like `template` (the model's parameters, e.g.
 * freshly initialized), checking that every parameter is present with the template's shape and
 * dtype, that each moment tree is complete, and that nothing else is in the file.
 * `momentNames`, when given, are the moments the optimizer expects (`["m", "v"]` for Adam).
 *
 * @example
 * ```ts
 * import { decodeCheckpoint, encodeCheckpoint, momentum, zeros } from "./mod.ts";
 * const params = { w: zeros([3]) };
 * const opt = momentum({ lr: 0.1 });
 * const meta = { variant: "v", optimizer: "momentum", seed: 1, step: 0, epoch: 0, batch: 0, key: null, extra: {} };
 * const bytes = encodeCheckpoint({ params, optState: opt.init(params), meta });
 * const back = decodeCheckpoint(bytes, "mem", params, opt.momentNames);
 * console.log(back._tag); // "Right"
 * ```
 */
export function decodeCheckpoint<P extends Params>(
  bytes: Uint8Array,
  file: string,
  template: P,
  momentNames?: readonly string[],
): Either<CheckpointError, Checkpoint<P>> {
  return pipe(
    decodeSafetensors(bytes, file),
    E.chain((contents) =>
      pipe(
        parseCheckpointMeta(contents.metadata, file),
        E.chain((meta) => restore(contents.tensors, meta, file, template, momentNames)),
      )
    ),
  );
}

function restore<P extends Params>(
  tensors: ReadonlyMap<string, Tensor>,
  meta: CheckpointMeta,
  file: string,
  template: P,
  momentNames: readonly string[] | undefined,
): Either<CheckpointError, Checkpoint<P>> {
  const fail = (why: string) => E.left(new CheckpointError(file, null, why));
  const used = new Set<string>();
  const tree = (prefix: string, what: string): Either<CheckpointError, P> => {
    const leaves: Tensor[] = [];
    for (const [path, t] of flattenParams(template)) {
      const name = `${prefix}${path}`;
      const got = tensors.get(name);
      if (got === undefined) return fail(`${what}: tensor "${name}" is missing`);
      const m = paramsMismatch(t, got, ["the model expects", "the file has"]);
      if (m !== null) return fail(`${what}: tensor "${name}": ${m.replace(/^at the root: /, "")}`);
      used.add(name);
      leaves.push(got);
    }
    return E.right(rebuildParams(template, leaves));
  };
  const params = tree("param/", "parameters");
  if (E.isLeft(params)) return params;
  const found = new Set<string>();
  for (const name of tensors.keys()) {
    const m = /^opt\/([^/]+)\//.exec(name);
    if (m !== null) found.add(m[1]);
  }
  const names = momentNames ?? [...found];
  if (momentNames !== undefined) {
    const unexpected = [...found].filter((n) => !momentNames.includes(n));
    if (unexpected.length > 0) {
      return fail(
        `optimizer state has moments [${unexpected.join(", ")}] that this optimizer does not ` +
          `use (it expects [${momentNames.join(", ")}]); the file was written by ` +
          `"${meta.optimizer}": resume with that optimizer`,
      );
    }
  }
  const moments: Record<string, P> = {};
  for (const name of names) {
    const m = tree(`opt/${name}/`, `optimizer moment "${name}"`);
    if (E.isLeft(m)) return m;
    moments[name] = m.right;
  }
  const stray = [...tensors.keys()].filter((name) => !used.has(name)).sort();
  if (stray.length > 0) {
    const shown = stray.slice(0, 3).map((name) => `"${name}"`).join(", ");
    const more = stray.length > 3 ? ` and ${stray.length - 3} more` : "";
    return fail(
      `${stray.length === 1 ? "tensor" : `${stray.length} tensors`} ${shown}${more} ` +
        `${stray.length === 1 ? "does" : "do"} not belong to this model or optimizer`,
    );
  }
  return E.right({
    params: params.right,
    optState: Object.freeze({ step: meta.step, moments: Object.freeze(moments) }),
    meta,
  });
}

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function randomSuffix(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function dirOf(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/**
 * Writes `bytes` to `path` atomically: to `<path>.tmp-<random>` in the same directory, flushed
 * with fsync, then renamed over `path`. On any failure the temporary file is removed and `path`
 * keeps its previous contents (or stays absent).
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./mod.ts";
 * const result = await writeFileAtomic("/tmp/example.bin", new Uint8Array([1, 2, 3]))();
 * console.log(result._tag); // "Right"
 * ```
 */
export function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
): TaskEither<CheckpointError, void> {
  return TE.tryCatch(
    async () => {
      const tmp = `${path}.tmp-${randomSuffix()}`;
      let file: Deno.FsFile | undefined;
      let created = false;
      try {
        file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o644 });
        created = true;
        for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
        await file.sync(); // the data must be on disk before the name points at it
        file.close();
        file = undefined;
        await Deno.rename(tmp, path);
      } catch (e) {
        try {
          file?.close();
        } catch { /* already closed */ }
        if (created) await Deno.remove(tmp).catch(() => {});
        throw e;
      }
      // Best effort: persist the rename itself (directory fsync; not possible everywhere).
      try {
        const dir = await Deno.open(dirOf(path), { read: true });
        try {
          await dir.sync();
        } finally {
          dir.close();
        }
      } catch { /* e.g. Windows cannot open directories; the rename is still atomic */ }
    },
    (e) => new CheckpointError(path, null, `cannot write the file: ${describeError(e)}`),
  );
}

/**
 * Reads a whole file as bytes, failing with a {@link CheckpointError}.
 *
 * @example
 * ```ts
 * import { readFileBytes } from "./mod.ts";
 * const r = await readFileBytes("/no/such/file")();
 * console.log(r._tag); // "Left"
 * ```
 */
export function readFileBytes(path: string): TaskEither<CheckpointError, Uint8Array> {
  return TE.tryCatch(
    () => Deno.readFile(path),
    (e) => new CheckpointError(path, null, `cannot read the file: ${describeError(e)}`),
  );
}

/**
 * Saves a checkpoint atomically (see {@link writeFileAtomic}).
 *
 * @example
 * ```ts
 * import { adam, saveCheckpoint, zeros } from "./mod.ts";
 * const params = { w: zeros([2]) };
 * const opt = adam({ lr: 1e-3 });
 * const meta = { variant: "v", optimizer: "adam", seed: 0, step: 0, epoch: 0, batch: 0, key: null, extra: {} };
 * await saveCheckpoint("/tmp/example.safetensors", { params, optState: opt.init(params), meta })();
 * ```
 */
export function saveCheckpoint<P extends Params>(
  path: string,
  ckpt: Checkpoint<P>,
): TaskEither<CheckpointError, void> {
  return pipe(
    TE.fromEither(E.tryCatch(
      () => encodeCheckpoint(ckpt),
      (e) => new CheckpointError(path, null, `cannot encode the checkpoint: ${describeError(e)}`),
    )),
    TE.chain((bytes) => writeFileAtomic(path, bytes)),
  );
}

/**
 * Loads a checkpoint file and lays it out like `template` (see {@link decodeCheckpoint}).
 *
 * @example
 * ```ts
 * import { loadCheckpoint, zeros } from "./mod.ts";
 * const r = await loadCheckpoint("/tmp/example.safetensors", { w: zeros([2]) }, ["m", "v"])();
 * if (r._tag === "Left") console.error(r.left.message);
 * ```
 */
export function loadCheckpoint<P extends Params>(
  path: string,
  template: P,
  momentNames?: readonly string[],
): TaskEither<CheckpointError, Checkpoint<P>> {
  return pipe(
    readFileBytes(path),
    TE.chainEitherK((bytes) => decodeCheckpoint(bytes, path, template, momentNames)),
  );
}
