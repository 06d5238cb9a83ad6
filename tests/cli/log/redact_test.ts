import assert from "node:assert/strict";
import { REDACTED, Redactor } from "../../../src/cli/log/redact.ts";
import { logSink } from "../../../src/cli/log/setup.ts";

const CAP = "dfs:r:1220" + "ab".repeat(32) + ":" + "Q".repeat(43);

Deno.test("redactor_removes_capability_keys_bearer_tokens_and_registered_secrets", () => {
  const r = new Redactor();
  const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
  r.add(key);
  r.add("tok_0123456789abcdef");
  const hex = Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");
  const b64 = btoa(String.fromCharCode(...key));
  const text = r.text(
    `GET /api/v1/files/${CAP} Authorization: Bearer abc.def key=${hex} b64=${b64} t=tok_0123456789abcdef`,
  );
  assert.ok(!text.includes("Q".repeat(43)), text);
  assert.ok(text.includes("dfs:r:1220" + "ab".repeat(32) + ":" + REDACTED), "the id is kept");
  assert.ok(!text.includes("abc.def"), text);
  assert.ok(!text.includes(hex), text);
  assert.ok(!text.includes(b64), text);
  assert.ok(!text.includes("tok_0123456789abcdef"), text);
  const encoded = r.text(`/api/v1/files/${encodeURIComponent(CAP)}`);
  assert.ok(!encoded.includes("Q".repeat(43)), encoded);
  assert.ok(encoded.includes(REDACTED), encoded);
});

Deno.test("redactor_blanks_secret_named_fields_and_raw_bytes_at_any_depth", () => {
  const r = new Redactor();
  const out = r.fields({
    clusterKey: "abc",
    apiToken: "t",
    capability: CAP,
    peer: "9f2c",
    nested: { fileKey: "k", list: [{ authorization: "Bearer x" }, new Uint8Array(32)] },
    error: new Error(`no such file ${CAP}`),
  });
  assert.deepEqual(out, {
    clusterKey: REDACTED,
    apiToken: REDACTED,
    capability: REDACTED,
    peer: "9f2c",
    nested: { fileKey: REDACTED, list: [{ authorization: REDACTED }, "<32 bytes>"] },
    error: `no such file dfs:r:1220${"ab".repeat(32)}:${REDACTED}`,
  });
});

Deno.test("the_log_sink_redacts_messages_and_fields_before_writing", () => {
  const out: string[] = [];
  const sink = logSink({ level: "debug", format: "text", write: (t) => out.push(t) });
  sink.redactor.add("s3cret-api-token-value");
  sink.write({
    timestamp: 0,
    level: "info",
    category: "dfs.api",
    message: `fetched ${CAP} with s3cret-api-token-value`,
    fields: { path: `/api/v1/files/${CAP}`, token: "s3cret-api-token-value" },
  });
  assert.equal(out.length, 1);
  assert.ok(!out[0].includes("Q".repeat(43)), out[0]);
  assert.ok(!out[0].includes("s3cret-api-token-value"), out[0]);
  assert.match(out[0], /token=\[redacted\]/);
});
