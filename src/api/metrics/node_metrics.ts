/**
 * {@linkcode nodeFamilies}: a node's own figures (`status()`, `peers()`, `dhtInfo()`), read at
 * scrape time, as metric families. Nothing is counted here: every figure already exists.
 *
 * @module
 */

import type { DfsNode, DhtInfo, NodeStatus, PeerSummary } from "../../node/types.ts";
import type { MetricFamily, Sample } from "./exposition.ts";

/** A counter or gauge with a single unlabelled value. */
function one(name: string, type: "counter" | "gauge", help: string, value: number): MetricFamily {
  return { name, help, type, samples: [{ value }] };
}

/** A counter or gauge with one series per key of `values`, told apart by label `label`. */
function byLabel(
  name: string,
  type: "counter" | "gauge",
  help: string,
  label: string,
  values: Readonly<Record<string, number>> | undefined,
): MetricFamily {
  const samples: Sample[] = Object.keys(values ?? {}).sort().map((k) => ({
    labels: { [label]: k },
    value: values![k],
  }));
  return { name, help, type, samples };
}

/**
 * The node's figures as families (see `docs/http-api.md`, "Metrics", for the list). Families
 * whose figure the node does not report (no DHT, no store bound, no scrubber) are left out.
 *
 * @example
 * ```ts ignore
 * import { writeExposition } from "./exposition.ts";
 * const text = writeExposition(await nodeFamilies(node));
 * ```
 */
export async function nodeFamilies(node: DfsNode): Promise<MetricFamily[]> {
  const status = await node.status();
  return [
    ...identityFamilies(status),
    ...storeFamilies(status),
    ...peerFamilies(status, node.peers(), node.dhtInfo()),
    ...upkeepFamilies(status),
  ];
}

function identityFamilies(s: NodeStatus): MetricFamily[] {
  return [
    {
      name: "dfs_node_info",
      help: "Always 1; the node's id, dfs version and runtime as labels.",
      type: "gauge",
      samples: [{
        labels: { node_id: s.nodeId, version: s.version, runtime: s.runtime },
        value: 1,
      }],
    },
    one("dfs_uptime_seconds", "gauge", "Seconds since the node started.", s.uptimeMs / 1000),
  ];
}

function storeFamilies(s: NodeStatus): MetricFamily[] {
  const out: MetricFamily[] = [
    one("dfs_store_blocks", "gauge", "Blocks in the local store.", s.store.count),
    one("dfs_store_bytes", "gauge", "Bytes of the blocks in the local store.", s.store.bytes),
  ];
  if (s.store.maxBytes !== undefined) {
    out.push(
      one("dfs_store_max_bytes", "gauge", "The store's bound (max-store).", s.store.maxBytes),
    );
  }
  if (s.files !== undefined) {
    out.push(one("dfs_files", "gauge", "Files in the local index.", s.files));
  }
  if (s.quarantined !== undefined) {
    out.push(
      one("dfs_store_quarantined_blocks", "gauge", "Local copies quarantined.", s.quarantined),
    );
  }
  return out;
}

function peerFamilies(
  s: NodeStatus,
  peers: readonly PeerSummary[],
  dht: DhtInfo | null,
): MetricFamily[] {
  const out: MetricFamily[] = [
    one("dfs_peer_connections", "gauge", "Open (established) peer connections.", s.peers),
    one("dfs_peers_known", "gauge", "Peers known (connected or not).", peers.length),
  ];
  if (s.traffic) {
    const help = (dir: string) => `Bytes of peer message frames ${dir} (before encryption).`;
    out.push(
      one("dfs_peer_sent_bytes_total", "counter", help("sent"), s.traffic.sent),
      one("dfs_peer_received_bytes_total", "counter", help("received"), s.traffic.received),
    );
  }
  if (s.fetched) {
    out.push(
      one(
        "dfs_fetched_blocks_total",
        "counter",
        "Blocks fetched from peers, each verified against its id.",
        s.fetched.blocks,
      ),
      one("dfs_fetched_bytes_total", "counter", "Bytes of those blocks.", s.fetched.bytes),
    );
  }
  out.push(
    byLabel(
      "dfs_bad_blocks_total",
      "counter",
      "Blocks a peer sent that failed verification, per peer.",
      "peer",
      s.badBlocks,
    ),
    byLabel(
      "dfs_corrupt_holder_answers_total",
      "counter",
      "Block reads a holder refused because its own copy was corrupt, per holder.",
      "peer",
      s.corruptHolders,
    ),
  );
  if (dht) out.push(...dhtFamilies(dht));
  return out;
}

function dhtFamilies(d: DhtInfo): MetricFamily[] {
  return [
    one("dfs_dht_lookups_total", "counter", "DHT lookups run.", d.lookups),
    one("dfs_dht_lookup_messages_total", "counter", "Requests DHT lookups sent.", d.lookupMessages),
    one(
      "dfs_dht_lookup_rounds_total",
      "counter",
      "Rounds (hops) DHT lookups took.",
      d.lookupRounds,
    ),
    one(
      "dfs_dht_lookups_timed_out_total",
      "counter",
      "DHT lookups that hit their deadline.",
      d.lookupsTimedOut,
    ),
    one(
      "dfs_dht_requests_served_total",
      "counter",
      "DHT requests served for other nodes.",
      d.requestsServed,
    ),
    one("dfs_dht_routing_table_contacts", "gauge", "Contacts in the routing table.", d.tableSize),
    one(
      "dfs_dht_provider_records",
      "gauge",
      "Provider records held for others.",
      d.providerRecords,
    ),
    one("dfs_dht_providing_keys", "gauge", "Keys this node announces itself.", d.providing),
    one("dfs_dht_name_records", "gauge", "Name records held for others.", d.nameRecords),
    one(
      "dfs_peer_max_connections",
      "gauge",
      "Most peer connections kept open.",
      d.maxConnections,
    ),
  ];
}

function upkeepFamilies(s: NodeStatus): MetricFamily[] {
  const u = s.upkeep;
  if (!u) return [];
  const r = u.repair;
  const out: MetricFamily[] = [
    one("dfs_repair_checks_total", "counter", "Files checked by the repair loop.", r.checks),
    one("dfs_repair_queue_files", "gauge", "Files below target, waiting or repairing.", r.queue),
    one("dfs_repair_active_files", "gauge", "Files being repaired now.", r.active),
    one(
      "dfs_repair_repaired_total",
      "counter",
      "Copies or shard columns re-created.",
      r.repaired,
    ),
    one("dfs_repair_trimmed_total", "counter", "Copies trimmed above a policy's max.", r.trimmed),
    one("dfs_repair_bytes_total", "counter", "Bytes pushed by repair.", r.bytes),
    one("dfs_repair_failed_total", "counter", "Repairs that failed (retried later).", r.failed),
    one("dfs_gc_passes_total", "counter", "Garbage collection passes completed.", u.gc.passes),
    one("dfs_gc_removed_blocks_total", "counter", "Blocks garbage collected.", u.gc.removed),
    one(
      "dfs_gc_pending_blocks",
      "gauge",
      "Unreferenced blocks in their grace period.",
      u.gc.pending,
    ),
    one("dfs_tombstones", "gauge", "Tombstones held.", u.tombstones),
  ];
  const sc = u.scrub;
  if (sc) {
    out.push(
      one("dfs_scrub_passes_total", "counter", "Scrub passes completed.", sc.passes),
      one("dfs_scrub_verified_blocks_total", "counter", "Blocks re-verified.", sc.scanned),
      one("dfs_scrub_verified_bytes_total", "counter", "Bytes re-verified.", sc.bytes),
      one("dfs_scrub_corrupt_blocks_total", "counter", "Blocks found corrupt.", sc.corrupt),
      one("dfs_scrub_repaired_blocks_total", "counter", "Corrupt blocks restored.", sc.repaired),
      one(
        "dfs_scrub_pass_verified_bytes",
        "gauge",
        "Bytes re-verified by the scrub pass under way (0 between passes); against " +
          "dfs_store_bytes, the pass's progress.",
        sc.passBytes,
      ),
    );
    if (sc.lastPassEndedAt !== undefined) {
      out.push(
        one(
          "dfs_scrub_last_pass_end_timestamp_seconds",
          "gauge",
          "When the last complete scrub pass ended, seconds since the epoch.",
          sc.lastPassEndedAt / 1000,
        ),
      );
    }
  }
  return out;
}
