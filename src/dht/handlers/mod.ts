/**
 * The DHT's request handlers, one per message type, and the dispatch table.
 *
 * @module
 */

import { MessageType } from "../../wire/messages.ts";
import { addProvider } from "./add_provider.ts";
import type { DhtHandler } from "./context.ts";
import { findNode } from "./find_node.ts";
import { getProviders } from "./get_providers.ts";
import { getValue } from "./get_value.ts";
import { ping } from "./ping.ts";
import { putValue } from "./put_value.ts";

export type { DhtHandler, HandlerContext } from "./context.ts";

/** Handler per request type. */
export const DHT_HANDLERS: ReadonlyMap<number, DhtHandler> = new Map<number, DhtHandler>([
  [MessageType.FIND_NODE, findNode],
  [MessageType.GET_PROVIDERS, getProviders],
  [MessageType.ADD_PROVIDER, addProvider],
  [MessageType.GET_VALUE, getValue],
  [MessageType.PUT_VALUE, putValue],
  [MessageType.PING, ping],
]);

/** The request types the DHT serves (the peer layer registers these). */
export const DHT_REQUEST_TYPES: readonly number[] = [
  MessageType.FIND_NODE,
  MessageType.GET_PROVIDERS,
  MessageType.ADD_PROVIDER,
  MessageType.GET_VALUE,
  MessageType.PUT_VALUE,
];
