/**
 * Every option of `serve`, in one table: its flag, its config file key (the flag's long name),
 * its environment variables, the JSON types the file may give it, and its default. The flag
 * parser, the config file, the environment and `dfs config` are all driven by this table.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";

/**
 * How a setting's value is written: `text` a string; `whole` a whole number (JSON number or
 * digits); `size` bytes (JSON number, or a string such as `10GiB`); `decimal` a number (JSON
 * number or string); `flag` a boolean; `list` strings (JSON array, or one comma-separated string).
 */
export type SettingKind = "text" | "whole" | "size" | "decimal" | "flag" | "list";

/** One option of `serve`. */
export interface Setting {
  /** The config file key, which is also the long flag (`--max-store`). */
  readonly key: string;
  /** One-letter flag, if any. */
  readonly short?: string;
  /** How its value is written. */
  readonly kind: SettingKind;
  /** Environment variables that set it, the first the canonical one. */
  readonly env: readonly string[];
  /** The default, as `dfs config` shows it. */
  readonly defaultText: string;
  /** The allowed values, when they are a fixed set. */
  readonly choices?: readonly string[];
}

/** `DFS_` and the key in upper snake case: `max-store` is `DFS_MAX_STORE`. */
function envOf(key: string): string {
  return `DFS_${key.toUpperCase().replace(/-/g, "_")}`;
}

function s(
  key: string,
  kind: SettingKind,
  defaultText: string,
  extra: { short?: string; env?: readonly string[]; choices?: readonly string[] } = {},
): Setting {
  return {
    key,
    kind,
    defaultText,
    env: extra.env ?? [envOf(key)],
    ...(extra.short ? { short: extra.short } : {}),
    ...(extra.choices ? { choices: extra.choices } : {}),
  };
}

/** Every option of `serve`, in the order `dfs config` prints them. */
export const SETTINGS: readonly Setting[] = [
  s("listen", "text", "127.0.0.1:3000", { short: "l" }),
  s("api", "text", "127.0.0.1:5000"),
  s("data", "text", ".dfs/<listen port>", { short: "d" }),
  s("bootstrap", "list", "(none)", { short: "b" }),
  s("replication", "whole", "3", { short: "r" }),
  s("redundancy", "text", "replicas:<replication>", { short: "R" }),
  s("block-size", "size", "256KiB"),
  s("max-store", "size", "(no bound)"),
  s("max-connections", "whole", "64"),
  s("max-requests-per-peer", "whole", "5000"),
  s("max-connections-per-host", "whole", "8"),
  s("max-store-per-peer", "size", "(no bound)"),
  s("repair-interval", "decimal", "600 (seconds)"),
  s("repair-grace", "decimal", "900 (seconds)"),
  s("repair-rate", "decimal", "32 (MiB/s)"),
  s("scrub-rate", "decimal", "16 (MiB/s)"),
  s("gc-grace", "decimal", "3600 (seconds)"),
  s("tombstone-ttl", "decimal", "30 (days)"),
  s("no-repair", "flag", "false"),
  s("drain", "flag", "false"),
  s("cluster-key-file", "text", "(none: an open cluster)"),
  s("api-token-file", "text", "(DATA/api-token when the API is not on loopback)"),
  s("api-allow-host", "list", "(none: loopback names only)"),
  s("insecure-plaintext", "flag", "false"),
  s("log-level", "text", "warn", {
    env: ["DFS_LOG_LEVEL", "DFS_LOG"],
    choices: ["debug", "info", "warn", "error"],
  }),
  s("log-format", "text", "text", { choices: ["text", "json"] }),
];

/** The settings by key. */
export const SETTING_BY_KEY: ReadonlyMap<string, Setting> = new Map(
  SETTINGS.map((x) => [x.key, x]),
);

/** The flags of `serve` and `config`: one per setting, plus `--config`, `--help` (and `--json`). */
export function settingFlags(extra: ParseArgsOptionsConfig = {}): ParseArgsOptionsConfig {
  const flags: ParseArgsOptionsConfig = {};
  for (const x of SETTINGS) {
    flags[x.key] = {
      type: x.kind === "flag" ? "boolean" : "string",
      ...(x.short ? { short: x.short } : {}),
      ...(x.kind === "list" ? { multiple: true } : {}),
    };
  }
  return {
    ...flags,
    config: { type: "string", short: "c" },
    help: { type: "boolean", short: "h" },
    ...extra,
  };
}
