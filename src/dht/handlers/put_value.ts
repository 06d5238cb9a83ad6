/**
 * PUT_VALUE: keeps the name record when it passes every check and wins over the one held (OK);
 * a refused record is ERROR BAD_REQUEST (bad signature, expired...) or LIMIT (store full),
 * with the reason in the message.
 *
 * @module
 */

import { type Message, MessageType, WireErrorCode } from "../../wire/messages.ts";
import { RecordRejectedError } from "../errors.ts";
import type { DhtHandler } from "./context.ts";
import { badRequest, errorAnswer } from "./errors.ts";

/** Serves PUT_VALUE. */
export const putValue: DhtHandler = async (ctx, _from, request): Promise<Message> => {
  if (request.type !== MessageType.PUT_VALUE) return badRequest(request, "expected PUT_VALUE");
  try {
    await ctx.records.put(request.record);
  } catch (err) {
    if (err instanceof RecordRejectedError) {
      const code = err.reason === "FULL" ? WireErrorCode.LIMIT : WireErrorCode.BAD_REQUEST;
      return errorAnswer(request, code, `${err.reason}: ${err.message}`);
    }
    throw err;
  }
  return { type: MessageType.OK, requestId: request.requestId };
};
