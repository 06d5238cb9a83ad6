import assert from "node:assert/strict";
import { denoFileSystem } from "../../src/runtime/deno/fs.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import { nodeFileSystem } from "../../src/runtime/node/fs.ts";

// Real Bun and Node processes are covered by tests/e2e/cli_process_test.ts (data dir and key).
for (const [name, make] of [["deno", denoFileSystem], ["node", nodeFileSystem]] as const) {
  Deno.test(`${name}_fs_create_and_mkdir_apply_the_mode_to_what_they_create`, async () => {
    const root = await Deno.makeTempDir({ prefix: "dfs-mode-" });
    const fs = make();
    const mode = async (p: string) => (await Deno.stat(p)).mode! & 0o777;
    try {
      await fs.mkdir(`${root}/private/deeper`, { recursive: true, mode: 0o700 });
      assert.equal(await mode(`${root}/private/deeper`), 0o700);
      for (const exclusive of [true, false]) {
        const path = `${root}/private/key-${exclusive}`;
        const f = await fs.create(path, { exclusive, mode: 0o600 });
        await f.write(new Uint8Array([1]));
        await f.close();
        assert.equal(await mode(path), 0o600, `exclusive ${exclusive}`);
      }
      // Without a mode: the usual default (0o666 before the umask), never more open.
      const plain = await fs.create(`${root}/plain`);
      await plain.close();
      assert.equal((await mode(`${root}/plain`)) & ~0o666, 0);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}

Deno.test("memory_fs_records_the_mode_of_created_files_and_directories", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdir("/d", { recursive: true, mode: 0o700 });
  await (await fs.create("/d/k", { exclusive: true, mode: 0o600 })).close();
  await (await fs.create("/d/p")).close();
  assert.equal(fs.modeOf("/d"), 0o700);
  assert.equal(fs.modeOf("/d/k"), 0o600);
  assert.equal(fs.modeOf("/d/p"), 0o666);
  // Truncating an existing file keeps its mode, as on POSIX.
  await (await fs.create("/d/k", { mode: 0o644 })).close();
  assert.equal(fs.modeOf("/d/k"), 0o600);
  assert.equal(fs.modeOf("/missing"), undefined);
});
