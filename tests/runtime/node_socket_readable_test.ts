import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { SocketReadable } from "../../src/runtime/node/socket_readable.ts";

/** A stand-in for the socket: SocketReadable only pauses and resumes it. */
function fakeSocket(): { socket: Socket; paused: () => boolean; resumes: () => number } {
  let paused = false;
  let resumes = 0;
  const socket = {
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      resumes++;
    },
  } as unknown as Socket;
  return { socket, paused: () => paused, resumes: () => resumes };
}

const bytes = (...xs: number[]) => new Uint8Array(xs);

/** Reads with a BYOB reader into a fresh buffer of `size` bytes. */
async function byobRead(
  reader: ReadableStreamBYOBReader,
  size: number,
): Promise<Uint8Array | null> {
  const r = await reader.read(new Uint8Array(size));
  return r.done ? null : r.value;
}

Deno.test("socket_readable_copies_into_a_waiting_byob_read", async () => {
  const fake = fakeSocket();
  const source = new SocketReadable(fake.socket);
  const reader = source.readable.getReader({ mode: "byob" });
  const pending = byobRead(reader, 16);
  await Promise.resolve();
  const socketBuffer = bytes(1, 2, 3);
  assert.equal(source.receive(socketBuffer, true), true, "all delivered: keep reading");
  socketBuffer.fill(9); // the socket reuses its buffer
  assert.deepEqual(await pending, bytes(1, 2, 3));
  assert.equal(fake.paused(), false);
});

Deno.test("socket_readable_keeps_bytes_while_no_read_waits_and_resumes_after_the_pull", async () => {
  const fake = fakeSocket();
  const source = new SocketReadable(fake.socket);
  assert.equal(source.receive(bytes(1, 2, 3, 4, 5), true), false, "nobody reads: pause");
  const reader = source.readable.getReader({ mode: "byob" });
  assert.deepEqual(await byobRead(reader, 2), bytes(1, 2));
  assert.equal(fake.resumes(), 0, "bytes still pending: stay paused");
  assert.deepEqual(await byobRead(reader, 2), bytes(3, 4));
  assert.deepEqual(await byobRead(reader, 8), bytes(5));
  assert.equal(fake.resumes(), 1, "resumed once the pending bytes are read");
});

Deno.test("socket_readable_pauses_a_data_socket_and_keeps_its_chunk", async () => {
  const fake = fakeSocket();
  const source = new SocketReadable(fake.socket);
  const chunk = bytes(7, 8, 9);
  assert.equal(source.receive(chunk, false), false);
  assert.equal(fake.paused(), true, "a 'data' socket is paused by the source");
  const reader = source.readable.getReader();
  const r = await reader.read();
  assert.deepEqual(r.value, bytes(7, 8, 9));
  assert.equal(fake.paused(), false, "resumed on the pull that took the chunk");
});

Deno.test("socket_readable_gives_a_default_reader_a_copy_of_a_reused_buffer", async () => {
  const fake = fakeSocket();
  const source = new SocketReadable(fake.socket);
  const reader = source.readable.getReader();
  const pending = reader.read();
  await Promise.resolve();
  const socketBuffer = bytes(4, 5, 6);
  assert.equal(source.receive(socketBuffer, true), true);
  socketBuffer.fill(0);
  assert.deepEqual((await pending).value, bytes(4, 5, 6));
});

Deno.test("socket_readable_delivers_pending_bytes_before_a_clean_end", async () => {
  const fake = fakeSocket();
  const source = new SocketReadable(fake.socket);
  const socketBuffer = bytes(1, 2, 3);
  source.receive(socketBuffer, true);
  source.finish();
  socketBuffer.fill(0); // kept bytes were copied when the end came
  const reader = source.readable.getReader({ mode: "byob" });
  assert.deepEqual(await byobRead(reader, 8), bytes(1, 2, 3));
  assert.equal(await byobRead(reader, 8), null);
});

Deno.test("socket_readable_keeps_bytes_of_a_clean_end_when_an_error_follows", async () => {
  const fake = fakeSocket();
  const source = new SocketReadable(fake.socket);
  source.receive(bytes(1, 2, 3), true);
  source.finish(); // the peer's FIN, bytes still unread
  source.finish(new Error("ECONNRESET")); // then our write hits a reset
  const reader = source.readable.getReader({ mode: "byob" });
  assert.deepEqual(await byobRead(reader, 8), bytes(1, 2, 3));
  assert.equal(await byobRead(reader, 8), null);
});

Deno.test("socket_readable_ends_a_waiting_byob_read_as_done", async () => {
  const source = new SocketReadable(fakeSocket().socket);
  const reader = source.readable.getReader({ mode: "byob" });
  const pending = byobRead(reader, 8);
  await Promise.resolve();
  source.finish();
  assert.equal(await pending, null);
});

Deno.test("socket_readable_fails_a_waiting_read_with_the_error", async () => {
  const source = new SocketReadable(fakeSocket().socket);
  const reader = source.readable.getReader({ mode: "byob" });
  const pending = byobRead(reader, 8);
  await Promise.resolve();
  const failure = new Error("reset");
  source.finish(failure);
  await assert.rejects(pending, (err) => err === failure);
  assert.equal(source.receive(bytes(1), true), true, "late bytes are dropped");
});

Deno.test("socket_readable_cancel_drops_later_bytes_and_keeps_the_socket_reading", async () => {
  const fake = fakeSocket();
  const source = new SocketReadable(fake.socket);
  assert.equal(source.receive(bytes(1, 2), false), false);
  assert.equal(fake.paused(), true);
  await source.readable.cancel();
  assert.equal(fake.paused(), false, "resumed to drain what still arrives");
  assert.equal(source.receive(bytes(3), false), true);
  assert.equal(fake.paused(), false);
});

Deno.test("socket_readable_keeps_order_when_data_arrives_while_paused", async () => {
  const fake = fakeSocket();
  const source = new SocketReadable(fake.socket);
  source.receive(bytes(1, 2), false);
  // A 'data' event already on its way when the socket was paused.
  source.receive(bytes(3), false);
  const reader = source.readable.getReader({ mode: "byob" });
  assert.deepEqual(await byobRead(reader, 8), bytes(1, 2, 3));
});
