import assert from "node:assert/strict";
import { valueAndGrad } from "../../src/autograd/engine.ts";
import {
  conv,
  fc,
  flat,
  getVariant,
  headsOf,
  maxPool,
  modern,
  VARIANTS,
} from "../../src/lenet/model.ts";
import { sgd } from "../../src/lenet/optim.ts";
import { initTrainState, makeTrainStep } from "../../src/lenet/train.ts";
import { countParams, flattenParams, type Params } from "../../src/lenet/params.ts";
import { relu } from "../../src/tensor/activations.ts";
import { conv2dBackward } from "../../src/tensor/conv.ts";
import { crossEntropy } from "../../src/tensor/losses.ts";
import { prngKey, randomNormal } from "../../src/tensor/random.ts";
import { type Tensor, zeros } from "../../src/tensor/tensor.ts";

Deno.test("modern LeNet-5 has 61,706 parameters, layer by layer", () => {
  const p = modern.init(prngKey(0));
  assert.equal(countParams(p), 61_706);
  const shapes = flattenParams(p).map(([path, t]) => `${path} ${t.shape.join("x")}`);
  assert.deepEqual(shapes, [
    "c1.w 6x1x5x5",
    "c1.b 6",
    "c3.w 16x6x5x5",
    "c3.b 16",
    "c5.w 400x120",
    "c5.b 120",
    "f6.w 120x84",
    "f6.b 84",
    "out.w 84x10",
    "out.b 10",
  ]);
  // 156 + 2,416 + 48,120 + 10,164 + 850
  assert.deepEqual(
    ["c1", "c3", "c5", "f6", "out"].map((l) =>
      countParams((p as unknown as Record<string, Params>)[l])
    ),
    [156, 2416, 48120, 10164, 850],
  );
});

Deno.test("modern: forward maps [N,1,28,28] to logits [N,10]; loss = criterion(forward)", () => {
  const p = modern.init(prngKey(1));
  const x = randomNormal(prngKey(2), [3, 1, 28, 28]);
  const z = modern.forward(p, x);
  assert.deepEqual(z.shape, [3, 10]);
  const labels = [1, 7, 3];
  assert.equal(modern.loss(p, x, labels).data[0], crossEntropy(z, labels).data[0]);
  assert.equal(modern.criterion(z, labels).data[0], crossEntropy(z, labels).data[0]);
  // float64 parameters give a float64 forward
  const p64 = modern.init(prngKey(1), { dtype: "float64" });
  const x64 = randomNormal(prngKey(2), [2, 1, 28, 28], { dtype: "float64" });
  assert.equal(modern.forward(p64, x64).dtype, "float64");
});

Deno.test("the layer helpers compose the same network as the ops written out", () => {
  const p = modern.init(prngKey(3));
  const x = randomNormal(prngKey(4), [2, 1, 28, 28]);
  let h = maxPool(2)(relu(conv(p.c1, { padding: 2 })(x)));
  assert.deepEqual(h.shape, [2, 6, 14, 14]);
  h = maxPool(2)(relu(conv(p.c3)(h)));
  assert.deepEqual(h.shape, [2, 16, 5, 5]);
  const z = fc(p.out)(relu(fc(p.f6)(relu(fc(p.c5)(flat(h))))));
  assert.deepEqual(Array.from(z.data), Array.from(modern.forward(p, x).data));
});

Deno.test("init: deterministic per key; He for ReLU layers, Glorot for the logits", () => {
  const a = modern.init(prngKey(5)), b = modern.init(prngKey(5)), c = modern.init(prngKey(6));
  assert.deepEqual(Array.from(a.c5.w.data), Array.from(b.c5.w.data));
  assert.notDeepEqual(Array.from(a.c5.w.data), Array.from(c.c5.w.data));
  // uniform limits: He sqrt(6 / fan_in), Glorot sqrt(6 / (fan_in + fan_out))
  const maxAbs = (d: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < d.length; i++) m = Math.max(m, Math.abs(d[i]));
    return m;
  };
  const he400 = Math.sqrt(6 / 400), glorot = Math.sqrt(6 / 94);
  assert.ok(maxAbs(a.c5.w.data) <= he400 && maxAbs(a.c5.w.data) > 0.95 * he400);
  assert.ok(maxAbs(a.out.w.data) <= glorot && maxAbs(a.out.w.data) > 0.9 * glorot);
  // every bias starts at zero
  for (const [path, t] of flattenParams(a)) {
    if (path.endsWith(".b")) assert.ok(t.data.every((v) => v === 0), path);
  }
  // lecun everywhere: the logits' limit is sqrt(3 / 84)
  const l = modern.init(prngKey(5), { scheme: "lecun" });
  // (narrower than the Glorot draw above, whose largest weight passes 0.9 x 0.253)
  assert.ok(maxAbs(l.out.w.data) <= Math.sqrt(3 / 84));
  assert.ok(maxAbs(l.out.w.data) > 0.9 * Math.sqrt(3 / 84));
  const n = modern.init(prngKey(5), { distribution: "normal" });
  assert.ok(maxAbs(n.c5.w.data) > he400); // normal tails pass the uniform limit
});

Deno.test("gradients flow through the fast ops' custom VJPs (first conv checked by hand)", () => {
  const p = modern.init(prngKey(7), { dtype: "float64" });
  const x = randomNormal(prngKey(8), [2, 1, 28, 28], { dtype: "float64" });
  const labels = [4, 9];
  const [loss, g] = valueAndGrad(modern.loss)(p, x, labels);
  assert.ok(loss.data[0] > 0);
  for (const [path, t] of flattenParams(g)) assert.ok(t.data.some((v) => v !== 0), path);
  // dL/dc1.w from delta at c1's output: recompute that delta by differentiating the rest.
  const z1 = conv(p.c1, { padding: 2 })(x);
  const [, delta] = valueAndGrad((z: Tensor) => {
    let h = maxPool(2)(relu(z));
    h = maxPool(2)(relu(conv(p.c3)(h)));
    return crossEntropy(fc(p.out)(relu(fc(p.f6)(relu(fc(p.c5)(flat(h)))))), labels);
  })(z1);
  const byHand = conv2dBackward(delta, x, p.c1.w, { padding: 2 });
  const got = g.c1.w.data, want = byHand.dw.data;
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-12);
});

Deno.test("variants registry: modern is there; unknown names list the known ones", () => {
  assert.ok(Object.hasOwn(VARIANTS, "modern"));
  const ok = getVariant("modern");
  assert.ok(ok._tag === "Right" && ok.right.name === "modern");
  const bad = getVariant("resnet50");
  assert.ok(bad._tag === "Left");
  assert.match(bad.left, /unknown variant "resnet50"; known: modern, lecun1998, /);
  assert.equal(getVariant("__proto__")._tag, "Left");
  assert.deepEqual(modern.forward(modern.init(prngKey(0)), zeros([1, 1, 28, 28])).shape, [1, 10]);
});

Deno.test("variants registry: the four networks, lecun1998's softmax head, heads checked", () => {
  assert.deepEqual(Object.keys(VARIANTS), [
    "modern",
    "lecun1998",
    "notes-sigmoid",
    "learned-combinations",
  ]);
  for (const [name, v] of Object.entries(VARIANTS)) assert.equal(v.name, name);
  assert.deepEqual(headsOf(VARIANTS.modern), ["softmax"]);
  assert.deepEqual(headsOf(VARIANTS.lecun1998), ["rbf", "softmax"]);
  const rbf = getVariant("lecun1998", null), soft = getVariant("lecun1998", "softmax");
  assert.ok(rbf._tag === "Right" && soft._tag === "Right");
  assert.equal(rbf.right, VARIANTS.lecun1998);
  assert.equal(getVariant("lecun1998", "rbf")._tag === "Right", true);
  assert.equal(countParams(rbf.right.init(prngKey(0))), 60_000);
  assert.equal(countParams(soft.right.init(prngKey(0))), 60_850);
  assert.equal(getVariant("modern", "softmax")._tag, "Right");
  const bad = getVariant("modern", "rbf");
  assert.ok(bad._tag === "Left");
  assert.equal(bad.left, `variant "modern" has no head "rbf"; its heads: softmax`);
  assert.equal(getVariant("lecun1998", "__proto__")._tag, "Left");
  // Training defaults are data on the variant; modern keeps the plain ones.
  assert.equal(VARIANTS.modern.defaults, undefined);
  assert.deepEqual(VARIANTS["notes-sigmoid"].defaults, {
    optimizer: "sgd",
    lr: 1,
    batchSize: 50,
    schedule: "constant",
    weightDecay: 0,
  });
});

Deno.test("every variant's stages fold to its forward pass, bit for bit, and its loss is the criterion's", () => {
  const x = randomNormal(prngKey(5), [3, 1, 28, 28]);
  const labels = [1, 7, 3];
  const all = Object.values(VARIANTS).flatMap((v) => [v, ...Object.values(v.heads ?? {})]);
  assert.equal(all.length, 5);
  for (const v of all) {
    const p = v.init(prngKey(1));
    let h = x;
    for (const [, apply] of v.stages(p)) h = apply(h);
    const z = v.forward(p, x);
    assert.deepEqual(z.shape, [3, 10], v.name);
    assert.deepEqual(Array.from(h.data), Array.from(z.data), `${v.name} ${v.head}`);
    assert.equal(v.loss(p, x, labels).data[0], v.criterion(z, labels).data[0]);
  }
});

Deno.test("learned-combinations: its penalty is the entropy term; the step adds it to the loss", () => {
  const v = VARIANTS["learned-combinations"];
  const p = v.init(prngKey(0));
  const pen = v.penalty!(p)!;
  // uniform alpha at init: lambda * 16 * log 6
  assert.ok(Math.abs(pen.data[0] - 0.01 * 16 * Math.log(6)) < 1e-6);
  const x = randomNormal(prngKey(2), [2, 1, 28, 28]);
  const step = makeTrainStep(v, sgd({ lr: 0 }));
  const r = step(initTrainState(v, sgd({ lr: 0 }), 0), { x, labels: new Uint8Array([4, 2]) });
  assert.ok(r._tag === "Right");
  const s0 = initTrainState(v, sgd({ lr: 0 }), 0);
  const want = v.criterion(v.forward(s0.params, x), [4, 2]).data[0] +
    v.penalty!(s0.params)!.data[0];
  assert.ok(Math.abs(r.right.report.loss - want) < 1e-6, `${r.right.report.loss} vs ${want}`);
  assert.equal(VARIANTS.modern.penalty, undefined);
});
