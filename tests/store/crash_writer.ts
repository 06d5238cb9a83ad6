/**
 * Crash-test writer: `deno run -A tests/store/crash_writer.ts <dir> <seed> <trace>` opens the
 * store at `<dir>` (durability "fsync", the {@linkcode fourDirs} layout) and writes random
 * blocks from 8 concurrent lanes until it is killed, so that the store's group commits batch
 * many writes. After each write resolves it writes `ack <entry path>` to the trace file
 * `<trace>` (which also records every write, flush, rename and directory flush: see
 * `trace_fs.ts`) and prints one line to stdout: `put <id>` for a content-addressed block, or
 * `key <key> <id>` for a keyed entry. `crash_test.ts` SIGKILLs it at random moments.
 *
 * Stops by itself after 2000 writes or 60 s, whichever comes first.
 *
 * @module
 */

import { denoFileSystem } from "../../src/runtime/deno/fs.ts";
import { FsBlockStore } from "../../src/store/block_store.ts";
import { Rng } from "../util/prng.ts";
import { fourDirs, tracingFileSystem } from "./trace_fs.ts";

const [dir, seedText, tracePath] = Deno.args;
if (!dir || seedText === undefined || !tracePath) {
  console.error("usage: crash_writer.ts <dir> <seed> <trace>");
  Deno.exit(2);
}
const LANES = 8;
const rng = new Rng(Number(seedText));
const trace = Deno.openSync(tracePath, { write: true, create: true, append: true });
const enc = new TextEncoder();
/** One synchronous write per line: a kill loses at most the line being written. */
const emit = (line: string) => {
  const bytes = enc.encode(`${line}\n`);
  let done = 0;
  while (done < bytes.length) done += trace.writeSync(bytes.subarray(done));
};
const fs = tracingFileSystem(denoFileSystem(), emit);
const store = await FsBlockStore.open({
  fs,
  root: dir,
  durability: "fsync",
  pathTransform: fourDirs,
});
const deadline = Date.now() + 60_000;
let left = 2000;

async function lane(n: number): Promise<void> {
  while (left > 0 && Date.now() < deadline) {
    left--;
    const size = rng.int(4) === 0 ? rng.int(64) : rng.int(256 * 1024 + 2);
    const data = rng.bytes(size);
    let line: string;
    let key: string;
    if (rng.int(4) === 0) {
      // Keys per lane: one lane's writes of a key are one after the other.
      key = `key-${n}-${rng.int(2)}`;
      const info = await store.write(key, data);
      line = `key ${key} ${info.id}\n`;
    } else {
      const id = await store.put(data);
      key = id.toString();
      line = `put ${id}\n`;
    }
    emit(`ack ${dir}/data/${fourDirs(key).join("/")}`);
    const bytes = enc.encode(line);
    let written = 0;
    while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
  }
}

await Promise.all(Array.from({ length: LANES }, (_, n) => lane(n)));
await store.close();
