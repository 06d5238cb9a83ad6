/**
 * The serve path of grace ages: a node answers a file probe with what its repair loop has timed
 * of the file's losses (`serveBlocks` -> `Upkeep.repairer.missingAges`), and `checkFile` hands
 * each answer's ages to the loop (`HolderState.ages`).
 */
import assert from "node:assert/strict";
import { ContentId } from "../../../src/id/content_id.ts";
import { checkFile } from "../../../src/node/durability/file_check.ts";
import { serveBlocks, type ServeBlocksHost } from "../../../src/node/serve_blocks.ts";
import type { RemoteCallOptions } from "../../../src/node/remote.ts";
import type { FileProbeResult } from "../../../src/peer/block_service.ts";
import { FakePeer, MemStore } from "../fakes.ts";

const bytes = new TextEncoder().encode("root manifest");

function host(store: MemStore, ages: Map<string, Map<string, number>> | undefined) {
  const repairer = { missingAges: (id: string) => ages?.get(id) };
  return {
    store,
    blocks: {},
    index: {},
    tombstones: { get: () => undefined },
    blockSize: 1024,
    dht: () => undefined,
    upkeep: () => (ages ? { repairer } : undefined),
  } as unknown as ServeBlocksHost;
}

Deno.test("a_probe_is_answered_with_the_repair_loops_ages_of_that_file", async () => {
  const store = new MemStore();
  const file = await store.put(bytes);
  const other = await ContentId.of(new Uint8Array([1]));
  const ages = new Map([[file.toString(), new Map([["c2", 61_500], ["r0", 999]])]]);
  const service = serveBlocks(host(store, ages));
  assert.deepEqual(await service.probe!(file, [file, other]), {
    has: [true, false],
    ages: [{ unit: 2, ageSeconds: 61 }, { unit: 0x8000, ageSeconds: 0 }],
  });
  // A file without a running grace clock, or a node whose loops are not wired: no ages.
  assert.deepEqual(await service.probe!(other, [other]), { has: [false] });
  assert.deepEqual(await serveBlocks(host(store, undefined)).probe!(file, [file]), {
    has: [true],
  });
});

class AgedPeer extends FakePeer {
  override async probe(
    fileId: ContentId,
    ids: readonly ContentId[],
    options?: RemoteCallOptions,
  ): Promise<FileProbeResult> {
    return { ...await super.probe(fileId, ids, options), ages: [{ unit: 2, ageSeconds: 61 }] };
  }
}

Deno.test("check_file_hands_each_answers_ages_to_the_repair_loop", async () => {
  const aged = new AgedPeer("02" + "00".repeat(31));
  const plain = new FakePeer("03" + "00".repeat(31));
  const file = await aged.store.put(bytes);
  await plain.store.put(bytes);
  const check = await checkFile({
    fileId: file,
    policy: { kind: "replicas", min: 3, max: 3 },
    self: { nodeId: "01" + "00".repeat(31), has: (ids) => Promise.resolve(ids.map(() => false)) },
    peers: [aged, plain],
    timeoutMs: 1000,
  });
  const byNode = new Map(check.answers.map((a) => [a.nodeId, a]));
  assert.deepEqual(byNode.get(aged.nodeId)?.ages, new Map([["c2", 61_000]]));
  assert.equal(byNode.get(plain.nodeId)?.ages, undefined);
  assert.equal(check.live, 2);
});
