/**
 * The three kinds of lookup query — FIND_NODE, GET_PROVIDERS, GET_VALUE — as functions from
 * one answer to what the iterative lookup needs (closer contacts, done or not), collecting
 * providers or records on the way. Answers are checked: the wrong message type, or an ERROR,
 * is a failed query.
 *
 * @module
 */

import { MAX_DHT_PEERS } from "../wire/limits.ts";
import { type Message, MessageType } from "../wire/messages.ts";
import type { Contact } from "./contact.ts";
import { DhtProtocolError } from "./errors.ts";
import type { QueryAnswer } from "./lookup.ts";
import type { SignedNameRecord } from "./name_record.ts";
import { fromWirePeers } from "./wire_peers.ts";

/** Sends one request to a contact and returns the answer message (rejects on failure). */
export type Ask = (contact: Contact, request: Message, signal?: AbortSignal) => Promise<Message>;

/** Checks that `answer` has type `expected`; an ERROR or another type throws. */
export function expectType<T extends Message["type"]>(
  answer: Message,
  expected: T,
  what: string,
): Extract<Message, { type: T }> {
  if (answer.type === expected) return answer as Extract<Message, { type: T }>;
  if (answer.type === MessageType.ERROR) {
    throw new DhtProtocolError(`${what} refused: ${answer.message}`, answer.code);
  }
  throw new DhtProtocolError(`${what} answered with type 0x${answer.type.toString(16)}`);
}

/** A FIND_NODE query for `key`. */
export function findNodeQuery(ask: Ask, key: Uint8Array) {
  return async (contact: Contact, signal: AbortSignal): Promise<QueryAnswer> => {
    const answer = await ask(contact, { type: MessageType.FIND_NODE, requestId: 0, key }, signal);
    const nodes = expectType(answer, MessageType.NODES, "FIND_NODE");
    return { closer: fromWirePeers(nodes.peers, MAX_DHT_PEERS) };
  };
}

/**
 * A GET_PROVIDERS query for `key` that adds the providers it meets to `found` (by id) and is
 * done once `count` providers are credited. Each answering node is credited with at most
 * `perAnswer` of the providers it names, so that one hostile node answering with made-up
 * providers cannot end the lookup alone before honest nodes were asked.
 */
export function getProvidersQuery(
  ask: Ask,
  key: Uint8Array,
  found: Map<string, Contact>,
  count: number,
  perAnswer: number,
) {
  let credited = found.size; // records this node holds itself are trusted
  return async (contact: Contact, signal: AbortSignal): Promise<QueryAnswer> => {
    const request = { type: MessageType.GET_PROVIDERS, requestId: 0, key } as const;
    const answer = expectType(
      await ask(contact, request, signal),
      MessageType.PROVIDERS,
      "GET_PROVIDERS",
    );
    let fromThis = 0;
    for (const p of fromWirePeers(answer.providers, MAX_DHT_PEERS)) {
      if (found.has(p.idHex)) continue;
      // A node naming itself may not know the address others reach it at: use the one we did.
      found.set(p.idHex, p.idHex === contact.idHex ? contact : p);
      if (fromThis < perAnswer) {
        fromThis++;
        credited++;
      }
    }
    return { closer: fromWirePeers(answer.closer, MAX_DHT_PEERS), done: credited >= count };
  };
}

/** One record met by a GET_VALUE lookup, and who held it. */
export interface HeldRecord {
  /** The node that answered. */
  readonly holder: Contact;
  /** Its record (already verified), or null when it had none. */
  readonly record: SignedNameRecord | null;
}

/**
 * A GET_VALUE query for `key` that checks each record it meets with `accept` (signature,
 * expiry, name) and notes what each holder answered in `held`.
 */
export function getValueQuery(
  ask: Ask,
  key: Uint8Array,
  held: HeldRecord[],
  accept: (record: SignedNameRecord) => Promise<boolean>,
) {
  return async (contact: Contact, signal: AbortSignal): Promise<QueryAnswer> => {
    const request = { type: MessageType.GET_VALUE, requestId: 0, key } as const;
    const answer = expectType(await ask(contact, request, signal), MessageType.VALUE, "GET_VALUE");
    const record = answer.record && (await accept(answer.record)) ? answer.record : null;
    held.push({ holder: contact, record });
    return { closer: fromWirePeers(answer.closer, MAX_DHT_PEERS) };
  };
}
