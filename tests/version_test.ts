import assert from "node:assert/strict";
import { VERSION } from "../src/cli/version.ts";
import { DFS_VERSION as NODE_VERSION } from "../src/node/node.ts";
import { DFS_VERSION } from "../src/version.ts";

Deno.test("deno_json_version_equals_src_version", async () => {
  const url = new URL("../deno.json", import.meta.url);
  const config = JSON.parse(await Deno.readTextFile(url));
  assert.equal(config.version, DFS_VERSION);
});

Deno.test("node_and_cli_report_the_single_version", () => {
  assert.equal(NODE_VERSION, DFS_VERSION);
  assert.equal(VERSION, DFS_VERSION);
  assert.match(DFS_VERSION, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
});
