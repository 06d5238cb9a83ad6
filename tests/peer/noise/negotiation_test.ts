/**
 * Cipher negotiation: the choice rule, pairs with different providers agreeing on a cipher and
 * exchanging bytes, and a relay that alters an offer making the handshake fail on both sides.
 */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../../src/errors.ts";
import type { AeadProviders } from "../../../src/peer/noise/aead.ts";
import { webCryptoAead } from "../../../src/peer/noise/aead.ts";
import { NoiseHandshakeError, NoisePreambleError } from "../../../src/peer/noise/errors.ts";
import { chooseCipher, noiseCipher, offerOf } from "../../../src/peer/noise/negotiation.ts";
import {
  checkPreamble,
  encodePreamble,
  NOISE_PREAMBLE,
  PREAMBLE_BYTES,
} from "../../../src/peer/noise/preamble.ts";
import { secureConnection } from "../../../src/peer/noise/secure_connection.ts";
import { nodeAesGcm, nodeChaCha20Poly1305 } from "../../../src/runtime/node/aead.ts";
import { connectedPair, drain, newNode } from "./noise_helpers.ts";
import type { PairOptions } from "./noise_helpers.ts";

// The providers of the runtime adapters (src/runtime/{deno,bun,node}.ts).
const DENO: AeadProviders = { ChaChaPoly: { factory: nodeChaCha20Poly1305, cost: 1 } };
const BUN: AeadProviders = { AESGCM: { factory: nodeAesGcm, cost: 1 } };
const NODE: AeadProviders = {
  AESGCM: { factory: nodeAesGcm, cost: 1 },
  ChaChaPoly: { factory: nodeChaCha20Poly1305, cost: 1 },
};
const WEB: AeadProviders = {};

Deno.test("cipher_choice_per_runtime_pair", () => {
  assert.deepEqual(offerOf(DENO), { AESGCM: 4, ChaChaPoly: 1 });
  assert.deepEqual(offerOf(BUN), { AESGCM: 1, ChaChaPoly: 0 });
  assert.deepEqual(offerOf(NODE), { AESGCM: 1, ChaChaPoly: 1 });
  assert.deepEqual(offerOf(), { AESGCM: 4, ChaChaPoly: 0 });
  const cases: [AeadProviders, AeadProviders, string][] = [
    [DENO, BUN, "AESGCM"],
    [DENO, NODE, "ChaChaPoly"],
    [NODE, NODE, "AESGCM"],
    [DENO, DENO, "ChaChaPoly"],
    [BUN, BUN, "AESGCM"],
    [BUN, NODE, "AESGCM"],
    [WEB, DENO, "AESGCM"],
  ];
  for (const [x, y, expected] of cases) {
    // The same either way round.
    assert.equal(chooseCipher(offerOf(x), offerOf(y)), expected);
    assert.equal(chooseCipher(offerOf(y), offerOf(x)), expected);
  }
  // The max of the two costs decides, not the sum: {AES 2, ChaCha 1} vs {AES 2, ChaCha 3}.
  assert.equal(chooseCipher({ AESGCM: 2, ChaChaPoly: 1 }, { AESGCM: 2, ChaChaPoly: 3 }), "AESGCM");
  assert.equal(
    chooseCipher({ AESGCM: 5, ChaChaPoly: 1 }, { AESGCM: 2, ChaChaPoly: 3 }),
    "ChaChaPoly",
  );
});

Deno.test("cipher_offers_are_checked", () => {
  assert.throws(
    () => offerOf({ AESGCM: { factory: webCryptoAead, cost: 0 } }),
    InvalidArgumentError,
  );
  assert.throws(
    () => offerOf({ ChaChaPoly: { factory: webCryptoAead, cost: 16 } }),
    InvalidArgumentError,
  );
  assert.throws(
    () => offerOf({ ChaChaPoly: { factory: webCryptoAead, cost: 1.5 } }),
    InvalidArgumentError,
  );
  assert.throws(() => encodePreamble({ AESGCM: 0, ChaChaPoly: 1 }), NoisePreambleError);
  assert.throws(() => noiseCipher("ChaChaPoly", BUN), InvalidArgumentError);
  assert.equal(noiseCipher("AESGCM").factory, webCryptoAead);
  assert.equal(noiseCipher("AESGCM", BUN).factory, nodeAesGcm);
  const p = encodePreamble(offerOf(DENO));
  assert.deepEqual([...p], [0xff, 0x64, 0x66, 0x73, 0x4e, 0x58, 2, 0x41]);
  assert.deepEqual(checkPreamble(p), { AESGCM: 4, ChaChaPoly: 1 });
  assert.deepEqual([...NOISE_PREAMBLE.subarray(6)], [2, 0x40]);
});

async function secured(client: AeadProviders, server: AeadProviders, pair?: PairOptions) {
  const p = await connectedPair(pair);
  const a = await newNode();
  const b = await newNode();
  const [ca, sb] = await Promise.allSettled([
    secureConnection(p.client, { role: "initiator", credentials: a.credentials, aeads: client }),
    secureConnection(p.server, { role: "responder", credentials: b.credentials, aeads: server }),
  ]);
  return { ca, sb, wire: p.wire };
}

Deno.test("secured_pairs_with_different_providers_agree_and_exchange_bytes", async () => {
  const cases: [AeadProviders, AeadProviders, string][] = [
    [DENO, BUN, "AESGCM"],
    [BUN, DENO, "AESGCM"],
    [DENO, NODE, "ChaChaPoly"],
    [NODE, DENO, "ChaChaPoly"],
    [NODE, NODE, "AESGCM"],
    [DENO, DENO, "ChaChaPoly"],
    [WEB, NODE, "AESGCM"],
  ];
  for (const [client, server, expected] of cases) {
    const { ca, sb, wire } = await secured(client, server);
    if (ca.status !== "fulfilled" || sb.status !== "fulfilled") {
      throw new Error(`handshake failed: ${JSON.stringify([ca, sb])}`);
    }
    assert.equal(ca.value.cipher, expected);
    assert.equal(sb.value.cipher, expected);
    assert.deepEqual(ca.value.handshakeHash, sb.value.handshakeHash);
    assert.deepEqual(wire.up[0].subarray(0, PREAMBLE_BYTES), encodePreamble(offerOf(client)));
    assert.deepEqual(wire.down[0].subarray(0, PREAMBLE_BYTES), encodePreamble(offerOf(server)));
    const data = new Uint8Array(200_000).map((_, i) => i * 13);
    const w = ca.value.connection.writable.getWriter();
    const writing = (async () => {
      for (let at = 0; at < data.length; at += 70_000) await w.write(data.slice(at, at + 70_000));
      await w.close();
    })();
    const got = await drain(sb.value.connection.readable);
    await writing;
    assert.equal(got.error, null);
    assert.deepEqual(got.bytes, data);
    ca.value.connection.close();
    sb.value.connection.close();
  }
});

Deno.test("a_relay_that_alters_an_offer_fails_the_handshake_on_both_sides", async () => {
  // Byte 7 is the offer; its bit 0 is ChaChaPoly cost 1 on a Deno node: flipping it withdraws
  // ChaChaPoly (a downgrade to AESGCM) on one side's view only.
  // On a Node pair (offer 0x11) the same flip leaves the choice (AESGCM) as it was: only the
  // prologue catches it.
  const cases: [PairOptions, AeadProviders][] = [
    [{ flipUpAt: 7 }, DENO],
    [{ flipDownAt: 7 }, DENO],
    [{ flipUpAt: 7 }, NODE],
    [{ flipDownAt: 7 }, NODE],
  ];
  for (const [pair, aeads] of cases) {
    for (const psk of [false, true]) {
      const p = await connectedPair(pair);
      const a = await newNode();
      const b = await newNode();
      const clusterKey = psk ? new Uint8Array(32).fill(9) : undefined;
      const [ca, sb] = await Promise.allSettled([
        secureConnection(p.client, {
          role: "initiator",
          credentials: a.credentials,
          aeads,
          clusterKey,
          timeoutMs: 2000,
        }),
        secureConnection(p.server, {
          role: "responder",
          credentials: b.credentials,
          aeads,
          clusterKey,
          timeoutMs: 2000,
        }),
      ]);
      const where = `${JSON.stringify(pair)} ${JSON.stringify(offerOf(aeads))} psk ${psk}`;
      assert.equal(ca.status, "rejected", where);
      assert.equal(sb.status, "rejected", where);
      if (ca.status !== "rejected" || sb.status !== "rejected") continue;
      assert.ok(ca.reason instanceof NoiseHandshakeError, `${where}: ${ca.reason}`);
      assert.ok(sb.reason instanceof NoiseHandshakeError, `${where}: ${sb.reason}`);
    }
  }
});
