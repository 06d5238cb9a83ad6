/**
 * FILE_PROBE and TOMBSTONE over a connection: probes answered from the service, tombstones
 * pushed and refused, ERROR UNSUPPORTED from a service without the handlers, local refusal for
 * a peer that did not announce `files/1`, and answers that do not match their question.
 */

import assert from "node:assert/strict";
import { DfsError } from "../../src/errors.ts";
import { ContentId } from "../../src/id/content_id.ts";
import {
  type BlockService,
  type FileProbeResult,
  FILES_AGES_CAPABILITY,
  FILES_CAPABILITY,
  FILES_REVIVAL_CAPABILITY,
  MemoryBlockService,
} from "../../src/peer/block_service.ts";
import { framedChannel } from "../../src/peer/channel.ts";
import { PeerLimitError, PeerProtocolError, PeerRemoteError } from "../../src/peer/errors.ts";
import { DEFAULT_CAPABILITIES } from "../../src/peer/handshake.ts";
import { NodeIdentity } from "../../src/peer/identity.ts";
import { resolvePeerOptions } from "../../src/peer/options.ts";
import { PeerConnection } from "../../src/peer/peer_connection.ts";
import { PeerManager } from "../../src/peer/peer_manager.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import { MAX_PROBE_IDS } from "../../src/wire/limits.ts";
import { MessageType, WireErrorCode, type WireTombstone } from "../../src/wire/messages.ts";
import { makeRng, testSeed } from "../util/prng.ts";
import {
  connectionPair,
  FAST,
  handshakePair,
  peerPair,
  rawChannel,
  receiveOfType,
  waitFor,
} from "./helpers.ts";

const rng = makeRng(testSeed(0xf11e));
const FILES = [...DEFAULT_CAPABILITIES, FILES_CAPABILITY];

async function block(size: number): Promise<[ContentId, Uint8Array]> {
  const bytes = rng.bytes(size);
  return [await ContentId.of(bytes), bytes];
}

function tombstoneFor(fileId: ContentId, expiresAt = Date.now() + 60_000): WireTombstone {
  return {
    fileId: fileId.bytes,
    issuer: rng.bytes(32),
    deletedAt: Date.now(),
    expiresAt,
    signature: rng.bytes(64),
  };
}

/**
 * A memory service that keeps tombstones (unsigned: the peer layer does not check them; the
 * node does). An expired one is refused the way the node refuses one: a DfsError whose code is
 * INVALID_TOMBSTONE.
 */
class TombstoneService extends MemoryBlockService {
  readonly tombstones = new Map<string, WireTombstone>();
  probes = 0;
  override async probe(fileId: ContentId, ids: ContentId[]): Promise<FileProbeResult> {
    this.probes++;
    const has = await this.has(ids);
    const tombstone = this.tombstones.get(fileId.toString());
    return tombstone ? { has, tombstone } : { has };
  }
  tombstone(t: WireTombstone): Promise<void> {
    if (t.expiresAt <= Date.now()) {
      return Promise.reject(new DfsError("INVALID_TOMBSTONE", `EXPIRED: at ${t.expiresAt}`));
    }
    this.tombstones.set(ContentId.fromBytes(t.fileId).toString(), t);
    return Promise.resolve();
  }
}

/** A service with only the block methods (an older service: no probe, no tombstone). */
function blocksOnly(): BlockService {
  const inner = new MemoryBlockService();
  return {
    has: (ids) => inner.has(ids),
    get: (id) => inner.get(id),
    put: (id, bytes) => inner.put(id, bytes),
    delete: (id) => inner.delete(id),
  };
}

function isRemote(code: number, text?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof PeerRemoteError, `not a PeerRemoteError: ${err}`);
    assert.equal(err.wireCode, code);
    if (text) assert.match(err.message, new RegExp(text));
    return true;
  };
}

Deno.test("probe_answers_which_blocks_are_held_and_the_tombstone", async () => {
  const service = new TombstoneService();
  const { a, b } = await peerPair({ service, capabilities: FILES });
  try {
    const [file, manifest] = await block(100);
    const [held, bytes] = await block(1000);
    const [absent] = await block(10);
    await service.put(file, manifest);
    await service.put(held, bytes);
    assert.deepEqual(await a.probe(file, [file, held, absent]), { has: [true, true, false] });
    assert.deepEqual(await a.probe(file, []), { has: [] });
    const t = tombstoneFor(absent);
    service.tombstones.set(absent.toString(), t);
    const state = await a.probe(absent, [absent, held]);
    assert.deepEqual(state, { has: [false, true], tombstone: t });
    assert.equal(service.probes, 3);
    // Both directions: the listener probes the dialler too (no service there: unsupported).
    await assert.rejects(b.probe(file, [file]), isRemote(WireErrorCode.UNSUPPORTED));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("tombstone_push_is_kept_or_refused_with_bad_request", async () => {
  const service = new TombstoneService();
  const { a, b } = await peerPair({ service, capabilities: FILES });
  try {
    const [file] = await block(50);
    const t = tombstoneFor(file);
    await a.sendTombstone(t);
    assert.deepEqual(service.tombstones.get(file.toString()), t);
    // Probing now returns the tombstone pushed.
    assert.deepEqual((await a.probe(file, [file])).tombstone, t);
    // An invalid (expired) one: ERROR BAD_REQUEST with the reason, and the connection goes on.
    const [other] = await block(50);
    await assert.rejects(
      a.sendTombstone(tombstoneFor(other, Date.now() - 1)),
      isRemote(WireErrorCode.BAD_REQUEST, "^peer answered error 3: EXPIRED"),
    );
    assert.equal(service.tombstones.has(other.toString()), false);
    assert.ok(a.isOpen && b.isOpen);
    assert.ok((await a.ping()) >= 0);
    // One the codec cannot carry is refused before anything is sent.
    await assert.rejects(
      a.sendTombstone({ ...t, signature: new Uint8Array(63) }),
      (err) => err instanceof DfsError && err.code === "MALFORMED_MESSAGE",
    );
    assert.ok(a.isOpen);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("a_service_without_the_handlers_answers_unsupported", async () => {
  for (const service of [blocksOnly(), undefined]) {
    const { a, b } = await peerPair({ service, capabilities: FILES });
    try {
      const [file] = await block(20);
      await assert.rejects(
        a.probe(file, [file]),
        isRemote(WireErrorCode.UNSUPPORTED, "FILE_PROBE"),
      );
      await assert.rejects(
        a.sendTombstone(tombstoneFor(file)),
        isRemote(WireErrorCode.UNSUPPORTED, "TOMBSTONE"),
      );
      // The blocks still work and the connection stays open.
      if (service) assert.deepEqual(await a.has([file]), [false]);
      assert.ok(a.isOpen && b.isOpen);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }
});

Deno.test("a_peer_without_files_capability_is_never_sent_the_new_types", async () => {
  const service = new TombstoneService();
  // Default capabilities: no files/1. No heartbeat during the test, so bytes written are ours.
  const quiet = { heartbeatIntervalMs: 60_000, deadAfterMs: 120_000 };
  const { a, b, connA } = await peerPair({ service, options: quiet });
  try {
    assert.ok(!a.remote.capabilities.includes(FILES_CAPABILITY));
    const [file] = await block(20);
    const before = connA.bytesWritten;
    await assert.rejects(a.probe(file, [file]), isRemote(WireErrorCode.UNSUPPORTED, "files/1"));
    await assert.rejects(a.sendTombstone(tombstoneFor(file)), isRemote(WireErrorCode.UNSUPPORTED));
    assert.equal(connA.bytesWritten, before, "nothing was sent");
    assert.equal(service.probes, 0);
    assert.equal(service.tombstones.size, 0);
    assert.ok(a.isOpen && b.isOpen);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("probe_limits_and_service_mistakes", async () => {
  class Short extends TombstoneService {
    override probe(): Promise<FileProbeResult> {
      return Promise.resolve({ has: [true] });
    }
  }
  const { a, b } = await peerPair({ service: new Short(), capabilities: FILES });
  try {
    const [file] = await block(20);
    const ids = new Array(MAX_PROBE_IDS + 1).fill(file);
    await assert.rejects(a.probe(file, ids), PeerLimitError);
    // A service answering the wrong number of ids is the server's bug: ERROR INTERNAL.
    await assert.rejects(a.probe(file, [file, file]), isRemote(WireErrorCode.INTERNAL));
    assert.ok(a.isOpen && b.isOpen);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

/** `a` (a real connection, dialler) facing a hand-driven peer that announced files/1. */
async function rawFilesPeer() {
  const [connA, connB] = connectionPair();
  const ca = framedChannel(connA);
  const raw = rawChannel(connB);
  const [ia, ib] = await Promise.all([NodeIdentity.generate(), NodeIdentity.generate()]);
  const [ra] = await handshakePair(ca, raw, ia, ib, FILES);
  const a = new PeerConnection({
    channel: ca,
    remote: ra,
    role: "dialer",
    options: resolvePeerOptions(FAST),
    service: new TombstoneService(),
  });
  return { a, raw, connB };
}

Deno.test("file_state_answers_that_do_not_match_the_probe_are_refused", async () => {
  const { a, raw, connB } = await rawFilesPeer();
  try {
    const [file] = await block(20);
    const [other] = await block(20);
    // Wrong number of answers.
    const p1 = a.probe(file, [file, other]);
    const q1 = await receiveOfType(raw, MessageType.FILE_PROBE);
    assert.deepEqual(q1, {
      type: MessageType.FILE_PROBE,
      requestId: q1.requestId,
      fileId: file.bytes,
      ids: [file.bytes, other.bytes],
    });
    await raw.send({ type: MessageType.FILE_STATE, requestId: q1.requestId, has: [true] });
    await assert.rejects(p1, PeerProtocolError);
    // A tombstone for another file than the one probed.
    const p2 = a.probe(file, [file]);
    const q2 = await receiveOfType(raw, MessageType.FILE_PROBE);
    await raw.send({
      type: MessageType.FILE_STATE,
      requestId: q2.requestId,
      has: [false],
      tombstone: tombstoneFor(other),
    });
    await assert.rejects(p2, PeerProtocolError);
    // A matching one is fine.
    const t = tombstoneFor(file);
    const p3 = a.probe(file, [file]);
    const q3 = await receiveOfType(raw, MessageType.FILE_PROBE);
    await raw.send({
      type: MessageType.FILE_STATE,
      requestId: q3.requestId,
      has: [false],
      tombstone: t,
    });
    assert.deepEqual(await p3, { has: [false], tombstone: t });
    // A TOMBSTONE request is answered OK by the real side (its service keeps it).
    await raw.send({ type: MessageType.TOMBSTONE, requestId: 2, tombstone: t });
    const ok = await receiveOfType(raw, MessageType.OK);
    assert.equal(ok.requestId, 2);
    // A FILE_PROBE with the dialler's own (odd) parity is a protocol violation.
    await raw.send({ type: MessageType.FILE_PROBE, requestId: 99, fileId: file.bytes, ids: [] });
    const info = await a.closed;
    assert.equal(info.reason, "protocol");
  } finally {
    await a.close();
    connB.close();
  }
});

Deno.test("peer_manager_announces_files_only_when_its_service_serves_them", async () => {
  const net = new MemoryNetwork();
  const listen = { hostname: "127.0.0.1", port: 0 };
  const make = async (service: BlockService) => {
    const manager = new PeerManager({
      identity: await NodeIdentity.generate(),
      network: net,
      listen,
      service,
      options: FAST,
      log: () => {},
    });
    await manager.start();
    return manager;
  };
  const withFiles = await make(new TombstoneService());
  const without = await make(blocksOnly());
  try {
    const conn = await without.connect(withFiles.address!);
    assert.ok(conn.remote.capabilities.includes(FILES_CAPABILITY));
    assert.ok(conn.remote.capabilities.includes(FILES_AGES_CAPABILITY));
    await waitFor(() => withFiles.connections().length === 1, 2000, "accepted connection");
    const back = withFiles.connections()[0];
    assert.ok(!back.remote.capabilities.includes(FILES_CAPABILITY));
    assert.ok(!back.remote.capabilities.includes(FILES_AGES_CAPABILITY));
    const [file] = await block(20);
    // The node without handlers can probe the one with them, not the other way round.
    assert.deepEqual(await conn.probe(file, [file]), { has: [false] });
    await assert.rejects(back.probe(file, [file]), isRemote(WireErrorCode.UNSUPPORTED));
  } finally {
    await Promise.all([withFiles.shutdown(), without.shutdown()]);
  }
});

Deno.test("probe_ages_reach_a_files_2_peer_and_are_held_back_from_a_files_1_peer", async () => {
  const ages = [{ unit: 2, ageSeconds: 300 }, { unit: 0x8000, ageSeconds: 7 }];
  class Aged extends TombstoneService {
    override async probe(fileId: ContentId, ids: ContentId[]): Promise<FileProbeResult> {
      return { ...await super.probe(fileId, ids), ages };
    }
  }
  const [file] = await block(30);
  for (const [caps, expected] of [[[...FILES, FILES_AGES_CAPABILITY], ages], [FILES, undefined]]) {
    const service = new Aged();
    const t = tombstoneFor(file);
    service.tombstones.set(file.toString(), t);
    const { a, b } = await peerPair({ service, capabilities: caps as string[] });
    try {
      const state = await a.probe(file, [file]);
      assert.deepEqual(
        state,
        expected ? { has: [false], tombstone: t, ages } : {
          has: [false],
          tombstone: t,
        },
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }
});

Deno.test("revivals_reach_a_files_3_peer_and_are_held_back_from_an_older_one", async () => {
  const [file] = await block(40);
  const revival = { ...tombstoneFor(file), revival: true };
  for (const [caps, takes] of [[[...FILES, FILES_REVIVAL_CAPABILITY], true], [FILES, false]]) {
    const service = new TombstoneService();
    service.tombstones.set(file.toString(), revival);
    const { a, b } = await peerPair({ service, capabilities: caps as string[] });
    try {
      // A probe answers with the revival only to a peer that decodes flag REVIVAL.
      const state = await a.probe(file, [file]);
      assert.deepEqual(state, takes ? { has: [false], tombstone: revival } : { has: [false] });
      // An offer of a revival to an older peer is refused here, before anything is sent.
      service.tombstones.clear();
      const sent = await a.sendTombstone(revival).then(() => null, (e) => e);
      if (takes) {
        assert.equal(sent, null);
        assert.equal(service.tombstones.get(file.toString())?.revival, true);
      } else {
        assert.ok(sent instanceof PeerRemoteError && sent.wireCode === WireErrorCode.UNSUPPORTED);
        assert.equal(service.tombstones.size, 0);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }
});
