/**
 * Which cipher a dfs Noise connection speaks. Each side offers its ciphers with a relative cost
 * (its preamble, `preamble.ts`); both compute the same choice from the two offers: among the
 * ciphers both offer, the one with the smallest max(initiator's cost, responder's cost), ties
 * going to AESGCM. The two preambles are the handshake's prologue, so a relay that alters an
 * offer (to force a weaker or slower cipher) makes the handshake fail.
 *
 * @module
 */

import type { AeadName, AeadProvider, AeadProviders, NoiseCipher } from "./aead.ts";
import { WEB_CRYPTO_AESGCM, WEB_CRYPTO_AESGCM_COST } from "./aead.ts";
import type { CipherOffer } from "./preamble.ts";
import { MAX_CIPHER_COST } from "./preamble.ts";
import { InvalidArgumentError } from "../../errors.ts";

/** The ciphers in tie-break order: the first one wins a tie. */
export const CIPHER_NAMES: readonly AeadName[] = ["AESGCM", "ChaChaPoly"];

/**
 * The offer of a runtime with `providers` (`Runtime.aeads`): AESGCM at its provider's cost, or
 * Web Crypto's (4) without one; ChaChaPoly at its provider's cost, or not offered. Throws
 * `InvalidArgumentError` for a cost that is not an integer 1..15.
 *
 * @example
 * ```ts
 * import { offerOf } from "./negotiation.ts";
 * import { webCryptoAead } from "./aead.ts";
 * console.log(offerOf({ ChaChaPoly: { factory: webCryptoAead, cost: 1 } }));
 * // { AESGCM: 4, ChaChaPoly: 1 }
 * ```
 */
export function offerOf(providers: AeadProviders = {}): CipherOffer {
  return {
    AESGCM: providers.AESGCM === undefined ? WEB_CRYPTO_AESGCM_COST : cost(providers.AESGCM),
    ChaChaPoly: providers.ChaChaPoly === undefined ? 0 : cost(providers.ChaChaPoly),
  };
}

function cost(provider: AeadProvider): number {
  const c = provider.cost;
  if (!Number.isInteger(c) || c < 1 || c > MAX_CIPHER_COST) {
    throw new InvalidArgumentError(`an AEAD provider's cost must be an integer 1..15, not ${c}`);
  }
  return c;
}

/**
 * The cipher both sides speak: among those both offer, the smallest max of the two costs; ties
 * go to AESGCM (which both always offer, so there is always a choice).
 *
 * @example
 * ```ts
 * import { chooseCipher } from "./negotiation.ts";
 * const deno = { AESGCM: 4, ChaChaPoly: 1 };
 * console.log(chooseCipher(deno, { AESGCM: 1, ChaChaPoly: 0 })); // AESGCM (Bun)
 * console.log(chooseCipher(deno, { AESGCM: 1, ChaChaPoly: 1 })); // ChaChaPoly (Node)
 * ```
 */
export function chooseCipher(initiator: CipherOffer, responder: CipherOffer): AeadName {
  let best: AeadName = "AESGCM";
  let bestCost = Infinity;
  for (const name of CIPHER_NAMES) {
    if (initiator[name] === 0 || responder[name] === 0) continue;
    const c = Math.max(initiator[name], responder[name]);
    if (c < bestCost) {
      best = name;
      bestCost = c;
    }
  }
  return best;
}

/**
 * The implementation of `name` from `providers`: AESGCM falls back to Web Crypto; ChaChaPoly
 * must have a provider (else `InvalidArgumentError`: it was not offered).
 *
 * @example
 * ```ts
 * import { noiseCipher } from "./negotiation.ts";
 * console.log(noiseCipher("AESGCM").name); // AESGCM
 * ```
 */
export function noiseCipher(name: AeadName, providers: AeadProviders = {}): NoiseCipher {
  const provider = providers[name];
  if (provider !== undefined) return { name, factory: provider.factory };
  if (name === "AESGCM") return WEB_CRYPTO_AESGCM;
  throw new InvalidArgumentError(`no ${name} implementation on this runtime`);
}
