/**
 * Test helpers for the secured connection: a connected pair on the in-memory network, optionally
 * through a relay that records every byte on the wire and can flip one.
 *
 * @module
 */

import { NodeIdentity } from "../../../src/peer/identity.ts";
import { createNoiseCredentials } from "../../../src/peer/noise/payload.ts";
import type { NoiseCredentials } from "../../../src/peer/noise/payload.ts";
import { MemoryNetwork } from "../../../src/runtime/memory/net.ts";
import type { Connection } from "../../../src/runtime/types.ts";

/** What crossed the relay, per direction. */
export interface Wire {
  /** Client to server bytes. */
  readonly up: Uint8Array[];
  /** Server to client bytes. */
  readonly down: Uint8Array[];
}

/** Options for {@linkcode connectedPair}. */
export interface PairOptions {
  /** Flip bit 0 of the client-to-server byte at this offset (counted from the first byte). */
  readonly flipUpAt?: number;
  /** Flip bit 0 of the server-to-client byte at this offset (counted from the first byte). */
  readonly flipDownAt?: number;
}

/** A client and a server connection, through a recording relay. */
export interface TestPair {
  /** The dialling side. */
  readonly client: Connection;
  /** The accepting side. */
  readonly server: Connection;
  /** Everything the relay forwarded. */
  readonly wire: Wire;
}

/** Connects a client to a server through a relay on a fresh in-memory network. */
export async function connectedPair(options: PairOptions = {}): Promise<TestPair> {
  const net = new MemoryNetwork();
  const wire: Wire = { up: [], down: [] };
  let server!: Connection;
  const accepted = new Promise<void>((resolve) => {
    net.listen({ hostname: "127.0.0.1", port: 7000 }, (c) => {
      server = c;
      resolve();
    });
  });
  await net.listen({ hostname: "127.0.0.1", port: 7001 }, async (fromClient) => {
    const toServer = await net.connect({ hostname: "127.0.0.1", port: 7000 });
    pump(fromClient.readable, toServer, wire.up, options.flipUpAt);
    pump(toServer.readable, fromClient, wire.down, options.flipDownAt);
  });
  const client = await net.connect({ hostname: "127.0.0.1", port: 7001 });
  await accepted;
  return { client, server, wire };
}

async function pump(
  from: ReadableStream<Uint8Array>,
  to: Connection,
  record: Uint8Array[],
  flipAt: number | undefined,
): Promise<void> {
  const writer = to.writable.getWriter();
  let offset = 0;
  try {
    for await (const chunk of from) {
      const copy = chunk.slice();
      if (flipAt !== undefined && flipAt >= offset && flipAt < offset + copy.length) {
        copy[flipAt - offset] ^= 1;
      }
      offset += copy.length;
      record.push(copy);
      await writer.write(copy);
    }
    await writer.close();
  } catch {
    to.close();
  }
}

/** Joins recorded chunks. */
export function joined(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** True when `needle` occurs in `hay`. */
export function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** A fresh identity and its Noise credentials. */
export async function newNode(): Promise<
  { identity: NodeIdentity; credentials: NoiseCredentials }
> {
  const identity = await NodeIdentity.generate();
  return { identity, credentials: await createNoiseCredentials(identity) };
}

/** Reads a stream to its end (or error), returning the bytes and the error if any. */
export async function drain(
  readable: ReadableStream<Uint8Array>,
): Promise<{ bytes: Uint8Array; error: unknown }> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const c of readable) chunks.push(c);
    return { bytes: joined(chunks), error: null };
  } catch (error) {
    return { bytes: joined(chunks), error };
  }
}
