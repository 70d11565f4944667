import assert from "node:assert/strict";
import { either as E } from "npm:fp-ts@2.16.11";
import {
  formatRunError,
  parseMetrics,
  parseReport,
  readRun,
  type RunError,
} from "../../src/lenet/run_files.ts";
import { metricsLine } from "../../src/lenet/metrics.ts";
import { reportJson } from "../../src/lenet/run_summary.ts";
import { syntheticMetrics, syntheticReport } from "../cli/report/fixture.ts";

const left = <A>(e: E.Either<RunError, A>): RunError => {
  if (E.isRight(e)) assert.fail("expected an error");
  return e.left;
};

const line = (o: Record<string, unknown>) => JSON.stringify(o);
const good = {
  epoch: 1,
  train_loss: 0.3,
  train_accuracy: 0.9,
  test_loss: 0.1,
  test_accuracy: 0.97,
  examples_per_s: 2000,
  epoch_seconds: 30,
};

Deno.test("parseMetrics reads the lines the writer writes, ignoring blanks and extra keys", () => {
  const ms = syntheticMetrics();
  const text = ms.map((m) => metricsLine(m) + "\n").join("") + "\n\n";
  const got = parseMetrics(text, "m.jsonl");
  assert.ok(E.isRight(got));
  // The reader keeps the report's seven fields; step and lr are the trainer's extras.
  assert.deepEqual(got.right, ms.map(({ step: _s, lr: _l, ...drawn }) => drawn));
  const extra = parseMetrics(line({ ...good, lr: 0.01 }), "m.jsonl");
  assert.ok(E.isRight(extra));
  assert.deepEqual(extra.right, [good]);
});

Deno.test("parseMetrics names the file and line of a bad line, and what is wrong", () => {
  const bad = (text: string) => formatRunError(left(parseMetrics(text, "run/metrics.jsonl")));
  assert.equal(
    bad(line(good) + "\n" + '{"epoch": 2, "train_loss": }'),
    'run/metrics.jsonl:2: not valid JSON (column 28: expected a JSON value, found "}")',
  );
  assert.equal(
    bad(line(good) + "\n\n" + line({ ...good, epoch: 2, test_accuracy: 97.5 })),
    "run/metrics.jsonl:3: test_accuracy: 97.5 is above 1",
  );
  assert.equal(bad(line({ ...good, epoch: 0 })), "run/metrics.jsonl:1: epoch: 0 is below 1");
  assert.equal(
    bad(line({ ...good, epoch: 1.5 })),
    "run/metrics.jsonl:1: epoch: expected an integer, got 1.5",
  );
  const { train_loss: _, ...noLoss } = good;
  assert.equal(bad(line(noLoss)), "run/metrics.jsonl:1: train_loss: missing");
  assert.equal(
    bad(line({ ...good, examples_per_s: 0 })),
    "run/metrics.jsonl:1: examples_per_s: 0 must be greater than 0",
  );
  assert.equal(
    bad(line({ ...good, test_loss: "0.1" })),
    'run/metrics.jsonl:1: test_loss: expected a finite number, got the string "0.1"',
  );
  assert.equal(
    bad("[1, 2]"),
    "run/metrics.jsonl:1: top level: expected a JSON object, got an array of 2",
  );
  assert.equal(
    bad("\n\n"),
    "run/metrics.jsonl: no epochs yet (the trainer appends a line per epoch)",
  );
});

Deno.test("parseMetrics: a resumed run replaces the epochs it redoes", () => {
  const e = (epoch: number, test_accuracy: number) => line({ ...good, epoch, test_accuracy });
  const text = [e(1, 0.9), e(2, 0.91), e(3, 0.92), e(2, 0.95), e(3, 0.96), e(4, 0.97)].join("\n");
  const got = parseMetrics(text, "m");
  assert.ok(E.isRight(got));
  assert.deepEqual(got.right.map((m) => [m.epoch, m.test_accuracy]), [
    [1, 0.9],
    [2, 0.95],
    [3, 0.96],
    [4, 0.97],
  ]);
});

Deno.test("parseReport round-trips reportJson and names the field of a schema error", () => {
  const r = syntheticReport();
  const back = parseReport(reportJson(r), "report.json");
  assert.ok(E.isRight(back));
  assert.deepEqual(back.right, r);

  const broken = (f: (o: Record<string, unknown>) => void) => {
    const o = JSON.parse(reportJson(r));
    f(o);
    return formatRunError(left(parseReport(JSON.stringify(o), "run/report.json")));
  };
  assert.equal(
    broken((o) => (o.version = 2)),
    "run/report.json: version: this gradproof reads version 1, the file is version 2",
  );
  assert.equal(
    broken((o) => ((o.digits as { layers: { delta: number[] }[] }[])[0].layers[2].delta.pop())),
    "run/report.json: digits[0].layers[2].delta: expected 1176 numbers (shape [6, 14, 14]), " +
      "got 1175",
  );
  assert.equal(
    broken((o) => ((o.confusion as number[][])[3][4] += 1)),
    "run/report.json: confusion: counts sum to 1001, test_examples is 1000",
  );
  assert.equal(
    broken((o) => ((o.wrong as { pixels: number[] }[])[1].pixels[5] = 256)),
    "run/report.json: wrong[1].pixels[5]: 256 is above 255",
  );
  assert.equal(
    broken((o) => {
      const w = (o.wrong as { prediction: number; label: number }[])[0];
      w.prediction = w.label;
    }),
    `run/report.json: wrong[0]: prediction equals label (${r.wrong[0].label}); not a mistake`,
  );
  assert.equal(
    broken((o) => ((o.digits as { probabilities: number[] }[])[1].probabilities[0] += 0.5)),
    "run/report.json: digits[1].probabilities: sum to 1.5, expected 1 (a softmax output)",
  );
  assert.equal(
    broken((o) => ((o.filters as { shape: number[] }[])[0].shape = [6, 25])),
    "run/report.json: filters[0].shape: expected rank 4, got [6, 25]",
  );
  assert.equal(broken((o) => delete o.model), "run/report.json: model: missing");
});

Deno.test("parseReport names the line of a syntax error", () => {
  const text = reportJson(syntheticReport()).replace(
    ',"num_classes"',
    ',\n\n"num_classes" 10, "x"',
  );
  const e = left(parseReport(text, "r.json"));
  assert.equal(e.line, 3);
  assert.match(
    formatRunError(e),
    /^r\.json:3: not valid JSON \(column 15: expected ':' after key "num_classes", found "1"\)$/,
  );
});

Deno.test("readRun: report.json optional, missing folder and metrics named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(
      formatRunError(left(await readRun(`${dir}/nope`))),
      `${dir}/nope: run folder not found`,
    );
    assert.equal(
      formatRunError(left(await readRun(dir))),
      `${dir}/metrics.jsonl: not found (the trainer appends it after every epoch)`,
    );
    await Deno.writeTextFile(
      `${dir}/metrics.jsonl`,
      syntheticMetrics().map((m) => metricsLine(m) + "\n").join(""),
    );
    const partial = await readRun(dir);
    assert.ok(E.isRight(partial));
    assert.equal(partial.right.report, null);
    assert.equal(partial.right.metrics.length, 6);
    await Deno.mkdir(`${dir}/report.json`);
    assert.equal(
      formatRunError(left(await readRun(dir))),
      `${dir}/report.json: is a folder, expected a file`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
