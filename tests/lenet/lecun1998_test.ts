import assert from "node:assert/strict";
import {
  adam,
  countParams,
  formatLayerCounts,
  lecun1998Counts,
  lecun1998Criterion,
  lecun1998Forward,
  lecun1998Init,
  LECUN_C3_TABLE,
  LECUN_CODES,
  LECUN_RBF_J,
  lecunInput,
  neg,
  prngKey,
  randomNormal,
  rbfLoss,
  tensor,
} from "../../mod.ts";
import { shortTrain } from "./short_train.ts";

/** Section II-B of the paper: trainable parameters and connections per layer. */
const PAPER = {
  C1: [156, 122_304],
  S2: [12, 5_880],
  C3: [1_516, 151_600],
  S4: [32, 2_000],
  C5: [48_120, 48_120],
  F6: [10_164, 10_164],
} as const;

Deno.test("parameters and connections per layer match the paper's figures", () => {
  for (const head of ["rbf", "softmax"] as const) {
    const p = lecun1998Init(prngKey(0), { head });
    const rows = lecun1998Counts(p);
    assert.deepEqual(rows.map((r) => r.layer), ["C1", "S2", "C3", "S4", "C5", "F6", "OUTPUT"]);
    for (const r of rows.slice(0, 6)) {
      assert.deepEqual([r.params, r.connections], PAPER[r.layer as keyof typeof PAPER], r.layer);
      assert.deepEqual(
        [r.paper!.params, r.paper!.connections],
        PAPER[r.layer as keyof typeof PAPER],
      );
    }
    const out = rows[6];
    assert.deepEqual(
      [out.params, out.connections],
      head === "rbf" ? [0, 840] : [850, 850],
    );
    // The table's parameter column is the parameter tree's size.
    assert.equal(rows.reduce((s, r) => s + r.params, 0), countParams(p));
  }
  assert.equal(countParams(lecun1998Init(prngKey(0))), 60_000);
  const text = formatLayerCounts(lecun1998Counts(lecun1998Init(prngKey(0))));
  assert.match(text, /^C3 .*1,516 +151,600 +1,516 +151,600$/m);
  assert.match(text, /^OUTPUT .* 0 +840 +- +-$/m);
});

Deno.test("initialization: the paper's +-2.4 / fan-in, C3 per output map, biases 0", () => {
  const p = lecun1998Init(prngKey(3));
  const maxAbs = (d: ArrayLike<number>) => Math.max(...Array.from(d, Math.abs));
  assert.ok(maxAbs(p.c1.w.data) <= 2.4 / 25 && maxAbs(p.c1.w.data) > 0.8 * 2.4 / 25);
  assert.ok(maxAbs(p.s2.beta.data) <= 2.4 / 4);
  assert.ok(maxAbs(p.c5.w.data) <= 2.4 / 400);
  let at = 0;
  for (const row of LECUN_C3_TABLE) {
    const n = row.length * 25;
    assert.ok(maxAbs(p.c3.w.data.subarray(at, at + n)) <= 2.4 / n, `fan-in ${n}`);
    at += n;
  }
  for (const b of [p.c1.b, p.s2.b, p.c3.b, p.s4.b, p.c5.b, p.f6.b]) {
    assert.ok(b.data.every((v) => v === 0));
  }
});

Deno.test("input: 28x28 padded to 32x32, background -0.1, foreground 1.175", () => {
  const std = 0.3081, mean = 0.1307;
  const pixels = [0, 1, 0.5].map((p) => (p - mean) / std);
  const x = tensor([[[[pixels[0], pixels[1]], [pixels[2], pixels[0]]]]]);
  const y = lecunInput(x);
  assert.deepEqual(y.shape, [1, 1, 6, 6]);
  const at = (r: number, c: number) => y.data[r * 6 + c];
  assert.ok(Math.abs(at(0, 0) - -0.1) < 1e-7 && Math.abs(at(5, 5) - -0.1) < 1e-7);
  assert.ok(Math.abs(at(2, 2) - -0.1) < 1e-6, "p = 0 is background");
  assert.ok(Math.abs(at(2, 3) - 1.175) < 1e-6, "p = 1 is foreground");
  assert.ok(Math.abs(at(3, 2) - (-0.1 + 1.275 * 0.5)) < 1e-6);
});

Deno.test("fixed RBF codes: +-1, seeded, well separated", () => {
  assert.deepEqual(LECUN_CODES.shape, [10, 84]);
  assert.ok(LECUN_CODES.data.every((v) => v === 1 || v === -1));
  let minDistance = Infinity;
  for (let a = 0; a < 10; a++) {
    for (let b = a + 1; b < 10; b++) {
      let d = 0;
      for (let j = 0; j < 84; j++) {
        if (LECUN_CODES.data[a * 84 + j] !== LECUN_CODES.data[b * 84 + j]) d++;
      }
      minDistance = Math.min(minDistance, d);
    }
  }
  assert.equal(minDistance, 27); // squared distance >= 108 between any two codes
});

Deno.test("forward shapes and scores for both heads, float32 and float64", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const x = randomNormal(prngKey(1), [3, 1, 28, 28], { dtype });
    const rbfScores = lecun1998Forward(lecun1998Init(prngKey(0), { dtype }), x);
    assert.deepEqual([rbfScores.shape, rbfScores.dtype], [[3, 10], dtype]);
    // scores are negated squared distances from F6 (in (-1.7159, 1.7159)^84) to +-1 codes
    assert.ok(rbfScores.data.every((v) => v <= 0 && v > -84 * 2.7159 ** 2));
    const logits = lecun1998Forward(lecun1998Init(prngKey(0), { dtype, head: "softmax" }), x);
    assert.deepEqual([logits.shape, logits.dtype], [[3, 10], dtype]);
  }
  const s = tensor([[-1, -100, -3]], { dtype: "float64" });
  assert.equal(
    lecun1998Criterion("rbf")(s, [2]).data[0],
    rbfLoss(neg(s), [2], { j: LECUN_RBF_J }).data[0],
  );
});

Deno.test("a short training (RBF head, eq. 9) gets well above chance on held-out digits", async () => {
  const r = await shortTrain(
    {
      params: lecun1998Init(prngKey(0)),
      forward: lecun1998Forward,
      criterion: lecun1998Criterion("rbf"),
    },
    adam({ lr: 3e-3 }),
  );
  assert.ok(r.before.accuracy < 0.25, `before ${r.before.accuracy}`);
  assert.ok(r.after.loss < 0.6 * r.before.loss, `loss ${r.before.loss} -> ${r.after.loss}`);
  assert.ok(r.after.accuracy > 0.6, `accuracy ${r.after.accuracy}`);
});

Deno.test("a short training (softmax head) gets well above chance on held-out digits", async () => {
  const r = await shortTrain(
    {
      params: lecun1998Init(prngKey(0), { head: "softmax" }),
      forward: lecun1998Forward,
      criterion: lecun1998Criterion("softmax"),
    },
    adam({ lr: 3e-3 }),
  );
  assert.ok(r.after.loss < 0.6 * r.before.loss, `loss ${r.before.loss} -> ${r.after.loss}`);
  assert.ok(r.after.accuracy > 0.6, `accuracy ${r.after.accuracy}`);
});
