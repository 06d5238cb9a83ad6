/**
 * ADD_PROVIDER: records the sender as a provider of the key (OK). Only a sender that proved its
 * id and has a listen address can be a provider; the bounds of the provider store answer ERROR
 * LIMIT.
 *
 * @module
 */

import { type Message, MessageType, WireErrorCode } from "../../wire/messages.ts";
import { ProviderLimitError } from "../errors.ts";
import type { DhtHandler } from "./context.ts";
import { badRequest, errorAnswer } from "./errors.ts";

/** Serves ADD_PROVIDER. */
export const addProvider: DhtHandler = (ctx, from, request): Message => {
  if (request.type !== MessageType.ADD_PROVIDER) {
    return badRequest(request, "expected ADD_PROVIDER");
  }
  if (!from) return badRequest(request, "a provider must listen for connections");
  try {
    ctx.providers.add(request.key, from);
  } catch (err) {
    if (err instanceof ProviderLimitError) {
      return errorAnswer(request, WireErrorCode.LIMIT, err.message);
    }
    throw err;
  }
  return { type: MessageType.OK, requestId: request.requestId };
};
