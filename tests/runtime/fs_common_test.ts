/** `readBounded`, the bounded `readFile` body the disk adapters share, over a fake file. */

import assert from "node:assert/strict";
import { FileTooLargeError } from "../../src/errors.ts";
import { readBounded } from "../../src/runtime/fs_common.ts";
import { randomBytes } from "../util/prng.ts";

/** A fake open file over `data` that counts the bytes handed out, in reads of at most `step`. */
function fakeFile(data: Uint8Array, step = Number.POSITIVE_INFINITY) {
  const file = {
    handedOut: 0,
    read(buf: Uint8Array): Promise<number | null> {
      const n = Math.min(buf.length, step, data.length - file.handedOut);
      if (n <= 0) return Promise.resolve(null);
      buf.set(data.subarray(file.handedOut, file.handedOut + n));
      file.handedOut += n;
      return Promise.resolve(n);
    },
  };
  return file;
}

Deno.test("read_bounded_reads_known_size_in_short_reads", async () => {
  const data = randomBytes(100_000, 3);
  const file = fakeFile(data, 7_000);
  assert.deepEqual(await readBounded(file, "/f", data.length, data.length), data);
});

Deno.test("read_bounded_refuses_known_size_over_limit_without_reading", async () => {
  const file = fakeFile(randomBytes(1000, 4));
  await assert.rejects(readBounded(file, "/f", 1000, 999), (err) => {
    assert.ok(err instanceof FileTooLargeError);
    assert.deepEqual([err.size, err.limit, err.path], [1000, 999, "/f"]);
    return true;
  });
  assert.equal(file.handedOut, 0);
});

Deno.test("read_bounded_stops_at_size_seen_when_file_grew", async () => {
  const data = randomBytes(5000, 5); // the file grew to 5000 after its stat said 3000
  const file = fakeFile(data);
  assert.deepEqual(await readBounded(file, "/f", 3000, 4000), data.subarray(0, 3000));
  assert.equal(file.handedOut, 3000);
});

Deno.test("read_bounded_returns_prefix_when_file_shrank", async () => {
  const data = randomBytes(2000, 6);
  assert.deepEqual(await readBounded(fakeFile(data), "/f", 3000, 4000), data);
});

Deno.test("read_bounded_unknown_size_reads_to_end_under_limit", async () => {
  const data = randomBytes(150_000, 7);
  assert.deepEqual(await readBounded(fakeFile(data, 10_000), "/proc/x", 0, 150_000), data);
  assert.equal((await readBounded(fakeFile(new Uint8Array(0)), "/e", 0, 0)).length, 0);
});

Deno.test("read_bounded_unknown_size_refuses_after_limit_plus_one", async () => {
  const file = fakeFile(randomBytes(1_000_000, 8));
  await assert.rejects(readBounded(file, "/proc/x", 0, 100_000), (err) => {
    assert.ok(err instanceof FileTooLargeError);
    assert.equal(err.size, 100_001);
    return true;
  });
  assert.equal(file.handedOut, 100_001, "never more than maxBytes + 1");
});

Deno.test("read_bounded_into_buffer_reads_known_size_in_short_reads", async () => {
  const data = randomBytes(100_000, 8);
  const into = new Uint8Array(120_000);
  const out = await readBounded(fakeFile(data, 7_000), "/f", data.length, data.length, into);
  assert.equal(out.buffer, into.buffer);
  assert.deepEqual(out, data);
});

Deno.test("read_bounded_unknown_size_does_not_write_into_buffer", async () => {
  const data = randomBytes(1_000, 9);
  const into = new Uint8Array(2_000);
  const out = await readBounded(fakeFile(data), "/f", 0, 4000, into);
  assert.deepEqual(out, data);
  assert.notEqual(out.buffer, into.buffer);
  assert.ok(into.every((b) => b === 0));
});
