/**
 * A small client for the dfs HTTP API, used by the subcommands. It turns transport failures
 * into {@linkcode UnreachableError} and API errors into {@linkcode ApiResponseError}.
 *
 * @module
 */

import type {
  DeleteResult,
  DhtInfo,
  DrainReport,
  FileEntry,
  FileStat,
  NameRecord,
  NodeStatus,
  PeerSummary,
  PutResult,
} from "../node/types.ts";
import { ApiResponseError, UnreachableError } from "./errors.ts";
import { CONVERGENT_KEY_HEADER } from "../api/params.ts";
import { formatFileKey } from "../file/capability.ts";

/** A `fetch`-compatible function. */
export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options for {@linkcode ApiClient.put}. */
export interface ClientPutOptions {
  /** Name to bind. */
  readonly name?: string;
  /** Copies wanted. */
  readonly copies?: number;
  /** Redundancy policy (`replicas:3`, `replicas:2-4`, `rs:4+2`). */
  readonly redundancy?: string;
  /** `false`: a public (plaintext) file; `"convergent"`: key from the content (default `true`). */
  readonly encrypt?: boolean | "convergent";
  /** With `encrypt: "convergent"`: the body's convergent key, computed beforehand. */
  readonly convergentKey?: Uint8Array;
  /** With `name`: the name maps to the read capability. */
  readonly shareKey?: boolean;
  /** Cancels the upload. */
  readonly signal?: AbortSignal;
}

/**
 * Talks to one node's API.
 *
 * @example
 * ```ts ignore
 * import { ApiClient } from "./client.ts";
 * const client = new ApiClient("http://127.0.0.1:5000/api/v1", fetch);
 * console.log((await client.status()).nodeId);
 * ```
 */
export class ApiClient {
  /** Base URL, ending in `/api/v1`. */
  readonly baseUrl: string;
  #fetch: FetchFn;
  #token: (() => Promise<string | undefined>) | undefined;

  /**
   * Creates a client for `baseUrl` using `fetchFn`; `options.token` gives the API token to send
   * as `Authorization: Bearer` (asked before each request; `undefined`: none).
   */
  constructor(
    baseUrl: string,
    fetchFn: FetchFn,
    options: { readonly token?: () => Promise<string | undefined> } = {},
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#fetch = fetchFn;
    this.#token = options.token;
  }

  /** The node's origin, for messages. */
  get origin(): string {
    try {
      return new URL(this.baseUrl).origin;
    } catch {
      return this.baseUrl;
    }
  }

  /** Uploads a stream; resolves with the node's put result. */
  async put(body: ReadableStream<Uint8Array>, options: ClientPutOptions = {}): Promise<PutResult> {
    const q = new URLSearchParams();
    if (options.name !== undefined) q.set("name", options.name);
    if (options.copies !== undefined) q.set("copies", String(options.copies));
    if (options.redundancy !== undefined) q.set("redundancy", options.redundancy);
    if (options.encrypt !== undefined) {
      q.set(
        "encrypt",
        String(options.encrypt === false ? 0 : options.encrypt === true ? 1 : options.encrypt),
      );
    }
    if (options.shareKey) q.set("share-key", "1");
    const qs = q.size > 0 ? `?${q}` : "";
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (options.convergentKey) {
      headers[CONVERGENT_KEY_HEADER] = formatFileKey(options.convergentKey);
    }
    const res = await this.request(`/files${qs}`, {
      method: "POST",
      body,
      headers,
      duplex: "half",
      signal: options.signal,
    } as RequestInit);
    return await this.#json<PutResult>(res);
  }

  /** Starts a download; the response is OK (2xx) and its body is the file. */
  async get(idOrName: string, signal?: AbortSignal): Promise<Response> {
    const res = await this.request(`/files/${encodeURIComponent(idOrName)}`, { signal });
    if (!res.ok) await this.#fail(res);
    return res;
  }

  /** Deletes a file. */
  async delete(idOrName: string): Promise<DeleteResult> {
    const res = await this.request(`/files/${encodeURIComponent(idOrName)}`, { method: "DELETE" });
    return await this.#json<DeleteResult>(res);
  }

  /** Lists local files. */
  async list(): Promise<FileEntry[]> {
    return (await this.#json<{ files: FileEntry[] }>(await this.request("/files"))).files;
  }

  /** Describes a file; with `health`, the node also checks its holders. */
  async stat(idOrName: string, options: { health?: boolean } = {}): Promise<FileStat> {
    const q = options.health ? "?health=1" : "";
    return await this.#json(await this.request(`/files/${encodeURIComponent(idOrName)}/stat${q}`));
  }

  /**
   * Asks the node to hand its data off to other nodes (`POST /drain`); resolves with its report.
   * A node served by `dfs serve` then stops. A node older than the route answers
   * `NO_SUCH_ROUTE`, reported as such (not as "not a dfs API").
   */
  async drain(signal?: AbortSignal): Promise<DrainReport> {
    const res = await this.request("/drain", { method: "POST", signal });
    if (res.status === 404) {
      const err = await this.#error(res);
      if (err.code === "NO_SUCH_ROUTE") {
        throw new ApiResponseError(
          "NO_SUCH_ROUTE",
          `the node at ${this.origin} cannot drain (its API has no /drain route: an older dfs?)`,
          404,
        );
      }
      throw err;
    }
    return await this.#json<DrainReport>(res);
  }

  /** Resolves a name. */
  async resolveName(name: string): Promise<NameRecord> {
    return await this.#json(await this.request(`/names/${encodeURIComponent(name)}`));
  }

  /** Lists peers. */
  async peers(): Promise<PeerSummary[]> {
    return (await this.#json<{ peers: PeerSummary[] }>(await this.request("/peers"))).peers;
  }

  /** Node status. */
  async status(): Promise<NodeStatus> {
    return await this.#json(await this.request("/status"));
  }

  /**
   * The routing table and DHT figures (`GET /dht`), or `null` when the node runs without a DHT
   * (`404 NO_DHT`) or predates the route (`404 NO_SUCH_ROUTE`).
   */
  async dhtInfo(): Promise<DhtInfo | null> {
    const res = await this.request("/dht");
    if (res.status === 404) {
      const err = await this.#error(res);
      if (err.code === "NO_DHT" || err.code === "NO_SUCH_ROUTE") return null;
      throw err;
    }
    return await this.#json<DhtInfo>(res);
  }

  /**
   * Sends a request to `path` (relative to the base URL). A failure to connect becomes an
   * {@linkcode UnreachableError}; an abort through `init.signal` is rethrown as is.
   */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const url = `${this.baseUrl}${path}`;
    const token = await this.#token?.();
    if (token !== undefined) {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${token}`);
      init = { ...init, headers };
    }
    try {
      return await this.#fetch(url, init);
    } catch (err) {
      if (init.signal?.aborted) throw init.signal.reason ?? err;
      throw new UnreachableError(
        `cannot reach dfs node at ${this.origin} — is it running? (dfs serve --listen ...)`,
        { cause: err },
      );
    }
  }

  async #json<T>(res: Response): Promise<T> {
    if (!res.ok) await this.#fail(res);
    try {
      return await res.json() as T;
    } catch (err) {
      throw new ApiResponseError(
        "BAD_RESPONSE",
        `unexpected response from ${this.origin}: not JSON (${String(err)})`,
        res.status,
      );
    }
  }

  async #fail(res: Response): Promise<never> {
    throw await this.#error(res);
  }

  /** The {@linkcode ApiResponseError} an error response stands for (its body is consumed). */
  async #error(res: Response): Promise<ApiResponseError> {
    const text = await res.text().catch(() => "");
    let code = `HTTP_${res.status}`;
    let message = `${this.origin} answered HTTP ${res.status} ${res.statusText}`.trim();
    try {
      const body = JSON.parse(text);
      if (body?.error && typeof body.error.code === "string") {
        code = body.error.code;
        message = String(body.error.message ?? code);
      }
    } catch {
      // not a dfs API error body: keep the HTTP status message
    }
    if (res.status === 401) {
      message += " (give the node's API token: --api-token-file FILE or $DFS_API_TOKEN_FILE; a " +
        "node on this machine keeps it in its data directory: --data DIR)";
    }
    if (code === "NO_SUCH_ROUTE") {
      message = `${this.origin} does not look like a dfs API (${message})`;
    }
    return new ApiResponseError(code, message, res.status);
  }
}
