/**
 * An in-memory, Map-backed {@linkcode DfsNode} for the API and CLI tests.
 *
 * Small files are kept whole (their id is the SHA-256 content id of the bytes). For streaming
 * tests, `retain: false` makes `put` consume the input without keeping it (recording its size
 * and checksum), and {@linkcode FakeNode.addVirtual} registers a file whose bytes are generated
 * on demand, so neither side of a 64 MiB transfer ever holds the file.
 *
 * @module
 */

import { DfsError, NotFoundError } from "../../src/errors.ts";
import { ContentId, InvalidIdError } from "../../src/id/content_id.ts";
import type {
  DeleteResult,
  DfsNode,
  DhtFigures,
  DhtInfo,
  DrainReport,
  FileEntry,
  FileHealth,
  FileInput,
  FileStat,
  GetOptions,
  GetResult,
  NameRecord,
  NodeStatus,
  PeerSummary,
  PutOptions,
  PutResult,
  StatOptions,
  UpkeepFigures,
} from "../../src/node/types.ts";

/** Produces the bytes `start..end` (inclusive) of a virtual file. */
export type VirtualSource = (start: number, end: number) => ReadableStream<Uint8Array>;

interface StoredFile {
  readonly size: number;
  readonly bytes?: Uint8Array;
  readonly source?: VirtualSource;
}

/** A range request that a fake node can refuse with. */
export class FakeRangeError extends DfsError {
  /** Creates the error. */
  constructor(message: string) {
    super("RANGE_NOT_SATISFIABLE", message);
  }
}

/** FNV-1a style running checksum over bytes (cheap, order-sensitive). */
export function checksum(state: number, chunk: Uint8Array): number {
  let h = state;
  for (let i = 0; i < chunk.length; i++) h = Math.imul(h ^ chunk[i], 16777619) >>> 0;
  return h;
}

/** Starting value for {@linkcode checksum}. */
export const CHECKSUM_SEED = 2166136261;

/** The routing table a {@linkcode FakeNode} reports by default: 23 contacts in 2 buckets. */
export const FAKE_DHT_INFO: DhtInfo = Object.freeze({
  tableSize: 23,
  lookups: 40,
  lookupMessages: 130,
  lookupRounds: 65,
  lookupsTimedOut: 1,
  requestsServed: 512,
  providerRecords: 310,
  providerKeys: 120,
  providing: 17,
  nameRecords: 4,
  publishing: 2,
  k: 20,
  buckets: [
    { index: 0, size: 20, replacements: 3 },
    { index: 1, size: 3, replacements: 0 },
  ],
  connections: 12,
  maxConnections: 64,
});

/** Upkeep figures a test can give a {@linkcode FakeNode} (`node.upkeep = FAKE_UPKEEP`). */
export const FAKE_UPKEEP: UpkeepFigures = Object.freeze({
  repair: {
    checks: 120,
    queue: 2,
    active: 1,
    repaired: 14,
    trimmed: 3,
    bytes: 12 * 1024 ** 2,
    failed: 1,
  },
  scrub: {
    passes: 3,
    scanned: 1200,
    bytes: 300 * 1024 ** 2,
    corrupt: 2,
    repaired: 2,
    passBytes: 40 * 1024 ** 2,
    lastPassEndedAt: 1_790_000_000_000,
  },
  gc: { passes: 5, removed: 12, pending: 3 },
  tombstones: 4,
});

/** The in-memory fake node. */
export class FakeNode implements DfsNode {
  /** This node's id. */
  readonly nodeId = "ab".repeat(32);
  /** Files by id. */
  readonly files = new Map<string, StoredFile>();
  /** Names to ids. */
  readonly names = new Map<string, string>();
  /** Keep put bytes (default true). */
  retain = true;
  /** Thrown (once) by the next call, when set. */
  nextError: unknown = undefined;
  /** Every call as `method key`. */
  readonly calls: string[] = [];
  /** Number of get streams cancelled before their end. */
  cancelled = 0;
  /** Signals passed to put and get. */
  readonly signals: (AbortSignal | undefined)[] = [];
  /** The stream of every successful get, in order. */
  readonly getStreams: ReadableStream<Uint8Array>[] = [];
  /** Size and checksum of the last put. */
  lastPut:
    | { size: number; checksum: number; name?: string; copies?: number; redundancy?: string }
    | undefined;
  /** The options of every stat call. */
  readonly statOptions: (StatOptions | undefined)[] = [];
  /** What `stat(id, { health: true })` reports (absent: a node without upkeep reports none). */
  health: FileHealth | undefined = undefined;
  /** Policy and stripes `stat` reports. */
  statPolicy: { redundancy: string; stripes?: number } = { redundancy: "replicas:3" };
  /** Nodes `delete` says keep the tombstone. */
  tombstones = 3;
  /** What `drain` reports. */
  drainReport: DrainReport = { files: 12, handedOff: 11, failed: 1, bytes: 40 * 1024 ** 2 };
  /** Resolves `drain` when set (a test holds a drain open with it). */
  drainGate: Promise<void> | undefined = undefined;
  /** Signals passed to drain. */
  readonly drainSignals: (AbortSignal | undefined)[] = [];
  /** `status().upkeep` when set. */
  upkeep: UpkeepFigures | undefined = undefined;
  /** Called with each chunk put consumes (to measure how far the producer runs ahead). */
  onPutChunk: ((chunk: Uint8Array) => void) | undefined = undefined;
  /** Most copies a put reports as stored. */
  maxCopies = 3;
  /** Set by close. */
  closed = false;
  /** `status().store.maxBytes` when set (a node with `maxStoreBytes`). */
  storeLimit: number | undefined = undefined;
  /** Peers reported. */
  peerList: PeerSummary[] = [
    { nodeId: "cd".repeat(32), address: "127.0.0.1:3001", state: "connected", lastSeen: 1000 },
  ];
  /** What `dhtInfo()` reports; `null` makes it a node without a DHT (and drops `status().dht`). */
  dht: DhtInfo | null = FAKE_DHT_INFO;
  #virtualCount = 0;

  #fail(call: string): void {
    this.calls.push(call);
    if (this.nextError !== undefined) {
      const err = this.nextError;
      this.nextError = undefined;
      throw err;
    }
  }

  #resolve(idOrName: string): string {
    const named = this.names.get(idOrName);
    if (named) return named;
    if (/^1220/.test(idOrName) && !ContentId.tryParse(idOrName)) {
      throw new InvalidIdError(`not a content id: ${idOrName}`);
    }
    if (this.files.has(idOrName)) return idOrName;
    throw new NotFoundError(`no node has ${idOrName}`);
  }

  /** Registers a generated file of `size` bytes and returns its (made-up) id. */
  addVirtual(size: number, source: VirtualSource): string {
    const id = "1220" + (++this.#virtualCount).toString(16).padStart(64, "f");
    this.files.set(id, { size, source });
    return id;
  }

  /** Stores bytes directly (test setup). */
  async add(bytes: Uint8Array, name?: string): Promise<string> {
    const id = (await ContentId.of(bytes)).toString();
    this.files.set(id, { size: bytes.length, bytes });
    if (name) this.names.set(name, id);
    return id;
  }

  async put(input: FileInput, options: PutOptions = {}): Promise<PutResult> {
    this.#fail(`put ${options.name ?? ""}`);
    this.signals.push(options.signal);
    const stream = input instanceof Uint8Array
      ? new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(input);
          c.close();
        },
      })
      : input;
    const chunks: Uint8Array[] = [];
    let size = 0;
    let sum = CHECKSUM_SEED;
    for await (const chunk of stream) {
      options.signal?.throwIfAborted();
      size += chunk.length;
      this.onPutChunk?.(chunk);
      sum = checksum(sum, chunk);
      options.onProgress?.(size);
      if (this.retain) chunks.push(chunk);
    }
    this.lastPut = {
      size,
      checksum: sum,
      name: options.name,
      copies: options.copies,
      redundancy: options.redundancy,
    };
    let id: string;
    if (this.retain) {
      const bytes = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.length;
      }
      id = await this.add(bytes);
    } else {
      id = this.addVirtual(size, () => new ReadableStream({ start: (c) => c.close() }));
    }
    if (options.name) this.names.set(options.name, id);
    const rs = /^rs:(\d+)\+(\d+)$/.exec(options.redundancy ?? "");
    const replicas = /^replicas:(?:\d+-)?(\d+)$/.exec(options.redundancy ?? "");
    const wanted = rs
      ? Number(rs[1]) + Number(rs[2])
      : replicas
      ? Number(replicas[1])
      : options.copies ?? 3;
    return {
      id,
      size,
      blocks: Math.max(1, Math.ceil(size / 262144)),
      copies: Math.min(wanted, this.maxCopies),
      wanted,
      redundancy: options.redundancy ?? `replicas:${wanted}`,
      ...(options.name ? { name: options.name } : {}),
    };
  }

  get(idOrName: string, options: GetOptions = {}): Promise<GetResult> {
    try {
      this.#fail(`get ${idOrName}`);
      this.signals.push(options.signal);
      const id = this.#resolve(idOrName);
      const file = this.files.get(id)!;
      const start = options.range?.start ?? 0;
      const end = Math.min(options.range?.end ?? file.size - 1, file.size - 1);
      if (options.range && (start >= file.size || start > end)) {
        throw new FakeRangeError(`bad range ${start}-${end} of ${file.size}`);
      }
      let stream: ReadableStream<Uint8Array>;
      // The node's contract: `onEnd` once, with how the stream ended.
      let ended = false;
      const end_ = (outcome: "ok" | "error" | "cancelled") => {
        if (ended) return;
        ended = true;
        options.onEnd?.(outcome);
      };
      if (file.source) {
        const inner = file.source(start, end);
        const reader = inner.getReader();
        stream = new ReadableStream<Uint8Array>({
          pull: async (c) => {
            let r: ReadableStreamReadResult<Uint8Array>;
            try {
              r = await reader.read();
            } catch (err) {
              end_("error");
              throw err;
            }
            if (r.done) {
              end_("ok");
              c.close();
            } else c.enqueue(r.value);
          },
          cancel: (reason) => {
            this.cancelled++;
            end_("cancelled");
            return reader.cancel(reason);
          },
        }, { highWaterMark: 0 });
      } else {
        const bytes = file.bytes!;
        let at = start;
        stream = new ReadableStream<Uint8Array>({
          pull: (c) => {
            if (at > end) {
              end_("ok");
              return c.close();
            }
            const next = Math.min(at + 65536, end + 1);
            c.enqueue(bytes.slice(at, next));
            at = next;
          },
          cancel: () => {
            this.cancelled++;
            end_("cancelled");
          },
        }, { highWaterMark: 0 });
      }
      this.getStreams.push(stream);
      return Promise.resolve({ id, size: file.size, start, end, stream });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  stat(idOrName: string, options?: StatOptions): Promise<FileStat> {
    try {
      this.#fail(`stat ${idOrName}`);
      this.statOptions.push(options);
      const id = this.#resolve(idOrName);
      const file = this.files.get(id)!;
      return Promise.resolve({
        id,
        size: file.size,
        blocks: Math.max(1, Math.ceil(file.size / 262144)),
        blockSize: 262144,
        local: true,
        ...this.statPolicy,
        ...(options?.health && this.health ? { health: this.health } : {}),
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  has(id: string): Promise<boolean> {
    return Promise.resolve(this.files.has(id));
  }

  delete(idOrName: string): Promise<DeleteResult> {
    try {
      this.#fail(`delete ${idOrName}`);
      const id = this.#resolve(idOrName);
      this.files.delete(id);
      for (const [n, i] of this.names) if (i === id) this.names.delete(n);
      return Promise.resolve({ id, local: true, remote: 1, tombstones: this.tombstones });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  list(): Promise<FileEntry[]> {
    try {
      this.#fail("list");
      const out: FileEntry[] = [];
      for (const [id, f] of this.files) {
        const names = [...this.names].filter(([, i]) => i === id).map(([n]) => n);
        out.push({ id, size: f.size, names });
      }
      return Promise.resolve(out);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  resolveName(name: string): Promise<NameRecord> {
    try {
      this.#fail(`resolveName ${name}`);
      const id = this.names.get(name);
      if (!id) throw new NotFoundError(`no such name: ${name}`);
      return Promise.resolve({ name, id, version: 1, nodeId: this.nodeId });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async drain(signal?: AbortSignal): Promise<DrainReport> {
    this.#fail("drain");
    this.drainSignals.push(signal);
    await this.drainGate;
    signal?.throwIfAborted();
    return this.drainReport;
  }

  peers(): PeerSummary[] {
    this.#fail("peers");
    return this.peerList;
  }

  async status(): Promise<NodeStatus> {
    this.#fail("status");
    let bytes = 0;
    for (const f of this.files.values()) bytes += f.size;
    return await Promise.resolve({
      nodeId: this.nodeId,
      address: "127.0.0.1:3000",
      runtime: "deno",
      version: "0.1.0",
      uptimeMs: 1234,
      peers: this.peerList.length,
      store: {
        count: this.files.size,
        bytes,
        ...(this.storeLimit !== undefined ? { maxBytes: this.storeLimit } : {}),
      },
      ...(this.dht ? { dht: dhtFigures(this.dht) } : {}),
      ...(this.upkeep ? { upkeep: this.upkeep } : {}),
    });
  }

  dhtInfo(): DhtInfo | null {
    this.#fail("dhtInfo");
    return this.dht;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** The figures part of a {@linkcode DhtInfo} (what `status().dht` holds). */
function dhtFigures(info: DhtInfo): DhtFigures {
  const { k: _k, buckets: _b, connections: _c, maxConnections: _m, ...figures } = info;
  return figures;
}
