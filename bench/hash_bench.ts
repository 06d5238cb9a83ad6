/**
 * Hashing: raw `crypto.subtle.digest("SHA-256")` (the baseline) next to `ContentId.of`, on a
 * 256 KiB block and a 4 MiB block.
 *
 *     deno bench -A bench/hash_bench.ts
 */

import { ContentId } from "../src/id/content_id.ts";

const KIB = 1024;
for (const [label, size] of [["256KiB", 256 * KIB], ["4MiB", 4096 * KIB]] as const) {
  const data = fill(size);
  Deno.bench({
    name: `raw crypto.subtle.digest SHA-256 ${label}`,
    group: `hash ${label}`,
    baseline: true,
    async fn() {
      await crypto.subtle.digest("SHA-256", data);
    },
  });
  Deno.bench({
    name: `ContentId.of sha-256 ${label}`,
    group: `hash ${label}`,
    async fn() {
      await ContentId.of(data);
    },
  });
  Deno.bench({
    name: `ContentId.of sha-1 ${label}`,
    group: `hash ${label}`,
    async fn() {
      await ContentId.of(data, "sha-1");
    },
  });
}

function fill(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}
