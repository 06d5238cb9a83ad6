/**
 * The HTTP API's bearer token on disk: when `serve` requires one, where it is kept, making it
 * on first start, and reading it (also for the client subcommands).
 *
 * A node whose API is bound to a loopback address needs no token, unless `--api-token-file`
 * (or `$DFS_API_TOKEN_FILE`) is given: then it requires the token on every address. Bound to
 * any other address (`0.0.0.0`, a LAN address) it always requires one, by default
 * `DATA_DIR/api-token`. A missing token file is created with a fresh token (32 random bytes,
 * base64url, mode 0600) that `serve` prints once.
 *
 * @module
 */

import { AlreadyExistsError, DfsError } from "../errors.ts";
import { isLoopbackHost } from "../peer/peer_limits.ts";
import type { FileSystem } from "../runtime/types.ts";
import { UsageError } from "./errors.ts";

/** Name of the token file in the data directory. */
export const API_TOKEN_FILE = "api-token";
/** Largest token file read, in bytes. */
const MAX_TOKEN_FILE_BYTES = 1024;
/** A token: 16 or more visible ASCII characters (it travels in an HTTP header). */
const TOKEN_SYNTAX = /^[\x21-\x7e]{16,1024}$/;

/** Where the token of `serve` comes from: a path, and the flag or variable that named it. */
export interface ApiTokenFile {
  /** The file. */
  readonly path: string;
  /** `--api-token-file` or `$DFS_API_TOKEN_FILE` (for messages). */
  readonly what: string;
}

/** `serve`'s API token, once resolved. */
export interface ServeApiToken {
  /** The token (never log it). */
  readonly token: string;
  /** The file it is kept in. */
  readonly path: string;
  /** True when this start made it (it is then printed, once). */
  readonly created: boolean;
}

/**
 * A fresh token: 32 random bytes, base64url without padding (43 characters).
 *
 * @example
 * ```ts
 * import { generateApiToken } from "./api_token.ts";
 * generateApiToken().length; // 43
 * ```
 */
export function generateApiToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/**
 * The token `serve` requires, or `undefined` when the API is open: with `file` given, always
 * (that file's token, created there when missing); else only when `apiHost` is not a loopback
 * address (`dataDir/api-token`, created when missing).
 *
 * @example
 * ```ts ignore
 * const t = await serveApiToken(fs, { apiHost: "0.0.0.0", dataDir: ".dfs/3000" });
 * t?.path; // ".dfs/3000/api-token"
 * ```
 */
export async function serveApiToken(
  fs: FileSystem,
  opts: { readonly apiHost: string; readonly dataDir: string; readonly file?: ApiTokenFile },
): Promise<ServeApiToken | undefined> {
  if (!opts.file && isLoopbackHost(opts.apiHost)) return undefined;
  const file = opts.file ?? { path: tokenPathIn(opts.dataDir), what: "the API token file" };
  return await loadOrCreateApiToken(fs, file);
}

/**
 * Reads the token in `file`, or, when there is no such file, writes a fresh one there (an
 * exclusive create with mode 0600: of two nodes starting at once on one file, both end up with
 * the token of the one that created it).
 */
export async function loadOrCreateApiToken(
  fs: FileSystem,
  file: ApiTokenFile,
): Promise<ServeApiToken> {
  if (await fs.stat(file.path) === null) {
    const token = generateApiToken();
    try {
      const out = await fs.create(file.path, { exclusive: true, mode: 0o600 });
      try {
        await out.write(new TextEncoder().encode(token + "\n"));
        await out.sync();
      } finally {
        await out.close();
      }
      return { token, path: file.path, created: true };
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw cannotUse(file, "cannot create", err);
    }
  }
  return { token: await readApiToken(fs, file), path: file.path, created: false };
}

/**
 * Reads a token file: its text without surrounding white space, which must be 16..1024 visible
 * ASCII characters. Anything else is a {@linkcode UsageError} naming the file (never its text).
 *
 * @example
 * ```ts ignore
 * const token = await readApiToken(fs, { path: "api.token", what: "--api-token-file" });
 * ```
 */
export async function readApiToken(
  fs: Pick<FileSystem, "readFile">,
  file: ApiTokenFile,
): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file.path, { maxBytes: MAX_TOKEN_FILE_BYTES });
  } catch (err) {
    throw cannotUse(file, "cannot read", err);
  }
  const token = new TextDecoder().decode(bytes).trim();
  if (!TOKEN_SYNTAX.test(token)) {
    throw new UsageError(
      `${file.what}: ${file.path} does not hold an API token (16..1024 visible ASCII ` +
        `characters; delete it to have the node make one)`,
    );
  }
  return token;
}

/** `dataDir/api-token`. */
export function tokenPathIn(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "")}/${API_TOKEN_FILE}`;
}

function cannotUse(file: ApiTokenFile, doing: string, err: unknown): UsageError {
  const code = err instanceof DfsError ? err.code : "";
  const why = code === "NOT_FOUND"
    ? "no such file"
    : code === "FILE_TOO_LARGE"
    ? `larger than ${MAX_TOKEN_FILE_BYTES} bytes`
    : (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").trim();
  return new UsageError(`${file.what}: ${doing} ${file.path}: ${why}`);
}
