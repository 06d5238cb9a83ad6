/**
 * End to end: a byte flipped in a stored block on one holder, with real node processes.
 *
 * What the design guarantees (and this test asserts): a bit-rotted copy never reaches a user.
 * A holder sends a whole block to a node that verifies on arrival (`blocks/2`) without hashing
 * it; the reader's hash catches the rotten copy and reports it (BAD_BLOCK), the holder verifies
 * its copy, moves the entry to `blocks/quarantine/`, and no longer claims to hold the block
 * unless it could bring a good copy back from another holder right then. The reader goes on to
 * the other holders; when none is
 * left the get fails (never wrong bytes), and once a good copy is reachable again the same get
 * delivers the right bytes. Over HTTP the first failure shows as a 200 whose body is cut off
 * (the status is sent before the block in the middle of the file is fetched); what did arrive
 * is a correct prefix. A reader's `badBlocks` counts peers that SENT bytes not matching
 * their id (a buggy or lying peer); an honest holder with a rotten disk never shows up there.
 *
 * To make sure the read really meets the corrupt copy, the other holder (the origin A) is
 * SIGKILLed before the first get, and restarted (same data directory, so its stale LOCK is
 * taken over) before the second.
 *
 * The second test keeps the good copy reachable: a third node C reads with `--prefer-peers B`,
 * so every block is asked from the rotten holder B first. Every get is complete and correct, B
 * reports `quarantined: 1` in its status, C counts B in `corruptHolders` (never in
 * `badBlocks`), and B restores a good copy from A. Asserting B's quarantine makes sure the read
 * really met the bad copy.
 */
import assert from "node:assert/strict";
import {
  api,
  getHashVia,
  type NodeProcess,
  putVia,
  sha256Hex,
  startNodeProcess,
  type StartOptions,
  waitForPeers,
  withNodeProcesses,
} from "./node_harness.ts";
import { randomBytes, testSeed, withSeed } from "../util/prng.ts";

const SEED = testSeed(4321);
const BLOCK = 64 * 1024;
/** Options every node of these tests starts with. */
const COMMON = { replication: 2, blockSize: BLOCK, durability: "none" } as const;

/**
 * Starts a node in `${dir}/${name}` with {@linkcode COMMON} options, bootstrapped from `peers`,
 * and adds it to `procs` (so it is killed at the end) before returning it.
 */
async function startNode(
  dir: string,
  procs: NodeProcess[],
  name: string,
  peers: readonly NodeProcess[] = [],
  extra: Partial<StartOptions> = {},
): Promise<NodeProcess> {
  const p = await startNodeProcess({
    dataDir: `${dir}/${name}`,
    bootstrap: peers.map((q) => q.info.address),
    ...extra,
    ...COMMON,
  });
  procs.push(p);
  return p;
}

/** Every file under `dir`, with its size. */
async function filesUnder(dir: string): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  const walk = async (d: string, depth: number) => {
    if (depth > 8) return;
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p, depth + 1);
      else if (e.isFile) out.push({ path: p, size: (await Deno.stat(p)).size });
    }
  };
  await walk(dir, 0);
  return out;
}

/** Waits until the node at `base` reports at most `n` connected peers (bounded). */
async function waitForAtMostPeers(base: string, n: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const s = await api<{ peers: number }>(base, "/status", {}, 5000);
    if (s.peers <= n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${base} still has more than ${n} peers after ${timeoutMs} ms`);
}

/** GETs a file; resolves with what arrived, or with the error / status that stopped it. */
async function tryGet(base: string, id: string) {
  const res = await fetch(`${base}/api/v1/files/${id}`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) return { status: res.status, text: await res.text() };
  try {
    const bytes = new Uint8Array(await res.arrayBuffer());
    return { status: res.status, bytes };
  } catch (err) {
    return { status: res.status, error: err };
  }
}

Deno.test({
  name: "corrupt_copy_on_a_holder_is_quarantined_never_served_and_the_good_copy_is_read",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withSeed(SEED, () =>
      withNodeProcesses("dfs-corrupt-", async (dir, procs) => {
        const a = await startNode(dir, procs, "a");
        const b = await startNode(dir, procs, "b", [a]);
        const c = await startNode(dir, procs, "c", [a, b]);
        for (const p of procs) await waitForPeers(p.info.apiUrl, 2);

        const data = randomBytes(6 * BLOCK + 1000, SEED);
        const put = await putVia(a.info.apiUrl, data, "?copies=2");
        assert.equal(put.copies, 2);
        // The second holder is whichever of B and C placement picked; the other one reads.
        const local = await Promise.all(
          [b, c].map((p) =>
            api<{ local: boolean }>(p.info.apiUrl, `/files/${put.id}/stat`).then((s) => s.local)
          ),
        );
        assert.equal(local.filter(Boolean).length, 1, `one of B, C holds it: ${local}`);
        const [holder, reader]: NodeProcess[] = local[0] ? [b, c] : [c, b];

        // A data block: a full-size entry (header + 64 KiB); manifests are far smaller.
        const entries = await filesUnder(`${holder.dataDir}/blocks/data`);
        const dataBlocks = entries.filter((e) => e.size > BLOCK && e.size < BLOCK + 1024);
        assert.equal(dataBlocks.length, 6, `six full data blocks on the holder`);
        const victim = dataBlocks[0];
        const bytes = await Deno.readFile(victim.path);
        bytes[bytes.length - 100] ^= 0x01; // in the block's bytes, past the header
        await Deno.writeFile(victim.path, bytes);

        // Only the corrupt copy is left: the read must meet it.
        a.kill("SIGKILL");
        await a.exited;
        await waitForAtMostPeers(reader.info.apiUrl, 1);
        await waitForAtMostPeers(holder.info.apiUrl, 1);
        const failed = await tryGet(reader.info.apiUrl, put.id);
        const complete = "bytes" in failed && failed.bytes !== undefined &&
          failed.bytes.length === data.length;
        assert.ok(!complete, "a get with only a corrupt copy left must not complete");
        if ("bytes" in failed && failed.bytes !== undefined) {
          // Whatever arrived before the stream failed is a correct prefix, never wrong bytes.
          assert.deepEqual(failed.bytes, data.subarray(0, failed.bytes.length));
        }
        if ("text" in failed) assert.match(failed.text!, /NOT_FOUND|not available/);

        // The holder took the rotten entry out of service.
        const quarantined = await filesUnder(`${holder.dataDir}/blocks/quarantine`);
        assert.equal(quarantined.length, 1, "one entry quarantined on the holder");
        await assert.rejects(Deno.stat(victim.path), Deno.errors.NotFound);
        const readerStatus = await api<{ badBlocks: Record<string, number> }>(
          reader.info.apiUrl,
          "/status",
        );
        assert.deepEqual(readerStatus.badBlocks, {}, "the holder never sent the bad bytes");

        // The good copy comes back (same data dir: the killed process's LOCK is stale).
        const a2 = await startNode(dir, procs, "a", [holder, reader]);
        assert.equal(a2.info.nodeId, a.info.nodeId);
        await waitForPeers(reader.info.apiUrl, 2);
        const got = await getHashVia(reader.info.apiUrl, put.id);
        assert.deepEqual(got, { digest: sha256Hex(data), bytes: data.length });
      }));
  },
});

Deno.test({
  name: "corrupt_copy_with_the_good_copy_reachable_every_get_is_correct_and_the_bad_copy_reported",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withSeed(SEED, () =>
      withNodeProcesses("dfs-corrupt-live-", async (dir, procs) => {
        // Two nodes: a put with copies=2 on A lands on A and B.
        const a = await startNode(dir, procs, "a");
        const b = await startNode(dir, procs, "b", [a]);
        await waitForPeers(a.info.apiUrl, 1);
        await waitForPeers(b.info.apiUrl, 1);
        const data = randomBytes(6 * BLOCK + 1000, SEED + 1);
        const put = await putVia(a.info.apiUrl, data, "?copies=2");
        assert.equal(put.copies, 2);
        const onB = await api<{ local: boolean }>(b.info.apiUrl, `/files/${put.id}/stat`);
        assert.equal(onB.local, true, "B holds the whole file");

        const entries = await filesUnder(`${b.dataDir}/blocks/data`);
        const dataBlocks = entries.filter((e) => e.size > BLOCK && e.size < BLOCK + 1024);
        assert.equal(dataBlocks.length, 6, `six full data blocks on B`);
        const victim = dataBlocks[2];
        const bytes = await Deno.readFile(victim.path);
        const good = bytes.slice(bytes.length - BLOCK);
        bytes[bytes.length - 100] ^= 0x01; // in the block's bytes, past the header
        await Deno.writeFile(victim.path, bytes);

        // C reads, asking B first for every block: the read meets B's rotten copy. Nobody is killed.
        const c = await startNode(dir, procs, "c", [a, b], { preferPeers: [b.info.nodeId] });
        await waitForPeers(c.info.apiUrl, 2);
        for (let i = 0; i < 3; i++) {
          const got = await getHashVia(c.info.apiUrl, put.id);
          assert.deepEqual(got, { digest: sha256Hex(data), bytes: data.length }, `get ${i}`);
        }

        // B took the rotten entry out of service and says so.
        type Status = {
          quarantined?: number;
          badBlocks: Record<string, number>;
          corruptHolders?: Record<string, number>;
        };
        const bStatus = await api<Status>(b.info.apiUrl, "/status");
        assert.equal(bStatus.quarantined, 1, "B quarantined exactly the rotten entry");
        assert.equal((await filesUnder(`${b.dataDir}/blocks/quarantine`)).length, 1);
        // ... and brought a good copy back from A (in the background, right after).
        const deadline = Date.now() + 15_000;
        let back: Uint8Array | undefined;
        while (back === undefined && Date.now() < deadline) {
          back = await Deno.readFile(victim.path).catch(() => undefined);
          if (back === undefined) await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(back !== undefined, "B restored the block");
        assert.deepEqual(back.slice(back.length - BLOCK), good, "with the good bytes");
        assert.equal((await api<Status>(a.info.apiUrl, "/status")).quarantined, 0);
        // C counts B as a holder with a rotten copy (once: later gets no longer ask B for it),
        // not as a peer that sent bad bytes.
        const cStatus = await api<Status>(c.info.apiUrl, "/status");
        assert.deepEqual(cStatus.corruptHolders, { [b.info.nodeId]: 1 });
        assert.deepEqual(cStatus.badBlocks, {});
      }));
  },
});
