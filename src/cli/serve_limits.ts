/**
 * `serve`'s limit flags: the per-peer bounds of the P2P port and the API token file, turned
 * into node options.
 *
 * @module
 */

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
}

/**
 * Reads the limit settings of `serve`: `max-requests-per-peer` (requests per second per peer
 * connection, default 5000), `max-connections-per-host` (default 8, loopback exempt),
 * `max-store-per-peer` (default: no bound) and `api-token-file` (an empty one is an error). Each
 * comes from a flag, `$DFS_*`, the config file or the default (see `config/resolve.ts`).
 *
 * @example
 * ```ts ignore
 * limitFlags(new SettingsInput(await resolveConfig(ctx, "serve", ["--max-store-per-peer", "10GiB"])));
 * // { peer: {}, maxStorePerPeer: 10737418240 }
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
  return {
    peer: {
      ...(rate !== undefined ? { maxRequestsPerSecond: rate } : {}),
      ...(perHost !== undefined ? { maxConnectionsPerHost: perHost } : {}),
    },
    ...(maxStorePerPeer !== undefined ? { maxStorePerPeer } : {}),
    ...(apiTokenFile ? { apiTokenFile } : {}),
  };
}
