import assert from "node:assert/strict";
import { configure, getConfig, type LogRecord, reset } from "@logtape/logtape";
import { randomBytes, refusing, startCluster } from "./cluster.ts";
import { testSeed } from "../util/prng.ts";

const SEED = testSeed(0x9e1);

/** Runs `fn` with every console method replaced by a recorder; returns what was printed. */
async function consoleDuring(fn: () => Promise<void>): Promise<string[]> {
  const printed: string[] = [];
  const methods = ["log", "info", "warn", "error", "debug"] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...a: unknown[]) => void printed.push(a.join(" "));
  try {
    await fn();
  } finally {
    methods.forEach((m, i) => console[m] = saved[i]);
  }
  return printed;
}

/** Two nodes, the second refusing writes: the first logs a failed replication. */
async function failedReplication(): Promise<void> {
  const c = await startCluster(2, {
    each: (i) => (i === 1 ? { wrapStore: (s) => refusing(s, () => true) } : {}),
  });
  try {
    await c.settle();
    const put = await c.nodes[0].put(randomBytes(3000, SEED), { encrypt: false, copies: 2 });
    assert.equal(put.copies, 1);
  } finally {
    await c.close();
  }
}

Deno.test(`the_library_writes_nothing_unless_the_application_configures_logging (seed ${SEED})`, async () => {
  await reset(); // as a fresh process: no one configured logtape
  assert.equal(getConfig(), null);
  const printed = await consoleDuring(failedReplication);
  assert.deepEqual(printed, []);
});

Deno.test(`a_configured_logtape_receives_the_nodes_records_by_category (seed ${SEED})`, async () => {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { mem: (r) => void records.push(r) },
    loggers: [
      { category: ["dfs"], lowestLevel: "info", sinks: ["mem"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["mem"] },
    ],
  });
  try {
    await failedReplication();
  } finally {
    await reset();
  }
  const failed = records.filter((r) => r.rawMessage === "replication to peer failed");
  assert.equal(failed.length, 1);
  assert.deepEqual(failed[0].category, ["dfs", "node"]);
  assert.equal(failed[0].level, "warning");
  assert.equal(typeof failed[0].properties.code, "string");
  assert.ok(
    records.some((r) => r.category.join(".") === "dfs.node" && r.rawMessage === "node started"),
  );
  assert.ok(!records.some((r) => r.level === "debug"), "below the configured level: dropped");
});
