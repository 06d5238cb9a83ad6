import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function write(fs: MemoryFileSystem, path: string, s: string, sync: boolean) {
  const f = await fs.create(path);
  await f.write(utf8(s));
  if (sync) await f.sync();
  await f.close();
}

Deno.test("memory_power_loss_keeps_only_synced_bytes", async () => {
  const fs = new MemoryFileSystem();
  const f = await fs.create("/log");
  await f.write(utf8("synced"));
  await f.sync();
  await f.write(utf8("+lost"));
  await fs.syncDir("/");
  assert.equal(text(await fs.readFile("/log")), "synced+lost");
  assert.equal(text(await fs.powerLoss().readFile("/log")), "synced");
  await f.close();
});

Deno.test("memory_power_loss_drops_entries_without_sync_dir", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdir("/d");
  await fs.syncDir("/");
  await write(fs, "/d/tmp", "block", true);
  await fs.syncDir("/d");
  await fs.rename("/d/tmp", "/d/final");
  // The rename is not durable until the directory is synced.
  let after = fs.powerLoss();
  assert.equal(await after.stat("/d/final"), null);
  assert.equal(text(await after.readFile("/d/tmp")), "block");
  await fs.syncDir("/d");
  after = fs.powerLoss();
  assert.equal(await after.stat("/d/tmp"), null);
  assert.equal(text(await after.readFile("/d/final")), "block");
});

Deno.test("memory_power_loss_empties_never_synced_files", async () => {
  const fs = new MemoryFileSystem();
  await write(fs, "/unsynced", "data", false);
  await fs.syncDir("/");
  assert.equal((await fs.powerLoss().readFile("/unsynced")).length, 0);
});

Deno.test("memory_power_loss_loses_unsynced_directories_unless_kept", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdir("/a/b", { recursive: true });
  await write(fs, "/a/b/f", "x", true);
  await fs.syncDir("/a/b");
  assert.equal(await fs.powerLoss().stat("/a"), null);
  const kept = fs.powerLoss({ keepUnsyncedEntries: true });
  assert.equal(text(await kept.readFile("/a/b/f")), "x");
});

Deno.test("memory_power_loss_leaves_the_original_untouched", async () => {
  const fs = new MemoryFileSystem();
  await write(fs, "/f", "live", false);
  const after = fs.powerLoss();
  await write(after, "/g", "other", true);
  assert.equal(text(await fs.readFile("/f")), "live");
  assert.equal(await fs.stat("/g"), null);
});

Deno.test("memory_sync_calls_are_counted", async () => {
  const fs = new MemoryFileSystem();
  await write(fs, "/a", "1", true);
  await write(fs, "/b", "2", true);
  await fs.syncDir("/");
  assert.equal(fs.syncCount, 2);
  assert.equal(fs.syncDirCount, 1);
});

Deno.test("memory_read_stream_is_a_snapshot_at_open", async () => {
  const fs = new MemoryFileSystem();
  const f = await fs.create("/grow");
  await f.write(utf8("abc"));
  const stream = await fs.readStream("/grow");
  await f.write(utf8("def".repeat(1000))); // forces the buffer to grow
  await write(fs, "/grow", "replaced", false);
  assert.equal(await new Response(stream).text(), "abc");
  await f.close();
});

Deno.test("memory_paths_resolve_dots_and_relative_from_root", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdir("x/y", { recursive: true });
  await write(fs, "/x/./y/../y/f", "ok", false);
  assert.equal(text(await fs.readFile("x/y/f")), "ok");
});
