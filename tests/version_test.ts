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

Deno.test("no_other_source_file_defines_a_version_literal", async () => {
  const root = new URL("../", import.meta.url);
  const offenders: string[] = [];
  const walk = async (dir: URL, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${rel}${e.name}`;
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir), `${path}/`);
      else if (e.name.endsWith(".ts") && path !== "src/version.ts") {
        const text = await Deno.readTextFile(new URL(e.name, dir));
        if (/VERSION\s*(:\s*\w+\s*)?=\s*["'`]\d+\.\d+\.\d+/.test(text)) offenders.push(path);
      }
    }
  };
  await walk(new URL("src/", root), "src/");
  const mod = await Deno.readTextFile(new URL("mod.ts", root));
  assert.doesNotMatch(mod, /VERSION\s*=\s*["'`]\d/);
  assert.deepEqual(offenders, [], "the version is written only in src/version.ts");
});
