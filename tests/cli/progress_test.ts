import assert from "node:assert/strict";
import {
  createProgress,
  formatBytes,
  formatDuration,
  formatRate,
  renderLine,
} from "../../src/cli/progress.ts";

/** Captures what the display writes, and drives its clock by hand. */
function harness(opts: { live: boolean; columns?: number }) {
  const chunks: string[] = [];
  const dec = new TextDecoder();
  let t = 0;
  const p = createProgress({
    live: opts.live,
    columns: opts.columns ?? 200,
    now: () => t,
    out: {
      writeSync(b) {
        chunks.push(dec.decode(b));
        return b.length;
      },
    },
  });
  return {
    p,
    chunks,
    text: () => chunks.join(""),
    tick(ms: number) {
      t += ms;
    },
  };
}

Deno.test("progress: human formats for bytes, durations and rates", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(28_881), "28.9 kB");
  assert.equal(formatBytes(9_719_438), "9.72 MB");
  assert.equal(formatBytes(47_040_016), "47.0 MB");
  assert.equal(formatBytes(123_456_789_012), "123 GB");
  assert.equal(formatDuration(0.42), "0.4s");
  assert.equal(formatDuration(42.4), "42s");
  assert.equal(formatDuration(187), "3m07s");
  assert.equal(formatDuration(3720), "1h02m");
  assert.equal(formatDuration(Infinity), "?");
  assert.equal(formatRate(4_100_000, "bytes"), "4.10 MB/s");
  assert.equal(formatRate(1210.4, "ex"), "1,210 ex/s");
  assert.equal(formatRate(2.25, "batch"), "2.3 batch/s");
});

Deno.test("progress: a download line and a training line", () => {
  assert.equal(
    renderLine(
      { label: "train-images-idx3-ubyte.gz", current: 3_700_000, total: 9_719_438, unit: "bytes" },
      4_100_000,
      { bar: true },
    ),
    "train-images-idx3-ubyte.gz  [=======>            ]   38%  3.70/9.72 MB  4.10 MB/s  ETA 1.5s",
  );
  assert.equal(
    renderLine(
      {
        label: "epoch 2/10",
        current: 12_800,
        total: 60_000,
        unit: "ex",
        fields: { batch: "200/938", loss: "0.1421", acc: "95.6%" },
      },
      1210,
      { bar: false },
    ),
    "epoch 2/10   21%  12,800/60,000 ex  1,210 ex/s  ETA 39s  batch 200/938  loss 0.1421  acc 95.6%",
  );
  // Unknown total: no bar, no percentage, no ETA. Mixed units: each printed.
  assert.equal(
    renderLine({ label: "x", current: 2048, unit: "bytes" }, undefined, { bar: true }),
    "x  2.05 kB",
  );
  assert.equal(
    renderLine({ label: "x", current: 512, total: 2_000_000, unit: "bytes" }, undefined, {
      bar: false,
    }),
    "x    0%  512 B/2.00 MB",
  );
  // Truncated to the width with an ellipsis.
  const long = renderLine({ label: "a".repeat(50), current: 1 }, undefined, {
    bar: false,
    width: 20,
  });
  assert.equal(long, `${"a".repeat(19)}…`);
});

Deno.test("progress: on a terminal, one live line redrawn at most every 100 ms", () => {
  const h = harness({ live: true });
  assert.equal(h.p.live, true);
  for (let i = 0; i <= 10; i++) {
    h.p.update({ label: "dl", current: i * 10, total: 100, unit: "ex" });
    h.tick(20);
  }
  // Drawn at t=0, 100 and 200 (throttled), plus at completion (i = 10, t = 200): 3 draws.
  assert.equal(h.chunks.length, 3);
  for (const c of h.chunks) {
    assert.ok(c.startsWith("\r") && c.endsWith("\x1b[K"), JSON.stringify(c));
    assert.ok(!c.includes("\n"));
  }
  assert.ok(h.chunks[2].includes("100%  100/100 ex"), h.chunks[2]);
  h.p.log("a message");
  // The log line replaces the live line, which is redrawn below it.
  assert.equal(h.chunks[3], "\r\x1b[Ka message\n");
  assert.ok(h.chunks[4].startsWith("\rdl  [====================]  100%"), h.chunks[4]);
  h.p.done(undefined, "done!");
  assert.ok(h.chunks[5].startsWith("\rdl  [") && h.chunks[5].endsWith("  done!\x1b[K\n"));
  assert.ok(h.chunks[5].includes(" 100/100 ex"), h.chunks[5]);
});

Deno.test("progress: without a terminal, plain lines at most every 10 s plus the final one", () => {
  const h = harness({ live: false });
  assert.equal(h.p.live, false);
  for (let s = 0; s <= 25; s++) {
    h.p.update({ label: "epoch 1/1", current: s * 1000, total: 25_000, unit: "ex" });
    h.tick(1000);
  }
  h.p.done();
  const lines = h.text().split("\n").filter((l) => l !== "");
  // t=10 s and t=20 s, then the final line; no "0%" line at the start.
  assert.equal(lines.length, 3, h.text());
  assert.ok(!h.text().includes("\r") && !h.text().includes("\x1b"));
  assert.equal(lines[0], "epoch 1/1   40%  10,000/25,000 ex  1,000 ex/s  ETA 15s");
  assert.equal(lines[1], "epoch 1/1   80%  20,000/25,000 ex  1,000 ex/s  ETA 5.0s");
  assert.equal(lines[2], "epoch 1/1  100%  25,000/25,000 ex  1,000 ex/s");
});

Deno.test("progress: a new label ends the previous task with its final line", () => {
  const h = harness({ live: false });
  h.p.update({ label: "a", current: 1, total: 2 });
  h.p.update({ label: "b", current: 1, total: 2 });
  h.p.done();
  assert.equal(h.text(), "a   50%  1/2 it\nb   50%  1/2 it\n");
});

Deno.test("progress: a caller-supplied rate wins over the measured one", () => {
  const h = harness({ live: false });
  h.p.update({ label: "t", current: 10, total: 100, unit: "ex", rate: 5 });
  h.p.done(undefined);
  assert.equal(h.text(), "t   10%  10/100 ex  5.0 ex/s  ETA 18s\n");
});

Deno.test("progress: a broken output never throws", () => {
  const p = createProgress({
    live: true,
    out: {
      writeSync() {
        throw new Deno.errors.BrokenPipe("closed");
      },
    },
  });
  p.update({ label: "x", current: 1, total: 2 });
  p.log("still fine");
  p.done();
});
