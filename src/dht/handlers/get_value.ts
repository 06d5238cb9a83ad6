/**
 * GET_VALUE: answers with the live name record held under the key, if any, and the k closest
 * contacts this node knows (VALUE).
 *
 * @module
 */

import { type Message, MessageType } from "../../wire/messages.ts";
import { toWirePeers } from "../wire_peers.ts";
import { closerThan, type DhtHandler } from "./context.ts";
import { badRequest } from "./errors.ts";

/** Serves GET_VALUE. */
export const getValue: DhtHandler = (ctx, from, request): Message => {
  if (request.type !== MessageType.GET_VALUE) return badRequest(request, "expected GET_VALUE");
  const record = ctx.records.get(request.key);
  return {
    type: MessageType.VALUE,
    requestId: request.requestId,
    ...(record ? { record } : {}),
    closer: toWirePeers(closerThan(ctx, request.key, from)),
  };
};
