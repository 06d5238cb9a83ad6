import assert from "node:assert/strict";
import { acquireDataDirLock, LOCK_FILE } from "../../src/node/data_dir_lock.ts";
import { DataDirLockedError } from "../../src/node/errors.ts";
import { Node } from "../../src/node/node.ts";
import { denoRuntime } from "../../src/runtime/deno.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";

const enc = new TextEncoder();

async function writeLock(fs: MemoryFileSystem, dir: string, pid: number): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const f = await fs.create(`${dir}/${LOCK_FILE}`);
  await f.write(enc.encode(JSON.stringify({ pid, startedAt: "2020-01-01T00:00:00Z", token: "t" })));
  await f.close();
}

/** A pid that is certainly not alive: one of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" }).spawn();
  await child.status;
  return child.pid;
}

Deno.test("lock_rejects_a_second_holder_with_the_directory_and_pid", async () => {
  const fs = new MemoryFileSystem();
  const alive = () => true;
  const lock = await acquireDataDirLock(fs, "/d", { pid: 10, isProcessAlive: alive });
  const err = await acquireDataDirLock(fs, "/d", { pid: 11, isProcessAlive: alive }).then(
    () => assert.fail("second lock taken"),
    (e) => e,
  );
  assert.ok(err instanceof DataDirLockedError);
  assert.equal(err.code, "DATA_DIR_LOCKED");
  assert.equal(err.dataDir, "/d");
  assert.equal(err.holderPid, 10);
  assert.match(err.message, /\/d .*process 10/);
  await lock.release();
  const again = await acquireDataDirLock(fs, "/d", { pid: 11, isProcessAlive: alive });
  assert.equal(again.content.pid, 11);
  await again.release();
});

Deno.test("lock_of_a_dead_pid_is_taken_over", async () => {
  const fs = new MemoryFileSystem();
  await writeLock(fs, "/d", 4242);
  const lock = await acquireDataDirLock(fs, "/d", {
    pid: 7,
    isProcessAlive: (pid) => pid !== 4242,
  });
  const onDisk = JSON.parse(new TextDecoder().decode(await fs.readFile("/d/LOCK")));
  assert.equal(onDisk.pid, 7);
  assert.equal(await fs.stat("/d/LOCK.takeover"), null);
  await lock.release();
  assert.equal(await fs.stat("/d/LOCK"), null);
});

Deno.test("lock_without_a_liveness_probe_is_held_and_the_error_says_how_to_remove_it", async () => {
  const fs = new MemoryFileSystem();
  await writeLock(fs, "/d", 4242);
  await assert.rejects(
    acquireDataDirLock(fs, "/d", { pid: 7 }),
    (e: unknown) =>
      e instanceof DataDirLockedError && e.holderPid === 4242 && /remove \/d\/LOCK/.test(e.message),
  );
  // An empty lock (a holder between create and write) is held even with a probe.
  const f = await fs.create("/d/LOCK");
  await f.close();
  await assert.rejects(
    acquireDataDirLock(fs, "/d", { pid: 7, isProcessAlive: () => false }),
    DataDirLockedError,
  );
});

Deno.test("lock_release_leaves_a_lock_that_is_no_longer_ours", async () => {
  const fs = new MemoryFileSystem();
  const lock = await acquireDataDirLock(fs, "/d", { pid: 1 });
  await fs.remove("/d/LOCK");
  await writeLock(fs, "/d", 2);
  await lock.release();
  assert.ok(await fs.stat("/d/LOCK"));
});

Deno.test("second_node_start_on_one_data_dir_is_rejected_and_leaves_the_first_untouched", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-lock-" });
  const runtime = denoRuntime();
  const a = await Node.start({ runtime, dataDir: dir, listen: "127.0.0.1:0" });
  try {
    const put = await a.put(enc.encode("kept while a second node is refused"), {
      encrypt: false,
      copies: 1,
    });
    // A write in progress in the first node's store.
    const inProgress = `${dir}/blocks/tmp/in-progress.tmp`;
    await Deno.writeTextFile(inProgress, "partial");
    const keyBefore = await Deno.readFile(`${dir}/node.key`);
    const err = await Node.start({ runtime, dataDir: dir, listen: "127.0.0.1:0" }).then(
      async (b) => {
        await b.close();
        assert.fail("second node started on the same data dir");
      },
      (e) => e,
    );
    assert.ok(err instanceof DataDirLockedError, String(err));
    assert.equal(err.holderPid, Deno.pid);
    assert.equal(err.dataDir, dir);
    assert.equal(await Deno.readTextFile(inProgress), "partial");
    assert.deepEqual(await Deno.readFile(`${dir}/node.key`), keyBefore);
    const got = await a.get(put.id);
    assert.equal(await new Response(got.stream).text(), "kept while a second node is refused");
  } finally {
    await a.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("node_close_releases_the_lock_and_a_stale_lock_is_taken_over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dfs-lock-" });
  const runtime = denoRuntime();
  try {
    const a = await Node.start({ runtime, dataDir: dir, listen: "127.0.0.1:0" });
    const id = a.nodeId;
    const lock = JSON.parse(await Deno.readTextFile(`${dir}/LOCK`));
    assert.equal(lock.pid, Deno.pid);
    await a.close();
    await assert.rejects(Deno.stat(`${dir}/LOCK`), Deno.errors.NotFound);
    // A crashed holder: its LOCK stays behind with a pid that is gone.
    const pid = await deadPid();
    await Deno.writeTextFile(
      `${dir}/LOCK`,
      JSON.stringify({ pid, startedAt: new Date().toISOString(), token: "crashed" }),
    );
    const b = await Node.start({ runtime, dataDir: dir, listen: "127.0.0.1:0" });
    assert.equal(b.nodeId, id);
    assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/LOCK`)).pid, Deno.pid);
    await b.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("node_start_creates_its_data_dir_private_and_its_key_0600", async () => {
  const root = await Deno.makeTempDir({ prefix: "dfs-lock-" });
  const dir = `${root}/new/data`;
  try {
    const a = await Node.start({ runtime: denoRuntime(), dataDir: dir, listen: "127.0.0.1:0" });
    await a.close();
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(`${dir}/node.key`)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("memory_runtime_nodes_on_one_data_dir_are_refused_until_the_first_closes", async () => {
  const { memoryRuntime } = await import("../../src/runtime/memory.ts");
  const { MemoryNetwork } = await import("../../src/runtime/memory/net.ts");
  const fs = new MemoryFileSystem();
  const network = new MemoryNetwork();
  const runtime = memoryRuntime({ network, fs });
  const a = await Node.start({ runtime, dataDir: "/n", listen: "10.0.0.1:1" });
  await assert.rejects(
    Node.start({ runtime, dataDir: "/n", listen: "10.0.0.2:1" }),
    (e: unknown) => e instanceof DataDirLockedError && /without a process id/.test(e.message),
  );
  await a.close();
  const b = await Node.start({ runtime, dataDir: "/n", listen: "10.0.0.2:1" });
  assert.equal(b.nodeId, a.nodeId);
  await b.close();
});
