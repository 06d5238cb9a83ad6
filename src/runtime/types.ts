/**
 * The runtime contract: the only surface through which dfs touches files, sockets, HTTP and
 * the process. One adapter per runtime (`deno.ts`, `bun.ts`, `node.ts`) and an in-memory one
 * (`memory.ts`) implement it; everything above `src/runtime/` receives a {@linkcode Runtime}
 * as a value and sees only web-standard types.
 *
 * Paths are plain strings with `/` separators. The adapters do not interpret them beyond
 * handing them to the operating system; callers (the store) are responsible for keeping
 * them inside their root.
 *
 * @module
 */

/** What {@linkcode FileSystem.stat} and {@linkcode FileSystem.readDir} report about an entry. */
export interface FileInfo {
  /** Base name of the entry (no directory part). */
  readonly name: string;
  /** True for a regular file. */
  readonly isFile: boolean;
  /** True for a directory. */
  readonly isDirectory: boolean;
  /** Size in bytes (0 for directories on some systems). */
  readonly size: number;
  /** Last modification time in milliseconds since the epoch. */
  readonly mtimeMs: number;
}

/** A file opened for streaming writes. Writes are sequential; the file is created empty. */
export interface WritableFile {
  /** Appends `chunk` to the file. Resolves once the bytes are handed to the OS. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Flushes the file's bytes to stable storage, with the metadata needed to read them back (its
   * size): `fdatasync` on the disk adapters (modification times may lag; nothing dfs reads).
   */
  sync(): Promise<void>;
  /** Closes the handle. Idempotent. */
  close(): Promise<void>;
}

/** Options for {@linkcode FileSystem.readStream}. */
export interface ReadStreamOptions {
  /** Byte offset to start at (default 0). */
  readonly offset?: number;
  /** Maximum number of bytes to read (default: to the end of the file). */
  readonly length?: number;
  /** Preferred chunk size in bytes (default 64 KiB). */
  readonly chunkSize?: number;
}

/** Options for {@linkcode FileSystem.readFile}. */
export interface ReadFileOptions {
  /**
   * Largest file size accepted, in bytes. A larger file is refused with
   * {@linkcode import("../errors.ts").FileTooLargeError} without its bytes being read: the size
   * is taken from the open handle (no race with a rename of the path). A file is read as of that
   * size (one that grows meanwhile is not read further); one whose size the OS does not report
   * (0, e.g. under `/proc`) is read to its end but never more than `maxBytes + 1` bytes, and
   * refused when over. Default: no limit.
   */
  readonly maxBytes?: number;
  /**
   * A buffer to read into instead of allocating one (a caller that reads many files in turn
   * can reuse it). When the file's size, as the open handle reports it, is known and at most
   * `buffer.length`, the bytes go into the start of `buffer` and the result is a view of it
   * (`result.buffer === buffer.buffer`). Otherwise (a larger file, or one whose size the OS
   * does not report) the file is read into a fresh array as without this option, and
   * `buffer` is not written to. The caller must not touch `buffer` until
   * the returned promise settles, and owns it again afterwards, also after a rejection.
   */
  readonly buffer?: Uint8Array;
}

/** Options for {@linkcode FileSystem.mkdir}. */
export interface MkdirOptions {
  /** Create missing parents too. */
  readonly recursive?: boolean;
  /** Permission bits of created directories (POSIX), before the umask. */
  readonly mode?: number;
}

/** Options for {@linkcode FileSystem.create}. */
export interface CreateOptions {
  /** Fail with `AlreadyExistsError` when the path exists (O_EXCL). */
  readonly exclusive?: boolean;
  /** Permission bits of a created file (POSIX), before the umask. */
  readonly mode?: number;
}

/**
 * The file operations the store needs. Every method rejects with a
 * {@linkcode import("../errors.ts").NotFoundError} when a path that must exist does not, and
 * with {@linkcode import("../errors.ts").AlreadyExistsError} when an exclusive create finds
 * the path taken. Other OS errors are wrapped in {@linkcode import("../errors.ts").IoError}.
 */
export interface FileSystem {
  /**
   * Creates a directory (and its parents with `recursive`). Existing directories are fine and
   * keep their mode. `mode` (e.g. `0o700`) applies to the directories this call creates,
   * before the process umask; ignored where unsupported.
   */
  mkdir(path: string, options?: MkdirOptions): Promise<void>;
  /**
   * Creates (or truncates, unless `exclusive`) a file and opens it for streaming writes.
   * `mode` (e.g. `0o600`) is the permission of a file this call creates, before the process
   * umask (default `0o666`); an existing file truncated keeps its mode. Ignored where
   * unsupported.
   */
  create(path: string, options?: CreateOptions): Promise<WritableFile>;
  /**
   * Opens a file and streams its bytes. The file is opened before the promise resolves, so a
   * later rename or removal of the path does not affect a stream already returned (POSIX
   * semantics; the memory adapter reads a snapshot).
   */
  readStream(path: string, options?: ReadStreamOptions): Promise<ReadableStream<Uint8Array>>;
  /**
   * Reads a whole (small) file into one buffer. With `maxBytes`, a file larger than that is
   * refused with {@linkcode import("../errors.ts").FileTooLargeError} before any of it is read
   * (see {@linkcode ReadFileOptions}). With `buffer`, a file that fits is read into it and the
   * result is a view of it.
   */
  readFile(path: string, options?: ReadFileOptions): Promise<Uint8Array>;
  /** Atomically replaces `to` with `from` (same file system). */
  rename(from: string, to: string): Promise<void>;
  /** Describes a path, or returns `null` when it does not exist. */
  stat(path: string): Promise<FileInfo | null>;
  /** Removes a file, or a directory (its whole tree with `recursive`). Missing paths are fine. */
  remove(path: string, options?: { readonly recursive?: boolean }): Promise<void>;
  /** Lists the entries of a directory (not recursive), in no particular order. */
  readDir(path: string): AsyncIterable<FileInfo>;
  /** Flushes a directory's entries (after a rename) to stable storage. A no-op where unsupported. */
  syncDir(path: string): Promise<void>;
}

/** A host and port. `hostname` is an IP literal or a name; `port` 0 asks for any free port. */
export interface NetAddress {
  /** IP address or host name. */
  readonly hostname: string;
  /** TCP port, 0..65535. */
  readonly port: number;
}

/**
 * A bidirectional byte connection. `readable` ends when the remote side closes; `writable`
 * applies backpressure: a write resolves only when the runtime accepted the bytes, so a slow
 * reader on the other side slows the writer instead of growing memory.
 */
export interface Connection {
  /** Bytes from the remote side. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the remote side. Closing it half-closes the connection (FIN). */
  readonly writable: WritableStream<Uint8Array>;
  /** Our end. */
  readonly localAddress: NetAddress;
  /** The remote end. */
  readonly remoteAddress: NetAddress;
  /** Closes both directions at once and releases the socket. Idempotent. */
  close(): void;
  /** Resolves once the connection is fully closed, whichever side closed it. */
  readonly closed: Promise<void>;
}

/** A listening socket. */
export interface Listener {
  /** The address actually bound (with the real port when 0 was asked for). */
  readonly address: NetAddress;
  /** Stops accepting. Connections already accepted stay open. Idempotent. */
  close(): Promise<void>;
}

/** Options for {@linkcode Network.connect}. */
export interface ConnectOptions {
  /** Aborts the attempt. */
  readonly signal?: AbortSignal;
}

/** TCP (or in-memory) listen/connect. */
export interface Network {
  /** Listens on `address`; `onConnection` is called for each accepted connection. */
  listen(address: NetAddress, onConnection: (conn: Connection) => void): Promise<Listener>;
  /** Opens a connection; rejects with {@linkcode import("../errors.ts").ConnectError}. */
  connect(address: NetAddress, options?: ConnectOptions): Promise<Connection>;
}

/** A web-standard request handler, as served by {@linkcode HttpServe}. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** A running HTTP server. */
export interface HttpServer {
  /** The address actually bound. */
  readonly address: NetAddress;
  /** Stops the server. Idempotent. */
  close(): Promise<void>;
}

/** Serves a fetch handler over HTTP/1.1. */
export type HttpServe = (address: NetAddress, handler: FetchHandler) => Promise<HttpServer>;

/** The process around the program: arguments, environment, standard streams, signals. */
export interface ProcessHost {
  /** Command-line arguments after the script name. */
  readonly args: readonly string[];
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** The user's home directory, if known. */
  homeDir(): string | undefined;
  /** Standard input as bytes. */
  readonly stdin: ReadableStream<Uint8Array>;
  /** Writes bytes to standard output (awaits the write). */
  writeStdout(bytes: Uint8Array): Promise<void>;
  /** Writes bytes to standard error (awaits the write). */
  writeStderr(bytes: Uint8Array): Promise<void>;
  /** True when the given standard stream is a terminal. */
  isTerminal(stream: "stdin" | "stdout" | "stderr"): boolean;
  /** Calls `handler` on SIGINT/SIGTERM; returns a function that removes it. */
  onSignal(signal: "SIGINT" | "SIGTERM", handler: () => void): () => void;
  /** Ends the process with `code`. */
  exit(code: number): never;
  /** Process id. */
  readonly pid: number;
  /**
   * True when a process with id `pid` exists on this host (a signal-0 probe: "exists but not
   * ours" counts as alive). Optional: callers without it must assume the process is alive.
   */
  isProcessAlive?(pid: number): boolean;
  /** Resident set size in bytes, for metrics. */
  memoryRss(): number;
}

/**
 * An AEAD with one key (AES-256-GCM or ChaCha20-Poly1305): 12-byte nonces, the 16-byte tag
 * appended to the ciphertext. The Noise layer (`src/peer/noise/`) uses it; Web Crypto AES-GCM
 * is the default, and an adapter may offer faster ones ({@linkcode Runtime.aeads}). Every
 * implementation of one cipher must produce the same bytes.
 */
export interface Aead {
  /**
   * Encrypts `plaintext` with associated data `ad`; returns ciphertext then the 16-byte tag,
   * after `headroom` zero bytes (default 0) the caller fills in (e.g. a length prefix), so a frame
   * needs no second copy.
   */
  seal(
    nonce: Uint8Array,
    ad: Uint8Array,
    plaintext: Uint8Array,
    headroom?: number,
  ): Promise<Uint8Array>;
  /**
   * Checks and decrypts `ciphertext` (tag included). Rejects, returning no plaintext, when the
   * tag does not verify.
   */
  open(nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array>;
  /**
   * Optional synchronous {@linkcode Aead.seal} into the caller's buffer: writes ciphertext then
   * tag (`plaintext.length + 16` bytes) into `out` at `offset`, so a frame needs no allocation of
   * its own (the Noise transport seals into reused write buffers). Same bytes as `seal`.
   */
  sealInto?(
    nonce: Uint8Array,
    ad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): void;
  /**
   * Optional synchronous {@linkcode Aead.open}: the plaintext, or a throw (no plaintext) when the
   * tag does not verify.
   */
  openSync?(nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

/** Builds an {@linkcode Aead} for a 32-byte key (imports the key once). */
export type AeadFactory = (key: Uint8Array) => Promise<Aead>;

/** The Noise cipher names dfs speaks: AES-256-GCM and ChaCha20-Poly1305. */
export type AeadName = "AESGCM" | "ChaChaPoly";

/** One AEAD implementation a runtime offers, with its relative cost. */
export interface AeadProvider {
  /** Builds the cipher for a key. */
  readonly factory: AeadFactory;
  /**
   * Relative cost, an integer 1..15: lower is faster. Web Crypto AES-GCM, always available,
   * counts 4; a provider as fast as the fastest known counts 1.
   */
  readonly cost: number;
}

/**
 * The AEAD implementations a runtime offers, by Noise cipher name. Absent `AESGCM`: Web Crypto
 * (cost 4); absent `ChaChaPoly`: not offered.
 */
export interface AeadProviders {
  /** AES-256-GCM. */
  readonly AESGCM?: AeadProvider;
  /** ChaCha20-Poly1305. */
  readonly ChaChaPoly?: AeadProvider;
}

/** Which adapter a {@linkcode Runtime} is. */
export type RuntimeName = "deno" | "bun" | "node" | "memory";

/**
 * Everything dfs needs from its host, as one value. Pick one with
 * {@linkcode import("./detect.ts").detectRuntime} at the edge of the program, or build an
 * in-memory one for tests.
 */
export interface Runtime {
  /** Which adapter this is. */
  readonly name: RuntimeName;
  /** Files. */
  readonly fs: FileSystem;
  /** TCP. */
  readonly net: Network;
  /** HTTP server. */
  readonly serve: HttpServe;
  /** The process (absent for the in-memory runtime). */
  readonly process?: ProcessHost;
  /**
   * The AEADs the runtime has besides Web Crypto AES-GCM (e.g. `node:crypto`), with their
   * costs; each Noise connection picks the cheapest both sides offer. Optional: without it the
   * Noise layer speaks AES-GCM on Web Crypto.
   */
  readonly aeads?: AeadProviders;
}
