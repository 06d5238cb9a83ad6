import assert from "node:assert/strict";
import { formatCapability, putFile, readFile, statFile } from "../../src/file/mod.ts";
import { MemoryBlocks } from "./_fakes.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("file_ids_match_documented_vectors", async () => {
  const mem = new MemoryBlocks();
  const hello = await putFile(new TextEncoder().encode("hello"), mem);
  assert.equal(
    hello.id.toString(),
    "12202f70574588bdc42c15ff34679f2edea05f87e6f47b395552af0a68c6c09a67d8",
  );
  assert.equal(
    hex(mem.blocks.get(hello.id.toString())!),
    "4446534d010000120004000000000000000000050000000112202cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b98240000000000000005",
  );
  const empty = await putFile(new Uint8Array(0), mem);
  assert.equal(
    empty.id.toString(),
    "12202b0a3e1ac1f44a12f3e8db9af7f80af16ab91cda6408aaba9039c492368e5b92",
  );
  assert.equal(
    hex(mem.blocks.get(empty.id.toString())!),
    "4446534d0100001200040000000000000000000000000000",
  );
  const tree = new MemoryBlocks();
  const data = new Uint8Array(5 * 1024 - 1).map((_, i) => i & 0xff);
  const three = await putFile(data, tree, { blockSize: 1024, fanout: 2 });
  assert.equal(
    three.id.toString(),
    "1220f06a388ebc3434e65fc771e2ca4be27908d4dc032ee60c0b99570d4f0ef1b60e",
  );
  const stat = await statFile(three.id, tree);
  assert.deepEqual([stat.blocks, stat.depth, stat.manifests], [5, 3, 6]);
  assert.equal(tree.blocks.size, 7); // 2 distinct data blocks, 2 leaves, 2 inner, root
});

Deno.test("version_2_file_ids_match_documented_vectors", async () => {
  const mem = new MemoryBlocks();
  const hello = new TextEncoder().encode("hello");
  const replicas = await putFile(hello, mem, { redundancy: { kind: "replicas", min: 3, max: 3 } });
  assert.equal(
    replicas.id.toString(),
    "122036b19725b045baf6123ce1ceb2d732ceb35a5d090beb6e6f51696a4ff7aabdef",
  );
  assert.equal(
    hex(mem.blocks.get(replicas.id.toString())!),
    "4446534d0200001200040000000000000000000500000001" + "00030300" +
      "12202cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b98240000000000000005",
  );
  const rs = await putFile(hello, mem, { redundancy: { kind: "rs", k: 2, m: 1 } });
  assert.equal(
    rs.id.toString(),
    "12207c69a0a9abbe5c58bc562f6e529b04c848736ea00656e32f2287e0d78db0749b",
  );
  assert.equal(
    hex(mem.blocks.get(rs.id.toString())!),
    "4446534d0200001200040000000000000000000500000001" + "01020100" +
      "12202cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b98240000000000000005" +
      "12204c9567e8be976107dadaaf1b4fb89b6c46a7aa66469520452c2fa6892ad8c1ea",
  );
  // The parity of the stripe ("hello" and an all-zero missing block): inv(2) * "hello".
  assert.equal(
    hex(mem.blocks.get("12204c9567e8be976107dadaaf1b4fb89b6c46a7aa66469520452c2fa6892ad8c1ea")!),
    "34bc3636b9",
  );
});

Deno.test("encrypted_file_ids_match_documented_vectors", async () => {
  const mem = new MemoryBlocks();
  const key = new Uint8Array(32).map((_, i) => i); // 00 01 .. 1f
  const hello = new TextEncoder().encode("hello");
  const file = await putFile(hello, mem, { key });
  // the one data block: AES-256-GCM under HKDF-SHA256(key, info "dfs/v1 block" u32 262144 u64 0)
  const block = "f6519f945c00251e589fe690b3fe2fba3fe3699c81";
  assert.equal(
    hex(mem.blocks.get("12201a15757cb220e1209983a4784ee955b7c6075f657d3ab5c041d65d52d9e33ea4")!),
    block,
  );
  assert.equal(
    hex(mem.blocks.get(file.id.toString())!),
    "4446534d0200001200040000000000000000001500000001" + "00030301" +
      "12201a15757cb220e1209983a4784ee955b7c6075f657d3ab5c041d65d52d9e33ea40000000000000015",
  );
  assert.equal(
    formatCapability(file.id, key),
    "dfs:r:12206bf6436d7ce9b106752cfb4a66d80428094fd51545608ee3418b405691f7656a:" +
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
  );
  const back = await readFile(file.id, mem, { key });
  assert.equal(await new Response(back.stream).text(), "hello");
  const rs = await putFile(hello, new MemoryBlocks(), {
    key,
    redundancy: { kind: "rs", k: 2, m: 1 },
  });
  assert.equal(
    rs.id.toString(),
    "1220c748c86e1fe1cf35ed82c78e9e0b0fd68d3183ec6aa02e41c63c2b9358ad18aa",
  );
});
