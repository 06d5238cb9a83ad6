/**
 * How a peer connection maps errors to and from the wire: the ERROR answer for an error a
 * handler threw, the typed error for an ERROR received, and the error a request fails with.
 *
 * @module
 */

import { DfsError, errorText, NotFoundError } from "../errors.ts";
import { ContentId } from "../id/content_id.ts";
import { type Message, MessageType, WireErrorCode } from "../wire/messages.ts";
import type { CloseInfo } from "./connection_types.ts";
import { PeerClosedError, PeerProtocolError, PeerRemoteError } from "./errors.ts";

export function parseId(bytes: Uint8Array): ContentId {
  try {
    return ContentId.fromBytes(bytes);
  } catch (cause) {
    throw new PeerRemoteError(WireErrorCode.BAD_REQUEST, `invalid content id`, { cause });
  }
}

export function unsupported(what: string): Promise<never> {
  return Promise.reject(new PeerRemoteError(WireErrorCode.UNSUPPORTED, `${what} not served here`));
}

export function errorMessage(requestId: number, code: number, message: string): Message {
  return { type: MessageType.ERROR, requestId, code, message };
}

export function wireErrorOf(err: unknown): [number, string] {
  if (err instanceof PeerRemoteError) return [err.wireCode, err.message];
  if (err instanceof DfsError) {
    if (err.code === "NOT_FOUND") return [WireErrorCode.NOT_FOUND, err.message];
    if (err.code === "CORRUPT_BLOCK") return [WireErrorCode.CORRUPT, err.message];
    if (err.code === "INVALID_ID") return [WireErrorCode.BAD_REQUEST, err.message];
    if (err.code === "STORE_FULL") return [WireErrorCode.LIMIT, err.message];
    if (err.code === "INVALID_TOMBSTONE") return [WireErrorCode.BAD_REQUEST, err.message];
    if (err.code === "PEER_DELETE_REFUSED") return [WireErrorCode.BAD_REQUEST, err.message];
    if (err.code === "FILE_DELETED") return [WireErrorCode.BAD_REQUEST, err.message];
  }
  return [WireErrorCode.INTERNAL, errorText(err)];
}

export function remoteError(code: number, message: string): Error {
  if (code === WireErrorCode.NOT_FOUND) return new NotFoundError(`peer: ${message}`);
  return new PeerRemoteError(code, `peer answered error ${code}: ${message}`);
}

export function unexpected(msg: Message): PeerProtocolError {
  return new PeerProtocolError(`unexpected answer type 0x${msg.type.toString(16)}`);
}

export function toClosedError(err: unknown, info: CloseInfo | undefined): Error {
  if (info) return info.error;
  if (err instanceof DfsError) return err;
  return new PeerClosedError(`sending to peer failed: ${errorText(err)}`, { cause: err });
}
