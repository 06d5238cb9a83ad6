import assert from "node:assert/strict";
import { ContentId } from "../../src/id/content_id.ts";
import { InvalidKeyError } from "../../src/store/errors.ts";
import {
  casPathTransform,
  defaultPathTransform,
  validatePathSegments,
} from "../../src/store/path_transform.ts";

Deno.test("cas_transform_splits_sha1_into_five_char_dirs", async () => {
  // SHA-1("momsbestpicture") as in the original design's tests.
  const segments = await casPathTransform("momsbestpicture");
  const hex = "6804429f74181a63c50c3d81d733a12f14a353ff";
  assert.deepEqual(segments, [...hex.match(/.{5}/g)!, hex]);
  assert.ok(segments.slice(0, 8).every((s) => s.length === 5));
});

Deno.test("default_transform_separates_ids_and_keys", async () => {
  const id = await ContentId.of(new Uint8Array([9]));
  const t = id.toString();
  assert.deepEqual(await defaultPathTransform(t), ["ids", t.slice(4, 6), t]);
  const k = await defaultPathTransform("../../etc/passwd");
  assert.equal(k[0], "keys");
  assert.equal(k.length, 3);
  assert.match(k[2], /^[0-9a-f]{64}$/);
  assert.deepEqual(await defaultPathTransform("../../etc/passwd"), k, "deterministic");
  assert.notDeepEqual(await defaultPathTransform("../../etc/passwd2"), k);
});

Deno.test("segment_validation_rejects_escapes_and_odd_names", () => {
  const bad: unknown[] = [
    [],
    [""],
    ["."],
    [".."],
    ["a", ".."],
    ["a/b"],
    ["a\\b"],
    ["a\0b"],
    ["a\nb"],
    ["x".repeat(256)],
    ["é".repeat(128)],
    Array.from({ length: 17 }, () => "a"),
    [42],
    "abc",
  ];
  for (const s of bad) {
    assert.throws(() => validatePathSegments(s as string[]), InvalidKeyError, JSON.stringify(s));
  }
  assert.deepEqual(validatePathSegments(["ab", "...", "x".repeat(255)]), [
    "ab",
    "...",
    "x".repeat(255),
  ]);
});

Deno.test("the_store_hands_a_transform_the_content_id_it_parsed", async () => {
  const { FsBlockStore } = await import("../../src/store/block_store.ts");
  const { MemoryFileSystem } = await import("../../src/runtime/memory/fs.ts");
  const seen: [string, string | undefined][] = [];
  const store = await FsBlockStore.open({
    fs: new MemoryFileSystem(),
    root: "/s",
    pathTransform: (key, id) => {
      seen.push([key, id?.toString()]);
      return defaultPathTransform(key, id);
    },
  });
  const id = await store.put(new TextEncoder().encode("block"));
  await store.write("name:x", new TextEncoder().encode("x"));
  assert.deepEqual(seen, [[id.toString(), id.toString()], ["name:x", undefined]]);
  await store.close();
});
