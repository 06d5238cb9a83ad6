/**
 * Fuzz: seeded random and mutated inputs through decodeMessage and FrameReader. Only DfsError
 * subclasses may escape; every accepted body re-encodes to the same bytes; no frame above the
 * limit is ever returned. `DFS_SEED` picks the seed, `DFS_FUZZ_ITERATIONS` the count per path
 * (default 100,000).
 */

import assert from "node:assert/strict";
import { DfsError } from "../../src/errors.ts";
import { decodeMessage, encodeMessage, FrameReader, type Message } from "../../src/wire/mod.ts";
import { randomMessage } from "./arbitrary.ts";
import { makeRng, type Rng, testSeed, withSeed } from "../util/prng.ts";
import { concat, cutAt, streamOf } from "./streams.ts";

const SEED = testSeed(0xf022_0001);
const ITERATIONS = (() => {
  const env = Deno.env.get("DFS_FUZZ_ITERATIONS");
  const n = env ? Number(env) : 100_000;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`bad DFS_FUZZ_ITERATIONS: ${env}`);
  return n;
})();

/** A pool of valid frames to mutate (small DATA chunks keep the fuzz fast). */
function framePool(rng: Rng, n: number): Uint8Array[] {
  return Array.from({ length: n }, () => encodeMessage(randomMessage(rng, 256)));
}

function setU32(bytes: Uint8Array, at: number, v: number): void {
  if (at + 4 > bytes.length) return;
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(at, v >>> 0);
}

/** One mutation of a valid frame (prefix included). */
function mutate(rng: Rng, frame: Uint8Array, pool: readonly Uint8Array[]): Uint8Array {
  let out: Uint8Array = frame.slice();
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    switch (rng.int(10)) {
      case 0: { // bit flips
        const flips = 1 + rng.int(8);
        for (let i = 0; i < flips && out.length > 0; i++) {
          out[rng.int(out.length)] ^= 1 << rng.int(8);
        }
        break;
      }
      case 1: // random byte
        if (out.length > 0) out[rng.int(out.length)] = rng.int(256);
        break;
      case 2: // truncation
        out = out.slice(0, rng.int(out.length + 1));
        break;
      case 3: // extension
        out = concat([out, rng.bytes(1 + rng.int(16))]);
        break;
      case 4: { // frame length edits
        const len = out.length >= 4 ? new DataView(out.buffer).getUint32(0) : 0;
        setU32(
          out,
          0,
          rng.pick([0, 1, 6, 7, len - 1, len + 1, len + rng.int(64), 0xffffffff, rng.int(2 ** 32)]),
        );
        break;
      }
      case 5: // header edits: version, type, flags
        if (out.length > 6) out[4 + rng.int(3)] = rng.pick([0, 1, 2, 0xff, rng.int(256)]);
        break;
      case 6: { // inner length fields (u16 counts / string lengths) near random offsets
        if (out.length > 12) {
          const at = 11 + rng.int(out.length - 12);
          out[at] = rng.pick([0, 0xff, rng.int(256)]);
          out[at + 1] = rng.pick([0, 0xff, rng.int(256)]);
        }
        break;
      }
      case 7: // splice with another frame
        out = concat([out.subarray(0, rng.int(out.length + 1)), rng.pick(pool)]);
        break;
      case 8: // multihash prefix damage: turn 0x12 0x20 / 0x11 0x14 into neighbours
        for (let i = 0; i + 1 < out.length; i++) {
          if (
            (out[i] === 0x12 && out[i + 1] === 0x20) || (out[i] === 0x11 && out[i + 1] === 0x14)
          ) {
            out[i + rng.int(2)] += rng.pick([1, -1]);
            break;
          }
        }
        break;
      default: // pure random bytes
        out = rng.bytes(rng.int(48));
    }
  }
  return out;
}

function expectDfsError(err: unknown, seed: number, input: Uint8Array): void {
  if (!(err instanceof DfsError)) {
    console.error(`seed ${seed}: non-DfsError for input ${Array.from(input).join(",")}`);
    throw err;
  }
}

Deno.test("fuzz_decode_message_throws_only_dfs_errors", async () => {
  await withSeed(SEED, () => {
    const rng = makeRng(SEED);
    const pool = framePool(rng, 256);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < ITERATIONS; i++) {
      const input = mutate(rng, rng.pick(pool), pool);
      const body = rng.int(8) === 0 ? input : input.subarray(Math.min(4, input.length));
      let msg: Message;
      try {
        msg = decodeMessage(body);
      } catch (err) {
        expectDfsError(err, SEED, body);
        const code = (err as DfsError).code;
        outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
        continue;
      }
      outcomes.set("ok", (outcomes.get("ok") ?? 0) + 1);
      // Whatever is accepted is canonical: it re-encodes to exactly the same body.
      assert.deepEqual(encodeMessage(msg).subarray(4), body, `iteration ${i}`);
    }
    if (Deno.env.get("DFS_FUZZ_VERBOSE")) console.log(outcomes);
    // The mutations must reach every decoder outcome, or the fuzz is not exploring.
    for (const code of ["ok", "MALFORMED_MESSAGE", "UNSUPPORTED_VERSION", "UNKNOWN_MESSAGE_TYPE"]) {
      assert.ok((outcomes.get(code) ?? 0) > 0, `no input reached ${code}`);
    }
  });
});

Deno.test("fuzz_frame_reader_throws_only_dfs_errors_and_respects_the_limit", async () => {
  await withSeed(SEED, async () => {
    const rng = makeRng(SEED ^ 0x5bd1e995);
    const pool = framePool(rng, 256);
    const maxFrameSize = 4096;
    const outcomes = new Map<string, number>();
    let i = 0;
    while (i < ITERATIONS) {
      // Several inputs per stream: a few valid frames then mutated ones.
      const parts: Uint8Array[] = [];
      const perStream = 1 + rng.int(8);
      for (let k = 0; k < perStream; k++) {
        parts.push(rng.int(3) === 0 ? rng.pick(pool) : mutate(rng, rng.pick(pool), pool));
      }
      i += perStream;
      const bytes = concat(parts);
      const cuts: number[] = [];
      for (let c = rng.int(6); c > 0; c--) cuts.push(rng.int(bytes.length + 1));
      const reader = new FrameReader(streamOf(cutAt(bytes, cuts.sort((a, b) => a - b))), {
        maxFrameSize,
      });
      // Bounded: a stream of n bytes holds at most n / 4 + 1 frames.
      const bound = (bytes.length >> 2) + 2;
      let ended = false;
      for (let r = 0; r < bound; r++) {
        let body: Uint8Array | null;
        try {
          body = await reader.read();
        } catch (err) {
          expectDfsError(err, SEED, bytes);
          const code = (err as DfsError).code;
          outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
          ended = true;
          break;
        }
        if (body === null) {
          ended = true;
          break;
        }
        assert.ok(body.length <= maxFrameSize, "frame above the limit returned");
        try {
          decodeMessage(body);
          outcomes.set("ok", (outcomes.get("ok") ?? 0) + 1);
        } catch (err) {
          expectDfsError(err, SEED, body);
        }
      }
      assert.ok(ended, "reader did not finish within its bound");
      await reader.cancel();
    }
    if (Deno.env.get("DFS_FUZZ_VERBOSE")) console.log(outcomes);
    for (const code of ["ok", "FRAME_TOO_LARGE", "TRUNCATED_FRAME"]) {
      assert.ok((outcomes.get(code) ?? 0) > 0, `no stream reached ${code}`);
    }
  });
});
