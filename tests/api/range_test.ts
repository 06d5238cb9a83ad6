import assert from "node:assert/strict";
import { parseRange } from "../../src/api/range.ts";

Deno.test("range_parses_closed_range", () => {
  assert.deepEqual(parseRange("bytes=0-99", 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRange("bytes=5-5", 1000), { start: 5, end: 5 });
  assert.deepEqual(parseRange("bytes=10 - 20", 1000), { start: 10, end: 20 });
});

Deno.test("range_clamps_end_past_last_byte", () => {
  assert.deepEqual(parseRange("bytes=900-5000", 1000), { start: 900, end: 999 });
});

Deno.test("range_open_ended_runs_to_the_end", () => {
  assert.deepEqual(parseRange("bytes=990-", 1000), { start: 990, end: 999 });
  assert.deepEqual(parseRange("bytes=0-", 1), { start: 0, end: 0 });
});

Deno.test("range_suffix_takes_the_last_bytes", () => {
  assert.deepEqual(parseRange("bytes=-10", 1000), { start: 990, end: 999 });
  assert.deepEqual(parseRange("bytes=-5000", 1000), { start: 0, end: 999 });
});

Deno.test("range_past_the_end_is_unsatisfiable", () => {
  assert.equal(parseRange("bytes=1000-", 1000), "unsatisfiable");
  assert.equal(parseRange("bytes=1000-2000", 1000), "unsatisfiable");
  assert.equal(parseRange("bytes=-0", 1000), "unsatisfiable");
});

Deno.test("range_of_an_empty_file_is_unsatisfiable", () => {
  assert.equal(parseRange("bytes=0-", 0), "unsatisfiable");
  assert.equal(parseRange("bytes=-1", 0), "unsatisfiable");
});

Deno.test("range_ignores_malformed_multi_and_foreign_units", () => {
  for (
    const h of ["bytes=", "bytes=-", "bytes=5-1", "bytes=0-1,5-6", "items=0-1", "bytes=a-b", ""]
  ) {
    assert.equal(parseRange(h, 1000), null, h);
  }
});
