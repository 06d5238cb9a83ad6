/**
 * A hostile node near a key answers GET_PROVIDERS with made-up providers: the lookup must not
 * end on its answer alone, and the real provider must still be found.
 */

import assert from "node:assert/strict";
import { contactOf } from "../../src/dht/contact.ts";
import { Dht } from "../../src/dht/dht.ts";
import { compareDistance } from "../../src/dht/key.ts";
import { type Message, MessageType } from "../../src/wire/messages.ts";
import { Rng, testSeed, withSeed } from "../util/prng.ts";
import { SimNetwork } from "../sim/sim_network.ts";
import { VirtualClock } from "../sim/virtual_clock.ts";

const SEED = testSeed(0x5eed_0a01);

Deno.test("made_up_providers_from_one_hostile_node_do_not_hide_the_real_provider", async () => {
  await withSeed(SEED, async () => {
    const clock = new VirtualClock(1_790_000_000_000);
    const rng = new Rng(SEED);
    const sim = new SimNetwork({ clock, rng: new Rng(SEED ^ 7), latency: { minMs: 5, maxMs: 40 } });
    const key = rng.bytes(32);
    // The hostile node takes the id closest to the key; its answers name 20 made-up providers.
    const hostileId = key.slice();
    hostileId[31] ^= 1;
    const fakes = Array.from({ length: 20 }, (_, i) => ({
      nodeId: rng.bytes(32),
      address: `198.51.100.${i + 1}:4001`,
    }));
    const nodes: Dht[] = [];
    const add = (id: Uint8Array, hostile: boolean): Dht => {
      const contact = contactOf(id, `${20 + nodes.length}.1.2.3:4001`);
      const dht: Dht = new Dht({
        self: contact,
        network: sim.add(contact, async (from, request): Promise<Message> => {
          const honest = await dht.handle(from, request);
          if (!hostile || honest.type !== MessageType.PROVIDERS) return honest;
          return { ...honest, providers: fakes };
        }),
        clock,
        random: (n) => rng.bytes(n),
      });
      nodes.push(dht);
      return dht;
    };
    add(hostileId, true);
    for (let i = 0; i < 150; i++) add(rng.bytes(32), false);
    const run = <T>(p: Promise<T>) => clock.runUntil(p);
    for (const n of nodes.slice(1)) await run(n.join([{ address: nodes[0].self.address }]));
    const provider = nodes[5];
    await run(provider.provide(key));
    // The reader: the node farthest from the key (its lookup walks toward the hostile one).
    const reader = nodes.slice(1).filter((n) =>
      n !== provider
    ).sort((a, b) => compareDistance(key, b.self.id, a.self.id))[0];
    const { providers, lookup } = await run(reader.findProviders(key));
    const ids = providers.map((p) =>
      p.idHex
    );
    assert.ok(
      ids.includes(provider.self.idHex),
      `real provider missing among ${ids.length} (${lookup.messages} requests, done ${lookup.done})`,
    );
  });
});
