/**
 * Resolves `serve`'s settings from four sources, highest first: flags, environment (`DFS_*`),
 * the config file (`--config FILE`, `$DFS_CONFIG`, else `DATA/dfs.json` when it exists), and
 * the defaults. Each value keeps where it came from, for error messages and `dfs config`.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";
import { DfsError, errorText } from "../../errors.ts";
import { parseCommand, type Parsed } from "../args.ts";
import { DEFAULT_LISTEN, parseHostPort } from "../address.ts";
import type { CliContext } from "../context.ts";
import { ConfigError, UsageError } from "../errors.ts";
import { type Setting, SETTING_BY_KEY, settingFlags, SETTINGS } from "./settings.ts";

/** Name of the config file looked for in the data directory. */
export const CONFIG_FILE = "dfs.json";
/** Largest config file read, in bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Where a value came from. */
export type ConfigSource =
  | { readonly kind: "default" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "env"; readonly name: string }
  | { readonly kind: "flag"; readonly name: string };

/** A setting's value (absent: the default) and its source. */
export interface ResolvedSetting {
  /** The setting. */
  readonly setting: Setting;
  /** Its value, as text (a list for `list`, a boolean for `flag`); absent: the default. */
  readonly value: string | boolean | readonly string[] | undefined;
  /** Where it came from. */
  readonly source: ConfigSource;
}

/** Every setting resolved. */
export interface ResolvedConfig {
  /** `--help` was given (nothing else is resolved). */
  readonly help: boolean;
  /** The parsed command line (for flags beyond the settings, e.g. `--json`). */
  readonly parsed: Parsed;
  /** The config file read, if any. */
  readonly file?: string;
  /** Every setting, in table order. */
  readonly settings: ReadonlyMap<string, ResolvedSetting>;
}

const RANK = { default: 0, file: 1, env: 2, flag: 3 } as const;

/** Higher is stronger: flags > environment > file > defaults. */
export function sourceRank(source: ConfigSource): number {
  return RANK[source.kind];
}

/** How a source is named in messages: `--max-store`, `$DFS_MAX_STORE`, `"max-store" in PATH`. */
export function describeSource(key: string, source: ConfigSource): string {
  switch (source.kind) {
    case "flag":
      return source.name;
    case "env":
      return `$${source.name}`;
    case "file":
      return `"${key}" in ${source.path}`;
    default:
      return `the default ${key}`;
  }
}

/**
 * Runs `parse` on a resolved value; a {@linkcode UsageError} it throws for a value from the
 * config file becomes a {@linkcode ConfigError} (the file, not the command line, is at fault).
 */
export function checked<T>(r: ResolvedSetting, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (r.source.kind === "file" && err instanceof UsageError) {
      throw new ConfigError(err.message, { key: r.setting.key, path: r.source.path });
    }
    throw err;
  }
}

function fail(command: string, key: string, source: ConfigSource, expected: string, got: string) {
  const message = `${describeSource(key, source)} expects ${expected}, got ${got}`;
  return source.kind === "file"
    ? new ConfigError(message, { key, path: source.path })
    : new UsageError(message, command);
}

function expectedOf(s: Setting): string {
  if (s.choices) return `one of ${s.choices.join(", ")}`;
  switch (s.kind) {
    case "text":
      return "a string";
    case "whole":
      return "a whole number";
    case "size":
      return 'a size (a number of bytes, or a string such as "10GiB")';
    case "decimal":
      return "a number";
    case "flag":
      return "true or false";
    case "list":
      return "a list of strings";
  }
}

function describeJson(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array (${JSON.stringify(v).slice(0, 60)})`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A config file value turned into the text a flag would carry, or a typed error. */
function fromJson(command: string, s: Setting, v: unknown, source: ConfigSource) {
  const bad = () => fail(command, s.key, source, expectedOf(s), describeJson(v));
  switch (s.kind) {
    case "text":
      if (typeof v !== "string") throw bad();
      return v;
    case "whole":
    case "size":
      if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
      if (typeof v !== "string") throw bad();
      return v;
    case "decimal":
      if (typeof v === "number" && Number.isFinite(v)) return String(v);
      if (typeof v !== "string") throw bad();
      return v;
    case "flag":
      if (typeof v !== "boolean") throw bad();
      return v;
    case "list":
      if (typeof v === "string") return splitList(v);
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw bad();
      return v as string[];
  }
}

function splitList(text: string): string[] {
  return text.split(",").map((x) => x.trim()).filter((x) => x !== "");
}

/** An environment variable's text for `s`, or a usage error. */
function fromEnv(command: string, s: Setting, text: string, name: string) {
  if (s.kind === "list") return splitList(text);
  if (s.kind !== "flag") return text;
  const t = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(t)) return true;
  if (["0", "false", "no", "off"].includes(t)) return false;
  throw fail(
    command,
    s.key,
    { kind: "env", name },
    "true or false (1/0, yes/no)",
    JSON.stringify(text),
  );
}

/**
 * Reads and checks a config file: a JSON object whose keys are setting keys. Throws one
 * {@linkcode ConfigError} naming the path (and the key) for an unreadable file, malformed JSON,
 * something else than an object, an unknown key or a value of the wrong type. `dataDir`: the file
 * is the data directory's own, which may not move the data directory.
 */
export async function readConfigFile(
  ctx: Pick<CliContext, "runtime">,
  command: string,
  path: string,
  ownDataDir = false,
): Promise<Map<string, ResolvedSetting>> {
  let text: string;
  try {
    const bytes = await ctx.runtime.fs.readFile(path, { maxBytes: MAX_CONFIG_BYTES });
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${errorText(err)}`, {
      path,
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path}: malformed JSON: ${errorText(err)}`, { path, cause: err });
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ConfigError(
      `${path}: expected a JSON object of settings, got ${describeJson(json)}`,
      {
        path,
      },
    );
  }
  const out = new Map<string, ResolvedSetting>();
  const source: ConfigSource = { kind: "file", path };
  for (const [key, v] of Object.entries(json)) {
    const s = SETTING_BY_KEY.get(key);
    if (!s) {
      throw new ConfigError(
        `${path}: unknown key ${JSON.stringify(key)} (expected one of: ${
          SETTINGS.map((x) => x.key).join(", ")
        })`,
        { key, path },
      );
    }
    if (ownDataDir && key === "data") {
      throw new ConfigError(
        `${path}: "data" cannot be set in the data directory's own ${CONFIG_FILE} ` +
          `(give --data, $DFS_DATA or use --config FILE)`,
        { key, path },
      );
    }
    out.set(key, { setting: s, value: fromJson(command, s, v, source), source });
  }
  return out;
}

/**
 * Parses `args` for `command` (the settings' flags plus `extra`) and resolves every setting:
 * flag, else environment, else config file, else default. The config file is `--config FILE`,
 * else `$DFS_CONFIG`, else `DATA/dfs.json` if it exists (DATA from `--data`, `$DFS_DATA`, else
 * `.dfs/<listen port>`). Throws {@linkcode UsageError} for bad flags and environment values,
 * {@linkcode ConfigError} for a bad file.
 *
 * @example
 * ```ts ignore
 * const cfg = await resolveConfig(ctx, "serve", ["--listen", ":4000"]);
 * cfg.settings.get("listen"); // { value: ":4000", source: { kind: "flag", name: "--listen" }, ... }
 * ```
 */
export async function resolveConfig(
  ctx: Pick<CliContext, "runtime" | "process">,
  command: string,
  args: readonly string[],
  extra: ParseArgsOptionsConfig = {},
): Promise<ResolvedConfig> {
  const parsed = parseCommand(command, args, settingFlags(extra), 0, 0);
  const settings = new Map<string, ResolvedSetting>();
  if (parsed.values.help) return { help: true, parsed, settings };
  const flagOrEnv = new Map<string, ResolvedSetting>();
  for (const s of SETTINGS) {
    const v = parsed.values[s.key];
    if (v !== undefined && !(s.kind === "flag" && v === false)) {
      const value = s.kind === "list"
        ? (v as string[]).flatMap((x) => splitList(String(x)))
        : v as string | boolean;
      flagOrEnv.set(s.key, { setting: s, value, source: { kind: "flag", name: `--${s.key}` } });
      continue;
    }
    for (const name of s.env) {
      const text = ctx.process.env(name);
      if (text === undefined || text === "") continue;
      flagOrEnv.set(s.key, {
        setting: s,
        value: fromEnv(command, s, text, name),
        source: { kind: "env", name },
      });
      break;
    }
  }
  const configFlag = typeof parsed.values.config === "string" ? parsed.values.config : undefined;
  const configEnv = ctx.process.env("DFS_CONFIG") || undefined;
  if (configFlag === "") throw new UsageError("--config expects a FILE", command);
  let file = configFlag ?? configEnv;
  let own = false;
  if (file === undefined) {
    const data = flagOrEnv.get("data")?.value as string | undefined;
    const listen = flagOrEnv.get("listen")?.value as string | undefined;
    const dir = data ?? `.dfs/${parseHostPort(listen ?? DEFAULT_LISTEN, "--listen").port}`;
    const candidate = `${dir}/${CONFIG_FILE}`;
    const info = await ctx.runtime.fs.stat(candidate).catch((err) => {
      if (err instanceof DfsError && err.code === "NOT_FOUND") return null;
      throw new ConfigError(`cannot read config file ${candidate}: ${errorText(err)}`, {
        path: candidate,
      });
    });
    if (info) {
      file = candidate;
      own = true;
    }
  }
  const fromFile = file !== undefined
    ? await readConfigFile(ctx, command, file, own)
    : new Map<string, ResolvedSetting>();
  for (const s of SETTINGS) {
    const r = flagOrEnv.get(s.key) ?? fromFile.get(s.key) ??
      { setting: s, value: undefined, source: { kind: "default" } as const };
    if (s.choices && typeof r.value === "string" && !s.choices.includes(r.value)) {
      throw fail(command, s.key, r.source, expectedOf(s), JSON.stringify(r.value));
    }
    settings.set(s.key, r);
  }
  return { help: false, parsed, ...(file !== undefined ? { file } : {}), settings };
}
