/**
 * Scenario 2 of the multi-host test bed: six `dfs serve` processes in their own network
 * namespaces (20-80 ms per link, 1% loss, repair every 1 s after a 5 s grace) are split 3/3
 * for 30 s by nftables drop rules in the hub. During the partition each side puts files —
 * `replicas:4` (a side of three cannot hold four copies) and `rs:2+2` — and a file of one side
 * is not readable from the other. After the heal, within a bounded time, every file is readable
 * byte-identical from every host and every file is back at its target (`stat?health=1` says
 * `healthy`). The bed is torn down in every case.
 */
import assert from "node:assert/strict";
import { NetBed, netbedAvailable } from "./netbed.ts";
import { sha256Hex } from "../e2e/node_harness.ts";
import { randomBytes, Rng, testSeed, withSeed } from "../util/prng.ts";

const SEED = testSeed(0x9a27_3c05);
const HOSTS = 6;
const PARTITION_MS = 30_000;
/** How long after the heal every file may take to be readable everywhere and at its target. */
const HEAL_DEADLINE_MS = 75_000;
const SIDE_A = [1, 2, 3];
const SIDE_B = [4, 5, 6];
const available = await netbedAvailable("tests/netbed/partition_test.ts");

interface Health {
  readonly health: string;
  readonly live: number;
  readonly target: number;
}

interface Stored {
  readonly id: string;
  readonly digest: string;
  readonly policy: string;
  readonly from: number;
  readonly copies: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test({
  name: "a_3_3_partition_of_30_s_with_puts_on_both_sides_heals_to_every_file_everywhere_at_target",
  ignore: !available,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withSeed(SEED, async () => {
      const dir = await Deno.makeTempDir({ prefix: "dfs-netbed-partition-" });
      const bed = await NetBed.create({
        hosts: HOSTS,
        delayMs: [20, 80],
        lossPercent: 1,
        seed: SEED,
      });
      try {
        const extraArgs = ["--repair-interval", "1", "--repair-grace", "5", "--scrub-rate", "0"];
        const first = await bed.startNode(1, { dataDir: `${dir}/n1`, extraArgs });
        await Promise.all(
          bed.hosts.slice(1).map((h) =>
            bed.startNode(h.index, {
              dataDir: `${dir}/n${h.index}`,
              bootstrap: [first.info.address],
              extraArgs,
            })
          ),
        );
        for (const h of bed.hosts) await bed.waitForPeers(h.index, 2, 30_000);

        await bed.partition(SIDE_A, SIDE_B);
        const splitAt = Date.now();
        console.log(`partition ${SIDE_A} | ${SIDE_B}`);
        const rng = new Rng(SEED);
        const puts: { from: number; policy: string; data: Uint8Array }[] = [];
        for (const [s, side] of [SIDE_A, SIDE_B].entries()) {
          for (const [k, policy] of ["replicas:4", "rs:2+2"].entries()) {
            const data = randomBytes(100_000 + rng.int(600_000), SEED + 10 * s + k);
            puts.push({ from: side[k], policy, data });
          }
        }
        const files: Stored[] = await Promise.all(puts.map(async ({ from, policy, data }) => {
          const t = Date.now();
          const put = await bed.put(from, data, `?redundancy=${policy}`, 28_000);
          console.log(
            `put ${policy} via h${from} during the partition: ${put.copies} of ${put.wanted} ` +
              `in ${Date.now() - t} ms`,
          );
          return { id: put.id, digest: sha256Hex(data), policy, from, copies: put.copies };
        }));
        assert.ok(Date.now() - splitAt < PARTITION_MS, "the puts finished inside the partition");
        // The partition is real: a file put on side A is not readable from side B.
        const across = files.find((f) => f.from === SIDE_A[0])!;
        const crossRead = await bed.getHash(SIDE_B[0], across.id, 10_000).then(
          (r) => `read ${r.bytes} bytes`,
          (err) => `failed: ${(err as Error).message.slice(0, 120)}`,
        );
        console.log(
          `h${SIDE_B[0]} reading h${SIDE_A[0]}'s file during the partition: ${crossRead}`,
        );
        assert.match(crossRead, /^failed/);
        const replicated = files.find((f) => f.policy === "replicas:4")!;
        assert.ok(replicated.copies <= 3, "four copies cannot fit on a side of three");

        await sleep(Math.max(0, PARTITION_MS - (Date.now() - splitAt)));
        await bed.heal();
        const healedAt = Date.now();
        console.log(`healed after ${healedAt - splitAt} ms`);

        // Every file readable from every host, and every file at its target, in bounded time.
        const unread = new Set<string>();
        for (const f of files) for (const h of bed.hosts) unread.add(`${f.id} ${h.index}`);
        const unhealthy = new Set(files.map((f) => f.id));
        const last = new Map<string, string>();
        while (
          (unread.size > 0 || unhealthy.size > 0) && Date.now() - healedAt < HEAL_DEADLINE_MS
        ) {
          await Promise.all([...unread].map(async (key) => {
            const [id, host] = key.split(" ");
            const f = files.find((x) => x.id === id)!;
            try {
              const got = await bed.getHash(Number(host), id, 15_000);
              assert.equal(got.digest, f.digest, `h${host} reading ${f.policy} from h${f.from}`);
              unread.delete(key);
            } catch (err) {
              if (err instanceof assert.AssertionError) throw err;
              last.set(key, (err as Error).message.slice(0, 160));
            }
          }));
          for (const id of [...unhealthy]) {
            const from = SIDE_B[files.findIndex((f) => f.id === id) % SIDE_B.length];
            const h = await bed.api<{ health?: Health }>(
              from,
              `/files/${id}/stat?health=1`,
              {},
              15_000,
            )
              .then((s) => s.health, (err) => ({ health: `error ${(err as Error).message}` }));
            if (h?.health === "healthy") unhealthy.delete(id);
            else last.set(id, JSON.stringify(h));
          }
          if (unread.size > 0 || unhealthy.size > 0) await sleep(1000);
        }
        const took = Date.now() - healedAt;
        console.log(`every file readable everywhere and at its target ${took} ms after the heal`);
        assert.equal(
          unread.size,
          0,
          `not readable ${took} ms after the heal: ${
            [...unread].map((k) => `${k}: ${last.get(k)}`)
          }`,
        );
        assert.equal(
          unhealthy.size,
          0,
          `below target ${took} ms after the heal: ${
            [...unhealthy].map((k) => `${k}: ${last.get(k)}`)
          }`,
        );
      } catch (err) {
        for (const p of bed.nodes) console.error(`--- ${p?.info.address}\n${p?.stderr()}`);
        console.error(await bed.counters().catch(() => ""));
        throw err;
      } finally {
        await bed.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }),
});
