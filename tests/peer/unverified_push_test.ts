/**
 * Pushes without the pusher's own hash (`unverified` in `PeerConnection.putBlock`): a peer that
 * announced `blocks/2` gets the bytes as they are and refuses a mismatch with ERROR CORRUPT,
 * which the pusher sees as a typed `PeerPushCorruptError`; a peer without `blocks/2` gets only
 * bytes hashed first, so a rotten block never reaches it, even one that would store anything.
 */
import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { BLOCKS_VERIFY_CAPABILITY, MemoryBlockService } from "../../src/peer/block_service.ts";
import { PeerPushCorruptError, PeerRemoteError } from "../../src/peer/errors.ts";
import type { RequestHandler } from "../../src/peer/connection_types.ts";
import { MessageType, WireErrorCode } from "../../src/wire/messages.ts";
import { makeRng, testSeed, withSeed } from "../util/prng.ts";
import { peerPair } from "./helpers.ts";

const SEED = testSeed(0x9054);
const BS = 8 * 1024;
const BOTH = ["blocks/1", BLOCKS_VERIFY_CAPABILITY];

async function block(
  seed: number,
): Promise<{ id: ContentId; bytes: Uint8Array; rotten: Uint8Array }> {
  const bytes = makeRng(seed).bytes(BS);
  const rotten = bytes.slice();
  rotten[BS - 7] ^= 0x04;
  return { id: await ContentId.of(bytes), bytes, rotten };
}

Deno.test("unverified_push_to_a_blocks_2_peer_is_refused_with_a_typed_error_and_not_stored", async () => {
  await withSeed(SEED, async () => {
    const service = new MemoryBlockService();
    const { a, b } = await peerPair({ service, capabilities: BOTH });
    try {
      const good = await block(SEED);
      await a.putBlock(good.id, good.bytes, { unverified: true });
      assert.deepEqual(await service.get(good.id), good.bytes, "good bytes stored");
      const bad = await block(SEED + 1);
      const err = await a.putBlock(bad.id, bad.rotten, { unverified: true }).then(
        () => null,
        (e) => e,
      );
      assert.ok(err instanceof PeerPushCorruptError, `rejected with ${err}`);
      assert.equal(err.code, "PEER_PUSH_CORRUPT");
      assert.equal(err.byPeer, true, "the receiver's check on arrival found it");
      assert.equal(await service.get(bad.id), null, "nothing stored");
      assert.equal(service.size, 1);
      // A verified push (the default) that the peer refuses keeps its old answer.
      const again = await a.putBlock(bad.id, bad.rotten).then(() => null, (e) => e);
      assert.ok(again instanceof PeerRemoteError && again.wireCode === WireErrorCode.CORRUPT);
      assert.ok(!(again instanceof PeerPushCorruptError));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

Deno.test("unverified_push_to_a_peer_without_blocks_2_is_hashed_first_and_a_rotten_block_is_never_sent", async () => {
  await withSeed(SEED, async () => {
    // A peer without `blocks/2` that stores whatever it is pushed (it does not verify).
    const arrivals: string[] = [];
    const handlers = new Map<number, RequestHandler>([[MessageType.PUT_BLOCK, (msg) => {
      if (msg.type === MessageType.PUT_BLOCK) arrivals.push(ContentId.fromBytes(msg.id).toString());
      return Promise.resolve({ type: MessageType.OK });
    }]]);
    const { a, b } = await peerPair({
      service: new MemoryBlockService(),
      capabilities: ["blocks/1"],
      handlers,
    });
    try {
      const good = await block(SEED + 2);
      await a.putBlock(good.id, good.bytes, { unverified: true });
      assert.deepEqual(arrivals, [good.id.toString()], "good bytes go out after the hash");
      const bad = await block(SEED + 3);
      const err = await a.putBlock(bad.id, bad.rotten, { unverified: true }).then(
        () => null,
        (e) => e,
      );
      assert.ok(err instanceof PeerPushCorruptError, `rejected with ${err}`);
      assert.equal(err.byPeer, false, "found by the pusher's own hash");
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(arrivals, [good.id.toString()], "the rotten block was never sent");
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
