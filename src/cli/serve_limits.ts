/**
 * `serve`'s limit flags: the per-peer bounds of the P2P port, the API token file and the host
 * names the API accepts besides loopback ones, turned into node options.
 *
 * @module
 */

import { normalizeAllowedHost } from "../api/browser_guard.ts";
import { DfsError } from "../errors.ts";
import { wholeNumber } from "./args.ts";
import type { ApiTokenFile } from "./api_token.ts";
import { parseByteSize } from "./bytes.ts";
import type { SettingsInput } from "./config/input.ts";
import { checked } from "./config/resolve.ts";
import { UsageError } from "./errors.ts";
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
   * `api-allow-host` (`--api-allow-host NAME`, repeatable and comma-separated, `$DFS_API_ALLOW_HOST`
   * or the config file's list): more host names the API accepts in `Host` and `Origin`, canonical.
   */
  readonly apiAllowHosts: readonly string[];
}

/**
 * Reads the limit settings of `serve`: `max-requests-per-peer` (requests per second per peer
 * connection, default 5000), `max-connections-per-host` (default 8, loopback exempt),
 * `max-store-per-peer` (default: no bound), `api-token-file` (an empty one is an error) and
 * `api-allow-host` (default none; a name with a port or scheme is an error). Each comes from a
 * flag, `$DFS_*`, the config file or the default (see `config/resolve.ts`).
 *
 * @example
 * ```ts ignore
 * limitFlags(new SettingsInput(await resolveConfig(ctx, "serve", ["--max-store-per-peer", "10GiB"])));
 * // { peer: {}, maxStorePerPeer: 10737418240, apiAllowHosts: [] }
 * ```
 */
export function limitFlags(input: SettingsInput): LimitFlags {
  const whole = (key: string) => input.parse(key, (t, what) => wholeNumber(t, what, "serve"));
  const rate = whole("max-requests-per-peer");
  const perHost = whole("max-connections-per-host");
  const maxStorePerPeer = input.parse("max-store-per-peer", parseByteSize);
  const file = input.get("api-token-file");
  const path = input.str("api-token-file");
  if (path === "") {
    checked(file, () => {
      throw new UsageError(`${input.what("api-token-file")} expects a FILE`, "serve");
    });
  }
  const apiTokenFile: ApiTokenFile | undefined = path !== undefined
    ? { path, what: input.what("api-token-file") }
    : undefined;
  const hosts = input.get("api-allow-host");
  const apiAllowHosts = checked(
    hosts,
    () => allowedHosts(input.list("api-allow-host"), input.what("api-allow-host")),
  );
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

/** `names` in canonical form, without repeats; a bad one is a {@linkcode UsageError}. */
function allowedHosts(names: readonly string[], what: string): string[] {
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
