/**
 * The subnet rule counts the host a peer's connection came from, which it cannot choose, not
 * the address it claims; and a public asker is handed no loopback or private addresses.
 */

import assert from "node:assert/strict";
import { systemClock } from "../../src/dht/clock.ts";
import { contactOf } from "../../src/dht/contact.ts";
import { Dht } from "../../src/dht/dht.ts";
import { keyInBucket } from "../../src/dht/key.ts";
import { RoutingTable } from "../../src/dht/routing_table.ts";
import { type Message, MessageType } from "../../src/wire/messages.ts";
import { Rng, testSeed } from "../util/prng.ts";

const SEED = testSeed(0x0b5e);

Deno.test("claimed_addresses_do_not_get_around_the_subnet_rule_of_the_observed_host", () => {
  const rng = new Rng(SEED);
  const self = rng.bytes(32);
  const table = new RoutingTable({ self, clock: systemClock, ping: () => Promise.resolve(true) });
  // Ten identities from one /24 each claim a host name or a private address of their choice.
  for (let i = 0; i < 10; i++) {
    const claimed = i % 2 === 0 ? `h${i}.example.org:4000` : `10.9.9.${i}:4000`;
    table.seen(contactOf(keyInBucket(self, 0, rng.bytes(32)), claimed, `203.0.113.${i + 1}`));
  }
  assert.equal(table.size, 2);
  // Without an observed host (a contact only heard of), the claimed address counts.
  table.seen(contactOf(keyInBucket(self, 0, rng.bytes(32)), "198.51.100.7:4000"));
  assert.equal(table.size, 3);
});

Deno.test("a_public_asker_gets_no_private_or_loopback_addresses", async () => {
  const rng = new Rng(SEED + 1);
  const self = contactOf(rng.bytes(32), "198.51.100.1:4000");
  const dht = new Dht({
    self,
    network: { request: () => Promise.reject(new Error("unused")) },
  });
  const privateOnes = ["10.0.0.1:4000", "127.0.0.1:4001", "192.168.1.9:4000"];
  const publicOnes = ["203.0.113.5:4000", "198.51.100.77:4000"];
  for (const a of [...privateOnes, ...publicOnes]) dht.table.seen(contactOf(rng.bytes(32), a));
  const ask = async (from: ReturnType<typeof contactOf>) => {
    const answer: Message = await dht.handle(from, {
      type: MessageType.FIND_NODE,
      requestId: 1,
      key: rng.bytes(32),
    });
    assert.equal(answer.type, MessageType.NODES);
    return answer.type === MessageType.NODES ? answer.peers.map((p) => p.address).sort() : [];
  };
  const publicAsker = contactOf(rng.bytes(32), "203.0.113.200:4000", "203.0.113.200");
  assert.deepEqual(await ask(publicAsker), [...publicOnes].sort());
  const lanAsker = contactOf(rng.bytes(32), "10.0.0.50:4000", "10.0.0.50");
  assert.equal((await ask(lanAsker)).length, privateOnes.length + publicOnes.length + 1);
});
