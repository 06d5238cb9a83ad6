/**
 * `readBytes(key, { verify: false })`: the content hash is skipped (the bytes go to a peer that
 * verifies them), the header and size checks are not; a default read of the same rotten entry
 * still quarantines it.
 */
import assert from "node:assert/strict";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import { CorruptBlockError } from "../../src/store/errors.ts";
import { makeRng, testSeed } from "../util/prng.ts";

const SEED = testSeed(0x0e1f);

async function onlyFile(fs: MemoryFileSystem, dir: string, depth = 0): Promise<string[]> {
  const out: string[] = [];
  if (depth > 8) return out;
  for await (const e of fs.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await onlyFile(fs, path, depth + 1));
    else if (e.isFile) out.push(path);
  }
  return out;
}

async function rewrite(fs: MemoryFileSystem, path: string, bytes: Uint8Array): Promise<void> {
  const f = await fs.create(path);
  try {
    await f.write(bytes);
  } finally {
    await f.close();
  }
}

Deno.test("read_without_verify_skips_the_hash_but_still_checks_header_and_size", async () => {
  const fs = new MemoryFileSystem();
  const store = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  const bytes = makeRng(SEED).bytes(4096);
  const id = await store.put(bytes);
  const [path] = await onlyFile(fs, `${store.root}/data`);
  const rotten = await fs.readFile(path);
  rotten[rotten.length - 1] ^= 1;
  await rewrite(fs, path, rotten);

  // Unverified: the rotten bytes come back as they are on disk (the receiver's hash catches them).
  const got = await store.readBytes(id, { verify: false });
  assert.equal(got.length, bytes.length);
  assert.equal(got[got.length - 1], bytes[bytes.length - 1] ^ 1);
  assert.equal(await store.quarantined(), 0);

  // Verified (the default): the rotten entry is quarantined.
  await assert.rejects(store.readBytes(id), CorruptBlockError);
  assert.equal(await store.quarantined(), 1);
  assert.equal(await store.has(id), false);

  // A truncated entry fails even unverified (the size check stays).
  const id2 = await store.put(makeRng(SEED + 1).bytes(4096));
  const path2 = (await onlyFile(fs, `${store.root}/data`)).find((p) => p !== path)!;
  const whole = await fs.readFile(path2);
  await rewrite(fs, path2, whole.subarray(0, whole.length - 10));
  await assert.rejects(store.readBytes(id2, { verify: false }), CorruptBlockError);
  await store.close();
});
