/**
 * `serve`'s arguments and environment, resolved into node options and the API address.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";
import { formatAddress } from "../peer/address.ts";
import { apiListenAddress, DEFAULT_API, DEFAULT_LISTEN, parseHostPort } from "./address.ts";
import { int, parseCommand, str, wholeNumber } from "./args.ts";
import { parseByteSize } from "./bytes.ts";
import type { CliContext, LogLevel, LogSink, StartNodeOptions } from "./context.ts";
import { UsageError } from "./errors.ts";
import type { ApiTokenFile } from "./api_token.ts";
import { LIMIT_FLAGS, limitFlags } from "./serve_limits.ts";
import { UPKEEP_FLAGS, upkeepFlags } from "./serve_upkeep.ts";

const OPTIONS: ParseArgsOptionsConfig = {
  listen: { type: "string", short: "l" },
  data: { type: "string", short: "d" },
  api: { type: "string" },
  bootstrap: { type: "string", short: "b", multiple: true },
  replication: { type: "string", short: "r" },
  "block-size": { type: "string" },
  "max-store": { type: "string" },
  "max-connections": { type: "string" },
  "log-level": { type: "string" },
  "cluster-key-file": { type: "string" },
  "insecure-plaintext": { type: "boolean" },
  ...UPKEEP_FLAGS,
  ...LIMIT_FLAGS,
  help: { type: "boolean", short: "h" },
};

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/**
 * A log sink writing `dfs: LEVEL: message key=value ...` lines to stderr for `min` and above.
 *
 * @example
 * ```ts ignore
 * const log = stderrLogger(ctx, "info");
 * log("info", "node started", { nodeId: "9f2c" }); // dfs: info: node started nodeId=9f2c
 * ```
 */
export function stderrLogger(ctx: Pick<CliContext, "err">, min: LogLevel): LogSink {
  const floor = LEVELS.indexOf(min);
  return (level, message, fields) => {
    if (LEVELS.indexOf(level) < floor) return;
    let line = `dfs: ${level}: ${message}`;
    for (const [k, v] of Object.entries(fields ?? {})) {
      const text = typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
      line += ` ${k}=${/\s/.test(text) ? JSON.stringify(text) : text}`;
    }
    ctx.err(line + "\n").catch(() => {});
  };
}

/**
 * Resolves `serve`'s arguments and environment into node options and the API address.
 * Defaults: listen `127.0.0.1:3000`, API `$DFS_API` else `127.0.0.1:5000`, data `$DFS_DATA`
 * else `.dfs/<p2p port>` (relative to the current directory), log level `$DFS_LOG` else `warn`,
 * cluster key file `$DFS_CLUSTER_KEY_FILE` else none (an open cluster), most connections
 * `$DFS_MAX_CONNECTIONS` else the node's default (64), redundancy `$DFS_REDUNDANCY` else the
 * node's default; the upkeep flags are read by {@linkcode upkeepFlags}. `clusterKeyFile` says
 * where the key is (`serve` reads it); `what` names its source for error messages; `drain` is
 * `--drain` (on SIGTERM, hand the data off before exiting); the limit flags, `apiTokenFile` and
 * `apiAllowHosts` are read by {@linkcode limitFlags}.
 */
export function serveOptions(
  ctx: Pick<CliContext, "runtime" | "process" | "err">,
  args: readonly string[],
): { help: true } | {
  help: false;
  node: StartNodeOptions;
  api: { hostname: string; port: number };
  clusterKeyFile?: { path: string; what: string };
  apiTokenFile?: ApiTokenFile;
  apiAllowHosts: readonly string[];
  drain: boolean;
} {
  const p = parseCommand("serve", args, OPTIONS, 0, 0);
  if (p.values.help) return { help: true };
  const listen = parseHostPort(str(p, "listen") ?? DEFAULT_LISTEN, "--listen");
  const api = apiListenAddress(str(p, "api") ?? ctx.process.env("DFS_API") ?? DEFAULT_API);
  const dataDir = str(p, "data") ?? ctx.process.env("DFS_DATA") ?? `.dfs/${listen.port}`;
  const raw = (p.values.bootstrap ?? []) as string[];
  const bootstrap = raw.flatMap((v) => v.split(",")).map((s) => s.trim()).filter((s) => s !== "")
    .map((s) => formatAddress(parseHostPort(s, "--bootstrap")));
  const replication = int(p, "replication", "serve");
  const blockText = str(p, "block-size");
  const blockSize = blockText === undefined ? undefined : parseByteSize(blockText, "--block-size");
  const maxText = str(p, "max-store") ?? ctx.process.env("DFS_MAX_STORE");
  const maxStoreBytes = maxText === undefined ? undefined : parseByteSize(maxText, "--max-store");
  const maxConnections = int(p, "max-connections", "serve") ?? envMaxConnections(ctx);
  const level = str(p, "log-level") ?? ctx.process.env("DFS_LOG") ?? "warn";
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(
      `--log-level expects one of ${LEVELS.join(", ")}, got ${JSON.stringify(level)}`,
      "serve",
    );
  }
  const keyFlag = str(p, "cluster-key-file");
  const keyEnv = ctx.process.env("DFS_CLUSTER_KEY_FILE");
  const clusterKeyFile = keyFlag !== undefined
    ? { path: keyFlag, what: "--cluster-key-file" }
    : keyEnv !== undefined && keyEnv !== ""
    ? { path: keyEnv, what: "$DFS_CLUSTER_KEY_FILE" }
    : undefined;
  if (clusterKeyFile && clusterKeyFile.path === "") {
    throw new UsageError("--cluster-key-file expects a PATH", "serve");
  }
  const { redundancy, upkeep, drain } = upkeepFlags(ctx, p);
  const { peer: limits, maxStorePerPeer, apiTokenFile, apiAllowHosts } = limitFlags(ctx, p);
  const peer = { ...limits, ...(maxConnections !== undefined ? { maxConnections } : {}) };
  return {
    help: false,
    api,
    drain,
    ...(clusterKeyFile ? { clusterKeyFile } : {}),
    ...(apiTokenFile ? { apiTokenFile } : {}),
    apiAllowHosts,
    node: {
      runtime: ctx.runtime,
      listen,
      dataDir,
      ...(p.values["insecure-plaintext"] === true ? { encryption: "plaintext" as const } : {}),
      bootstrap,
      ...(replication !== undefined ? { replication } : {}),
      ...(redundancy !== undefined ? { redundancy } : {}),
      ...(upkeep !== undefined ? { upkeep } : {}),
      ...(blockSize !== undefined ? { blockSize } : {}),
      ...(maxStoreBytes !== undefined ? { maxStoreBytes } : {}),
      ...(maxStorePerPeer !== undefined ? { maxStorePerPeer } : {}),
      ...(Object.keys(peer).length > 0 ? { peer } : {}),
      log: stderrLogger(ctx, level as LogLevel),
    },
  };
}

/** `$DFS_MAX_CONNECTIONS` as a whole number ≥ 1, or `undefined` when unset or empty. */
function envMaxConnections(ctx: Pick<CliContext, "process">): number | undefined {
  const text = ctx.process.env("DFS_MAX_CONNECTIONS");
  if (text === undefined || text === "") return undefined;
  return wholeNumber(text, "$DFS_MAX_CONNECTIONS", "serve");
}
