/**
 * Scenario 1 of the multi-host test bed: six `dfs serve` processes, each in its own network
 * namespace with its own address, linked through the hub with a one-way delay of 20-80 ms per
 * link (drawn from the seed) and 1% random loss. Each host puts a file of its own (replicas:3,
 * plaintext ids); then every host reads every other host's file, and the bytes must be
 * identical (SHA-256). Every wait is bounded; the bed is torn down in every case.
 */
import assert from "node:assert/strict";
import { NetBed, netbedAvailable } from "./netbed.ts";
import { sha256Hex } from "../e2e/node_harness.ts";
import { randomBytes, Rng, testSeed, withSeed } from "../util/prng.ts";

const SEED = testSeed(0xe8c4_a11e);
const HOSTS = 6;
const available = await netbedAvailable("tests/netbed/exchange_test.ts");

Deno.test({
  name: "six_hosts_with_20_to_80_ms_links_and_1_percent_loss_exchange_files_byte_identical",
  ignore: !available,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withSeed(SEED, async () => {
      const dir = await Deno.makeTempDir({ prefix: "dfs-netbed-exchange-" });
      const bed = await NetBed.create({
        hosts: HOSTS,
        delayMs: [20, 80],
        lossPercent: 1,
        seed: SEED,
      });
      const started = Date.now();
      try {
        const links: string[] = [];
        for (let a = 1; a <= HOSTS; a++) {
          for (let b = a + 1; b <= HOSTS; b++) links.push(`${a}-${b}:${bed.delay(a, b)}`);
        }
        console.log(`one-way delays (ms): ${links.join(" ")}`);
        const flags = { dataDir: "", extraArgs: ["--scrub-rate", "0"] };
        const first = await bed.startNode(1, { ...flags, dataDir: `${dir}/n1` });
        await Promise.all(
          bed.hosts.slice(1).map((h) =>
            bed.startNode(h.index, {
              ...flags,
              dataDir: `${dir}/n${h.index}`,
              bootstrap: [first.info.address],
            })
          ),
        );
        for (const h of bed.hosts) await bed.waitForPeers(h.index, 1, 30_000);
        console.log(`6 nodes up in ${Date.now() - started} ms`);

        const rng = new Rng(SEED);
        const files = await Promise.all(bed.nodes.map(async (_, i) => {
          const data = randomBytes(150_000 + rng.int(1_000_000), SEED + i);
          const put = await bed.put(i + 1, data);
          assert.equal(put.size, data.length);
          return { id: put.id, digest: sha256Hex(data), from: i + 1, copies: put.copies };
        }));
        console.log(`puts: ${files.map((f) => `h${f.from}:${f.copies} copies`).join(", ")}`);

        const t = Date.now();
        // Every host reads every other host's file; the six readers run at once.
        await Promise.all(bed.nodes.map(async (_reader, r) => {
          for (const f of files) {
            if (f.from === r + 1) continue;
            const got = await bed.getHash(r + 1, f.id);
            assert.equal(got.digest, f.digest, `h${r + 1} reading h${f.from}'s file`);
          }
        }));
        const { passed, lost } = await bed.lossCounters();
        console.log(
          `30 reads byte-identical in ${Date.now() - t} ms; ${lost} of ${passed + lost} ` +
            `relayed packets lost`,
        );
        assert.ok(lost > 0, "the loss rule dropped packets");
      } catch (err) {
        for (const p of bed.nodes) console.error(`--- ${p?.info.address}\n${p?.stderr()}`);
        throw err;
      } finally {
        await bed.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }),
});
