import assert from "node:assert/strict";
import {
  IDENTITY_FILE,
  IdentityError,
  NodeIdentity,
  nodeIdOf,
  verifySignature,
} from "../../src/peer/identity.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import { toHex } from "../../src/util/hex.ts";

Deno.test("identity_node_id_is_sha256_of_public_key", async () => {
  const me = await NodeIdentity.generate();
  assert.equal(me.publicKey.length, 32);
  assert.deepEqual(me.nodeId, await nodeIdOf(me.publicKey));
  assert.equal(me.nodeIdHex, toHex(me.nodeId));
  assert.equal(me.nodeIdHex.length, 64);
});

Deno.test("identity_signatures_verify_and_reject_tampering", async () => {
  const me = await NodeIdentity.generate();
  const other = await NodeIdentity.generate();
  const data = new TextEncoder().encode("transcript");
  const sig = await me.sign(data);
  assert.equal(sig.length, 64);
  assert.equal(await verifySignature(me.publicKey, sig, data), true);
  assert.equal(await verifySignature(other.publicKey, sig, data), false);
  const bad = sig.slice();
  bad[0] ^= 1;
  assert.equal(await verifySignature(me.publicKey, bad, data), false);
  assert.equal(await verifySignature(me.publicKey, sig.subarray(0, 63), data), false);
  assert.equal(await verifySignature(new Uint8Array(5), sig, data), false);
});

Deno.test("identity_created_on_first_start_and_loaded_later", async () => {
  const fs = new MemoryFileSystem();
  const first = await NodeIdentity.loadOrCreate(fs, "/data/node");
  const stat = await fs.stat(`/data/node/${IDENTITY_FILE}`);
  assert.ok(stat?.isFile);
  const names: string[] = [];
  for await (const e of fs.readDir("/data/node")) names.push(e.name);
  assert.deepEqual(names, [IDENTITY_FILE], "no temporary file left behind");
  const second = await NodeIdentity.loadOrCreate(fs, "/data/node/");
  assert.equal(second.nodeIdHex, first.nodeIdHex);
  const data = new Uint8Array([1, 2, 3]);
  assert.ok(await verifySignature(first.publicKey, await second.sign(data), data));
});

Deno.test("identity_rejects_corrupt_key_file", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdir("/d", { recursive: true });
  const f = await fs.create(`/d/${IDENTITY_FILE}`);
  await f.write(new Uint8Array([1, 2, 3, 4]));
  await f.close();
  await assert.rejects(() => NodeIdentity.loadOrCreate(fs, "/d"), (err) => {
    assert.ok(err instanceof IdentityError);
    assert.equal(err.code, "BAD_IDENTITY");
    return true;
  });
});

Deno.test("identity_key_file_is_written_private_on_disk", async () => {
  const { denoFileSystem } = await import("../../src/runtime/deno/fs.ts");
  const root = await Deno.makeTempDir({ prefix: "dfs-key-" });
  try {
    const dir = `${root}/fresh/data`;
    await NodeIdentity.loadOrCreate(denoFileSystem(), dir);
    assert.equal((await Deno.stat(`${dir}/${IDENTITY_FILE}`)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("identity_key_file_is_created_with_mode_0600_in_memory", async () => {
  const fs = new MemoryFileSystem();
  await NodeIdentity.loadOrCreate(fs, "/d");
  assert.equal(fs.modeOf(`/d/${IDENTITY_FILE}`), 0o600);
});

Deno.test("identity_concurrent_first_starts_all_use_the_key_on_disk", async () => {
  const { denoFileSystem } = await import("../../src/runtime/deno/fs.ts");
  const root = await Deno.makeTempDir({ prefix: "dfs-key-" });
  try {
    for (const [fs, dir] of [[new MemoryFileSystem(), "/d"], [denoFileSystem(), root]] as const) {
      const all = await Promise.all(
        Array.from({ length: 8 }, () => NodeIdentity.loadOrCreate(fs, dir)),
      );
      const onDisk = await NodeIdentity.fromPkcs8(await fs.readFile(`${dir}/${IDENTITY_FILE}`));
      for (const id of all) assert.equal(id.nodeIdHex, onDisk.nodeIdHex);
      const names: string[] = [];
      for await (const e of fs.readDir(dir)) names.push(e.name);
      assert.deepEqual(names, [IDENTITY_FILE]);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("identity_load_removes_leftover_temporary_key_files", async () => {
  const fs = new MemoryFileSystem();
  const first = await NodeIdentity.loadOrCreate(fs, "/d");
  const f = await fs.create(`/d/${IDENTITY_FILE}.tmp-0123456789ab`);
  await f.write(new Uint8Array([1, 2]));
  await f.close();
  const again = await NodeIdentity.loadOrCreate(fs, "/d");
  assert.equal(again.nodeIdHex, first.nodeIdHex);
  assert.equal(await fs.stat(`/d/${IDENTITY_FILE}.tmp-0123456789ab`), null);
});

Deno.test("identity_empty_claim_left_by_a_crash_is_redone", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdir("/d", { recursive: true });
  await (await fs.create(`/d/${IDENTITY_FILE}`)).close();
  const realNow = Date.now;
  // The claim is older than the stale age once time has moved on.
  Date.now = () => realNow() + 60_000;
  try {
    const me = await NodeIdentity.loadOrCreate(fs, "/d");
    assert.equal((await fs.stat(`/d/${IDENTITY_FILE}`))!.size > 0, true);
    assert.equal(
      (await NodeIdentity.fromPkcs8(await fs.readFile(`/d/${IDENTITY_FILE}`))).nodeIdHex,
      me.nodeIdHex,
    );
  } finally {
    Date.now = realNow;
  }
});
