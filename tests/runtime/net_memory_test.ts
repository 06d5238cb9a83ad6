import assert from "node:assert/strict";
import { ConnectError, IoError, TimeoutError } from "../../src/errors.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import type { Connection, Listener, Network } from "../../src/runtime/types.ts";
import { within } from "../util/within.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Two hosts, a listener on b, a connection a -> b; returns both ends. */
async function pairOf(net: MemoryNetwork): Promise<{ client: Connection; server: Connection }> {
  let server!: Connection;
  const a = net.host("10.0.0.1");
  const b = net.host("10.0.0.2");
  const listener = await b.listen({ hostname: "10.0.0.2", port: 4000 }, (c) => (server = c));
  const client = await a.connect({ hostname: "10.0.0.2", port: 4000 });
  await listener.close();
  return { client, server };
}

Deno.test("memory_partition_holds_bytes_until_heal", async () => {
  const net = new MemoryNetwork();
  const { client, server } = await pairOf(net);
  assert.deepEqual(client.localAddress.hostname, "10.0.0.1");
  net.partition(["10.0.0.1"], ["10.0.0.2:4000"]);
  const w = client.writable.getWriter();
  await w.write(enc.encode("held"));
  const reader = server.readable.getReader();
  const read = reader.read();
  assert.equal(await within(read, 50, "pending"), "pending");
  net.heal();
  const r = await within(read, 5000, null);
  assert.ok(r && !r.done);
  assert.equal(dec.decode(r.value), "held");
  client.close();
  server.close();
});

Deno.test("memory_partition_only_cuts_connections_across_it", async () => {
  const net = new MemoryNetwork();
  const { client, server } = await pairOf(net);
  net.partition(["10.0.0.3"], ["10.0.0.2"]);
  const w = client.writable.getWriter();
  await w.write(enc.encode("free"));
  const r = await within(server.readable.getReader().read(), 5000, null);
  assert.ok(r && !r.done);
  assert.equal(dec.decode(r.value), "free");
  client.close();
  server.close();
});

Deno.test("memory_connect_across_partition_times_out_with_connect_error", async () => {
  const net = new MemoryNetwork({ connectTimeoutMs: 50 });
  const listener = await net.host("b").listen({ hostname: "b", port: 1 }, (c) => c.close());
  net.partition(["a"], ["b"]);
  await assert.rejects(
    net.host("a").connect({ hostname: "b", port: 1 }),
    (err: unknown) => err instanceof ConnectError && err.cause instanceof TimeoutError,
  );
  await listener.close();
});

Deno.test("memory_connect_waiting_on_partition_completes_after_heal", async () => {
  const net = new MemoryNetwork({ connectTimeoutMs: 10_000 });
  let accepted = 0;
  const listener = await net.host("b").listen({ hostname: "b", port: 1 }, (c) => {
    accepted++;
    c.close();
  });
  net.partition(["a"], ["b"]);
  const connecting = net.host("a").connect({ hostname: "b", port: 1 });
  assert.equal(await within(connecting.then(() => "done"), 30, "pending"), "pending");
  net.heal();
  const conn = await connecting;
  assert.equal(accepted, 1);
  conn.close();
  await listener.close();
});

Deno.test("memory_connect_waiting_on_partition_aborts_with_signal", async () => {
  const net = new MemoryNetwork({ connectTimeoutMs: 10_000 });
  const listener = await net.host("b").listen({ hostname: "b", port: 1 }, (c) => c.close());
  net.partition(["a"], ["b"]);
  const ac = new AbortController();
  const connecting = net.host("a").connect({ hostname: "b", port: 1 }, { signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(connecting, (err: unknown) => err instanceof ConnectError);
  await listener.close();
});

Deno.test("memory_delay_holds_each_chunk_at_least_the_delay", async () => {
  const net = new MemoryNetwork();
  const { client, server } = await pairOf(net);
  net.setDelay(40);
  const start = performance.now();
  const w = client.writable.getWriter();
  await w.write(enc.encode("a"));
  await w.write(enc.encode("b"));
  await w.close();
  const reader = server.readable.getReader();
  const first = await reader.read();
  assert.ok(performance.now() - start >= 35, "first chunk arrives no earlier than the delay");
  assert.equal(dec.decode(first.value), "a");
  assert.equal(dec.decode((await reader.read()).value), "b");
  assert.equal((await reader.read()).done, true);
  net.setDelay(0);
  client.close();
  server.close();
});

Deno.test("memory_disconnect_resets_both_ends", async () => {
  const net = new MemoryNetwork();
  const { client, server } = await pairOf(net);
  assert.equal(net.connectionCount, 1);
  const serverRead = server.readable.getReader().read();
  assert.equal(net.disconnect("10.0.0.2:4000"), 1);
  await assert.rejects(serverRead, (e: unknown) => e instanceof IoError);
  await assert.rejects(client.readable.getReader().read(), (e: unknown) => e instanceof IoError);
  await assert.rejects(client.writable.getWriter().write(enc.encode("x")));
  await client.closed;
  await server.closed;
  assert.equal(net.connectionCount, 0);
});

Deno.test("memory_drop_connections_by_filter_keeps_the_others", async () => {
  const net = new MemoryNetwork();
  const conns: Connection[] = [];
  const listener = await net.listen({ hostname: "s", port: 0 }, (c) => conns.push(c));
  const c1 = await net.host("x").connect(listener.address);
  const c2 = await net.host("y").connect(listener.address);
  assert.equal(net.dropConnections((i) => i.client.hostname === "x"), 1);
  await c1.closed;
  assert.equal(net.connectionCount, 1);
  const w = c2.writable.getWriter();
  await w.write(enc.encode("still here"));
  const r = await conns[1].readable.getReader().read();
  assert.equal(dec.decode(r.value), "still here");
  c2.close();
  for (const c of conns) c.close();
  await listener.close();
  assert.equal(net.connectionCount, 0);
});

Deno.test("memory_writer_stalls_after_buffer_size_bytes", async () => {
  const net = new MemoryNetwork({ bufferSize: 100_000 });
  const { client, server } = await pairOf(net);
  const w = client.writable.getWriter();
  const chunk = new Uint8Array(10_000);
  let accepted = 0;
  for (let i = 0; i < 1000; i++) {
    const r = await within(w.write(chunk).then(() => "ok"), 200, "stalled");
    if (r === "stalled") break;
    accepted += chunk.length;
  }
  assert.ok(accepted >= 90_000 && accepted <= 110_000, `accepted ${accepted}`);
  server.close();
  await assert.rejects(w.write(chunk)); // the peer closed its reading side
  client.close();
});

Deno.test("memory_listen_allocates_distinct_ports_and_rejects_taken", async () => {
  const net = new MemoryNetwork();
  const l1 = await net.listen({ hostname: "h", port: 0 }, () => {});
  const l2 = await net.listen({ hostname: "h", port: 0 }, () => {});
  assert.notEqual(l1.address.port, l2.address.port);
  await assert.rejects(net.listen(l1.address, () => {}), (e: unknown) => e instanceof IoError);
  await l1.close();
  await l2.close();
});

Deno.test("memory_300_nodes_connect_in_a_ring", async () => {
  const net = new MemoryNetwork();
  const N = 300;
  const nets: Network[] = [];
  const received: Promise<string>[] = [];
  const listeners: Listener[] = [];
  const all: Connection[] = [];
  for (let i = 0; i < N; i++) {
    const host = `10.1.${i >> 8}.${i & 255}`;
    nets.push(net.host(host));
    let deliver!: (s: string) => void;
    received.push(new Promise((r) => (deliver = r)));
    listeners.push(
      await nets[i].listen({ hostname: host, port: 7000 }, (conn) => {
        all.push(conn);
        new Response(conn.readable).text().then(deliver);
      }),
    );
  }
  await Promise.all(nets.map(async (n, i) => {
    const next = listeners[(i + 1) % N].address;
    const conn = await n.connect(next);
    all.push(conn);
    const w = conn.writable.getWriter();
    await w.write(enc.encode(`from ${i}`));
    await w.close();
  }));
  const got = await within(Promise.all(received), 20_000, null);
  assert.ok(got, "every node heard from its predecessor");
  for (let i = 0; i < N; i++) assert.equal(got[i], `from ${(i + N - 1) % N}`);
  for (const c of all) c.close();
  for (const l of listeners) await l.close();
  assert.equal(net.connectionCount, 0);
});
