/**
 * GET_PROVIDERS: answers with the live providers of the key this node knows (itself included
 * when it provides the key) and the k closest contacts it knows (PROVIDERS).
 *
 * @module
 */

import { MAX_DHT_PEERS } from "../../wire/limits.ts";
import { type Message, MessageType } from "../../wire/messages.ts";
import { toHex } from "../../util/hex.ts";
import { contactSubnet, subnetOf } from "../subnet.ts";
import { toWirePeers } from "../wire_peers.ts";
import { closerThan, type DhtHandler } from "./context.ts";
import { badRequest } from "./errors.ts";

/** Serves GET_PROVIDERS. */
export const getProviders: DhtHandler = (ctx, from, request): Message => {
  if (request.type !== MessageType.GET_PROVIDERS) {
    return badRequest(request, "expected GET_PROVIDERS");
  }
  let providers = ctx.providers.get(request.key, MAX_DHT_PEERS);
  // As for contacts: a public asker is given no loopback or private addresses.
  if (from && contactSubnet(from) !== null) {
    providers = providers.filter((p) => subnetOf(p.address) !== null);
  }
  if (ctx.providesLocally(toHex(request.key))) {
    if (providers.length >= MAX_DHT_PEERS) providers.pop();
    providers.unshift(ctx.self);
  }
  return {
    type: MessageType.PROVIDERS,
    requestId: request.requestId,
    providers: toWirePeers(providers),
    closer: toWirePeers(closerThan(ctx, request.key, from)),
  };
};
