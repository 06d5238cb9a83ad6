/**
 * A get's answer body is the node's file stream itself (no relay stream for the metrics), and
 * the get is still recorded with how its body ended: read through, cancelled, or failed.
 */
import assert from "node:assert/strict";
import { createApiHandler } from "../../../src/api/handler.ts";
import { FakeNode } from "../fake_node.ts";
import { parseExposition, valueOf } from "./prom_parse.ts";

async function getOps(handler: (r: Request) => Promise<Response>, outcome: string) {
  const res = await handler(new Request("http://dfs.test/metrics"));
  const scrape = parseExposition(await res.text());
  return valueOf(scrape, "dfs_api_operations_total", { op: "get", method: "GET", outcome });
}

Deno.test("get_body_is_the_file_stream_and_is_recorded_when_read_through", async () => {
  const node = new FakeNode();
  const id = await node.add(new Uint8Array(200_000).fill(9));
  const handler = createApiHandler(node);
  const res = await handler(new Request(`http://dfs.test/api/v1/files/${id}`));
  assert.equal(res.status, 200);
  assert.equal(res.body, node.getStreams.at(-1), "the answer's body is relayed");
  assert.equal(await getOps(handler, "ok"), 0, "recorded before the body was read");
  assert.equal((await res.bytes()).length, 200_000);
  assert.equal(await getOps(handler, "ok"), 1);
});

Deno.test("get_body_cancelled_or_failed_is_recorded_so", async () => {
  const node = new FakeNode();
  const id = await node.add(new Uint8Array(300_000));
  const failing = node.addVirtual(300_000, () =>
    new ReadableStream<Uint8Array>({
      pull(c) {
        c.error(new Error("disk on fire"));
      },
    }));
  const handler = createApiHandler(node);
  const res = await handler(new Request(`http://dfs.test/api/v1/files/${id}`));
  const reader = res.body!.getReader();
  await reader.read();
  await reader.cancel();
  assert.equal(await getOps(handler, "cancelled"), 1);
  const bad = await handler(new Request(`http://dfs.test/api/v1/files/${failing}`));
  await assert.rejects(bad.bytes());
  assert.equal(await getOps(handler, "error"), 1);
  assert.equal(await getOps(handler, "ok"), 0);
});
