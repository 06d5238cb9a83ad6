/**
 * Crash-test writer: `deno run -A tests/store/crash_writer.ts <dir> <seed>` opens the store at
 * `<dir>` (durability "fsync") and writes random blocks in a loop until it is killed. After each
 * write resolves it prints one line to stdout: `put <id>` for a content-addressed block, or
 * `key <key> <id>` for a keyed entry. `crash_test.ts` SIGKILLs it at random moments.
 *
 * Stops by itself after 2000 writes or 60 s, whichever comes first.
 *
 * @module
 */

import { denoFileSystem } from "../../src/runtime/deno/fs.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { Rng } from "../util/prng.ts";

const [dir, seedText] = Deno.args;
if (!dir || seedText === undefined) {
  console.error("usage: crash_writer.ts <dir> <seed>");
  Deno.exit(2);
}
const rng = new Rng(Number(seedText));
const store = await FsBlockStore.open({ fs: denoFileSystem(), root: dir, durability: "fsync" });
const out = new TextEncoder();
const deadline = Date.now() + 60_000;
for (let i = 0; i < 2000 && Date.now() < deadline; i++) {
  const size = rng.int(4) === 0 ? rng.int(64) : rng.int(256 * 1024 + 2);
  const data = rng.bytes(size);
  let line: string;
  if (rng.int(4) === 0) {
    const key = `key-${rng.int(8)}`;
    const info = await store.write(key, data);
    line = `key ${key} ${info.id}\n`;
  } else {
    const id = await store.put(data);
    line = `put ${id}\n`;
  }
  const bytes = out.encode(line);
  let written = 0;
  while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
}
await store.close();
