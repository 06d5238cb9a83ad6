import assert from "node:assert/strict";
import { decodeMessage, encodeMessage, type Message, readMessages } from "../../src/wire/mod.ts";
import { randomMessage } from "./arbitrary.ts";
import { makeRng, testSeed, withSeed } from "../util/prng.ts";
import { concat, cutAt, streamOf } from "./streams.ts";

const SEED = testSeed(0x5eed_0001);

Deno.test("random_messages_round_trip_through_the_codec", async () => {
  await withSeed(SEED, () => {
    const rng = makeRng(SEED);
    for (let i = 0; i < 3000; i++) {
      const msg = randomMessage(rng);
      const frame = encodeMessage(msg);
      const decoded = decodeMessage(frame.subarray(4));
      assert.deepEqual(decoded, msg, `iteration ${i}`);
      // Canonical: re-encoding gives the same bytes.
      assert.deepEqual(encodeMessage(decoded), frame);
    }
  });
});

Deno.test("random_message_streams_survive_random_chunking", async () => {
  await withSeed(SEED, async () => {
    const rng = makeRng(SEED ^ 0x9e3779b9);
    for (let round = 0; round < 60; round++) {
      const messages: Message[] = Array.from({ length: 1 + rng.int(30) }, () => randomMessage(rng));
      const stream = concat(messages.map((m) => encodeMessage(m)));
      const cuts = new Set<number>();
      const nCuts = rng.int(2) === 0 ? rng.int(8) : rng.int(200);
      for (let i = 0; i < nCuts; i++) cuts.add(rng.int(stream.length + 1));
      const chunks = cutAt(stream, [...cuts].sort((a, b) => a - b));
      const got: Message[] = [];
      for await (const msg of readMessages(streamOf(chunks))) got.push(msg);
      assert.deepEqual(got, messages, `round ${round}`);
    }
  });
});
