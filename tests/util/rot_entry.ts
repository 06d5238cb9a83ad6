/**
 * Test helper: rots a stored block on disk, as a failing disk would. Finds the one entry file
 * under a store's root whose tail is the block's bytes and flips one bit past its header.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { FileSystem } from "../../src/runtime/types.ts";
import { bytesEqual } from "../../src/util/bytes_equal.ts";

/**
 * Flips bit `mask` of the byte `fromEnd` bytes before the end of the entry file under `root`
 * that ends with `bytes` (the block's data); asserts exactly one such file exists.
 */
export async function rotEntryOnDisk(
  fs: FileSystem,
  root: string,
  bytes: Uint8Array,
  fromEnd = 5,
  mask = 0x20,
): Promise<void> {
  const found: { path: string; data: Uint8Array }[] = [];
  const walk = async (dir: string, depth: number) => {
    if (depth > 8) return;
    for await (const e of fs.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path, depth + 1);
      else if (e.isFile && e.size > bytes.length) {
        const data = await fs.readFile(path);
        if (bytesEqual(data.subarray(data.length - bytes.length), bytes)) {
          found.push({ path, data });
        }
      }
    }
  };
  await walk(root, 0);
  assert.equal(found.length, 1, "one entry file holds the block");
  const { path, data } = found[0];
  data[data.length - fromEnd] ^= mask;
  const f = await fs.create(path);
  try {
    await f.write(data);
  } finally {
    await f.close();
  }
}

/** What {@linkcode rotOnFirstUnhashedRead} gives: the store to hand out, and what rotted. */
export interface RottingStore<S> {
  /** `store`, whose first unhashed read while `when()` holds rots that entry on disk first. */
  readonly store: S;
  /** The key of the entry that rotted, once one has. */
  rotted(): string | undefined;
}

/**
 * Wraps a block store (its entries under `root` in `fs`) so that the first block read without the store's hash check
 * (`verify: false`, as pushes to a verifying peer read) while `when()` holds rots on disk just
 * before the read: bit rot between a put and the push that sends it on.
 */
export function rotOnFirstUnhashedRead<
  S extends { readBytes(key: K, options?: { readonly verify?: boolean }): Promise<Uint8Array> },
  K extends { toString(): string },
>(store: S, fs: FileSystem, root: string, when: () => boolean = () => true): RottingStore<S> {
  let rotted: string | undefined;
  const wrapped = new Proxy(store, {
    get(target, prop) {
      if (prop === "readBytes") {
        return async (key: K, options?: { readonly verify?: boolean }) => {
          if (when() && options?.verify === false && rotted === undefined) {
            rotted = key.toString();
            await rotEntryOnDisk(fs, root, await target.readBytes(key));
          }
          return target.readBytes(key, options);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { store: wrapped, rotted: () => rotted };
}
