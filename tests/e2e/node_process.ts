/**
 * One dfs node as a process, for end-to-end tests and benchmarks. Runs unchanged under Deno,
 * Bun and Node (the runtime is detected). Prints one JSON line on stdout once the node is up:
 * `{"nodeId","address","apiUrl","pid","runtime"}`, then runs until SIGTERM/SIGINT (graceful
 * close) or until it is killed.
 *
 * Flags: `--data DIR` (required), `--listen HOST:PORT` (default 127.0.0.1:0), `--api HOST:PORT`
 * (default 127.0.0.1:0), `--bootstrap HOST:PORT[,HOST:PORT...]`, `--replication N`,
 * `--block-size BYTES`, `--concurrency N`, `--durability fsync|none`, `--prefer-peers ID[,ID...]`
 * (node ids reads ask first for every block), `--cluster-key-file PATH` (a private cluster),
 * `--insecure-plaintext` (peer traffic in clear, for benches that compare), `--verbose`.
 *
 * @module
 */

import { detectRuntime } from "../../src/runtime/detect.ts";
import { Node } from "../../src/node/node.ts";
import { createApiHandler } from "../../src/api/handler.ts";

const runtime = await detectRuntime();
const proc = runtime.process!;
const args = proc.args;
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const enc = new TextEncoder();
const verbose = args.includes("--verbose");

const data = flag("data");
if (!data) {
  await proc.writeStderr(enc.encode("node_process: --data DIR is required\n"));
  proc.exit(2);
}
const bootstrap = (flag("bootstrap") ?? "").split(",").filter((s) => s !== "");
const preferPeers = (flag("prefer-peers") ?? "").split(",").filter((s) => s !== "");
const keyFile = flag("cluster-key-file");
const clusterKey = keyFile ? await runtime.fs.readFile(keyFile, { maxBytes: 1024 }) : undefined;
const node = await Node.start({
  runtime,
  dataDir: data,
  listen: flag("listen") ?? "127.0.0.1:0",
  bootstrap,
  replication: flag("replication") ? Number(flag("replication")) : undefined,
  blockSize: flag("block-size") ? Number(flag("block-size")) : undefined,
  concurrency: flag("concurrency") ? Number(flag("concurrency")) : undefined,
  durability: (flag("durability") as "fsync" | "none" | undefined) ?? undefined,
  preferPeers,
  clusterKey,
  ...(args.includes("--insecure-plaintext") ? { encryption: "plaintext" as const } : {}),
  log: verbose
    ? (level, message, fields) =>
      void proc.writeStderr(enc.encode(`${level} ${message} ${JSON.stringify(fields ?? {})}\n`))
    : undefined,
});

const [apiHost, apiPort] = (flag("api") ?? "127.0.0.1:0").split(":");
const api = await runtime.serve(
  { hostname: apiHost, port: Number(apiPort) },
  createApiHandler(node),
);
const apiUrl = `http://${api.address.hostname}:${api.address.port}`;

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await api.close();
  await node.close();
  proc.exit(0);
};
proc.onSignal("SIGTERM", () => void stop());
proc.onSignal("SIGINT", () => void stop());

await proc.writeStdout(enc.encode(
  JSON.stringify({
    nodeId: node.nodeId,
    address: node.address,
    apiUrl,
    pid: proc.pid,
    runtime: runtime.name,
  }) + "\n",
));
