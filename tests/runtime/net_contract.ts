/**
 * The network contract every {@linkcode Network} adapter must meet, as runtime-neutral test
 * cases: registered with `Deno.test` for the Deno and memory adapters in
 * `net_contract_test.ts`, and through the portable harness for Bun and Node.
 *
 * Only loopback addresses are used; every loop is bounded in count and every wait in time.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConnectError, IoError } from "../../src/errors.ts";
import type { Connection, Listener, Network } from "../../src/runtime/types.ts";
import { readAll } from "../util/bytes.ts";
import { Rng, testSeed } from "../util/prng.ts";
import { bounded, within } from "../util/within.ts";

/** One named test case (structurally the portable harness's `Case`). */
export interface NetCase {
  /** What the case proves. */
  readonly name: string;
  /** Runs the case; rejects on failure. */
  readonly fn: () => Promise<void>;
}

const LOOPBACK = "127.0.0.1";
const enc = new TextEncoder();
const dec = new TextDecoder();

function patternByte(i: number): number {
  return (i * 31 + (i >>> 11)) & 0xff;
}

/** A listener plus every connection it accepted, closed together at the end of a case. */
async function withServer(
  net: Network,
  onConn: (conn: Connection) => void,
  body: (listener: Listener, accepted: Connection[]) => Promise<void>,
): Promise<void> {
  const accepted: Connection[] = [];
  const listener = await net.listen({ hostname: LOOPBACK, port: 0 }, (conn) => {
    accepted.push(conn);
    onConn(conn);
  });
  try {
    await body(listener, accepted);
  } finally {
    await listener.close();
    for (const c of accepted) c.close();
    await bounded(Promise.all(accepted.map((c) => c.closed)), 10_000, "accepted conns close");
  }
}

/** Writes `total` pattern bytes in chunks of 1..256 KiB, then closes the writable. */
async function writePattern(writable: WritableStream<Uint8Array>, total: number): Promise<void> {
  const writer = writable.getWriter();
  let pos = 0;
  // Bounded: every round writes at least one byte.
  while (pos < total) {
    const n = Math.min(total - pos, 1 + ((pos * 7919) % (256 * 1024)));
    const chunk = new Uint8Array(n);
    for (let i = 0; i < n; i++) chunk[i] = patternByte(pos + i);
    await writer.write(chunk);
    pos += n;
  }
  await writer.close();
}

/**
 * Reads to the end in reads of random sizes (into its own buffers when the stream is a byte
 * stream), now and then letting a timer turn pass first, so bytes arrive while no read waits.
 * Resolves "ok", or says where the bytes went wrong.
 */
async function slowRead(
  readable: ReadableStream<Uint8Array>,
  total: number,
  random: Rng,
): Promise<string> {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = readable.getReader({ mode: "byob" });
  } catch {
    // not a byte stream: default reads
  }
  const reader = byob ?? readable.getReader();
  let pos = 0;
  // Bounded: at most one read per byte, plus the end.
  for (let reads = 0; reads <= total; reads++) {
    if (random.int(8) === 0) await new Promise((r) => setTimeout(r, 0));
    const r = byob
      ? await byob.read(new Uint8Array(1 + random.int(100_000)))
      : await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
    if (r.done) return pos === total ? "ok" : `ended after ${pos} of ${total} bytes`;
    const chunk = r.value;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== patternByte(pos + i)) return `byte ${pos + i} differs`;
    }
    pos += chunk.length;
    if (pos > total) return `more than ${total} bytes`;
  }
  return "too many reads";
}

function echo(conn: Connection): void {
  conn.readable.pipeTo(conn.writable).catch(() => {});
}

/**
 * Builds the contract cases for `host.net` (a `Runtime` fits). `_scratchDir` is unused; it
 * keeps the signature of the portable harness's suite factories.
 */
export function netContractCases(host: { readonly net: Network }, _scratchDir?: string): NetCase[] {
  const net = host.net;
  const seed = testSeed(20261126);

  return [
    {
      name: "echo_round_trip_returns_the_bytes_and_addresses",
      fn: () =>
        withServer(net, echo, async (listener) => {
          assert.ok(listener.address.port > 0, "listener reports its real port");
          const conn = await net.connect(listener.address);
          assert.equal(conn.remoteAddress.port, listener.address.port);
          assert.ok(conn.localAddress.port > 0);
          const writer = conn.writable.getWriter();
          await writer.write(enc.encode("hello, "));
          await writer.write(enc.encode("dfs"));
          await writer.close();
          const got = await bounded(readAll(conn.readable), 10_000, "echo reply");
          assert.equal(dec.decode(got), "hello, dfs");
          await bounded(conn.closed, 10_000, "client closed");
        }),
    },
    {
      name: "many_small_writes_arrive_in_order",
      fn: () =>
        withServer(net, echo, async (listener) => {
          const random = new Rng(seed);
          const conn = await net.connect(listener.address);
          const COUNT = 3000;
          const sent: number[] = [];
          const writing = (async () => {
            const writer = conn.writable.getWriter();
            for (let i = 0; i < COUNT; i++) {
              const len = 1 + random.int(16);
              const chunk = new Uint8Array(len);
              for (let j = 0; j < len; j++) {
                chunk[j] = (sent.length + j) & 0xff;
              }
              for (let j = 0; j < len; j++) sent.push(chunk[j]);
              await writer.write(chunk);
            }
            await writer.close();
          })();
          const got = await bounded(readAll(conn.readable), 20_000, "small writes echoed");
          await writing;
          try {
            assert.equal(got.length, sent.length);
            assert.deepEqual(got, Uint8Array.from(sent));
          } catch (err) {
            console.error(`many_small_writes failed with DFS_SEED=${seed}`);
            throw err;
          }
        }),
    },
    {
      name: "transfer_of_32_mib_arrives_intact",
      fn: async () => {
        const TOTAL = 32 * 1024 * 1024;
        let verdict: Promise<string> = Promise.resolve("no connection");
        await withServer(net, (conn) => {
          verdict = (async () => {
            let pos = 0;
            let bad = -1;
            for await (const chunk of conn.readable) {
              for (let i = 0; i < chunk.length && bad < 0; i++) {
                if (chunk[i] !== patternByte(pos + i)) bad = pos + i;
              }
              pos += chunk.length;
            }
            const w = conn.writable.getWriter();
            const msg = bad >= 0 ? `corrupt at ${bad}` : `ok ${pos}`;
            await w.write(enc.encode(msg));
            await w.close();
            return msg;
          })();
        }, async (listener) => {
          const conn = await net.connect(listener.address);
          const writer = conn.writable.getWriter();
          const CHUNK = 64 * 1024;
          const chunk = new Uint8Array(CHUNK);
          for (let off = 0; off < TOTAL; off += CHUNK) {
            for (let i = 0; i < CHUNK; i++) chunk[i] = patternByte(off + i);
            // The same buffer is refilled after each write resolves: an adapter that kept a
            // reference to it would corrupt the stream.
            await writer.write(chunk);
          }
          await writer.close();
          const reply = await bounded(readAll(conn.readable), 60_000, "32 MiB verdict");
          assert.equal(dec.decode(reply), `ok ${TOTAL}`);
          assert.equal(await verdict, `ok ${TOTAL}`);
        });
      },
    },
    {
      name: "closing_writable_half_closes_and_peer_can_still_answer",
      fn: async () => {
        let serverSide: Promise<string> = Promise.resolve("");
        await withServer(net, (conn) => {
          serverSide = (async () => {
            const got = dec.decode(await readAll(conn.readable));
            const w = conn.writable.getWriter();
            await w.write(enc.encode(`pong after ${got}`));
            await w.close();
            await conn.closed;
            return got;
          })();
        }, async (listener) => {
          const conn = await net.connect(listener.address);
          const w = conn.writable.getWriter();
          await w.write(enc.encode("ping"));
          await w.close();
          const answer = await bounded(readAll(conn.readable), 10_000, "answer after FIN");
          assert.equal(dec.decode(answer), "pong after ping");
          assert.equal(await bounded(serverSide, 10_000, "server side"), "ping");
          await bounded(conn.closed, 10_000, "client closed after both FINs");
        });
      },
    },
    {
      name: "closing_the_listener_keeps_accepted_connections_open",
      fn: async () => {
        await withServer(net, echo, async (listener) => {
          const conn = await net.connect(listener.address);
          const writer = conn.writable.getWriter();
          await writer.write(enc.encode("before"));
          const reader = conn.readable.getReader();
          const first = await bounded(reader.read(), 10_000, "first echo");
          assert.equal(dec.decode(first.value), "before");
          await listener.close();
          await listener.close(); // idempotent
          await writer.write(enc.encode("after"));
          const second = await bounded(reader.read(), 10_000, "echo after listener close");
          assert.equal(dec.decode(second.value), "after");
          await writer.close();
          const rest = await bounded(reader.read(), 10_000, "end of echo");
          assert.equal(rest.done, true);
          await assert.rejects(
            bounded(net.connect(listener.address), 10_000, "connect after close"),
            (err: unknown) => err instanceof ConnectError,
          );
        });
      },
    },
    {
      name: "listen_on_a_taken_port_rejects_with_io_error",
      fn: async () => {
        const first = await net.listen({ hostname: LOOPBACK, port: 0 }, (c) => c.close());
        try {
          await assert.rejects(
            net.listen(first.address, (c) => c.close()),
            (err: unknown) => err instanceof IoError && err.code === "IO",
          );
        } finally {
          await first.close();
        }
      },
    },
    {
      name: "connect_to_closed_port_rejects_with_connect_error",
      fn: async () => {
        const listener = await net.listen({ hostname: LOOPBACK, port: 0 }, (c) => c.close());
        const address = listener.address;
        await listener.close();
        await assert.rejects(
          bounded(net.connect(address), 10_000, "refused connect"),
          (err: unknown) => err instanceof ConnectError && err.code === "CONNECT_FAILED",
        );
      },
    },
    {
      name: "connect_with_aborted_signal_rejects_with_connect_error",
      fn: () =>
        withServer(net, (c) => c.close(), async (listener) => {
          const ac = new AbortController();
          ac.abort(new Error("not wanted"));
          await assert.rejects(
            net.connect(listener.address, { signal: ac.signal }),
            (err: unknown) => err instanceof ConnectError,
          );
        }),
    },
    {
      name: "slow_reads_of_random_sizes_get_every_byte_in_order_both_ways",
      fn: async () => {
        const TOTAL = 2 * 1024 * 1024;
        const random = new Rng(seed + 1);
        let serverGot: Promise<string> = Promise.resolve("no connection");
        await withServer(net, (conn) => {
          serverGot = slowRead(conn.readable, TOTAL, new Rng(seed + 2));
          void writePattern(conn.writable, TOTAL).catch(() => {});
        }, async (listener) => {
          const conn = await net.connect(listener.address);
          const sending = writePattern(conn.writable, TOTAL);
          const clientGot = await bounded(slowRead(conn.readable, TOTAL, random), 30_000, "read");
          await bounded(sending, 30_000, "client's writes");
          try {
            assert.equal(clientGot, "ok", "what the accepting side sent");
            assert.equal(await bounded(serverGot, 30_000, "server read"), "ok", "what it got");
          } catch (err) {
            console.error(`slow_reads failed with DFS_SEED=${seed}`);
            throw err;
          }
          conn.close();
        });
      },
    },
    {
      name: "close_while_reading_settles_the_read_and_closed",
      fn: async () => {
        let peerEnded: Promise<unknown> = Promise.resolve();
        await withServer(net, (conn) => {
          peerEnded = readAll(conn.readable).catch((e) => e);
        }, async (listener) => {
          const conn = await net.connect(listener.address);
          const reader = conn.readable.getReader();
          const pending = reader.read().then((r) => r.done, () => "error");
          const early = await within(pending, 50, "still pending");
          assert.equal(early, "still pending", "nothing was sent, the read must wait");
          conn.close();
          const outcome = await bounded(pending, 10_000, "read after close");
          assert.ok(outcome === true || outcome === "error", `read settled: ${outcome}`);
          await bounded(conn.closed, 10_000, "closed after close()");
          await bounded(peerEnded, 10_000, "peer's readable ends");
          conn.close(); // idempotent
        });
      },
    },
    {
      name: "writer_stalls_with_bounded_memory_when_reader_does_not_read",
      fn: async () => {
        const LIMIT = 64 * 1024 * 1024;
        await withServer(net, () => {/* never reads */}, async (_listener, accepted) => {
          const conn = await net.connect(_listener.address);
          const writer = conn.writable.getWriter();
          const chunk = new Uint8Array(64 * 1024).fill(7);
          let accepted_bytes = 0;
          let pending: Promise<void> | null = null;
          while (accepted_bytes <= LIMIT) {
            const p = writer.write(chunk);
            const r = await within(p.then(() => "done"), 500, "pending");
            if (r === "pending") {
              pending = p;
              break;
            }
            accepted_bytes += chunk.length;
          }
          assert.ok(pending !== null, `writer never stalled; accepted ${accepted_bytes} bytes`);
          assert.ok(accepted_bytes <= LIMIT);
          // Not dead, just backpressured: once the peer reads, the write goes through.
          const server = await bounded(
            (async () => {
              while (accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
              return accepted[0];
            })(),
            10_000,
            "accepted",
          );
          const drained = server.readable.pipeTo(new WritableStream()).catch(() => {});
          await bounded(pending, 20_000, "pending write after the reader resumes");
          await writer.close();
          await bounded(drained, 20_000, "drain to end");
        });
      },
    },
  ];
}
