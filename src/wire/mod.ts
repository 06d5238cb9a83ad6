/**
 * The wire layer: bytes <-> messages. Length-prefixed frames over a `ReadableStream`, and the
 * versioned message codec described byte by byte in `docs/protocol.md`.
 *
 * @example Encode a message, then read it back from a stream
 * ```ts
 * import { encodeMessage, MessageType, readMessages } from "./mod.ts";
 * const frame = encodeMessage({ type: MessageType.GOODBYE, requestId: 0, reason: "bye" });
 * for await (const msg of readMessages(ReadableStream.from([frame]))) console.log(msg);
 * ```
 *
 * @module
 */

export * from "./messages.ts";
export * from "./errors.ts";
export {
  DEFAULT_DATA_CHUNK_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  FRAME_HEADER_ALLOWANCE,
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
  MAX_STRING_BYTES,
  MAX_U64_VALUE,
} from "./limits.ts";
export {
  decodeDataHead,
  decodeMessage,
  encodeMessage,
  encodeMessageInto,
  type EncodeOptions,
  FLAG_AGES,
  FLAG_END,
  FLAG_FOUND,
  FLAG_RANGE,
  FLAG_REVIVAL,
  FLAG_STATE_REVIVAL,
  FLAG_TOMBSTONE,
} from "./codec.ts";
export { type FramePlacement, FrameReader, type FrameReaderOptions } from "./frame_reader.ts";
export { type DataPlacement, readMessages, type ReadMessagesOptions } from "./read_messages.ts";
export { dataChunks, encodeDataFrames } from "./data_frames.ts";
