/**
 * `serve`'s settings (flags, `$DFS_*`, the config file, defaults), resolved into node options, the
 * API address and the log setup.
 *
 * @module
 */

import { formatAddress } from "../peer/address.ts";
import { LOG_LEVELS, type LogLevel } from "../util/log.ts";
import { apiListenAddress, DEFAULT_API, DEFAULT_LISTEN, parseHostPort } from "./address.ts";
import { wholeNumber } from "./args.ts";
import { parseByteSize } from "./bytes.ts";
import type { CliContext, StartNodeOptions } from "./context.ts";
import { UsageError } from "./errors.ts";
import type { ApiTokenFile } from "./api_token.ts";
import { SettingsInput } from "./config/input.ts";
import { checked, resolveConfig } from "./config/resolve.ts";
import type { LogFormat } from "./log/format.ts";
import { limitFlags } from "./serve_limits.ts";
import { upkeepFlags } from "./serve_upkeep.ts";

/** What `serve` runs with. */
export type ServeOptions = { help: true } | {
  help: false;
  node: StartNodeOptions;
  api: { hostname: string; port: number };
  clusterKeyFile?: { path: string; what: string };
  apiTokenFile?: ApiTokenFile;
  /** Host names the API accepts besides loopback ones (`--api-allow-host`), canonical. */
  apiAllowHosts: readonly string[];
  drain: boolean;
  /** The log's level and format. */
  log: { level: LogLevel; format: LogFormat };
  /** The config file read, if any. */
  configFile?: string;
};

/**
 * Resolves `serve`'s settings into node options and the API address. Each setting comes from
 * its flag, else its `$DFS_*` variable, else the config file (`--config FILE`, `$DFS_CONFIG`, else
 * `DATA/dfs.json` when it exists), else its default (`src/cli/config/settings.ts` lists them
 * all). Defaults: listen `127.0.0.1:3000`, API `127.0.0.1:5000`, data `.dfs/<p2p port>`, log
 * level `warn` (`$DFS_LOG` is still read), format `text`. Throws {@linkcode UsageError} for bad
 * flags or environment values, `ConfigError` for a bad config file.
 */
export async function serveOptions(
  ctx: Pick<CliContext, "runtime" | "process" | "err">,
  args: readonly string[],
): Promise<ServeOptions> {
  const cfg = await resolveConfig(ctx, "serve", args);
  if (cfg.help) return { help: true };
  return serveOptionsOf(ctx, new SettingsInput(cfg));
}

/** {@linkcode serveOptions} from settings already resolved. */
export function serveOptionsOf(
  ctx: Pick<CliContext, "runtime">,
  input: SettingsInput,
): Exclude<ServeOptions, { help: true }> {
  const listen = input.parse("listen", parseHostPort) ?? parseHostPort(DEFAULT_LISTEN, "--listen");
  const api = input.parse("api", (t) => apiListenAddress(t)) ?? apiListenAddress(DEFAULT_API);
  const dataDir = input.str("data") ?? `.dfs/${listen.port}`;
  const bootstrap = checked(
    input.get("bootstrap"),
    () =>
      input.list("bootstrap").map((s) => formatAddress(parseHostPort(s, input.what("bootstrap")))),
  );
  const whole = (key: string) => input.parse(key, (t, what) => wholeNumber(t, what, "serve"));
  const { redundancy, upkeep, drain } = upkeepFlags(input);
  const replication = redundancy === undefined ? whole("replication") : undefined;
  const blockSize = input.parse("block-size", parseByteSize);
  const maxStoreBytes = input.parse("max-store", parseByteSize);
  const maxConnections = whole("max-connections");
  const level = (input.str("log-level") ?? "warn") as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`bad log level ${level}`, "serve");
  const format = (input.str("log-format") ?? "text") as LogFormat;
  const keyPath = input.str("cluster-key-file");
  if (keyPath === "") {
    checked(input.get("cluster-key-file"), () => {
      throw new UsageError(`${input.what("cluster-key-file")} expects a PATH`, "serve");
    });
  }
  const clusterKeyFile = keyPath !== undefined
    ? { path: keyPath, what: input.what("cluster-key-file") }
    : undefined;
  const { peer: limits, maxStorePerPeer, apiTokenFile, apiAllowHosts } = limitFlags(input);
  const peer = { ...limits, ...(maxConnections !== undefined ? { maxConnections } : {}) };
  return {
    help: false,
    api,
    drain,
    log: { level, format },
    ...(input.config.file !== undefined ? { configFile: input.config.file } : {}),
    ...(clusterKeyFile ? { clusterKeyFile } : {}),
    ...(apiTokenFile ? { apiTokenFile } : {}),
    apiAllowHosts,
    node: {
      runtime: ctx.runtime,
      listen,
      dataDir,
      ...(input.bool("insecure-plaintext") ? { encryption: "plaintext" as const } : {}),
      bootstrap,
      ...(replication !== undefined ? { replication } : {}),
      ...(redundancy !== undefined ? { redundancy } : {}),
      ...(upkeep !== undefined ? { upkeep } : {}),
      ...(blockSize !== undefined ? { blockSize } : {}),
      ...(maxStoreBytes !== undefined ? { maxStoreBytes } : {}),
      ...(maxStorePerPeer !== undefined ? { maxStorePerPeer } : {}),
      ...(Object.keys(peer).length > 0 ? { peer } : {}),
    },
  };
}
