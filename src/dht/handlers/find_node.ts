/**
 * FIND_NODE: answers with the k contacts of the routing table closest to the key (NODES).
 *
 * @module
 */

import { type Message, MessageType } from "../../wire/messages.ts";
import { toWirePeers } from "../wire_peers.ts";
import { closerThan, type DhtHandler } from "./context.ts";
import { badRequest } from "./errors.ts";

/** Serves FIND_NODE. */
export const findNode: DhtHandler = (ctx, from, request): Message => {
  if (request.type !== MessageType.FIND_NODE) return badRequest(request, "expected FIND_NODE");
  return {
    type: MessageType.NODES,
    requestId: request.requestId,
    peers: toWirePeers(closerThan(ctx, request.key, from)),
  };
};
