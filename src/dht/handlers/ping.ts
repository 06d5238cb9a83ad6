/**
 * PING: answers PONG with the same timestamp. (Over peer connections the connection itself
 * answers PINGs; this serves networks without connections, such as the simulation.)
 *
 * @module
 */

import { type Message, MessageType } from "../../wire/messages.ts";
import type { DhtHandler } from "./context.ts";
import { badRequest } from "./errors.ts";

/** Serves PING. */
export const ping: DhtHandler = (_ctx, _from, request): Message => {
  if (request.type !== MessageType.PING) return badRequest(request, "expected PING");
  return { type: MessageType.PONG, requestId: request.requestId, timestamp: request.timestamp };
};
