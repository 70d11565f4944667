/**
 * Per-step costs of the training support: optimizer updates over the modern LeNet-5's 61,706
 * parameters, checkpoint encode/decode with Adam state, and predict's image path.
 * Run: deno task bench
 */
import { decodeCheckpoint, encodeCheckpoint } from "../src/lenet/checkpoint.ts";
import { heUniform, zeroBias } from "../src/lenet/init.ts";
import { preprocessDigit } from "../src/lenet/image.ts";
import { adam, momentum, type Optimizer, sgd } from "../src/lenet/optim.ts";
import { decodePng, encodePng } from "../src/lenet/png.ts";
import { prngKey, randomUniform, split } from "../src/tensor/random.ts";
import { Tensor } from "../src/tensor/tensor.ts";

const keys = split(prngKey(0), 10);
const params = {
  c1: { w: heUniform(keys[0], [6, 1, 5, 5]), b: zeroBias(6) },
  c3: { w: heUniform(keys[1], [16, 6, 5, 5]), b: zeroBias(16) },
  f5: { w: heUniform(keys[2], [400, 120]), b: zeroBias(120) },
  f6: { w: heUniform(keys[3], [120, 84]), b: zeroBias(84) },
  out: { w: heUniform(keys[4], [84, 10]), b: zeroBias(10) },
};
const grads = {
  c1: { w: heUniform(keys[5], [6, 1, 5, 5]), b: zeroBias(6) },
  c3: { w: heUniform(keys[6], [16, 6, 5, 5]), b: zeroBias(16) },
  f5: { w: heUniform(keys[7], [400, 120]), b: zeroBias(120) },
  f6: { w: heUniform(keys[8], [120, 84]), b: zeroBias(84) },
  out: { w: heUniform(keys[9], [84, 10]), b: zeroBias(10) },
};

const optimizers: Optimizer[] = [
  sgd({ lr: 0.01 }),
  momentum({ lr: 0.01, momentum: 0.9, nesterov: true }),
  adam({ lr: 1e-3 }),
];
for (const opt of optimizers) {
  const state = opt.step(params, grads, opt.init(params)).state;
  Deno.bench(`${opt.name} step, LeNet-5 (61,706 params)`, { group: "optimizer" }, () => {
    opt.step(params, grads, state);
  });
}

const adamOpt = adam({ lr: 1e-3 });
const ckpt = {
  params,
  optState: adamOpt.step(params, grads, adamOpt.init(params)).state,
  meta: {
    variant: "modern",
    optimizer: "adam",
    seed: 0,
    step: 1,
    epoch: 0,
    batch: 1,
    key: null,
    extra: {},
  },
};
const bytes = encodeCheckpoint(ckpt);
Deno.bench("encode checkpoint (params + Adam m, v)", { group: "checkpoint" }, () => {
  encodeCheckpoint(ckpt);
});
Deno.bench("decode + validate checkpoint", { group: "checkpoint" }, () => {
  decodeCheckpoint(bytes, "bench", params, ["m", "v"]);
});

const photo = randomUniform(prngKey(1), [400, 300]);
const digit = new Tensor(new Float32Array(784).map((_, i) => (i % 28 > 8 && i % 28 < 20 ? 1 : 0)), [
  28,
  28,
]);
const png = await encodePng(digit);
Deno.bench("preprocessDigit 28x28", { group: "image" }, () => {
  preprocessDigit(digit);
});
Deno.bench("preprocessDigit 400x300", { group: "image" }, () => {
  preprocessDigit(photo);
});
Deno.bench("decodePng 28x28", { group: "image" }, async () => {
  await decodePng(png);
});
