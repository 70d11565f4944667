import assert from "node:assert/strict";
import {
  buildSchedule,
  constantSchedule,
  cosineSchedule,
  formatSchedule,
  parseSchedule,
  type ScheduleSpec,
  stepSchedule,
  warmup,
} from "../../src/lenet/schedule.ts";

const close = (got: number, want: number) =>
  assert.ok(Math.abs(got - want) < 1e-15, `${got} != ${want}`);

Deno.test("constant and step schedules at specific steps", () => {
  assert.equal(constantSchedule(0.01)(123456), 0.01);
  const s = stepSchedule(0.1, 100, 0.5);
  assert.deepEqual([s(0), s(99), s(100), s(199), s(200), s(350)], [
    0.1,
    0.1,
    0.05,
    0.05,
    0.025,
    0.0125,
  ]);
  assert.throws(() => stepSchedule(0.1, 0, 0.5), /every 0 is invalid/);
});

Deno.test("cosine: lr at 0, midpoint halfway to the floor, floor at and after the end", () => {
  const s = cosineSchedule(0.1, 1000, 0.001);
  close(s(0), 0.1);
  close(s(500), 0.0505);
  close(s(250), 0.001 + 0.099 * (1 + Math.SQRT1_2) / 2);
  close(s(1000), 0.001);
  close(s(5000), 0.001);
  assert.equal(cosineSchedule(0.1, 0)(7), 0.1);
  assert.throws(() => cosineSchedule(0.1, 10, 0.2), /need 0 <= minLr <= lr/);
});

Deno.test("warmup ramps linearly then hands over (multiplying the inner schedule)", () => {
  const s = warmup(cosineSchedule(1, 100), 10);
  close(s(0), 0.1 * cosineSchedule(1, 100)(0));
  close(s(4), 0.5 * cosineSchedule(1, 100)(4));
  close(s(9), cosineSchedule(1, 100)(9));
  close(s(50), 0.5);
});

Deno.test("parseSchedule accepts the documented forms", () => {
  const ok = (text: string, spec: ScheduleSpec) =>
    assert.deepEqual(parseSchedule(text), { _tag: "Right", right: spec });
  ok("constant", { kind: "constant" });
  ok("step:10:0.5", { kind: "step", everyEpochs: 10, gamma: 0.5 });
  ok("step:3", { kind: "step", everyEpochs: 3, gamma: 0.1 });
  ok("cosine", { kind: "cosine", floor: 0 });
  ok("cosine:0.01", { kind: "cosine", floor: 0.01 });
  ok("warmup:500", { kind: "warmup", steps: 500, then: { kind: "constant" } });
  ok("warmup:500+cosine", { kind: "warmup", steps: 500, then: { kind: "cosine", floor: 0 } });
  ok(" warmup:5+step:2:0.25 ", {
    kind: "warmup",
    steps: 5,
    then: { kind: "step", everyEpochs: 2, gamma: 0.25 },
  });
  for (
    const text of [
      "constant",
      "step:10:0.5",
      "cosine",
      "cosine:0.01",
      "warmup:500",
      "warmup:500+cosine",
    ]
  ) {
    const spec = parseSchedule(text);
    assert.ok(spec._tag === "Right");
    assert.equal(formatSchedule(spec.right), text);
  }
});

Deno.test("parseSchedule rejects bad text with a clear message", () => {
  const bad = (text: string, message: string) =>
    assert.deepEqual(parseSchedule(text), { _tag: "Left", left: message });
  bad(
    "linear",
    'invalid --schedule "linear": unknown schedule "linear"; use "constant", "step:EPOCHS[:GAMMA]", "cosine[:FLOOR]" or "warmup:STEPS[+<one of those>]", e.g. "warmup:500+cosine"',
  );
  bad("step:0:0.5", 'invalid --schedule "step:0:0.5": EPOCHS "0" must be an integer >= 1');
  bad("step:2.5", 'invalid --schedule "step:2.5": EPOCHS "2.5" must be an integer >= 1');
  bad("step:10:2", 'invalid --schedule "step:10:2": GAMMA "2" must be a number in (0, 1]');
  bad("step:10:abc", 'invalid --schedule "step:10:abc": GAMMA "abc" must be a number in (0, 1]');
  bad("step", 'invalid --schedule "step": write "step:EPOCHS" or "step:EPOCHS:GAMMA"');
  bad(
    "cosine:1.5",
    'invalid --schedule "cosine:1.5": FLOOR "1.5" must be a fraction of --lr in [0, 1]',
  );
  bad("constant:1", 'invalid --schedule "constant:1": "constant" takes no value');
  bad(
    "warmup:0+cosine",
    'invalid --schedule "warmup:0+cosine": write "warmup:STEPS" with STEPS an integer >= 1',
  );
  bad("warmup:5+warmup:5", 'invalid --schedule "warmup:5+warmup:5": only one warmup');
  bad(
    "warmup:5+",
    'invalid --schedule "warmup:5+": unknown schedule ""; use "constant", "step:EPOCHS[:GAMMA]", "cosine[:FLOOR]" or "warmup:STEPS[+<one of those>]", e.g. "warmup:500+cosine"',
  );
});

Deno.test("buildSchedule turns epochs into steps and spans the whole run", () => {
  const ctx = { lr: 0.1, stepsPerEpoch: 100, totalSteps: 1000 };
  const step = buildSchedule({ kind: "step", everyEpochs: 2, gamma: 0.5 }, ctx);
  assert.deepEqual([step(199), step(200), step(400)], [0.1, 0.05, 0.025]);
  const cos = buildSchedule({ kind: "cosine", floor: 0.1 }, ctx);
  close(cos(0), 0.1);
  close(cos(1000), 0.01);
  const w = buildSchedule({ kind: "warmup", steps: 500, then: { kind: "cosine", floor: 0 } }, ctx);
  close(w(0), 0.1 / 500); // cosine(0) = lr, times the first warmup fraction 1/500
  close(w(499), buildSchedule({ kind: "cosine", floor: 0 }, ctx)(499));
  close(w(999), buildSchedule({ kind: "cosine", floor: 0 }, ctx)(999));
});
