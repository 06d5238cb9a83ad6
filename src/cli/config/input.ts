/**
 * Reading resolved settings: each value with the name of its source, and each parse error
 * naming that source (a config file's errors are {@linkcode ConfigError}s).
 *
 * @module
 */

import { checked, describeSource, type ResolvedConfig, type ResolvedSetting } from "./resolve.ts";

/**
 * The settings of one command, read by key.
 *
 * @example
 * ```ts ignore
 * const input = new SettingsInput(await resolveConfig(ctx, "serve", args));
 * input.parse("max-store", (text, what) => parseByteSize(text, what)); // bytes, or undefined
 * ```
 */
export class SettingsInput {
  /** The resolved configuration. */
  readonly config: ResolvedConfig;

  /** Wraps `config`. */
  constructor(config: ResolvedConfig) {
    this.config = config;
  }

  /** The resolved setting `key` (every key of the table is present). */
  get(key: string): ResolvedSetting {
    const r = this.config.settings.get(key);
    if (!r) throw new Error(`no setting ${key}`);
    return r;
  }

  /** A text setting's value, or `undefined` for the default. */
  str(key: string): string | undefined {
    const v = this.get(key).value;
    return typeof v === "string" ? v : undefined;
  }

  /** A flag setting's value (false by default). */
  bool(key: string): boolean {
    return this.get(key).value === true;
  }

  /** A list setting's values (empty by default). */
  list(key: string): readonly string[] {
    const v = this.get(key).value;
    return Array.isArray(v) ? v : [];
  }

  /** How the value's source is named in messages (`--max-store`, `$DFS_MAX_STORE`, ...). */
  what(key: string): string {
    return describeSource(key, this.get(key).source);
  }

  /** `parse(text, what)` of a text setting, or `undefined` for the default. */
  parse<T>(key: string, parse: (text: string, what: string) => T): T | undefined {
    const r = this.get(key);
    const text = this.str(key);
    if (text === undefined) return undefined;
    return checked(r, () => parse(text, this.what(key)));
  }
}
