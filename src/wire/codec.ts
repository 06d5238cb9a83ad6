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
  MAX_CAPABILITIES,
  MAX_HAS_IDS,
} from "./limits.ts";
import { type Message, MessageType, PROTOCOL_VERSION } from "./messages.ts";
import {
  array,
  bool,
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

const noFlags = () => 0;

/** A message whose payload is empty (CANCEL, OK). */
function empty(type: typeof MessageType.CANCEL | typeof MessageType.OK): MessageCodec {
  return {
    allowedFlags: 0,
    flags: noFlags,
    preencode() {},
    encode() {},
    decode: (_s, requestId) => ({ type, requestId }) as Message,
  };
}

/** A message whose payload is one field `key` of codec `c`. */
function single<K extends string, T>(type: number, key: K, c: Codec<T>): MessageCodec {
  return {
    allowedFlags: 0,
    flags: noFlags,
    preencode: (s, m) => c.preencode(s, (m as unknown as Record<K, T>)[key]),
    encode: (s, m) => c.encode(s, (m as unknown as Record<K, T>)[key]),
    decode: (s, requestId) => ({ type, requestId, [key]: c.decode(s) }) as unknown as Message,
  };
}

/** A message whose payload is a content id then a u32 size (BLOCK, PUT_BLOCK). */
function idAndSize(type: typeof MessageType.BLOCK | typeof MessageType.PUT_BLOCK): MessageCodec {
  return {
    allowedFlags: 0,
    flags: noFlags,
    preencode(s, m) {
      const msg = m as { id: Uint8Array; size: number };
      contentId.preencode(s, msg.id);
      u32.preencode(s, msg.size);
    },
    encode(s, m) {
      const msg = m as { id: Uint8Array; size: number };
      contentId.encode(s, msg.id);
      u32.encode(s, msg.size);
    },
    decode: (s, requestId) => ({ type, requestId, id: contentId.decode(s), size: u32.decode(s) }),
  };
}

const CODECS: ReadonlyMap<number, MessageCodec> = new Map<number, MessageCodec>([
  [MessageType.HELLO, {
    allowedFlags: 0,
    flags: noFlags,
    preencode(s, m) {
      const msg = m as Extract<Message, { type: typeof MessageType.HELLO }>;
      u8.preencode(s, msg.protocolVersion);
      nodeIdCodec.preencode(s, msg.nodeId);
      publicKeyCodec.preencode(s, msg.publicKey);
      nonceCodec.preencode(s, msg.nonce);
      string.preencode(s, msg.listenAddress);
      capabilitiesCodec.preencode(s, msg.capabilities);
    },
    encode(s, m) {
      const msg = m as Extract<Message, { type: typeof MessageType.HELLO }>;
      u8.encode(s, msg.protocolVersion);
      nodeIdCodec.encode(s, msg.nodeId);
      publicKeyCodec.encode(s, msg.publicKey);
      nonceCodec.encode(s, msg.nonce);
      string.encode(s, msg.listenAddress);
      capabilitiesCodec.encode(s, msg.capabilities);
    },
    decode: (s, requestId) => ({
      type: MessageType.HELLO,
      requestId,
      protocolVersion: u8.decode(s),
      nodeId: nodeIdCodec.decode(s),
      publicKey: publicKeyCodec.decode(s),
      nonce: nonceCodec.decode(s),
      listenAddress: string.decode(s),
      capabilities: capabilitiesCodec.decode(s),
    }),
  }],
  [MessageType.AUTH, single(MessageType.AUTH, "signature", signatureCodec)],
  [MessageType.PING, single(MessageType.PING, "timestamp", u64)],
  [MessageType.PONG, single(MessageType.PONG, "timestamp", u64)],
  [MessageType.GOODBYE, single(MessageType.GOODBYE, "reason", string)],
  [MessageType.HAS, single(MessageType.HAS, "ids", idsCodec)],
  [MessageType.HAS_RESULT, single(MessageType.HAS_RESULT, "present", presentCodec)],
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
  [MessageType.BLOCK, idAndSize(MessageType.BLOCK)],
  [MessageType.PUT_BLOCK, idAndSize(MessageType.PUT_BLOCK)],
  [MessageType.DELETE, single(MessageType.DELETE, "id", contentId)],
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
      // Zero-copy: the chunk is a view of the frame body (frames are never reused).
      const chunk = s.buffer.subarray(s.start, s.end);
      s.start = s.end;
      return { type: MessageType.DATA, requestId, chunk, end: (flags & FLAG_END) !== 0 };
    },
  }],
  [MessageType.CANCEL, empty(MessageType.CANCEL)],
  [MessageType.OK, empty(MessageType.OK)],
  [MessageType.ERROR, {
    allowedFlags: 0,
    flags: noFlags,
    preencode(s, m) {
      const msg = m as Extract<Message, { type: typeof MessageType.ERROR }>;
      u16.preencode(s, msg.code);
      string.preencode(s, msg.message);
    },
    encode(s, m) {
      const msg = m as Extract<Message, { type: typeof MessageType.ERROR }>;
      u16.encode(s, msg.code);
      string.encode(s, msg.message);
    },
    decode: (s, requestId) => ({
      type: MessageType.ERROR,
      requestId,
      code: u16.decode(s),
      message: string.decode(s),
    }),
  }],
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
  const max = options?.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  if (msg === null || typeof msg !== "object") {
    throw new MalformedMessageError("message must be an object");
  }
  const codec = CODECS.get(msg.type);
  if (codec === undefined) throw new UnknownMessageTypeError(Number(msg.type) & 0xff);
  const flags = codec.flags(msg);
  const state = measureState();
  u32.preencode(state, msg.requestId);
  codec.preencode(state, msg);
  const bodyLength = state.end + 3; // version, type, flags
  if (bodyLength > max) throw new FrameTooLargeError(bodyLength, max);
  const frame = new Uint8Array(FRAME_PREFIX_SIZE + bodyLength);
  writeU32(frame, 0, bodyLength);
  frame[4] = PROTOCOL_VERSION;
  frame[5] = msg.type;
  frame[6] = flags;
  writeU32(frame, 7, msg.requestId);
  state.buffer = frame;
  state.start = FRAME_PREFIX_SIZE + HEADER_SIZE;
  state.end = frame.length;
  codec.encode(state, msg);
  if (state.start !== frame.length) {
    // Only reachable when a field changed between measuring and writing.
    throw new MalformedMessageError("message changed while being encoded");
  }
  return frame;
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
