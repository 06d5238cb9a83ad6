/**
 * `TombstoneStore`: one tombstone per file (the one expiring last), checked before it is kept,
 * persisted as `tomb:<file id>` entries across reloads, expired from memory and disk, bounded
 * (the one expiring soonest gives way); and behind a peer connection, the store a TOMBSTONE
 * push and a FILE_PROBE reach.
 */
import assert from "node:assert/strict";
import { InvalidArgumentError, IoError } from "../../../src/errors.ts";
import { ContentId } from "../../../src/id/content_id.ts";
import {
  encodeTombstone,
  fromWireTombstone,
  InvalidTombstoneError,
  sameTombstone,
  signRevival,
  signTombstone,
  type Tombstone,
  toWireTombstone,
} from "../../../src/node/durability/tombstone.ts";
import {
  TOMBSTONE_KEY_PREFIX,
  TombstoneStore,
} from "../../../src/node/durability/tombstone_store.ts";
import { FILES_CAPABILITY, MemoryBlockService } from "../../../src/peer/block_service.ts";
import type { FileProbeResult } from "../../../src/peer/block_service.ts";
import { PeerRemoteError } from "../../../src/peer/errors.ts";
import { DEFAULT_CAPABILITIES } from "../../../src/peer/handshake.ts";
import { NodeIdentity } from "../../../src/peer/identity.ts";
import { MemoryFileSystem } from "../../../src/runtime/memory/fs.ts";
import { FsBlockStore } from "../../../src/store/block_store.ts";
import type { BlockStore } from "../../../src/store/types.ts";
import { WireErrorCode, type WireTombstone } from "../../../src/wire/messages.ts";
import { makeRng, testSeed } from "../../util/prng.ts";
import { peerPair } from "../../peer/helpers.ts";

const rng = makeRng(testSeed(0x70b5));
const NOW = 1_790_000_000_000;
const MIN = 60_000;
const me = await NodeIdentity.generate();

async function memoryStore(fs = new MemoryFileSystem()): Promise<FsBlockStore> {
  return await FsBlockStore.open({ fs, root: "/s", durability: "none" });
}

async function newFile(): Promise<ContentId> {
  return await ContentId.of(rng.bytes(64));
}

function tomb(fileId: ContentId, ttlMs: number, now = NOW): Promise<Tombstone> {
  return signTombstone(me, fileId, { now, ttlMs });
}

async function keysOnDisk(store: BlockStore): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.list({ keyed: true })) {
    if (e.key.startsWith(TOMBSTONE_KEY_PREFIX)) out.push(e.key);
  }
  return out.sort();
}

function reasonIs(reason: string) {
  return (err: unknown) => err instanceof InvalidTombstoneError && err.reason === reason;
}

Deno.test("tombstones_persist_across_a_reload", async () => {
  const fs = new MemoryFileSystem();
  const store = await memoryStore(fs);
  const tombs = await TombstoneStore.load(store, { now: NOW });
  const files = await Promise.all([newFile(), newFile(), ContentId.of(rng.bytes(9), "sha-1")]);
  const kept = await Promise.all(files.map((f, i) => tomb(f, (i + 1) * MIN)));
  for (const t of kept) assert.equal(await tombs.add(t, NOW), true);
  assert.equal(tombs.size, 3);
  assert.ok(tombs.has(files[0]) && tombs.has(files[0].toString()));
  assert.ok(!tombs.has("not an id") && tombs.get("zz") === undefined);
  assert.ok(sameTombstone(tombs.get(files[1])!, kept[1]));
  assert.deepEqual(await keysOnDisk(store), files.map((f) => `tomb:${f}`).sort());
  await store.close();

  const reopened = await memoryStore(fs);
  const again = await TombstoneStore.load(reopened, { now: NOW, verifySignatures: true });
  assert.equal(again.size, 3);
  for (const t of kept) assert.ok(sameTombstone(again.get(t.fileId)!, t));
  assert.equal(again.list().length, 3);
  await reopened.close();
});

Deno.test("one_per_file_the_one_expiring_last", async () => {
  const tombs = await TombstoneStore.load(await memoryStore(), { now: NOW });
  const f = await newFile();
  const short = await tomb(f, MIN);
  const long = await tomb(f, 10 * MIN);
  assert.equal(await tombs.add(short, NOW), true);
  assert.equal(await tombs.add(long, NOW), true, "a later expiry replaces");
  assert.equal(await tombs.add(short, NOW), false, "an earlier one does not");
  assert.equal(await tombs.add(long, NOW), false, "the same one again changes nothing");
  const other = await signTombstone(await NodeIdentity.generate(), f, {
    now: NOW,
    ttlMs: 10 * MIN,
  });
  assert.equal(await tombs.add(other, NOW), false, "a tie keeps the one held");
  assert.ok(sameTombstone(tombs.get(f)!, long));
  assert.equal(tombs.size, 1);
  // Racing adds for one file: the latest expiry wins, in memory and on disk.
  const g = await newFile();
  const racing = await Promise.all([3, 9, 1, 7].map((m) => tomb(g, m * MIN)));
  await Promise.all(racing.map((t) => tombs.add(t, NOW)));
  assert.equal(tombs.get(g)!.expiresAt, NOW + 9 * MIN);
});

Deno.test("between_a_tombstone_and_a_revival_the_newer_wins_and_survives_a_reload", async () => {
  const store = await memoryStore();
  const tombs = await TombstoneStore.load(store, { now: NOW });
  const f = await newFile();
  const deleted = await tomb(f, 10 * MIN, NOW);
  const revived = await signRevival(me, f, { now: NOW + MIN, ttlMs: MIN });
  assert.equal(await tombs.add(deleted, NOW + MIN), true);
  // The revival is newer (though it expires sooner): it replaces the tombstone.
  assert.equal(await tombs.add(revived, NOW + MIN), true);
  assert.equal(tombs.get(f)!.revival, true);
  // An older tombstone (even a longer-lived one) does not undo it.
  const stale = await signTombstone(me, f, { now: NOW + 1, ttlMs: 20 * MIN });
  assert.equal(await tombs.add(stale, NOW + MIN), false);
  const reloaded = await TombstoneStore.load(store, { now: NOW + MIN });
  assert.ok(sameTombstone(reloaded.get(f)!, revived), "the revival is what was kept on disk");
  // A newer delete wins over the revival.
  const again = await tomb(f, MIN, NOW + 2 * MIN);
  assert.equal(await tombs.add(again, NOW + 2 * MIN), true);
  assert.equal(tombs.get(f)!.revival, undefined);
  // A tie keeps the one held.
  const tie = await signRevival(me, f, { now: NOW + 2 * MIN, ttlMs: MIN });
  assert.equal(await tombs.add(tie, NOW + 2 * MIN), false);
});

Deno.test("invalid_or_expired_tombstones_are_refused_and_not_kept", async () => {
  const store = await memoryStore();
  const tombs = await TombstoneStore.load(store, { now: NOW });
  const f = await newFile();
  const t = await tomb(f, MIN);
  await assert.rejects(tombs.add(t, NOW + MIN), reasonIs("EXPIRED"));
  await assert.rejects(
    tombs.add({ ...t, expiresAt: t.expiresAt + 1 }, NOW),
    reasonIs("BAD_SIGNATURE"),
  );
  await assert.rejects(tombs.add(t, NOW - 11 * MIN), reasonIs("FROM_THE_FUTURE"));
  await assert.rejects(tombs.add({ ...t, issuer: new Uint8Array(2) }, NOW), reasonIs("MALFORMED"));
  assert.equal(tombs.size, 0);
  assert.deepEqual(await keysOnDisk(store), []);
});

Deno.test("expire_drops_expired_tombstones_from_memory_and_disk", async () => {
  const fs = new MemoryFileSystem();
  const store = await memoryStore(fs);
  const tombs = await TombstoneStore.load(store, { now: NOW });
  const files = await Promise.all([1, 2, 3, 4].map(() => newFile()));
  for (const [i, f] of files.entries()) await tombs.add(await tomb(f, (i + 1) * MIN), NOW);
  assert.equal(await tombs.expire(NOW), 0);
  assert.equal(await tombs.expire(NOW + 2 * MIN), 2, "expiresAt <= now is expired");
  assert.deepEqual(
    tombs.list().map((t) => t.fileId.toString()).sort(),
    [
      files[2].toString(),
      files[3].toString(),
    ].sort(),
  );
  assert.deepEqual(await keysOnDisk(store), [`tomb:${files[2]}`, `tomb:${files[3]}`].sort());
  // Loading later drops what expired meanwhile (and deletes it from disk).
  const later = await TombstoneStore.load(store, { now: NOW + 3 * MIN });
  assert.equal(later.size, 1);
  assert.ok(later.has(files[3]));
  assert.deepEqual(await keysOnDisk(store), [`tomb:${files[3]}`]);
  // A replaced tombstone expires at its new time, not the old one.
  const g = await newFile();
  await later.add(await tomb(g, MIN), NOW);
  await later.add(await tomb(g, 10 * MIN), NOW);
  assert.equal(await later.expire(NOW + 5 * MIN), 1, "only files[3]");
  assert.ok(later.has(g));
  assert.equal(await later.expire(NOW + 10 * MIN), 1);
  assert.equal(later.size, 0);
});

Deno.test("the_store_is_bounded_and_the_soonest_expiry_gives_way", async () => {
  const store = await memoryStore();
  const tombs = await TombstoneStore.load(store, { now: NOW, maxEntries: 3 });
  const files = await Promise.all([1, 2, 3, 4, 5].map(() => newFile()));
  await tombs.add(await tomb(files[0], 5 * MIN), NOW);
  await tombs.add(await tomb(files[1], 2 * MIN), NOW);
  await tombs.add(await tomb(files[2], 8 * MIN), NOW);
  // Full: a newcomer expiring later pushes out the soonest (files[1]).
  assert.equal(await tombs.add(await tomb(files[3], 6 * MIN), NOW), true);
  assert.equal(tombs.size, 3);
  assert.ok(!tombs.has(files[1]));
  // A newcomer expiring sooner than all held is the one that gives way.
  assert.equal(await tombs.add(await tomb(files[4], MIN), NOW), false);
  assert.ok(!tombs.has(files[4]));
  // Replacing a held one needs no room.
  assert.equal(await tombs.add(await tomb(files[0], 9 * MIN), NOW), true);
  assert.equal(tombs.size, 3);
  assert.deepEqual(
    await keysOnDisk(store),
    [files[0], files[2], files[3]].map((f) => `tomb:${f}`).sort(),
  );
  // Loading with a smaller bound keeps the latest expiring ones.
  const small = await TombstoneStore.load(store, { now: NOW, maxEntries: 2 });
  assert.deepEqual(
    small.list().map((t) => t.fileId.toString()).sort(),
    [files[0], files[2]].map(String).sort(),
  );
  assert.equal((await keysOnDisk(store)).length, 2);
  await assert.rejects(TombstoneStore.load(store, { maxEntries: 0 }), InvalidArgumentError);
});

Deno.test("remove_forgets_a_tombstone", async () => {
  const store = await memoryStore();
  const tombs = await TombstoneStore.load(store, { now: NOW });
  const f = await newFile();
  await tombs.add(await tomb(f, MIN), NOW);
  assert.equal(await tombs.remove(f.toString()), true);
  assert.equal(await tombs.remove(f), false);
  assert.equal(await tombs.remove("nope"), false);
  assert.equal(tombs.size, 0);
  assert.deepEqual(await keysOnDisk(store), []);
  assert.equal(await tombs.expire(NOW + 2 * MIN), 0);
});

Deno.test("load_skips_and_removes_entries_that_are_not_tombstones", async () => {
  const store = await memoryStore();
  const f = await newFile();
  const g = await newFile();
  const t = await tomb(f, MIN);
  await store.write(`tomb:${f}`, encodeTombstone(t));
  await store.write(`tomb:${g}`, encodeTombstone(t)); // under another file's key
  await store.write(`tomb:garbage`, new Uint8Array([1, 2, 3]));
  await store.write(`file:${f}`, new Uint8Array([4])); // not ours: left alone
  const forged = { ...t, fileId: g, expiresAt: t.expiresAt + 1 };
  await store.write(`tomb:x${g}`, encodeTombstone(forged));
  const tombs = await TombstoneStore.load(store, { now: NOW });
  assert.equal(tombs.size, 1);
  assert.ok(tombs.has(f));
  assert.deepEqual(await keysOnDisk(store), [`tomb:${f}`]);
  assert.ok(await store.has(`file:${f}`));
  // With signature checks, a badly signed entry under its right key goes too.
  await store.write(`tomb:${g}`, encodeTombstone(forged));
  assert.equal((await TombstoneStore.load(store, { now: NOW })).size, 2);
  const checked = await TombstoneStore.load(store, { now: NOW, verifySignatures: true });
  assert.equal(checked.size, 1);
  assert.deepEqual(await keysOnDisk(store), [`tomb:${f}`]);
});

Deno.test("a_write_failure_changes_nothing", async () => {
  const inner = await memoryStore();
  let fail = false;
  const store: BlockStore = {
    put: (d, o) => inner.put(d, o),
    write: (k, d, o) => fail ? Promise.reject(new IoError("disk full")) : inner.write(k, d, o),
    read: (k, o) => inner.read(k, o),
    readBytes: (k, o) => inner.readBytes(k, o),
    has: (k) => inner.has(k),
    info: (k) => inner.info(k),
    delete: (k) => inner.delete(k),
    clear: () => inner.clear(),
    list: (o) => inner.list(o),
    stats: () => inner.stats(),
    close: () => inner.close(),
  };
  const tombs = await TombstoneStore.load(store, { now: NOW });
  const f = await newFile();
  const first = await tomb(f, MIN);
  await tombs.add(first, NOW);
  fail = true;
  await assert.rejects(tombs.add(await tomb(f, 5 * MIN), NOW), IoError);
  await assert.rejects(tombs.add(await tomb(await newFile(), MIN), NOW), IoError);
  assert.equal(tombs.size, 1);
  assert.ok(sameTombstone(tombs.get(f)!, first));
  // The store goes on after the failure.
  fail = false;
  assert.equal(await tombs.add(await tomb(f, 5 * MIN), NOW), true);
});

Deno.test("a_tombstone_store_behind_a_peer_connection", async () => {
  // The service a node would build: probes answered from blocks and tombstones, pushes checked.
  const tombs = await TombstoneStore.load(await memoryStore());
  class Service extends MemoryBlockService {
    override async probe(fileId: ContentId, ids: ContentId[]): Promise<FileProbeResult> {
      const held = tombs.get(fileId);
      const has = await this.has(ids);
      return held ? { has, tombstone: toWireTombstone(held) } : { has };
    }
    async tombstone(t: WireTombstone): Promise<void> {
      await tombs.add(fromWireTombstone(t));
    }
  }
  const { a, b } = await peerPair({
    service: new Service(),
    capabilities: [...DEFAULT_CAPABILITIES, FILES_CAPABILITY],
  });
  try {
    const f = await newFile();
    assert.deepEqual(await a.probe(f, [f]), { has: [false] });
    const t = await signTombstone(me, f);
    await a.sendTombstone(toWireTombstone(t));
    const state = await a.probe(f, [f]);
    assert.ok(state.tombstone && sameTombstone(fromWireTombstone(state.tombstone), t));
    // Refusals come back as ERROR BAD_REQUEST with the reason first.
    const expired = await signTombstone(me, await newFile(), {
      now: Date.now() - 2 * MIN,
      ttlMs: MIN,
    });
    const forged = { ...toWireTombstone(t), deletedAt: t.deletedAt + 1 };
    for (
      const [bad, reason] of [[toWireTombstone(expired), "EXPIRED"], [
        forged,
        "BAD_SIGNATURE",
      ]] as const
    ) {
      await assert.rejects(a.sendTombstone(bad), (err) => {
        assert.ok(err instanceof PeerRemoteError);
        assert.equal(err.wireCode, WireErrorCode.BAD_REQUEST);
        assert.match(err.message, new RegExp(`: ${reason}: `));
        return true;
      });
    }
    assert.equal(tombs.size, 1);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("random_operations_agree_with_a_simple_model", async () => {
  const store = await memoryStore();
  const max = 12;
  const tombs = await TombstoneStore.load(store, { now: NOW, maxEntries: max });
  const files = await Promise.all(Array.from({ length: 30 }, () => newFile()));
  // Distinct expiries, so "the soonest" is never a tie.
  let ttl = 0;
  const pool: Tombstone[] = [];
  for (let i = 0; i < 300; i++) {
    ttl += 1 + rng.int(3);
    pool.push(await tomb(files[rng.int(files.length)], MIN + ttl * 1000 * (1 + rng.int(50))));
  }
  const model = new Map<string, number>();
  let now = NOW;
  for (let step = 0; step < 600; step++) {
    const op = rng.int(10);
    if (op < 7) {
      const t = pool[rng.int(pool.length)];
      const key = t.fileId.toString();
      let expect: boolean;
      if (t.expiresAt <= now) {
        await assert.rejects(tombs.add(t, now), reasonIs("EXPIRED"));
        continue;
      }
      const held = model.get(key);
      if (held !== undefined) expect = held < t.expiresAt;
      else if (model.size < max) expect = true;
      else {
        const [soonKey, soonAt] = [...model].reduce((a, b) => (b[1] < a[1] ? b : a));
        expect = soonAt < t.expiresAt;
        if (expect) model.delete(soonKey);
      }
      if (expect) model.set(key, t.expiresAt);
      assert.equal(await tombs.add(t, now), expect, `step ${step}`);
    } else if (op < 9) {
      now += rng.int(20) * 1000;
      let n = 0;
      for (const [k, at] of model) {
        if (at > now) continue;
        model.delete(k);
        n++;
      }
      assert.equal(await tombs.expire(now), n, `step ${step}`);
    } else {
      const f = files[rng.int(files.length)];
      assert.equal(await tombs.remove(f), model.delete(f.toString()), `step ${step}`);
    }
    assert.equal(tombs.size, model.size);
  }
  const got = new Map(tombs.list().map((t) => [t.fileId.toString(), t.expiresAt]));
  assert.deepEqual(got, model);
  assert.deepEqual(await keysOnDisk(store), [...model.keys()].map((k) => `tomb:${k}`).sort());
});
