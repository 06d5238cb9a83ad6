/**
 * What the DHT's request handlers read and change: the routing table, the provider and name
 * record stores, and the keys this node provides itself.
 *
 * @module
 */

import type { Message } from "../../wire/messages.ts";
import type { Contact } from "../contact.ts";
import type { ProviderStore } from "../providers.ts";
import type { NameRecordStore } from "../record_store.ts";
import type { RoutingTable } from "../routing_table.ts";
import { contactSubnet, subnetOf } from "../subnet.ts";

/** The state a handler works on. */
export interface HandlerContext {
  /** This node. */
  readonly self: Contact;
  /** Contacts per answer (Kademlia's k). */
  readonly k: number;
  /** The routing table. */
  readonly table: RoutingTable;
  /** Provider records held for others. */
  readonly providers: ProviderStore;
  /** Name records held for others. */
  readonly records: NameRecordStore;
  /** True when this node itself provides `keyHex`. */
  providesLocally(keyHex: string): boolean;
}

/**
 * A handler: answers one request. `from` is the sender when it can be reached (it proved its
 * id and has a listen address), else null.
 */
export type DhtHandler = (
  ctx: HandlerContext,
  from: Contact | null,
  request: Message,
) => Promise<Message> | Message;

/**
 * The k closest contacts to `key` that are not the asker. An asker that reached us from a
 * public address is given no loopback or private addresses (they would point it at its own
 * network); an asker on loopback or a private network gets them all.
 */
export function closerThan(ctx: HandlerContext, key: Uint8Array, from: Contact | null): Contact[] {
  const exclude = from ? new Set([from.idHex]) : undefined;
  if (!from || contactSubnet(from) === null) return ctx.table.closest(key, ctx.k, exclude);
  return ctx.table.closest(key, ctx.k * 2, exclude)
    .filter((c) => subnetOf(c.address) !== null)
    .slice(0, ctx.k);
}
