import { denoFileSystem } from "../../src/runtime/deno/fs.ts";
import { MemoryFileSystem } from "../../src/runtime/memory/fs.ts";
import { registerCases } from "../portable/harness.ts";
import { fsContractSuite } from "./fs_contract.ts";

registerCases(
  "fs/deno",
  fsContractSuite(async () => {
    const root = await Deno.makeTempDir({ prefix: "dfs-fs-" });
    return { fs: denoFileSystem(), root, cleanup: () => Deno.remove(root, { recursive: true }) };
  }),
);

registerCases(
  "fs/memory",
  fsContractSuite(() => {
    const fs = new MemoryFileSystem();
    return fs.mkdir("/scratch").then(() => ({
      fs,
      root: "/scratch",
      cleanup: () => Promise.resolve(),
    }));
  }),
);
