/**
 * The holder and fetcher roles of `bench/pipeline_ceiling.ts` for Node 24 and Bun, on the
 * `node:` APIs both implement (`node:net`, `node:http`, `node:fs`). The Deno driver spawns this
 * file; it is not run by hand:
 *
 *     node --max-semi-space-size=4 bench/pipeline_ceiling_node.ts --role holder --dir D --verify V
 *     bun bench/pipeline_ceiling_node.ts --role fetcher --holder-port P --verify V
 *
 * The work is the Deno roles' work:
 * - **holder** (`net.createServer`): per connection, the manifest (count, then size + SHA-256
 *   per block), then every block read with synchronous calls (`openSync`, `fstatSync`, one
 *   `readSync` loop, `closeSync`), verified with `crypto.subtle` SHA-256 when `--verify both`,
 *   written raw to the socket (waits for `'drain'` when `write` returns false). Up to 4 blocks
 *   are read and hashed ahead, as in the Deno holder.
 * - **fetcher** (`http.createServer`): per request, connects to the holder (`net.connect`),
 *   reads every block into a fresh buffer of its size, verifies it
 *   (SHA-256, unless `--verify none`) and writes it to the response, waiting for `'drain'` when
 *   `write` returns false (a backpressured response). On Node the socket reads straight into
 *   the unfilled tail of the block's buffer (`onread` with a buffer function, like Deno's
 *   `conn.read(block.subarray(at))`: no copy, no garbage per read) and pauses when the block is
 *   full until the next block is asked for. Bun's `node:net` has no `onread`, so there the
 *   socket's `'data'` chunks are copied into the block (the socket pauses while more than 1 MiB
 *   is queued, so the holder backpressures).
 *
 * `--read-ahead 1` (off by default, as in the Deno fetcher) lets the fetcher read block i+1
 * from the holder while it verifies and sends block i: the same work, overlapped.
 *
 * `--bun-serve 1` (Bun only) serves the fetcher's HTTP with `Bun.serve` instead of
 * `node:http`: Bun's native server, the one dfs's Bun runtime uses (the holder connection
 * stays `node:net`, which Bun implements on its native sockets).
 *
 * Each role prints one JSON line `{ port, pid, version }` when it listens.
 *
 * @module
 */

import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { connect, createServer as createNetServer } from "node:net";
import type { Socket } from "node:net";
import process from "node:process";

const READS_IN_FLIGHT = 4;
/** Bytes the fetcher queues from the holder before it pauses the socket. */
const QUEUE_LIMIT = 1024 * 1024;

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const verify = flag("verify") ?? "both";
/** `--read-ahead 1`: the fetcher reads the next block while it verifies and sends one. */
const readAhead = flag("read-ahead") === "1";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const version: string = g.Bun ? g.Bun.version : process.versions.node;

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Writes `bytes` to a writable and resolves once it may be written to again. */
function writeBackpressured(
  out: Socket | ServerResponse,
  bytes: Uint8Array,
): Promise<void> | undefined {
  if (out.write(bytes)) return undefined;
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      out.off("error", onError);
      out.off("close", onClose);
      resolve();
    };
    const onError = (err: Error) => {
      out.off("drain", onDrain);
      out.off("close", onClose);
      reject(err);
    };
    const onClose = () => {
      out.off("drain", onDrain);
      out.off("error", onError);
      reject(new Error("closed while waiting for drain"));
    };
    out.once("drain", onDrain);
    out.once("error", onError);
    out.once("close", onClose);
  });
}

/** Reads a block file with synchronous calls: open, fstat, read until full, close. */
function readBlock(path: string): Uint8Array<ArrayBuffer> {
  const fd = openSync(path, "r");
  try {
    const bytes = new Uint8Array(fstatSync(fd).size);
    let at = 0;
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, null);
      if (n === 0) throw new Error(`${path}: short read`);
      at += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** Holder: serves the block files of `dir` (named `<index>`), one full pass per connection. */
async function holder(dir: string): Promise<void> {
  const count = Number(readFileSync(`${dir}/count`, "utf8"));
  const sizes: number[] = [];
  const digests: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = readBlock(`${dir}/${i}`);
    sizes.push(bytes.length);
    digests.push(await sha256(bytes));
  }
  const manifest = new Uint8Array(4 + count * 36);
  const view = new DataView(manifest.buffer);
  view.setUint32(0, count);
  for (let i = 0; i < count; i++) {
    view.setUint32(4 + i * 36, sizes[i]);
    manifest.set(digests[i], 8 + i * 36);
  }
  const readVerified = async (i: number) => {
    const bytes = readBlock(`${dir}/${i}`);
    if (verify === "both" && !sameBytes(await sha256(bytes), digests[i])) {
      throw new Error(`block ${i} is corrupt`);
    }
    return bytes;
  };
  const server = createNetServer({ noDelay: true }, (conn) => {
    conn.on("error", () => {});
    (async () => {
      try {
        await writeBackpressured(conn, manifest);
        const reads: Promise<Uint8Array>[] = [];
        for (let i = 0; i < Math.min(READS_IN_FLIGHT, count); i++) reads.push(readVerified(i));
        for (let i = 0; i < count; i++) {
          const bytes = await reads[i];
          if (i + READS_IN_FLIGHT < count) reads.push(readVerified(i + READS_IN_FLIGHT));
          await writeBackpressured(conn, bytes);
        }
        conn.end();
      } catch (err) {
        console.error(`holder: ${(err as Error).message}`);
        conn.destroy();
      }
    })();
  });
  server.listen(0, "127.0.0.1", () => {
    const addr = server.address();
    const port = typeof addr === "object" && addr ? addr.port : 0;
    console.log(JSON.stringify({ port, pid: process.pid, version }));
  });
}

/**
 * Reads exact byte counts from a socket: its chunks are queued as they arrive and copied into
 * the caller's buffer; the socket pauses while more than `QUEUE_LIMIT` bytes wait.
 */
class ExactReader {
  #socket: Socket;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #failure: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued > QUEUE_LIMIT) socket.pause();
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (err: Error) => {
      this.#failure = err;
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Fills `into` completely, or rejects if the socket ends or fails first. */
  async readExactly(into: Uint8Array): Promise<void> {
    let at = 0;
    while (at < into.length) {
      if (this.#chunks.length === 0) {
        if (this.#failure) throw this.#failure;
        if (this.#ended) throw new Error(`holder closed after ${at} of ${into.length} bytes`);
        await new Promise<void>((resolve) => this.#wake = resolve);
        continue;
      }
      const chunk = this.#chunks[0];
      const n = Math.min(chunk.length, into.length - at);
      into.set(n === chunk.length ? chunk : chunk.subarray(0, n), at);
      at += n;
      this.#queued -= n;
      if (n === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(n);
    }
    if (this.#queued <= QUEUE_LIMIT && this.#socket.isPaused()) this.#socket.resume();
  }
}

/**
 * Reads exact byte counts from a Node socket opened with `onread`: each kernel read lands in
 * the unfilled tail of the caller's buffer; the socket pauses when that buffer is full and
 * resumes on the next `readExactly`. A read that comes while no buffer waits lands in a scratch
 * buffer and is kept (copied) for the next call.
 */
class OnreadReader {
  socket: Socket | null = null;
  #scratch = new Uint8Array(64 * 1024);
  #chunks: Uint8Array[] = [];
  #target: Uint8Array | null = null;
  #at = 0;
  #done: (() => void) | null = null;
  #fail: ((err: Error) => void) | null = null;
  #failure: Error | null = null;
  /** The last `onread` callback returned false (Node stopped reading; `resume()` restarts). */
  #stopped = false;

  /** The `onread` option for `net.connect`. */
  readonly onread = {
    buffer: (): Uint8Array => {
      const target = this.#target;
      return target && this.#at < target.length ? target.subarray(this.#at) : this.#scratch;
    },
    callback: (n: number, buf: Uint8Array): boolean => {
      const target = this.#target;
      if (target && buf.buffer !== this.#scratch.buffer) this.#at += n;
      else {
        // A read Node allocated before the socket stopped: keep it, give the waiter what fits.
        this.#chunks.push(buf.slice(0, n));
        if (target) this.#at = this.#take(target, this.#at);
      }
      if (target && this.#at < target.length) return true;
      if (target) {
        this.#target = null;
        const done = this.#done;
        this.#done = this.#fail = null;
        done?.();
      }
      this.#stopped = true;
      return false;
    },
  };

  /** Moves kept bytes into `into` from `at` on; returns how far `into` is filled. */
  #take(into: Uint8Array, at: number): number {
    while (at < into.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const n = Math.min(chunk.length, into.length - at);
      into.set(n === chunk.length ? chunk : chunk.subarray(0, n), at);
      at += n;
      if (n === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(n);
    }
    return at;
  }

  /** Watches `socket` for its end and errors. */
  attach(socket: Socket): void {
    this.socket = socket;
    const fail = (err: Error) => {
      this.#failure ??= err;
      const reject = this.#fail;
      this.#done = this.#fail = null;
      this.#target = null;
      reject?.(err);
    };
    socket.on("end", () => fail(new Error("holder closed early")));
    socket.on("error", fail);
  }

  /** Fills `into` completely, or rejects if the socket ends or fails first. */
  readExactly(into: Uint8Array): Promise<void> {
    const at = this.#take(into, 0);
    if (at === into.length) return Promise.resolve();
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<void>((resolve, reject) => {
      this.#target = into;
      this.#at = at;
      this.#done = resolve;
      this.#fail = reject;
      if (this.#stopped) {
        this.#stopped = false;
        this.socket?.resume();
      }
    });
  }
}

const isBun = Boolean(g.Bun);

/** Opens a connection to the holder with the cheapest reader the runtime offers. */
function connectHolder(port: number): { conn: Socket; reader: ExactReader | OnreadReader } {
  if (isBun) {
    const conn = connect({ host: "127.0.0.1", port, noDelay: true });
    return { conn, reader: new ExactReader(conn) };
  }
  const reader = new OnreadReader();
  const conn = connect({ host: "127.0.0.1", port, noDelay: true, onread: reader.onread });
  reader.attach(conn);
  return { conn, reader };
}

/** Fetcher: per HTTP request, pulls every block from the holder, verifies it, streams it out. */
function fetcher(holderPort: number): void {
  const serve = async (_req: IncomingMessage, res: ServerResponse) => {
    const { conn, reader } = connectHolder(holderPort);
    try {
      const head = new Uint8Array(4);
      await reader.readExactly(head);
      const count = new DataView(head.buffer).getUint32(0);
      const manifest = new Uint8Array(count * 36);
      await reader.readExactly(manifest);
      const view = new DataView(manifest.buffer);
      let total = 0;
      for (let i = 0; i < count; i++) total += view.getUint32(i * 36);
      res.writeHead(200, { "content-length": String(total) });
      const readAt = async (i: number) => {
        const block = new Uint8Array(view.getUint32(i * 36));
        await reader.readExactly(block);
        return block;
      };
      let ahead = readAhead && count > 0 ? readAt(0) : null;
      for (let i = 0; i < count; i++) {
        const block = ahead ? await ahead : await readAt(i);
        // With --read-ahead the next block is read while this one is hashed and written.
        if (ahead) ahead = i + 1 < count ? readAt(i + 1) : null;
        const want = manifest.subarray(i * 36 + 4, i * 36 + 36);
        if (verify !== "none" && !sameBytes(await sha256(block), want)) {
          throw new Error(`block ${i} arrived corrupt`);
        }
        await writeBackpressured(res, block);
      }
      res.end();
    } catch (err) {
      console.error(`fetcher: ${(err as Error).message}`);
      res.destroy();
    } finally {
      conn.destroy();
    }
  };
  const server = createHttpServer((req, res) => void serve(req, res));
  server.listen(0, "127.0.0.1", () => {
    const addr = server.address();
    const port = typeof addr === "object" && addr ? addr.port : 0;
    console.log(JSON.stringify({ port, pid: process.pid, version }));
  });
}

/**
 * Fetcher on Bun's native HTTP server (`Bun.serve`, as dfs's Bun runtime serves): the same
 * work, the response a pull-based stream (high-water mark 0) as in the Deno fetcher.
 */
function bunServeFetcher(holderPort: number): void {
  const server = g.Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch: async (): Promise<Response> => {
      const { conn, reader } = connectHolder(holderPort);
      const head = new Uint8Array(4);
      await reader.readExactly(head);
      const count = new DataView(head.buffer).getUint32(0);
      const manifest = new Uint8Array(count * 36);
      await reader.readExactly(manifest);
      const view = new DataView(manifest.buffer);
      let total = 0;
      for (let i = 0; i < count; i++) total += view.getUint32(i * 36);
      let next = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (next === count) {
            conn.destroy();
            return controller.close();
          }
          const i = next++;
          const block = new Uint8Array(view.getUint32(i * 36));
          await reader.readExactly(block);
          const want = manifest.subarray(i * 36 + 4, i * 36 + 36);
          if (verify !== "none" && !sameBytes(await sha256(block), want)) {
            throw new Error(`block ${i} arrived corrupt`);
          }
          controller.enqueue(block);
        },
        cancel() {
          conn.destroy();
        },
      }, { highWaterMark: 0 });
      return new Response(body, { headers: { "content-length": String(total) } });
    },
  });
  console.log(JSON.stringify({ port: server.port, pid: process.pid, version }));
}

const role = flag("role");
if (role === "holder") await holder(flag("dir")!);
else if (role === "fetcher" && isBun && flag("bun-serve") === "1") {
  bunServeFetcher(Number(flag("holder-port")));
} else if (role === "fetcher") fetcher(Number(flag("holder-port")));
else throw new Error("pipeline_ceiling_node.ts runs as a role of bench/pipeline_ceiling.ts");
