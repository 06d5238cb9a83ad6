/**
 * Primitive codecs, compact-encoding style: each is `preencode` (measure), `encode` (write)
 * and `decode` (read) over a {@linkcode State}. Composite messages (`codec.ts`) are built from
 * them, so a message is measured once, allocated once, and written without copies.
 *
 * Decoding never reads past `state.end`: it throws {@linkcode MalformedMessageError} instead.
 * Encoding validates its input and throws the same error for values the layout cannot hold.
 *
 * @module
 */

import { MalformedMessageError } from "./errors.ts";
import { MAX_STRING_BYTES, MAX_U64_VALUE } from "./limits.ts";

/**
 * A cursor over a buffer. While measuring, `end` grows; while encoding or decoding, `start`
 * moves from the first byte towards `end`.
 */
export interface State {
  /** The bytes being written or read (empty while measuring). */
  buffer: Uint8Array;
  /** Next byte to write or read. */
  start: number;
  /** One past the last byte (the measured size while preencoding). */
  end: number;
}

/** Three functions describing how one value is laid out. */
export interface Codec<T> {
  /** Adds the encoded size of `value` to `state.end`; validates `value`. */
  preencode(state: State, value: T): void;
  /** Writes `value` at `state.start` and advances it. */
  encode(state: State, value: T): void;
  /** Reads a value at `state.start`, advances it, and throws when it would pass `state.end`. */
  decode(state: State): T;
}

/** Creates a state for measuring (empty buffer, `end` 0). */
export function measureState(): State {
  return { buffer: EMPTY, start: 0, end: 0 };
}

/** Creates a state for decoding all of `buffer`. */
export function decodeState(buffer: Uint8Array): State {
  return { buffer, start: 0, end: buffer.length };
}

const EMPTY = new Uint8Array(0);

function need(state: State, n: number, what: string): void {
  if (state.end - state.start < n) {
    throw new MalformedMessageError(
      `truncated ${what}: need ${n} bytes, ${state.end - state.start} left`,
    );
  }
}

function checkUint(value: number, max: number, what: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new MalformedMessageError(`${what} must be an integer in 0..${max}, got ${value}`);
  }
}

/** One unsigned byte. */
export const u8: Codec<number> = {
  preencode(state, value) {
    checkUint(value, 0xff, "u8");
    state.end += 1;
  },
  encode(state, value) {
    state.buffer[state.start++] = value;
  },
  decode(state) {
    need(state, 1, "u8");
    return state.buffer[state.start++];
  },
};

/** Unsigned 16-bit integer, big-endian. */
export const u16: Codec<number> = {
  preencode(state, value) {
    checkUint(value, 0xffff, "u16");
    state.end += 2;
  },
  encode(state, value) {
    const b = state.buffer;
    b[state.start++] = value >>> 8;
    b[state.start++] = value & 0xff;
  },
  decode(state) {
    need(state, 2, "u16");
    const b = state.buffer;
    const v = (b[state.start] << 8) | b[state.start + 1];
    state.start += 2;
    return v;
  },
};

/** Writes `value` as u32 big-endian at `offset` (no checks). */
export function writeU32(buffer: Uint8Array, offset: number, value: number): void {
  buffer[offset] = value >>> 24;
  buffer[offset + 1] = (value >>> 16) & 0xff;
  buffer[offset + 2] = (value >>> 8) & 0xff;
  buffer[offset + 3] = value & 0xff;
}

/** Reads a u32 big-endian at `offset` (no checks). */
export function readU32(buffer: Uint8Array, offset: number): number {
  return (
    buffer[offset] * 0x1000000 +
    ((buffer[offset + 1] << 16) | (buffer[offset + 2] << 8) | buffer[offset + 3])
  );
}

/** Unsigned 32-bit integer, big-endian. */
export const u32: Codec<number> = {
  preencode(state, value) {
    checkUint(value, 0xffffffff, "u32");
    state.end += 4;
  },
  encode(state, value) {
    writeU32(state.buffer, state.start, value);
    state.start += 4;
  },
  decode(state) {
    need(state, 4, "u32");
    const v = readU32(state.buffer, state.start);
    state.start += 4;
    return v;
  },
};

/** Unsigned 64-bit integer, big-endian, limited to 0..2^53-1 so it fits a JavaScript number. */
export const u64: Codec<number> = {
  preencode(state, value) {
    checkUint(value, MAX_U64_VALUE, "u64");
    state.end += 8;
  },
  encode(state, value) {
    writeU32(state.buffer, state.start, Math.floor(value / 0x100000000));
    writeU32(state.buffer, state.start + 4, value >>> 0);
    state.start += 8;
  },
  decode(state) {
    need(state, 8, "u64");
    const hi = readU32(state.buffer, state.start);
    const lo = readU32(state.buffer, state.start + 4);
    if (hi > 0x1fffff) {
      throw new MalformedMessageError("u64 value above 2^53-1");
    }
    state.start += 8;
    return hi * 0x100000000 + lo;
  },
};

/** A boolean as one byte: 0 or 1; any other byte is malformed. */
export const bool: Codec<boolean> = {
  preencode(state, value) {
    if (typeof value !== "boolean") throw new MalformedMessageError("expected a boolean");
    state.end += 1;
  },
  encode(state, value) {
    state.buffer[state.start++] = value ? 1 : 0;
  },
  decode(state) {
    need(state, 1, "bool");
    const v = state.buffer[state.start++];
    if (v > 1) throw new MalformedMessageError(`boolean byte must be 0 or 1, got ${v}`);
    return v === 1;
  },
};

/**
 * Exactly `length` raw bytes, no prefix. Decoding returns a copy, so the message does not pin
 * the frame buffer.
 */
export function fixed(length: number, what: string): Codec<Uint8Array> {
  return {
    preencode(state, value) {
      if (!(value instanceof Uint8Array) || value.length !== length) {
        throw new MalformedMessageError(
          `${what} must be ${length} bytes, got ${
            value instanceof Uint8Array ? value.length : typeof value
          }`,
        );
      }
      state.end += length;
    },
    encode(state, value) {
      state.buffer.set(value, state.start);
      state.start += length;
    },
    decode(state) {
      need(state, length, what);
      const v = state.buffer.slice(state.start, state.start + length);
      state.start += length;
      return v;
    },
  };
}

/** Digest length by multihash code, for the hash functions content ids may name. */
const MULTIHASH_DIGEST_LENGTH: ReadonlyMap<number, number> = new Map([
  [0x12, 32], // sha-256
  [0x11, 20], // sha-1
]);

/** Byte length of a valid binary content id, or -1. */
function idLength(bytes: Uint8Array, at: number, end: number): number {
  if (end - at < 2) return -1;
  const len = MULTIHASH_DIGEST_LENGTH.get(bytes[at]);
  if (len === undefined || bytes[at + 1] !== len) return -1;
  return 2 + len;
}

/**
 * A binary content id: `[code][digest length][digest]`, self-delimiting. Only SHA-256
 * (`0x12 0x20`, 34 bytes) and SHA-1 (`0x11 0x14`, 22 bytes) are valid. Decoding returns a copy.
 */
export const contentId: Codec<Uint8Array> = {
  preencode(state, value) {
    const n = value instanceof Uint8Array ? idLength(value, 0, value.length) : -1;
    if (n < 0 || n !== value.length) {
      throw new MalformedMessageError("content id must be a binary SHA-256 or SHA-1 multihash");
    }
    state.end += n;
  },
  encode(state, value) {
    state.buffer.set(value, state.start);
    state.start += value.length;
  },
  decode(state) {
    need(state, 2, "content id");
    const n = idLength(state.buffer, state.start, state.end);
    if (n < 0) {
      throw new MalformedMessageError(
        `invalid content id prefix 0x${state.buffer[state.start].toString(16)} 0x${
          state.buffer[state.start + 1].toString(16)
        }`,
      );
    }
    need(state, n, "content id");
    const v = state.buffer.slice(state.start, state.start + n);
    state.start += n;
    return v;
  },
};

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** UTF-8 byte length of a well-formed string (no allocation). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4; // a surrogate pair (well-formedness checked by the caller)
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * A UTF-8 string with a u16 byte-length prefix, at most {@linkcode MAX_STRING_BYTES} bytes.
 * Decoding is fatal on invalid UTF-8; encoding refuses strings with lone surrogates.
 */
export const string: Codec<string> = {
  preencode(state, value) {
    if (typeof value !== "string") throw new MalformedMessageError("expected a string");
    if (value.length > MAX_STRING_BYTES || !value.isWellFormed()) {
      throw new MalformedMessageError(
        value.length > MAX_STRING_BYTES
          ? `string longer than ${MAX_STRING_BYTES} bytes`
          : "string has lone surrogates",
      );
    }
    const n = utf8Length(value);
    if (n > MAX_STRING_BYTES) {
      throw new MalformedMessageError(`string of ${n} UTF-8 bytes exceeds ${MAX_STRING_BYTES}`);
    }
    state.end += 2 + n;
  },
  encode(state, value) {
    const at = state.start + 2;
    const { written } = encoder.encodeInto(value, state.buffer.subarray(at));
    state.buffer[state.start] = written >>> 8;
    state.buffer[state.start + 1] = written & 0xff;
    state.start = at + written;
  },
  decode(state) {
    const n = u16.decode(state);
    if (n > MAX_STRING_BYTES) {
      throw new MalformedMessageError(`string of ${n} bytes exceeds ${MAX_STRING_BYTES}`);
    }
    need(state, n, "string");
    let v: string;
    try {
      v = decoder.decode(state.buffer.subarray(state.start, state.start + n));
    } catch (cause) {
      throw new MalformedMessageError("string is not valid UTF-8", { cause });
    }
    state.start += n;
    return v;
  },
};

/**
 * An array with a u16 count prefix, at most `max` items of codec `item`. Decoding checks the
 * count against `max` before reading any item.
 */
export function array<T>(item: Codec<T>, max: number, what: string): Codec<readonly T[]> {
  return {
    preencode(state, value) {
      if (!Array.isArray(value)) throw new MalformedMessageError(`${what} must be an array`);
      if (value.length > max) {
        throw new MalformedMessageError(`${what} has ${value.length} items, max ${max}`);
      }
      state.end += 2;
      for (const v of value) item.preencode(state, v);
    },
    encode(state, value) {
      u16.encode(state, value.length);
      for (const v of value) item.encode(state, v);
    },
    decode(state) {
      const n = u16.decode(state);
      if (n > max) throw new MalformedMessageError(`${what} has ${n} items, max ${max}`);
      const out: T[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = item.decode(state);
      return out;
    },
  };
}

/**
 * A {@linkcode string} of at most `max` UTF-8 bytes (below the general 1 KiB bound). Decoding
 * checks the declared length against `max` before reading the bytes.
 */
export function boundedString(max: number, what: string): Codec<string> {
  return {
    preencode(state, value) {
      string.preencode(state, value);
      const n = utf8Length(value);
      if (n > max) {
        throw new MalformedMessageError(`${what} of ${n} UTF-8 bytes exceeds ${max}`);
      }
    },
    encode: string.encode,
    decode(state) {
      need(state, 2, what);
      const n = (state.buffer[state.start] << 8) | state.buffer[state.start + 1];
      if (n > max) throw new MalformedMessageError(`${what} of ${n} bytes exceeds ${max}`);
      return string.decode(state);
    },
  };
}

/**
 * A byte string with a u16 length prefix, at most `max` (<= 65535) bytes. Decoding checks the declared
 * length against `max` before reading the bytes, and returns a copy (the message does not pin
 * the frame buffer).
 */
export function bytes(max: number, what: string): Codec<Uint8Array> {
  return {
    preencode(state, value) {
      if (!(value instanceof Uint8Array)) {
        throw new MalformedMessageError(`${what} must be a Uint8Array`);
      }
      if (value.length > max) {
        throw new MalformedMessageError(`${what} of ${value.length} bytes exceeds ${max}`);
      }
      state.end += 2 + value.length;
    },
    encode(state, value) {
      u16.encode(state, value.length);
      state.buffer.set(value, state.start);
      state.start += value.length;
    },
    decode(state) {
      const n = u16.decode(state);
      if (n > max) throw new MalformedMessageError(`${what} of ${n} bytes exceeds ${max}`);
      need(state, n, what);
      const v = state.buffer.slice(state.start, state.start + n);
      state.start += n;
      return v;
    },
  };
}
