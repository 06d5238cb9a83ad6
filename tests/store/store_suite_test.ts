import { denoFileSystem } from "../../src/runtime/deno/fs.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import { registerCases } from "../portable/harness.ts";
import { seedFrom, seedText } from "../util/prng.ts";
import { storeSuite } from "./store_suite.ts";

const seed = seedFrom(seedText() ?? "20261126");
const scratch = await Deno.makeTempDir({ prefix: "dfs-store-" });
registerCases("store/deno", storeSuite({ fs: denoFileSystem() }, scratch, { seed }));
registerCases("store/memory", storeSuite({ fs: new MemoryFileSystem() }, "/scratch", { seed }));
Deno.test("store/deno/cleanup_scratch_dir", () => Deno.remove(scratch, { recursive: true }));
