import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { putFile } from "../../src/file/put_file.ts";
import { FileIndex } from "../../src/node/file_index.ts";
import { walkFileBlocks } from "../../src/node/walk.ts";
import { MemStore } from "./fakes.ts";

async function tree(size: number) {
  const src = new MemStore();
  const sink = { putBlock: (b: Uint8Array) => src.put(b) };
  const data = new Uint8Array(size).map((_, i) => (i * 7) % 251);
  const file = await putFile(data, sink, { blockSize: 1024 });
  const source = { getBlock: (id: ContentId) => src.readBytes(id) };
  const blocks = [];
  for await (const b of walkFileBlocks(file.id, source)) blocks.push(b);
  return { src, file, blocks };
}

Deno.test("walk_yields_children_before_their_manifest_and_the_root_last", async () => {
  const { file, blocks } = await tree(60 * 1024);
  assert.ok(blocks.at(-1)!.id.equals(file.id));
  assert.equal(blocks.filter((b) => !b.manifest).length, 60);
  assert.ok(blocks.filter((b) => b.manifest).length >= 4);
});

Deno.test("index_keeps_only_the_root_after_a_post_order_replication", async () => {
  const { src, file, blocks } = await tree(60 * 1024);
  const index = await FileIndex.load(new MemStore());
  for (const b of blocks) {
    // Data blocks never change the index; every manifest does (added, parents un-index children).
    assert.equal(await index.noteReceived(b.id, await src.readBytes(b.id)), b.manifest);
  }
  assert.deepEqual(index.list().map((e) => [e.id, e.size, e.blocks]), [[
    file.id.toString(),
    60 * 1024,
    60,
  ]]);
});

Deno.test("index_ignores_a_child_manifest_that_arrives_after_its_parent", async () => {
  const { src, file, blocks } = await tree(60 * 1024);
  const manifests = blocks.filter((b) => b.manifest);
  const index = await FileIndex.load(new MemStore());
  // Reverse order: parents first.
  const changed: boolean[] = [];
  for (const b of [...manifests].reverse()) {
    changed.push(await index.noteReceived(b.id, await src.readBytes(b.id)));
  }
  // Only the root (first, in this order) changed the index; its children arrived claimed.
  assert.deepEqual(changed, manifests.map((_, i) => i === 0));
  assert.deepEqual(index.list().map((e) => e.id), [file.id.toString()]);
});

Deno.test("index_persists_in_the_store_and_skips_non_manifests", async () => {
  const store = new MemStore();
  const index = await FileIndex.load(store);
  const junk = new TextEncoder().encode("DFSM but not a manifest");
  assert.equal(await index.noteReceived(await ContentId.of(junk), junk), false);
  assert.equal(index.list().length, 0);
  const id = (await ContentId.of(new Uint8Array([1]))).toString();
  await index.add({ id, size: 1, blocks: 1, blockSize: 1024, indexedAt: 5 });
  const again = await FileIndex.load(store);
  assert.deepEqual(again.get(id), { id, size: 1, blocks: 1, blockSize: 1024, indexedAt: 5 });
  assert.equal(await again.remove(id), true);
  assert.equal((await FileIndex.load(store)).list().length, 0);
});
