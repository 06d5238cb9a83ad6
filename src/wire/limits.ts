/**
 * Sizes and bounds of the wire protocol. `docs/protocol.md` documents the same numbers.
 *
 * @module
 */

/** Bytes of the frame length prefix (u32 big-endian). */
export const FRAME_PREFIX_SIZE = 4;

/** Bytes of the message header: version u8, type u8, flags u8, requestId u32. */
export const HEADER_SIZE = 7;

/** Allowance on top of 1 MiB for the message header and fixed fields of a DATA frame. */
export const FRAME_HEADER_ALLOWANCE = 64;

/**
 * Largest frame body (length prefix excluded) a reader accepts by default: 1 MiB + 64 bytes.
 * Checked against the declared length before anything is allocated.
 */
export const DEFAULT_MAX_FRAME_SIZE: number = 1024 * 1024 + FRAME_HEADER_ALLOWANCE;

/**
 * Size DATA pieces are cut to, so control messages (PING, CANCEL...) interleave with bulk
 * transfers. Chosen from `bench/wire_bench.ts` (see bench/RESULTS.md).
 */
export const DEFAULT_DATA_CHUNK_SIZE: number = 128 * 1024;

/** Largest UTF-8 byte length of any string field. */
export const MAX_STRING_BYTES = 1024;

/** Largest number of ids in a HAS (and of answers in a HAS_RESULT). */
export const MAX_HAS_IDS = 1024;

/** Largest number of block ids in a FILE_PROBE (and of answers in a FILE_STATE). */
export const MAX_PROBE_IDS = 1024;

/**
 * Largest number of missing-unit ages in a FILE_STATE with flag AGES (its count is a u8): as many
 * copies or columns as a file can have (64).
 */
export const MAX_FILE_AGES = 64;

/** Largest number of capability names in a HELLO. */
export const MAX_CAPABILITIES = 32;

/** Largest integer a u64 field may carry (JavaScript's safe-integer limit, 2^53 - 1). */
export const MAX_U64_VALUE: number = Number.MAX_SAFE_INTEGER;

/** Largest UTF-8 byte length of the name of a signed name record (PUT_VALUE, VALUE). */
export const MAX_NAME_BYTES = 200;

/** Largest number of addresses in a PEERS answer. */
export const MAX_PEER_ADDRESSES = 32;

/** Largest UTF-8 byte length of one address ("host:port") in PEERS, or of a DHT peer. */
export const MAX_ADDRESS_BYTES = 300;

/** Largest number of peers in each list of a DHT answer (NODES, PROVIDERS, VALUE). */
export const MAX_DHT_PEERS = 20;

/** Largest byte length of the value of a signed record (VALUE, PUT_VALUE). */
export const MAX_RECORD_VALUE_BYTES = 256;
