/**
 * The message codec: {@linkcode encodeMessage} and {@linkcode decodeMessage}. A frame is a u32
 * big-endian body length followed by the body; the body is
 * `[version u8][type u8][flags u8][requestId u32][payload]`. Payload layouts are built from the
 * primitive codecs of `primitives.ts`; `docs/protocol.md` describes them byte by byte.
 *
 * @module
 */

import {
  FrameTooLargeError,
  MalformedMessageError,
  UnknownMessageTypeError,
  UnsupportedVersionError,
} from "./errors.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  FRAME_PREFIX_SIZE,
  HEADER_SIZE,
  MAX_ADDRESS_BYTES,
  MAX_CAPABILITIES,
  MAX_DHT_PEERS,
  MAX_FILE_AGES,
  MAX_HAS_IDS,
  MAX_NAME_BYTES,
  MAX_PEER_ADDRESSES,
  MAX_PROBE_IDS,
  MAX_RECORD_VALUE_BYTES,
} from "./limits.ts";
import {
  type Message,
  MessageType,
  PROTOCOL_VERSION,
  type WireMissingAge,
  type WirePeer,
  type WireSignedRecord,
  type WireTombstone,
} from "./messages.ts";
import {
  array,
  bool,
  boundedString,
  bytes,
  type Codec,
  contentId,
  decodeState,
  fixed,
  measureState,
  type State,
  string,
  u16,
  u32,
  u64,
  u8,
  writeU32,
} from "./primitives.ts";

/** Header flag of DATA: this is the last piece of the body. */
export const FLAG_END = 0x01;
/** Header flag of GET_BLOCK: a byte range (offset u32, length u32) follows the id. */
export const FLAG_RANGE = 0x01;
/** Header flag of VALUE: a signed record comes first in the payload. */
export const FLAG_FOUND = 0x01;
/** Header flag of FILE_STATE: a tombstone comes first in the payload. */
export const FLAG_TOMBSTONE = 0x01;
/** Header flag of FILE_STATE: the tombstone (flag TOMBSTONE) is a revival. */
export const FLAG_STATE_REVIVAL = 0x04;
/** Header flag of TOMBSTONE: the tombstone offered is a revival. */
export const FLAG_REVIVAL = 0x01;
/** Header flag of FILE_STATE: the sender's missing-unit ages follow the answers. */
export const FLAG_AGES = 0x02;

/** How one message type is laid out after the header. */
interface MessageCodec {
  /** Flag bits this type may carry; any other bit set is malformed. */
  readonly allowedFlags: number;
  /** The flags to send for `msg`. */
  flags(msg: Message): number;
  preencode(state: State, msg: Message): void;
  encode(state: State, msg: Message): void;
  decode(state: State, requestId: number, flags: number): Message;
}

const bytes32 = (what: string) => fixed(32, what);
const nodeIdCodec = bytes32("nodeId");
const publicKeyCodec = bytes32("publicKey");
const nonceCodec = bytes32("nonce");
const signatureCodec = fixed(64, "signature");
const capabilitiesCodec = array(string, MAX_CAPABILITIES, "capabilities");
const idsCodec = array(contentId, MAX_HAS_IDS, "ids");
const presentCodec = array(bool, MAX_HAS_IDS, "present");
const addressesCodec = array(
  boundedString(MAX_ADDRESS_BYTES, "address"),
  MAX_PEER_ADDRESSES,
  "addresses",
);
/** The name of a signed record: at most `MAX_NAME_BYTES` (200) UTF-8 bytes. */
const nameCodec = boundedString(MAX_NAME_BYTES, "name");

const noFlags = () => 0;

/** One field of a payload: its key in the message and its codec. */
// deno-lint-ignore no-explicit-any
type Field = readonly [key: string, codec: Codec<any>];

/**
 * An object whose fields are `layout`'s, in order, with no prefix: each key's value written
 * with its codec (which validates it), and read back under the same key.
 */
function struct<T>(what: string, ...layout: readonly Field[]): Codec<T> {
  return {
    preencode(s, v) {
      if (v === null || typeof v !== "object") {
        throw new MalformedMessageError(`${what} must be an object`);
      }
      const obj = v as unknown as Record<string, unknown>;
      for (const [key, c] of layout) c.preencode(s, obj[key]);
    },
    encode(s, v) {
      const obj = v as unknown as Record<string, unknown>;
      for (const [key, c] of layout) c.encode(s, obj[key]);
    },
    decode(s) {
      const obj: Record<string, unknown> = {};
      for (const [key, c] of layout) obj[key] = c.decode(s);
      return obj as unknown as T;
    },
  };
}

/** A DHT key: exactly 32 bytes. */
const dhtKeyCodec = bytes32("key");

/** A DHT contact: node id (32 bytes), then its address (at most 300 UTF-8 bytes). */
const peerCodec = struct<WirePeer>(
  "peer",
  ["nodeId", nodeIdCodec],
  ["address", boundedString(MAX_ADDRESS_BYTES, "address")],
);
const dhtPeersCodec = (what: string) => array(peerCodec, MAX_DHT_PEERS, what);
const closerCodec = dhtPeersCodec("closer");

/** A signed record: name, value, seq (u64), expires (u64), public key, signature. */
const signedRecordCodec = struct<WireSignedRecord>(
  "signed record",
  ["name", nameCodec],
  ["value", bytes(MAX_RECORD_VALUE_BYTES, "value")],
  ["seq", u64],
  ["expires", u64],
  ["publicKey", publicKeyCodec],
  ["signature", signatureCodec],
);

/** A tombstone: file id, issuer key, deletedAt (u64), expiresAt (u64), signature. */
const tombstoneCodec = struct<WireTombstone>(
  "tombstone",
  ["fileId", contentId],
  ["issuer", bytes32("issuer")],
  ["deletedAt", u64],
  ["expiresAt", u64],
  ["signature", signatureCodec],
);
const probeIdsCodec = array(contentId, MAX_PROBE_IDS, "ids");
const probeHasCodec = array(bool, MAX_PROBE_IDS, "has");
/** A missing unit's age: unit (u16), then whole seconds (u32). */
const ageCodec = struct<WireMissingAge>("age", ["unit", u16], ["ageSeconds", u32]);

/** FILE_STATE's ages: a u8 count (at most {@linkcode MAX_FILE_AGES}), then each age. */
const agesCodec: Codec<readonly WireMissingAge[]> = {
  preencode(s, v) {
    if (!Array.isArray(v)) throw new MalformedMessageError("ages must be an array");
    if (v.length > MAX_FILE_AGES) {
      throw new MalformedMessageError(`ages has ${v.length} items, max ${MAX_FILE_AGES}`);
    }
    s.end += 1;
    for (const a of v) ageCodec.preencode(s, a);
  },
  encode(s, v) {
    u8.encode(s, v.length);
    for (const a of v) ageCodec.encode(s, a);
  },
  decode(s) {
    const n = u8.decode(s);
    if (n > MAX_FILE_AGES) {
      throw new MalformedMessageError(`ages has ${n} items, max ${MAX_FILE_AGES}`);
    }
    return Array.from({ length: n }, () => ageCodec.decode(s));
  },
};

/**
 * A message without flags whose payload is `layout`'s fields, in order (none for CANCEL and
 * OK): each key's value written with its codec (which validates it), and read back under the
 * same key.
 */
function fields(type: number, ...layout: readonly Field[]): MessageCodec {
  return {
    allowedFlags: 0,
    flags: noFlags,
    preencode(s, m) {
      const msg = m as unknown as Record<string, unknown>;
      for (const [key, c] of layout) c.preencode(s, msg[key]);
    },
    encode(s, m) {
      const msg = m as unknown as Record<string, unknown>;
      for (const [key, c] of layout) c.encode(s, msg[key]);
    },
    decode(s, requestId) {
      const msg: Record<string, unknown> = { type, requestId };
      for (const [key, c] of layout) msg[key] = c.decode(s);
      return msg as unknown as Message;
    },
  };
}

const CODECS: ReadonlyMap<number, MessageCodec> = new Map<number, MessageCodec>([
  [
    MessageType.HELLO,
    fields(
      MessageType.HELLO,
      ["protocolVersion", u8],
      ["nodeId", nodeIdCodec],
      ["publicKey", publicKeyCodec],
      ["nonce", nonceCodec],
      ["listenAddress", string],
      ["capabilities", capabilitiesCodec],
    ),
  ],
  [MessageType.AUTH, fields(MessageType.AUTH, ["signature", signatureCodec])],
  [MessageType.PING, fields(MessageType.PING, ["timestamp", u64])],
  [MessageType.PONG, fields(MessageType.PONG, ["timestamp", u64])],
  [MessageType.GOODBYE, fields(MessageType.GOODBYE, ["reason", string])],
  [MessageType.GET_PEERS, fields(MessageType.GET_PEERS)],
  [MessageType.PEERS, fields(MessageType.PEERS, ["addresses", addressesCodec])],
  [MessageType.HAS, fields(MessageType.HAS, ["ids", idsCodec])],
  [MessageType.HAS_RESULT, fields(MessageType.HAS_RESULT, ["present", presentCodec])],
  [MessageType.GET_BLOCK, {
    allowedFlags: FLAG_RANGE,
    flags: (m) => ((m as { range?: unknown }).range === undefined ? 0 : FLAG_RANGE),
    preencode(s, m) {
      const msg = m as Extract<Message, { type: typeof MessageType.GET_BLOCK }>;
      contentId.preencode(s, msg.id);
      if (msg.range !== undefined) {
        if (msg.range === null || typeof msg.range !== "object") {
          throw new MalformedMessageError("range must be an object { offset, length }");
        }
        u32.preencode(s, msg.range.offset);
        u32.preencode(s, msg.range.length);
      }
    },
    encode(s, m) {
      const msg = m as Extract<Message, { type: typeof MessageType.GET_BLOCK }>;
      contentId.encode(s, msg.id);
      if (msg.range !== undefined) {
        u32.encode(s, msg.range.offset);
        u32.encode(s, msg.range.length);
      }
    },
    decode(s, requestId, flags) {
      const id = contentId.decode(s);
      if ((flags & FLAG_RANGE) === 0) return { type: MessageType.GET_BLOCK, requestId, id };
      const range = { offset: u32.decode(s), length: u32.decode(s) };
      return { type: MessageType.GET_BLOCK, requestId, id, range };
    },
  }],
  [MessageType.BLOCK, fields(MessageType.BLOCK, ["id", contentId], ["size", u32])],
  [MessageType.PUT_BLOCK, fields(MessageType.PUT_BLOCK, ["id", contentId], ["size", u32])],
  [MessageType.BAD_BLOCK, fields(MessageType.BAD_BLOCK, ["id", contentId])],
  [MessageType.DELETE, fields(MessageType.DELETE, ["id", contentId])],
  [MessageType.DATA, {
    allowedFlags: FLAG_END,
    flags: (m) => {
      const end = (m as { end: unknown }).end;
      if (typeof end !== "boolean") throw new MalformedMessageError("DATA end must be a boolean");
      return end ? FLAG_END : 0;
    },
    preencode(s, m) {
      const chunk = (m as { chunk: unknown }).chunk;
      if (!(chunk instanceof Uint8Array)) {
        throw new MalformedMessageError("DATA chunk must be a Uint8Array");
      }
      s.end += chunk.length;
    },
    encode(s, m) {
      const chunk = (m as { chunk: Uint8Array }).chunk;
      s.buffer.set(chunk, s.start);
      s.start += chunk.length;
    },
    decode(s, requestId, flags) {
      // Zero-copy: the chunk is a view of the frame body, valid as long as the body is (a
      // FrameReader with `reuseBuffers` reuses it at its next read).
      const chunk = s.buffer.subarray(s.start, s.end);
      s.start = s.end;
      return { type: MessageType.DATA, requestId, chunk, end: (flags & FLAG_END) !== 0 };
    },
  }],
  [MessageType.CANCEL, fields(MessageType.CANCEL)],
  [MessageType.FIND_NODE, fields(MessageType.FIND_NODE, ["key", dhtKeyCodec])],
  [MessageType.NODES, fields(MessageType.NODES, ["peers", dhtPeersCodec("peers")])],
  [MessageType.GET_PROVIDERS, fields(MessageType.GET_PROVIDERS, ["key", dhtKeyCodec])],
  [
    MessageType.PROVIDERS,
    fields(
      MessageType.PROVIDERS,
      ["providers", dhtPeersCodec("providers")],
      ["closer", closerCodec],
    ),
  ],
  [MessageType.ADD_PROVIDER, fields(MessageType.ADD_PROVIDER, ["key", dhtKeyCodec])],
  [MessageType.GET_VALUE, fields(MessageType.GET_VALUE, ["key", dhtKeyCodec])],
  [MessageType.VALUE, {
    allowedFlags: FLAG_FOUND,
    flags: (m) => ((m as { record?: unknown }).record === undefined ? 0 : FLAG_FOUND),
    preencode(s, m) {
      const msg = m as Extract<Message, { type: typeof MessageType.VALUE }>;
      if (msg.record !== undefined) signedRecordCodec.preencode(s, msg.record);
      closerCodec.preencode(s, msg.closer);
    },
    encode(s, m) {
      const msg = m as Extract<Message, { type: typeof MessageType.VALUE }>;
      if (msg.record !== undefined) signedRecordCodec.encode(s, msg.record);
      closerCodec.encode(s, msg.closer);
    },
    decode(s, requestId, flags) {
      const type = MessageType.VALUE;
      if ((flags & FLAG_FOUND) === 0) return { type, requestId, closer: closerCodec.decode(s) };
      const record = signedRecordCodec.decode(s);
      return { type, requestId, record, closer: closerCodec.decode(s) };
    },
  }],
  [MessageType.PUT_VALUE, fields(MessageType.PUT_VALUE, ["record", signedRecordCodec])],
  [
    MessageType.FILE_PROBE,
    fields(MessageType.FILE_PROBE, ["fileId", contentId], ["ids", probeIdsCodec]),
  ],
  [MessageType.FILE_STATE, {
    allowedFlags: FLAG_TOMBSTONE | FLAG_AGES | FLAG_STATE_REVIVAL,
    flags: (m) => {
      const msg = m as { tombstone?: WireTombstone; ages?: unknown };
      return (msg.tombstone === undefined ? 0 : FLAG_TOMBSTONE) |
        (msg.tombstone?.revival ? FLAG_STATE_REVIVAL : 0) |
        (msg.ages === undefined ? 0 : FLAG_AGES);
    },
    preencode(s, m) {
      const msg = m as Extract<Message, { type: typeof MessageType.FILE_STATE }>;
      if (msg.tombstone !== undefined) tombstoneCodec.preencode(s, msg.tombstone);
      probeHasCodec.preencode(s, msg.has);
      if (msg.ages !== undefined) agesCodec.preencode(s, msg.ages);
    },
    encode(s, m) {
      const msg = m as Extract<Message, { type: typeof MessageType.FILE_STATE }>;
      if (msg.tombstone !== undefined) tombstoneCodec.encode(s, msg.tombstone);
      probeHasCodec.encode(s, msg.has);
      if (msg.ages !== undefined) agesCodec.encode(s, msg.ages);
    },
    decode(s, requestId, flags) {
      const type = MessageType.FILE_STATE;
      if ((flags & FLAG_STATE_REVIVAL) !== 0 && (flags & FLAG_TOMBSTONE) === 0) {
        throw new MalformedMessageError("FILE_STATE flag REVIVAL without flag TOMBSTONE");
      }
      const decoded = (flags & FLAG_TOMBSTONE) === 0 ? undefined : tombstoneCodec.decode(s);
      const tombstone = decoded && (flags & FLAG_STATE_REVIVAL) !== 0
        ? { ...decoded, revival: true }
        : decoded;
      const has = probeHasCodec.decode(s);
      const ages = (flags & FLAG_AGES) === 0 ? undefined : agesCodec.decode(s);
      return {
        type,
        requestId,
        ...(tombstone === undefined ? {} : { tombstone }),
        has,
        ...(ages === undefined ? {} : { ages }),
      };
    },
  }],
  [MessageType.TOMBSTONE, {
    allowedFlags: FLAG_REVIVAL,
    flags: (m) => ((m as { tombstone?: WireTombstone }).tombstone?.revival ? FLAG_REVIVAL : 0),
    preencode(s, m) {
      tombstoneCodec.preencode(s, (m as { tombstone: WireTombstone }).tombstone);
    },
    encode(s, m) {
      tombstoneCodec.encode(s, (m as { tombstone: WireTombstone }).tombstone);
    },
    decode(s, requestId, flags) {
      const decoded = tombstoneCodec.decode(s);
      const tombstone = (flags & FLAG_REVIVAL) !== 0 ? { ...decoded, revival: true } : decoded;
      return { type: MessageType.TOMBSTONE, requestId, tombstone };
    },
  }],
  [MessageType.OK, fields(MessageType.OK)],
  [MessageType.ERROR, fields(MessageType.ERROR, ["code", u16], ["message", string])],
]);

/** Options of {@linkcode encodeMessage}. */
export interface EncodeOptions {
  /** Largest body to produce (default {@linkcode DEFAULT_MAX_FRAME_SIZE}). */
  readonly maxFrameSize?: number;
}

/**
 * Encodes a message as one complete frame: the u32 big-endian body length, then the body.
 * The message is measured first, so the frame is a single allocation.
 *
 * Throws {@linkcode UnknownMessageTypeError} for a type outside the catalogue,
 * {@linkcode MalformedMessageError} for a field the layout cannot hold (wrong id length,
 * string over 1 KiB, too many items, non-integer...), and {@linkcode FrameTooLargeError} when
 * the body would exceed `maxFrameSize`.
 *
 * @example Encode a PING and decode it back
 * ```ts
 * import { decodeMessage, encodeMessage } from "./codec.ts";
 * import { MessageType } from "./messages.ts";
 * const frame = encodeMessage({ type: MessageType.PING, requestId: 7, timestamp: 1000 });
 * const msg = decodeMessage(frame.subarray(4)); // skip the length prefix
 * console.log(msg.type === MessageType.PING, msg.requestId); // true 7
 * ```
 */
export function encodeMessage(msg: Message, options?: EncodeOptions): Uint8Array {
  const frameLength = measureMessage(msg, options);
  const frame = new Uint8Array(frameLength);
  writeFrame(msg, frame, 0, frameLength);
  return frame;
}

/**
 * Encodes a message as one complete frame (as {@linkcode encodeMessage}) into `target` at
 * `offset`, without allocating: returns the frame's length, or -1 (nothing written) when it
 * does not fit in `target.length - offset` bytes. Throws what {@linkcode encodeMessage}
 * throws. A sender can batch several frames in one reused buffer and write them at once.
 *
 * @example Two frames in one buffer
 * ```ts
 * import { encodeMessageInto } from "./codec.ts";
 * import { MessageType } from "./messages.ts";
 * const buffer = new Uint8Array(64);
 * const a = encodeMessageInto({ type: MessageType.OK, requestId: 1 }, buffer, 0);
 * const b = encodeMessageInto({ type: MessageType.OK, requestId: 2 }, buffer, a);
 * console.log(a, b); // 11 11
 * ```
 */
export function encodeMessageInto(
  msg: Message,
  target: Uint8Array,
  offset: number,
  options?: EncodeOptions,
): number {
  const frameLength = measureMessage(msg, options);
  if (frameLength > target.length - offset) return -1;
  writeFrame(msg, target, offset, frameLength);
  return frameLength;
}

/** Validates `msg` and returns its whole frame length (prefix included). */
function measureMessage(msg: Message, options?: EncodeOptions): number {
  const max = options?.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  if (msg === null || typeof msg !== "object") {
    throw new MalformedMessageError("message must be an object");
  }
  const codec = CODECS.get(msg.type);
  if (codec === undefined) throw new UnknownMessageTypeError(Number(msg.type) & 0xff);
  codec.flags(msg); // validates the flag fields
  const state = measureState();
  u32.preencode(state, msg.requestId);
  codec.preencode(state, msg);
  const bodyLength = state.end + 3; // version, type, flags
  if (bodyLength > max) throw new FrameTooLargeError(bodyLength, max);
  return FRAME_PREFIX_SIZE + bodyLength;
}

/** Writes the measured frame of `msg` (`frameLength` bytes) into `target` at `offset`. */
function writeFrame(msg: Message, target: Uint8Array, offset: number, frameLength: number): void {
  const codec = CODECS.get(msg.type)!;
  writeU32(target, offset, frameLength - FRAME_PREFIX_SIZE);
  target[offset + 4] = PROTOCOL_VERSION;
  target[offset + 5] = msg.type;
  target[offset + 6] = codec.flags(msg);
  writeU32(target, offset + 7, msg.requestId);
  const state = decodeState(target);
  state.start = offset + FRAME_PREFIX_SIZE + HEADER_SIZE;
  state.end = offset + frameLength;
  codec.encode(state, msg);
  if (state.start !== offset + frameLength) {
    // Only reachable when a field changed between measuring and writing.
    throw new MalformedMessageError("message changed while being encoded");
  }
}

/**
 * Decodes a frame body (without its length prefix) into a message.
 *
 * Throws {@linkcode UnsupportedVersionError} when the version byte is not
 * {@linkcode PROTOCOL_VERSION}, {@linkcode UnknownMessageTypeError} for a type outside the
 * catalogue, and {@linkcode MalformedMessageError} when the body is shorter than the header,
 * a field is truncated or out of bounds, a flag bit is not defined for the type, or bytes
 * follow the payload. A DATA message's `chunk` is a view into `body` (no copy); every other
 * byte field is a copy.
 *
 * @example Reject an unknown version
 * ```ts
 * import { decodeMessage } from "./codec.ts";
 * try {
 *   decodeMessage(new Uint8Array([9, 0x03, 0, 0, 0, 0, 1]));
 * } catch (err) {
 *   console.log((err as { code: string }).code); // "UNSUPPORTED_VERSION"
 * }
 * ```
 */
/**
 * The request id and `end` flag of a DATA message from the first {@linkcode HEADER_SIZE} bytes
 * of its body, or `undefined` when they are not a valid DATA header (wrong version, another
 * type, flags other than END): such a body is then decoded whole by {@linkcode decodeMessage},
 * which throws the typed error. Every byte after the header is the DATA chunk, so a receiver
 * that puts the rest of a DATA body where it wants it (a frame placement) decodes the header
 * alone with this.
 *
 * @example
 * ```ts
 * import { decodeDataHead, encodeMessage } from "./codec.ts";
 * import { MessageType } from "./messages.ts";
 * const chunk = new Uint8Array(3);
 * const frame = encodeMessage({ type: MessageType.DATA, requestId: 5, chunk, end: true });
 * console.log(decodeDataHead(frame.subarray(4, 11))); // { requestId: 5, end: true }
 * ```
 */
export function decodeDataHead(
  head: Uint8Array,
): { requestId: number; end: boolean } | undefined {
  if (head.length < HEADER_SIZE || head[0] !== PROTOCOL_VERSION) return undefined;
  if (head[1] !== MessageType.DATA || (head[2] & ~FLAG_END) !== 0) return undefined;
  const requestId = ((head[3] << 24) | (head[4] << 16) | (head[5] << 8) | head[6]) >>> 0;
  return { requestId, end: (head[2] & FLAG_END) !== 0 };
}

export function decodeMessage(body: Uint8Array): Message {
  if (body.length >= 1 && body[0] !== PROTOCOL_VERSION) {
    throw new UnsupportedVersionError(body[0], PROTOCOL_VERSION);
  }
  if (body.length < HEADER_SIZE) {
    throw new MalformedMessageError(
      `message body of ${body.length} bytes is shorter than the ${HEADER_SIZE}-byte header`,
    );
  }
  const type = body[1];
  const codec = CODECS.get(type);
  if (codec === undefined) throw new UnknownMessageTypeError(type);
  const flags = body[2];
  if ((flags & ~codec.allowedFlags) !== 0) {
    throw new MalformedMessageError(
      `flags 0x${flags.toString(16)} not allowed for type 0x${type.toString(16)}`,
    );
  }
  const state = decodeState(body);
  state.start = 3;
  const requestId = u32.decode(state);
  const msg = codec.decode(state, requestId, flags);
  if (state.start !== state.end) {
    throw new MalformedMessageError(
      `${state.end - state.start} trailing bytes after a message of type 0x${type.toString(16)}`,
    );
  }
  return msg;
}
