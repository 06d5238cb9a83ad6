/**
 * {@linkcode readMessages}: a stream of bytes as a stream of decoded messages.
 *
 * @module
 */

import { decodeMessage } from "./codec.ts";
import { FrameReader, type FrameReaderOptions } from "./frame_reader.ts";
import { FRAME_PREFIX_SIZE } from "./limits.ts";
import type { Message } from "./messages.ts";

/** Options of {@linkcode readMessages}: those of {@linkcode FrameReader}, and a byte tally. */
export interface ReadMessagesOptions extends FrameReaderOptions {
  /** Its `received` grows by each frame's size (length prefix included) as it is read. */
  readonly tally?: { received: number };
}

/**
 * Reads frames from `readable` and yields their decoded messages until a clean end of stream.
 * Any framing or decoding error (all `DfsError` subclasses: `FrameTooLargeError`,
 * `TruncatedFrameError`, `UnsupportedVersionError`, `UnknownMessageTypeError`,
 * `MalformedMessageError`, `AbortedError`, `IoError`) is thrown from the iteration, and the
 * stream is cancelled. Breaking out of the loop also cancels the stream. With
 * `reuseBuffers`, a DATA message's `chunk` is valid only until the next iteration.
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
  let clean = false;
  try {
    for (;;) {
      const body = await reader.read();
      if (body === null) {
        clean = true;
        return;
      }
      if (tally) tally.received += FRAME_PREFIX_SIZE + body.length;
      yield decodeMessage(body);
    }
  } finally {
    if (!clean) await reader.cancel();
  }
}
