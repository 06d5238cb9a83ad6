/**
 * `dfs config`: the configuration `serve` would run with (same flags, environment and config
 * file), each value with where it came from.
 *
 * @module
 */

import type { CliContext } from "./context.ts";
import { SettingsInput } from "./config/input.ts";
import { type ConfigSource, resolveConfig, type ResolvedConfig } from "./config/resolve.ts";
import { EXIT } from "./errors.ts";
import { Redactor } from "./log/redact.ts";
import { serveOptionsOf } from "./serve_options.ts";
import { COMMAND_USAGE } from "./usage.ts";

/** One line of `dfs config --json`'s `settings`. */
export interface ConfigEntry {
  /** The value (as given: text, a list, a boolean), or `null` for the default. */
  readonly value: string | boolean | readonly string[] | null;
  /** The default, as text. */
  readonly default: string;
  /** `default`, `file`, `env` or `flag`. */
  readonly source: ConfigSource["kind"];
  /** The file's path, the variable's name or the flag; absent for a default. */
  readonly from?: string;
}

function fromOf(source: ConfigSource): string | undefined {
  switch (source.kind) {
    case "file":
      return source.path;
    case "env":
    case "flag":
      return source.name;
    default:
      return undefined;
  }
}

/**
 * The effective configuration as `dfs config --json` prints it: the file read (or null) and
 * every setting, secrets redacted.
 *
 * @example
 * ```ts ignore
 * configReport(await resolveConfig(ctx, "config", ["--max-store", "1GiB"])).settings["max-store"];
 * // { value: "1GiB", default: "(no bound)", source: "flag", from: "--max-store" }
 * ```
 */
export function configReport(
  cfg: ResolvedConfig,
): { file: string | null; settings: Record<string, ConfigEntry> } {
  const redactor = new Redactor();
  const settings: Record<string, ConfigEntry> = {};
  for (const [key, r] of cfg.settings) {
    const v = r.value;
    const value = v === undefined
      ? null
      : typeof v === "string"
      ? redactor.text(v)
      : Array.isArray(v)
      ? v.map((x) => redactor.text(x))
      : v;
    const from = fromOf(r.source);
    settings[key] = {
      value,
      default: r.setting.defaultText,
      source: r.source.kind,
      ...(from !== undefined ? { from } : {}),
    };
  }
  return { file: cfg.file ?? null, settings };
}

/**
 * Runs `dfs config [serve's flags] [--json]`: resolves the configuration as `serve` would, checks
 * every value (a bad one is the same error `serve` would stop on), and prints each setting with
 * its value and source (`default`, `file PATH`, `env NAME`, `flag --NAME`).
 */
export async function config(ctx: CliContext, args: readonly string[]): Promise<number> {
  const cfg = await resolveConfig(ctx, "config", args, { json: { type: "boolean" } });
  if (cfg.help) {
    await ctx.out(COMMAND_USAGE.config + "\n");
    return EXIT.OK;
  }
  serveOptionsOf(ctx, new SettingsInput(cfg));
  const report = configReport(cfg);
  if (cfg.parsed.values.json) {
    await ctx.out(JSON.stringify(report, null, 2) + "\n");
    return EXIT.OK;
  }
  const rows = Object.entries(report.settings).map(([key, e]) => {
    const value = e.value === null
      ? e.default
      : Array.isArray(e.value)
      ? e.value.join(",")
      : String(e.value);
    const source = e.source === "default" ? "default" : `${e.source} ${e.from}`;
    return [key, value === "" ? '""' : value, source];
  });
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const lines = [
    `# config file: ${report.file ?? "(none)"}`,
    ...rows.map(([k, v, s]) => `${k.padEnd(w0)}  ${v.padEnd(w1)}  ${s}`),
  ];
  await ctx.out(lines.join("\n") + "\n");
  return EXIT.OK;
}
