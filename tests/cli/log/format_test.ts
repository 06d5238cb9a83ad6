import assert from "node:assert/strict";
import { formatLogLine } from "../../../src/cli/log/format.ts";

const line = {
  timestamp: Date.UTC(2026, 11, 6, 18, 0, 0, 5),
  level: "warn" as const,
  category: "dfs.peer",
  message: "peer violated the protocol; disconnecting",
  fields: { peer: "9f2c", code: "PEER_PROTOCOL", error: "bad frame length", n: 3, level: "x" },
};

Deno.test("json_lines_carry_timestamp_level_category_message_and_the_fields", () => {
  const text = formatLogLine(line, "json");
  assert.ok(text.endsWith("\n") && !text.slice(0, -1).includes("\n"));
  assert.deepEqual(JSON.parse(text), {
    timestamp: "2026-12-06T18:00:00.005Z",
    level: "warn",
    category: "dfs.peer",
    message: "peer violated the protocol; disconnecting",
    peer: "9f2c",
    code: "PEER_PROTOCOL",
    error: "bad frame length",
    n: 3,
    field_level: "x",
  });
  assert.doesNotThrow(() => JSON.parse(formatLogLine({ ...line, fields: { big: 10n } }, "json")));
});

Deno.test("text_lines_read_as_time_level_category_message_and_key_values", () => {
  assert.equal(
    formatLogLine(line, "text"),
    "2026-12-06T18:00:00.005Z WARN  dfs.peer: peer violated the protocol; disconnecting " +
      'peer=9f2c code=PEER_PROTOCOL error="bad frame length" n=3 level=x\n',
  );
  assert.equal(
    formatLogLine({ ...line, message: "two\nlines", fields: {} }, "text"),
    "2026-12-06T18:00:00.005Z WARN  dfs.peer: two lines\n",
  );
});
