/** `FsBlockStore.quarantined()`: how many rotten entries were taken out of service. */
import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { CorruptBlockError } from "../../src/store/errors.ts";
import type { FileSystem } from "../../src/runtime/types.ts";

/** Every regular file under `dir` (bounded depth). */
async function filesUnder(fs: FileSystem, dir: string, depth = 0): Promise<string[]> {
  const out: string[] = [];
  if (depth > 8) return out;
  for await (const e of fs.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await filesUnder(fs, path, depth + 1));
    else if (e.isFile) out.push(path);
  }
  return out;
}

Deno.test("quarantined_counts_rotten_entries_and_survives_reopening", async () => {
  const fs = new MemoryFileSystem();
  let store = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  assert.equal(await store.quarantined(), 0);
  const good = await store.put(new Uint8Array(4096).fill(1));
  const bad = await store.put(new Uint8Array(4096).fill(2));
  // Flip the last byte of the entry filled with 2s.
  for (const p of await filesUnder(fs, "/s/data")) {
    const bytes = await fs.readFile(p);
    if (bytes[bytes.length - 1] !== 2) continue;
    bytes[bytes.length - 1] ^= 0xff;
    const f = await fs.create(p);
    await f.write(bytes);
    await f.close();
  }
  await assert.rejects(store.readBytes(bad), CorruptBlockError);
  assert.equal(await store.quarantined(), 1);
  assert.equal((await store.readBytes(good)).length, 4096, "the good entry still reads");
  await store.close();
  store = await FsBlockStore.open({ fs, root: "/s", durability: "none" });
  assert.equal(await store.quarantined(), 1, "kept across a reopen");
  await store.close();
});
