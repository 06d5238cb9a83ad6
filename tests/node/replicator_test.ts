import assert from "node:assert/strict";
import type { ContentId } from "../../src/id/content_id.ts";
import { replicateFile } from "../../src/node/replicator.ts";
import { PeerProtocolError } from "../../src/peer/errors.ts";
import { FakePeer, MemStore } from "./fakes.ts";

async function setup(n: number) {
  const store = new MemStore();
  const ids: ContentId[] = [];
  for (let i = 0; i < n; i++) ids.push(await store.put(new TextEncoder().encode(`block ${i}`)));
  const root = ids[0];
  return {
    store,
    ids,
    root,
    base: {
      fileId: root,
      blockIds: async function* () {
        yield* ids;
      },
      readBlock: (id: ContentId) => store.readBytes(id),
      timeoutMs: 1000,
    },
  };
}

Deno.test("replicate_pushes_every_block_and_root_last", async () => {
  const { ids, root, base } = await setup(10);
  const order: string[] = [];
  const p = new FakePeer("aa");
  const put = p.putBlock.bind(p);
  p.putBlock = (id, bytes, o) => {
    order.push(id.toString());
    return put(id, bytes, o);
  };
  const r = await replicateFile({ ...base, targets: [p], batchSize: 3, concurrency: 2 });
  assert.deepEqual(r.confirmed, [p]);
  assert.equal(p.store.map.size, ids.length);
  assert.equal(order.at(-1), root.toString());
});

Deno.test("replicate_skips_blocks_the_target_already_has", async () => {
  const { ids, store, base } = await setup(6);
  const p = new FakePeer("aa");
  for (const id of ids.slice(0, 4)) await p.store.write(id, await store.readBytes(id));
  const r = await replicateFile({ ...base, targets: [p] });
  assert.equal(r.outcomes[0].sent, 2);
  assert.equal(p.store.map.size, 6);
});

Deno.test("replicate_reports_failed_targets_and_confirms_the_rest", async () => {
  const { base } = await setup(5);
  const good = new FakePeer("aa");
  const bad = new FakePeer("bb");
  bad.failWith = new Error("disk full");
  const r = await replicateFile({ ...base, targets: [good, bad] });
  assert.deepEqual(r.confirmed, [good]);
  assert.equal(r.outcomes[1].ok, false);
  assert.match(String(r.outcomes[1].error), /disk full/);
});

Deno.test("replicate_reads_each_block_once_for_several_targets", async () => {
  const { base } = await setup(7);
  let reads = 0;
  const targets = [new FakePeer("aa"), new FakePeer("bb"), new FakePeer("cc")];
  const r = await replicateFile({
    ...base,
    targets,
    readBlock: (id) => {
      reads++;
      return base.readBlock(id);
    },
  });
  assert.equal(r.confirmed.length, 3);
  assert.equal(reads, 7);
});

Deno.test("replicate_sends_a_repeated_block_once", async () => {
  const { ids, base } = await setup(3);
  const p = new FakePeer("aa");
  const r = await replicateFile({
    ...base,
    blockIds: async function* () {
      yield ids[1];
      yield ids[2];
      yield ids[1];
      yield ids[1];
      yield ids[0];
    },
    targets: [p],
  });
  assert.equal(r.outcomes[0].sent, 3);
});

Deno.test("replicate_fails_a_target_whose_has_answer_has_the_wrong_length_with_a_typed_error", async () => {
  const { base } = await setup(4);
  const p = new FakePeer("aa");
  p.has = (ids) => Promise.resolve(ids.slice(1).map(() => false));
  const r = await replicateFile({ ...base, targets: [p] });
  assert.deepEqual(r.confirmed, []);
  assert.equal(r.outcomes[0].ok, false);
  assert.ok(r.outcomes[0].error instanceof PeerProtocolError, String(r.outcomes[0].error));
  assert.equal((r.outcomes[0].error as PeerProtocolError).code, "PEER_PROTOCOL");
});
