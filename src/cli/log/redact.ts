/**
 * The redaction step of the CLI's log pipeline: no key, token or capability reaches a sink.
 *
 * @module
 */

/** What replaces a secret. */
export const REDACTED = "[redacted]";

/** Field names whose values are secrets whatever they hold. */
const SECRET_NAME = /key|token|secret|passw|capabilit|authoriz|cookie|credential/i;

/** Text patterns that are secrets wherever they appear. */
const PATTERNS: readonly [RegExp, string][] = [
  // A read capability: the file id is public, the key after it is not.
  // (also URL-encoded, as in a request path: dfs%3Ar%3AID%3AKEY).
  [/(dfs(?::|%3A)r(?::|%3A)[0-9A-Za-z]*(?::|%3A))[A-Za-z0-9_\-+/=%]+/gi, `$1${REDACTED}`],
  [/(\bbearer\s+)[^\s"',;]+/gi, `$1${REDACTED}`],
  [/([?&](?:key|token|cap|capability)=)[^&\s"']+/gi, `$1${REDACTED}`],
];

/**
 * Removes secrets from log values: capabilities (`dfs:r:ID:KEY` keeps the id), bearer
 * tokens, `key=`/`token=` query parameters, every value of a field named like a secret (`key`,
 * `token`, `secret`, `password`, `capability`, `authorization`, ...), raw bytes (shown as their
 * length), and any occurrence of a secret registered with {@linkcode Redactor.add} (the API
 * token, the cluster key as text, hex and base64).
 *
 * @example
 * ```ts
 * import { Redactor } from "./redact.ts";
 * const r = new Redactor();
 * r.add("s3cr3t-token-0123456789");
 * console.log(r.text("GET /api/v1/files/dfs:r:1220ab:AAAA token s3cr3t-token-0123456789"));
 * // GET /api/v1/files/dfs:r:1220ab:[redacted] token [redacted]
 * console.log(r.fields({ clusterKey: "x", peer: "9f2c" })); // { clusterKey: "[redacted]", peer: "9f2c" }
 * ```
 */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Registers a secret (and, for bytes, its text, hex and base64 forms); short ones are ignored. */
  add(secret: string | Uint8Array): void {
    if (typeof secret === "string") {
      if (secret.length >= 8) this.#secrets.add(secret);
      return;
    }
    if (secret.length < 8) return;
    const hex = Array.from(secret, (b) => b.toString(16).padStart(2, "0")).join("");
    this.#secrets.add(hex);
    const b64 = btoa(String.fromCharCode(...secret));
    this.#secrets.add(b64);
    this.#secrets.add(b64.replace(/=+$/, ""));
    this.#secrets.add(b64.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"));
    const text = new TextDecoder("utf-8", { fatal: false }).decode(secret);
    if (text.trim().length >= 8) {
      this.#secrets.add(text);
      this.#secrets.add(text.trim());
    }
  }

  /** `text` with every secret replaced. */
  text(text: string): string {
    let out = text;
    for (const secret of this.#secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  }

  /** Any log value with its secrets removed (objects and arrays copied, depth bounded). */
  value(value: unknown, depth = 0): unknown {
    if (typeof value === "string") return this.text(value);
    if (value instanceof Uint8Array) return `<${value.length} bytes>`;
    if (value instanceof Error) return this.text(value.message);
    if (value === null || typeof value !== "object") return value;
    if (depth >= 6) return "[nested]";
    if (Array.isArray(value)) return value.map((v) => this.value(v, depth + 1));
    return this.fields(value as Record<string, unknown>, depth + 1);
  }

  /** `fields` with every secret removed: secret-named fields wholly, the rest by {@linkcode value}. */
  fields(fields: Record<string, unknown>, depth = 0): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) {
      out[k] = SECRET_NAME.test(k) && v !== undefined && v !== null && v !== false
        ? REDACTED
        : this.value(v, depth);
    }
    return out;
  }
}
