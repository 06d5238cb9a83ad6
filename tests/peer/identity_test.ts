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
