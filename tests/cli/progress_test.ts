import assert from "node:assert/strict";
import { formatBytes, parseByteSize } from "../../src/cli/bytes.ts";
import { formatDuration, ProgressBar, renderProgress } from "../../src/cli/progress.ts";

const MiB = 1024 * 1024;

Deno.test("progress_renders_bar_percent_bytes_rate_and_eta", () => {
  const line = renderProgress({
    label: "get",
    bytes: 5 * MiB,
    total: 10 * MiB,
    elapsedMs: 2000,
    width: 72,
  });
  assert.equal(line, "get [#######-------]  50%   5.0 MiB / 10.0 MiB     2.5 MiB/s  ETA 2s   ");
  assert.equal(line.length, 71);
});

Deno.test("progress_fits_the_width_and_drops_the_bar_when_narrow", () => {
  const wide = renderProgress({ label: "put", bytes: 0, total: 100, elapsedMs: 0, width: 120 });
  assert.equal(wide, `put [${"-".repeat(40)}]   0%    0 B / 100 B        -- B/s  ETA --   `);
  const narrow = renderProgress({
    label: "put",
    bytes: 50,
    total: 100,
    elapsedMs: 1000,
    width: 40,
  });
  assert.ok(narrow.length <= 39, narrow);
  assert.ok(narrow.startsWith("put  50%"), narrow);
});

Deno.test("progress_without_total_shows_bytes_and_rate", () => {
  assert.equal(
    renderProgress({ label: "put", bytes: 3 * MiB, elapsedMs: 1500, width: 80 }),
    "put  3.0 MiB  2.0 MiB/s",
  );
});

Deno.test("progress_complete_shows_full_bar_and_zero_eta", () => {
  const line = renderProgress({ label: "get", bytes: 100, total: 100, elapsedMs: 1000, width: 60 });
  assert.equal(line, "get [########] 100%  100 B / 100 B       100 B/s  ETA 0s   ");
});

Deno.test("durations_and_sizes_format_for_people", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(4.2), "5s");
  assert.equal(formatDuration(65), "1m05s");
  assert.equal(formatDuration(7380), "2h03m");
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(3 * 1024 ** 3), "3.0 GiB");
});

Deno.test("byte_sizes_parse_with_units_and_reject_garbage", () => {
  assert.equal(parseByteSize("262144", "--block-size"), 262144);
  assert.equal(parseByteSize("256KiB", "--block-size"), 262144);
  assert.equal(parseByteSize("1m", "--block-size"), MiB);
  assert.equal(parseByteSize("2MB", "--block-size"), 2_000_000);
  for (const bad of ["", "0", "-1", "1.5M", "12 parsecs", "k"]) {
    assert.throws(() => parseByteSize(bad, "--block-size"), /--block-size expects/, bad);
  }
});

Deno.test("progress_bar_redraws_at_most_every_interval_and_clears_at_the_end", async () => {
  let t = 0;
  const writes: string[] = [];
  const bar = new ProgressBar({
    label: "put",
    total: 1000,
    write: (s) => {
      writes.push(s);
      return Promise.resolve();
    },
    now: () => t,
    width: 80,
  });
  bar.update(10); // t=0: first draw
  t = 50;
  bar.update(20); // throttled
  t = 99;
  bar.update(30); // throttled
  t = 100;
  bar.update(500); // draws
  t = 150;
  bar.update(1000); // throttled
  await bar.finish();
  assert.equal(writes.length, 3);
  assert.ok(writes[0].startsWith("\rput ["));
  assert.ok(writes[0].endsWith("\x1b[K"));
  assert.match(writes[1], / 50% /);
  assert.equal(writes[2], "\r\x1b[K");
});

Deno.test("progress_bar_that_never_drew_writes_nothing_on_finish", async () => {
  const writes: string[] = [];
  const bar = new ProgressBar({ label: "get", write: (s) => Promise.resolve(void writes.push(s)) });
  await bar.finish();
  assert.deepEqual(writes, []);
});

Deno.test("progress_bar_forced_update_draws_inside_the_interval_with_its_note", async () => {
  let t = 0;
  const writes: string[] = [];
  const bar = new ProgressBar({
    label: "put",
    total: 1000,
    write: (s) => Promise.resolve(void writes.push(s)),
    now: () => t,
    width: 80,
  });
  bar.update(860); // t=0: first draw
  t = 10;
  bar.update(1000, { force: true, note: "replicating..." }); // inside the interval: still drawn
  await bar.finish();
  assert.equal(writes.length, 3);
  assert.match(writes[1], /100% .*replicating\.\.\./);
  assert.ok(writes[1].endsWith("replicating...\x1b[K"), JSON.stringify(writes[1]));
  assert.doesNotMatch(writes[1], /ETA/);
});

Deno.test("progress_note_follows_the_rate_without_a_total", () => {
  const line = renderProgress({ label: "put", bytes: 2048, elapsedMs: 1000, note: "replicating" });
  assert.equal(line, "put  2.0 KiB  2.0 KiB/s  replicating");
});
