/**
 * A node's identity: an Ed25519 key pair (Web Crypto) and the node id derived from it,
 * node id = SHA-256(raw 32-byte public key). The private key is kept in the data directory as
 * PKCS#8 (`node.key`, mode 0o600), written atomically (temporary file, then rename) over an
 * exclusive claim so that concurrent first starts agree on one key; the public key is derived
 * from it on load.
 *
 * @module
 */

import { AlreadyExistsError, DfsError } from "../errors.ts";
import type { FileSystem } from "../runtime/types.ts";
import { toHex } from "../util/hex.ts";

/** Name of the private key file inside the data directory. */
export const IDENTITY_FILE = "node.key";

/** How long {@linkcode NodeIdentity.loadOrCreate} waits for another creator's key (ms). */
export const KEY_WAIT_MS = 5_000;

/** Age (ms) after which an empty `node.key` claim is taken as left over from a crash. */
export const KEY_CLAIM_STALE_MS = 10_000;

const TMP_INFIX = ".tmp-";

const ED25519 = { name: "Ed25519" } as const;

/** The identity file exists but does not hold a usable Ed25519 PKCS#8 key. Code `BAD_IDENTITY`. */
export class IdentityError extends DfsError {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("BAD_IDENTITY", message, options);
  }
}

/**
 * SHA-256 of a raw public key: the node id (32 bytes).
 *
 * @example
 * ```ts
 * import { nodeIdOf } from "./identity.ts";
 * const id = await nodeIdOf(new Uint8Array(32));
 * console.log(id.length); // 32
 * ```
 */
export async function nodeIdOf(publicKey: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", publicKey as Uint8Array<ArrayBuffer>),
  );
}

/**
 * Verifies an Ed25519 `signature` over `data` with a raw 32-byte `publicKey`. Returns `false`
 * (never throws) for a malformed key or signature.
 *
 * @example
 * ```ts
 * import { NodeIdentity, verifySignature } from "./identity.ts";
 * const me = await NodeIdentity.generate();
 * const data = new TextEncoder().encode("hi");
 * console.log(await verifySignature(me.publicKey, await me.sign(data), data)); // true
 * ```
 */
export async function verifySignature(
  publicKey: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = await crypto.subtle.importKey(
      "raw",
      publicKey as Uint8Array<ArrayBuffer>,
      ED25519,
      false,
      ["verify"],
    );
    return await crypto.subtle.verify(
      ED25519,
      key,
      signature as Uint8Array<ArrayBuffer>,
      data as Uint8Array<ArrayBuffer>,
    );
  } catch {
    return false;
  }
}

/**
 * An Ed25519 key pair and the node id derived from it.
 *
 * @example Create on first start, load on later starts
 * ```ts ignore
 * import { NodeIdentity } from "./identity.ts";
 * const me = await NodeIdentity.loadOrCreate(runtime.fs, "/var/lib/dfs");
 * console.log(me.nodeIdHex);
 * ```
 */
export class NodeIdentity {
  /** SHA-256 of {@linkcode NodeIdentity.publicKey}. */
  readonly nodeId: Uint8Array;
  /** Raw Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** Lowercase hex of the node id, for display and as a map key. */
  readonly nodeIdHex: string;
  #privateKey: CryptoKey;

  private constructor(privateKey: CryptoKey, publicKey: Uint8Array, nodeId: Uint8Array) {
    this.#privateKey = privateKey;
    this.publicKey = publicKey;
    this.nodeId = nodeId;
    this.nodeIdHex = toHex(nodeId);
  }

  /** Generates a fresh key pair (not stored anywhere). */
  static async generate(): Promise<NodeIdentity> {
    const pair = await crypto.subtle.generateKey(ED25519, true, [
      "sign",
      "verify",
    ]) as CryptoKeyPair;
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
    return await NodeIdentity.fromPkcs8(pkcs8);
  }

  /**
   * Builds an identity from a PKCS#8 Ed25519 private key. Throws {@linkcode IdentityError}
   * when the bytes are not one.
   */
  static async fromPkcs8(pkcs8: Uint8Array): Promise<NodeIdentity> {
    let privateKey: CryptoKey;
    let publicKey: Uint8Array;
    try {
      // Imported extractable once, only to read the public half (JWK `x`); the key kept for
      // signing is re-imported non-extractable.
      const extractable = await crypto.subtle.importKey(
        "pkcs8",
        pkcs8 as Uint8Array<ArrayBuffer>,
        ED25519,
        true,
        ["sign"],
      );
      const jwk = await crypto.subtle.exportKey("jwk", extractable);
      if (typeof jwk.x !== "string") throw new Error("JWK export has no public key");
      publicKey = fromBase64Url(jwk.x);
      if (publicKey.length !== 32) throw new Error(`public key is ${publicKey.length} bytes`);
      privateKey = await crypto.subtle.importKey(
        "pkcs8",
        pkcs8 as Uint8Array<ArrayBuffer>,
        ED25519,
        false,
        ["sign"],
      );
    } catch (cause) {
      throw new IdentityError("not an Ed25519 PKCS#8 private key", { cause });
    }
    return new NodeIdentity(privateKey, publicKey, await nodeIdOf(publicKey));
  }

  /**
   * Loads `dir/node.key`, or generates a key pair and writes it there when the file does not
   * exist. Creates `dir` (mode 0o700) if needed; the key file is written with mode 0o600.
   *
   * Safe against concurrent first starts on one directory: the creator first claims the path
   * with an exclusive create of an empty `node.key`, then writes the key to a temporary file
   * and renames it over the claim (so the file is always either empty or complete). Everyone
   * else waits (bounded, {@linkcode KEY_WAIT_MS}) for the claim to be filled and uses the key on
   * disk, so all of them end up with the same identity. An empty claim older than
   * {@linkcode KEY_CLAIM_STALE_MS} is left over from a crash and is redone. Leftover
   * `node.key.tmp-*` files are removed once a complete key is on disk.
   *
   * Throws {@linkcode IdentityError} when the file exists but is not a valid key, or when
   * another creator's claim is not filled in time.
   */
  static async loadOrCreate(fs: FileSystem, dir: string): Promise<NodeIdentity> {
    const path = joinPath(dir, IDENTITY_FILE);
    const deadline = Date.now() + KEY_WAIT_MS;
    for (let attempt = 0; Date.now() < deadline && attempt < 10_000; attempt++) {
      const info = await fs.stat(path);
      if (info !== null && info.size > 0) {
        const identity = await NodeIdentity.fromPkcs8(await fs.readFile(path));
        await removeLeftovers(fs, dir);
        return identity;
      }
      if (info !== null) {
        // An empty claim: another creator is writing, or crashed while it did.
        if (Date.now() - info.mtimeMs > KEY_CLAIM_STALE_MS) await fs.remove(path);
        else await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      let claim;
      try {
        claim = await fs.create(path, { exclusive: true, mode: 0o600 });
      } catch (err) {
        if (err instanceof AlreadyExistsError) continue;
        throw err;
      }
      await claim.close();
      return await createKey(fs, dir, path);
    }
    throw new IdentityError(
      `${path} is empty: another process claimed it and did not write a key within ${KEY_WAIT_MS} ms`,
    );
  }

  /** Signs `data` with the private key (64-byte Ed25519 signature). */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(
      await crypto.subtle.sign(ED25519, this.#privateKey, data as Uint8Array<ArrayBuffer>),
    );
  }
}

/** Writes a fresh key over our claim at `path`: temporary file, sync, rename, directory sync. */
async function createKey(fs: FileSystem, dir: string, path: string): Promise<NodeIdentity> {
  const pair = await crypto.subtle.generateKey(ED25519, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const tmp = `${path}${TMP_INFIX}${toHex(crypto.getRandomValues(new Uint8Array(6)))}`;
  const file = await fs.create(tmp, { exclusive: true, mode: 0o600 });
  try {
    await file.write(pkcs8);
    await file.sync();
  } finally {
    await file.close();
  }
  await fs.rename(tmp, path);
  await fs.syncDir(dir);
  await removeLeftovers(fs, dir);
  return await NodeIdentity.fromPkcs8(pkcs8);
}

/** Removes `node.key.tmp-*` files (a creator that crashed before its rename). Best effort. */
async function removeLeftovers(fs: FileSystem, dir: string): Promise<void> {
  try {
    for await (const e of fs.readDir(dir)) {
      if (e.isFile && e.name.startsWith(IDENTITY_FILE + TMP_INFIX)) {
        await fs.remove(joinPath(dir, e.name)).catch(() => {});
      }
    }
  } catch {
    // A listing failure must not stop the node from starting.
  }
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
