/**
 * `serve`'s limit flags: the per-peer bounds of the P2P port, the API token file and the host
 * names the API accepts besides loopback ones, turned into node options.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";
import { normalizeAllowedHost } from "../api/browser_guard.ts";
import { DfsError } from "../errors.ts";
import { int, type Parsed, str } from "./args.ts";
import type { ApiTokenFile } from "./api_token.ts";
import { parseByteSize } from "./bytes.ts";
import type { CliContext } from "./context.ts";
import { UsageError } from "./errors.ts";

/** The flags, for `serve`'s option table. */
export const LIMIT_FLAGS: ParseArgsOptionsConfig = {
  "max-requests-per-peer": { type: "string" },
  "max-store-per-peer": { type: "string" },
  "max-connections-per-host": { type: "string" },
  "api-token-file": { type: "string" },
  "api-allow-host": { type: "string", multiple: true },
};

/** What the flags say. */
export interface LimitFlags {
  /** Peer layer bounds given (absent ones keep the peer layer's defaults). */
  readonly peer: {
    readonly maxRequestsPerSecond?: number;
    readonly maxConnectionsPerHost?: number;
  };
  /** `--max-store-per-peer` (or `$DFS_MAX_STORE_PER_PEER`) in bytes; absent: no bound. */
  readonly maxStorePerPeer?: number;
  /** `--api-token-file` (or `$DFS_API_TOKEN_FILE`): the API then always requires its token. */
  readonly apiTokenFile?: ApiTokenFile;
  /**
   * `--api-allow-host NAME` (repeatable, comma-separated; else `$DFS_API_ALLOW_HOST`, a
   * comma-separated list): more host names the API accepts in `Host` and `Origin`, canonical.
   */
  readonly apiAllowHosts: readonly string[];
}

/**
 * Reads the limit flags of `serve`: `--max-requests-per-peer N` (requests per second per peer
 * connection, default 5000), `--max-connections-per-host N` (default 8, loopback exempt),
 * `--max-store-per-peer SIZE` (else `$DFS_MAX_STORE_PER_PEER`, else no bound),
 * `--api-token-file FILE` (else `$DFS_API_TOKEN_FILE`, empty: unset) and `--api-allow-host NAME`
 * (else `$DFS_API_ALLOW_HOST`; a bad name is a usage error).
 *
 * @example
 * ```ts ignore
 * limitFlags(ctx, parseCommand("serve", ["--max-store-per-peer", "10GiB"], OPTIONS, 0, 0));
 * // { peer: {}, maxStorePerPeer: 10737418240, apiAllowHosts: [] }
 * ```
 */
export function limitFlags(ctx: Pick<CliContext, "process">, p: Parsed): LimitFlags {
  const rate = int(p, "max-requests-per-peer", "serve");
  const perHost = int(p, "max-connections-per-host", "serve");
  const storeFlag = str(p, "max-store-per-peer");
  const storeText = storeFlag ?? (ctx.process.env("DFS_MAX_STORE_PER_PEER") || undefined);
  const what = storeFlag !== undefined ? "--max-store-per-peer" : "$DFS_MAX_STORE_PER_PEER";
  const maxStorePerPeer = storeText === undefined ? undefined : parseByteSize(storeText, what);
  const fileFlag = str(p, "api-token-file");
  const fileEnv = ctx.process.env("DFS_API_TOKEN_FILE");
  if (fileFlag === "") throw new UsageError("--api-token-file expects a FILE", "serve");
  const apiTokenFile: ApiTokenFile | undefined = fileFlag !== undefined
    ? { path: fileFlag, what: "--api-token-file" }
    : fileEnv
    ? { path: fileEnv, what: "$DFS_API_TOKEN_FILE" }
    : undefined;
  const hostFlags = (p.values["api-allow-host"] ?? []) as string[];
  const hostEnv = ctx.process.env("DFS_API_ALLOW_HOST") ?? "";
  const apiAllowHosts = hostFlags.length > 0
    ? allowedHosts(hostFlags, "--api-allow-host")
    : allowedHosts([hostEnv], "$DFS_API_ALLOW_HOST");
  return {
    peer: {
      ...(rate !== undefined ? { maxRequestsPerSecond: rate } : {}),
      ...(perHost !== undefined ? { maxConnectionsPerHost: perHost } : {}),
    },
    ...(maxStorePerPeer !== undefined ? { maxStorePerPeer } : {}),
    ...(apiTokenFile ? { apiTokenFile } : {}),
    apiAllowHosts,
  };
}

/** Comma-separated host names from `values`, canonical; a bad one is a {@linkcode UsageError}. */
function allowedHosts(values: readonly string[], what: string): string[] {
  const names = values.flatMap((v) => v.split(",")).map((s) => s.trim()).filter((s) => s !== "");
  return [
    ...new Set(names.map((name) => {
      try {
        return normalizeAllowedHost(name);
      } catch (err) {
        if (err instanceof DfsError) throw new UsageError(`${what}: ${err.message}`, "serve");
        throw err;
      }
    })),
  ];
}
