/**
 * {@linkcode readMessages}: a stream of bytes as a stream of decoded messages.
 *
 * @module
 */

import { decodeDataHead, decodeMessage } from "./codec.ts";
import { type FramePlacement, FrameReader, type FrameReaderOptions } from "./frame_reader.ts";
import { FRAME_PREFIX_SIZE, HEADER_SIZE } from "./limits.ts";
import { type Message, MessageType } from "./messages.ts";

/**
 * Chooses where the chunk of an arriving DATA message is read: a buffer of exactly `size`
 * bytes (the chunk's length, at most the frame limit), or `undefined` to read it into the
 * reader's buffer as usual. Called before any byte of the chunk is read; a chunk read into the
 * buffer returned is yielded as a view of the same memory and offsets, possibly of a new
 * `ArrayBuffer` (a byte-stream read transfers the one it fills: the old one is then detached).
 */
export type DataPlacement = (requestId: number, size: number) => Uint8Array | undefined;

/** Options of {@linkcode readMessages}: those of {@linkcode FrameReader}, and a byte tally. */
export interface ReadMessagesOptions extends FrameReaderOptions {
  /** Its `received` grows by each frame's size (length prefix included) as it is read. */
  readonly tally?: { received: number };
  /**
   * Asked, for each DATA message with a non-empty chunk, where to read the chunk (see
   * {@linkcode DataPlacement}); the current value of `placement.data` is used, so a caller
   * can set it after the reading started, and unset it while it expects no DATA to place.
   * Without it every chunk is read as usual.
   */
  readonly placement?: { data?: DataPlacement };
}

/**
 * Reads frames from `readable` and yields their decoded messages until a clean end of stream.
 * Any framing or decoding error (all `DfsError` subclasses: `FrameTooLargeError`,
 * `TruncatedFrameError`, `UnsupportedVersionError`, `UnknownMessageTypeError`,
 * `MalformedMessageError`, `AbortedError`, `IoError`) is thrown from the iteration, and the
 * stream is cancelled. Breaking out of the loop also cancels the stream. With
 * `reuseBuffers`, a DATA message's `chunk` is valid only until the next iteration, unless it
 * was read where `placement` chose.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./codec.ts";
 * import { MessageType } from "./messages.ts";
 * import { readMessages } from "./read_messages.ts";
 * const frame = encodeMessage({ type: MessageType.OK, requestId: 3 });
 * for await (const msg of readMessages(ReadableStream.from([frame]))) {
 *   console.log(msg.type, msg.requestId); // 112 3
 * }
 * ```
 */
export async function* readMessages(
  readable: ReadableStream<Uint8Array>,
  options?: ReadMessagesOptions,
): AsyncGenerator<Message, void, undefined> {
  const reader = new FrameReader(readable, options);
  const tally = options?.tally;
  const choose = options?.placement;
  const placement: FramePlacement | undefined = choose && {
    headSize: HEADER_SIZE,
    place(head, length) {
      const data = choose.data;
      if (data === undefined) return undefined;
      const header = decodeDataHead(head);
      return header === undefined ? undefined : data(header.requestId, length - HEADER_SIZE);
    },
  };
  let clean = false;
  try {
    for (;;) {
      const body = await reader.read(choose?.data === undefined ? undefined : placement);
      if (body === null) {
        clean = true;
        return;
      }
      const placed = reader.placed;
      if (placed !== undefined) {
        if (tally) tally.received += FRAME_PREFIX_SIZE + body.length + placed.length;
        // `place` accepted this head, so it is a valid DATA header.
        const { requestId, end } = decodeDataHead(body)!;
        yield { type: MessageType.DATA, requestId, chunk: placed, end };
        continue;
      }
      if (tally) tally.received += FRAME_PREFIX_SIZE + body.length;
      yield decodeMessage(body);
    }
  } finally {
    if (!clean) await reader.cancel();
  }
}
