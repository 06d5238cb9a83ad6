/** `readFile`'s `onEnd`: called once, with how the stream ended. */
import assert from "node:assert/strict";
import { putFile, readFile } from "../../src/file/mod.ts";
import type { ReadEndOutcome } from "../../src/file/types.ts";
import { MemoryBlocks, pattern, readAll } from "./_fakes.ts";

const BS = 1024;

Deno.test("read_end_reports_ok_cancelled_and_error_once", async () => {
  const mem = new MemoryBlocks();
  const data = pattern(10 * BS + 5, 3);
  const put = await putFile(data, mem, { blockSize: BS });
  const ends: ReadEndOutcome[] = [];
  const onEnd = (o: ReadEndOutcome) => void ends.push(o);

  const whole = await readFile(put.id, mem, { onEnd });
  assert.deepEqual(ends, [], "ended before being read");
  assert.deepEqual(await readAll(whole.stream), data);
  assert.deepEqual(ends, ["ok"]);

  const cancelled = await readFile(put.id, mem, { onEnd });
  const reader = cancelled.stream.getReader();
  await reader.read();
  await reader.cancel();
  assert.deepEqual(ends, ["ok", "cancelled"]);

  const ac = new AbortController();
  const aborted = await readFile(put.id, mem, { onEnd, signal: ac.signal });
  const r2 = aborted.stream.getReader();
  await r2.read();
  ac.abort();
  await assert.rejects(r2.read());
  await r2.cancel().catch(() => {});
  assert.deepEqual(ends, ["ok", "cancelled", "error"]);
});
