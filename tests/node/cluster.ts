/**
 * Builds clusters of nodes for tests: in-memory runtimes on one MemoryNetwork, joined through
 * the real peer layer, or through {@linkcode DirectHub} when `direct` is set.
 *
 * @module
 */

import { Node, type NodeStartOptions } from "../../src/node/node.ts";
import { memoryRuntime } from "../../src/runtime/memory.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import type {
  BlockStore,
  ReadOptions,
  StoreInput,
  StoreKey,
  WriteOptions,
} from "../../src/store/types.ts";
import { ContentId } from "../../src/id/content_id.ts";
import { IoError } from "../../src/errors.ts";
import { DirectHub } from "./direct_layer.ts";

/** A store that serves flipped bytes for chosen keys, as a faulty or malicious holder would. */
export function corrupting(store: BlockStore, bad: Set<string>): BlockStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "readBytes") {
        return async (key: StoreKey, options?: ReadOptions) => {
          const bytes = await target.readBytes(key, options);
          if (bad.has(key.toString()) && bytes.length > 0) bytes[0] ^= 0xff;
          return bytes;
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** A store whose content-addressed writes fail while `refuse()` is true (a full or broken disk). */
export function refusing(store: BlockStore, refuse: () => boolean): BlockStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "write") {
        return (key: StoreKey, data: StoreInput, options?: WriteOptions) => {
          if (refuse() && ContentId.tryParse(key.toString())) {
            return Promise.reject(new IoError("disk refuses writes"));
          }
          return target.write(key, data, options);
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** A store that calls `onRead` for every verified whole-entry read. */
export function counting(store: BlockStore, onRead: () => void): BlockStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "readBytes") {
        return (key: StoreKey, options?: ReadOptions) => {
          onRead();
          return target.readBytes(key, options);
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** Per-node extras of a cluster. */
export type NodeExtras = Partial<NodeStartOptions> & {
  /** Wraps the node's store (e.g. with {@linkcode refusing}). */
  readonly wrapStore?: (store: BlockStore) => BlockStore;
};

/** Options of {@linkcode startCluster}. */
export interface ClusterOptions {
  /** Join nodes by direct calls instead of the peer layer. */
  readonly direct?: boolean;
  /** Per-node extra options. */
  readonly each?: (i: number) => NodeExtras;
  /** Shared options. */
  readonly common?: Partial<NodeStartOptions>;
}

/** A running test cluster. */
export interface Cluster {
  readonly nodes: Node[];
  readonly network: MemoryNetwork;
  /** Starts one more node (bootstrapping from every open node unless `bootstrap` is given). */
  add(extra?: Partial<NodeStartOptions>): Promise<Node>;
  /** Closes every node. */
  close(): Promise<void>;
  /** Waits until every open node sees `n` peers (bounded). */
  settle(n?: number): Promise<void>;
}

/** Starts `n` nodes, each bootstrapping from all earlier ones (a full mesh). */
export async function startCluster(n: number, options: ClusterOptions = {}): Promise<Cluster> {
  const network = new MemoryNetwork();
  const hub = new DirectHub();
  const nodes: Node[] = [];
  let count = 0;
  const add = async (extra: Partial<NodeStartOptions> = {}) => {
    const i = count++;
    const runtime = memoryRuntime({ network });
    const dataDir = `/node${i}`;
    const store = await FsBlockStore.open({
      fs: runtime.fs,
      root: `${dataDir}/blocks`,
      durability: "none",
    });
    const per = options.each?.(i) ?? {};
    const { wrapStore, ...perOptions } = per;
    const node = await Node.start({
      runtime,
      dataDir,
      store: wrapStore ? wrapStore(store) : store,
      listen: { hostname: `10.0.0.${i + 1}`, port: 4000 },
      bootstrap: nodes.filter((x) => !isClosed(x)).map((x) => x.address),
      blockSize: 1024,
      timeouts: { requestMs: 5000 },
      peer: { heartbeatIntervalMs: 200, deadAfterMs: 1500, backoffBaseMs: 50, backoffMaxMs: 500 },
      ...(options.direct ? { peerLayer: hub.factory } : {}),
      ...options.common,
      ...stripUndefined(perOptions),
      ...extra,
    });
    nodes.push(node);
    return node;
  };
  for (let i = 0; i < n; i++) await add();
  const cluster: Cluster = {
    nodes,
    network,
    add,
    close: async () => {
      await Promise.all(nodes.map((x) => x.close()));
    },
    settle: async (want = nodes.length - 1) => {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const open = nodes.filter((x) => !isClosed(x));
        const counts = await Promise.all(open.map(async (x) => (await x.status()).peers));
        if (counts.every((c) => c >= want)) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`cluster did not settle to ${want} peers each`);
    },
  };
  return cluster;
}

const closed = new WeakSet<Node>();
/** Marks a node closed for {@linkcode Cluster.settle}. */
export async function kill(node: Node): Promise<void> {
  closed.add(node);
  await node.close();
}
function isClosed(node: Node): boolean {
  return closed.has(node);
}

/** Deterministic pseudo-random bytes (the shared test PRNG). */
export { randomBytes } from "../util/prng.ts";

/** Reads a stream fully (the shared test helper). */
export { readAll } from "../util/bytes.ts";

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
