/**
 * A small TCP probe for the network test bed, run inside a host namespace with
 * `ip netns exec NS deno run -A tests/netbed/probe.ts MODE ...`:
 *
 * - `serve --listen HOST:PORT`: prints `ready`, then answers each connection by its first
 *   byte: `E` echoes every byte back; `S` reads an 8-byte big-endian length N and sends N
 *   bytes, then closes.
 * - `rtt --to HOST:PORT --count K`: connects, then K times sends 64 bytes and waits for their
 *   echo; prints `{"connectMs","rttMs":[...]}`.
 * - `fetch --to HOST:PORT --bytes N`: connects, asks for N bytes and reads them; prints
 *   `{"ttfbMs","totalMs","bytes"}` (ttfb from before the connect to the first byte).
 *
 * Every wait is bounded by `--timeout-ms` (default 60 s): the process exits 1 past it.
 *
 * @module
 */

const args = Deno.args;
const mode = args[0];
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const timeoutMs = Number(flag("timeout-ms") ?? "60000");
const guard = setTimeout(() => {
  console.error(`probe ${mode}: over ${timeoutMs} ms`);
  Deno.exit(1);
}, timeoutMs);

function hostPort(text: string | undefined): { hostname: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(text ?? "");
  if (!m) throw new Error(`probe: want HOST:PORT, got ${text}`);
  return { hostname: m[1], port: Number(m[2]) };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(out.subarray(got));
    if (r === null) throw new Error(`probe: connection closed after ${got} of ${n} bytes`);
    got += r;
  }
  return out;
}

async function serveOne(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const [kind] = await readExactly(conn, 1);
  if (kind === 0x45) { // E: echo until the peer closes
    const buf = new Uint8Array(64 * 1024);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      await writeAll(conn, buf.subarray(0, n));
    }
  } else if (kind === 0x53) { // S: send the asked-for number of bytes
    const size = Number(new DataView((await readExactly(conn, 8)).buffer).getBigUint64(0));
    const chunk = new Uint8Array(64 * 1024).map((_, i) => (i * 31 + 7) & 0xff);
    for (let sent = 0; sent < size;) {
      const n = Math.min(chunk.length, size - sent);
      await writeAll(conn, chunk.subarray(0, n));
      sent += n;
    }
  }
}

if (mode === "serve") {
  clearTimeout(guard); // serves until killed
  const listener = Deno.listen(hostPort(flag("listen")));
  console.log("ready");
  for await (const conn of listener) {
    serveOne(conn).catch(() => {}).finally(() => {
      try {
        conn.close();
      } catch {
        // already closed
      }
    });
  }
} else if (mode === "rtt") {
  const count = Number(flag("count") ?? "20");
  const t0 = performance.now();
  const conn = await Deno.connect(hostPort(flag("to")));
  const connectMs = performance.now() - t0;
  conn.setNoDelay(true);
  await writeAll(conn, new Uint8Array([0x45]));
  const msg = new Uint8Array(64).fill(0x61);
  const rttMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await writeAll(conn, msg);
    await readExactly(conn, msg.length);
    rttMs.push(performance.now() - t);
  }
  conn.close();
  console.log(JSON.stringify({ connectMs, rttMs }));
  Deno.exit(0);
} else if (mode === "fetch") {
  const size = Number(flag("bytes") ?? "1048576");
  const t0 = performance.now();
  const conn = await Deno.connect(hostPort(flag("to")));
  conn.setNoDelay(true);
  const ask = new Uint8Array(9);
  ask[0] = 0x53;
  new DataView(ask.buffer).setBigUint64(1, BigInt(size));
  await writeAll(conn, ask);
  const buf = new Uint8Array(256 * 1024);
  let got = 0;
  let ttfbMs = -1;
  while (got < size) {
    const n = await conn.read(buf);
    if (n === null) break;
    if (ttfbMs < 0) ttfbMs = performance.now() - t0;
    got += n;
  }
  const totalMs = performance.now() - t0;
  conn.close();
  console.log(JSON.stringify({ ttfbMs, totalMs, bytes: got }));
  Deno.exit(got === size ? 0 : 1);
} else {
  console.error("usage: probe.ts serve|rtt|fetch ...");
  Deno.exit(2);
}
