/**
 * Name records between their node form ({@linkcode NameRecord}: text id, hex node id) and their
 * wire form (`WireNameRecord`: binary content id, 32-byte node id), checked in both directions.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { ContentId } from "../id/content_id.ts";
import { fromHex, toHex } from "../util/hex.ts";
import type { WireNameRecord } from "../wire/messages.ts";
import { parseNameRecord } from "./names.ts";
import type { NameRecord } from "./types.ts";

/**
 * The wire form of `record`. Throws {@linkcode InvalidArgumentError} when the record cannot be
 * carried: a malformed record, or a node id that is not 32 bytes (64 hex digits).
 *
 * @example
 * ```ts ignore
 * const wire = toWireNameRecord({ name: "doc", id: fileId, version: 1, nodeId: node.nodeId });
 * ```
 */
export function toWireNameRecord(record: NameRecord): WireNameRecord {
  const checked = parseNameRecord(record);
  const nodeId = checked ? fromHex(checked.nodeId) : null;
  if (!checked || !nodeId || nodeId.length !== 32) {
    throw new InvalidArgumentError(`name record cannot be sent: ${JSON.stringify(record)}`);
  }
  return {
    name: checked.name,
    fileId: ContentId.parse(checked.id).bytes,
    version: checked.version,
    nodeId,
  };
}

/**
 * The node form of a record received from a peer, or `null` when it is not acceptable (bad
 * name, version 0, unknown id algorithm...). Never throws.
 */
export function fromWireNameRecord(wire: WireNameRecord): NameRecord | null {
  let id: string;
  try {
    id = ContentId.fromBytes(wire.fileId).toString();
  } catch {
    return null;
  }
  if (!(wire.nodeId instanceof Uint8Array) || wire.nodeId.length !== 32) return null;
  return parseNameRecord({
    name: wire.name,
    id,
    version: wire.version,
    nodeId: toHex(wire.nodeId),
  });
}
