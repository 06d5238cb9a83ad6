/**
 * ERROR answers of the DHT handlers.
 *
 * @module
 */

import { type Message, MessageType, WireErrorCode } from "../../wire/messages.ts";

/** An ERROR answer with `code` to `request`. */
export function errorAnswer(request: Message, code: number, message: string): Message {
  return { type: MessageType.ERROR, requestId: request.requestId, code, message };
}

/** An ERROR BAD_REQUEST answer to `request`. */
export function badRequest(request: Message, message: string): Message {
  return errorAnswer(request, WireErrorCode.BAD_REQUEST, message);
}
