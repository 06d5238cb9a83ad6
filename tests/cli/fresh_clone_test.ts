/**
 * The README's first command works on a fresh clone: `deno run -A mod.ts` in a copy of the
 * module with no `node_modules/` starts a node (its npm dependency comes from Deno's cache or the
 * registry, not from a directory `npm install` made) and stops cleanly on SIGTERM. Loopback only;
 * bounded in time; only the process started here is signalled.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const DENO = `${ROOT}node_modules/.bin/deno`;
const START_MS = 90_000;

/** Copies `from` (a file or a directory tree) to `to`. */
async function copy(from: string, to: string): Promise<void> {
  const info = await Deno.stat(from);
  if (info.isFile) return await Deno.copyFile(from, to);
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) await copy(`${from}/${e.name}`, `${to}/${e.name}`);
}

Deno.test({
  name: "deno_run_mod_ts_starts_a_node_in_a_copy_without_node_modules",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dfs-fresh-clone-" });
    try {
      for (const f of ["mod.ts", "deno.json", "package.json", "package-lock.json", "src"]) {
        await copy(`${ROOT}${f}`, `${dir}/${f}`);
      }
      const child = new Deno.Command(DENO, {
        args: ["run", "-A", "mod.ts", "--listen", "127.0.0.1:0", "--api", "127.0.0.1:0"],
        cwd: dir,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const errText = new Response(child.stderr).text();
      const reader = child.stdout.getReader();
      const dec = new TextDecoder();
      let out = "";
      // The banner's last line is `  data DIR`.
      const ready = () => /\n {2}data +\S+\n/.test(out);
      const deadline = Date.now() + START_MS;
      try {
        while (!ready()) {
          const left = deadline - Date.now();
          if (left <= 0) throw new Error("timed out");
          let timer: ReturnType<typeof setTimeout> | undefined;
          const r = await Promise.race([
            reader.read(),
            new Promise<never>((_, rej) =>
              timer = setTimeout(() => rej(new Error("timed out")), left)
            ),
          ]).finally(() => clearTimeout(timer));
          if (r.done) break;
          out += dec.decode(r.value, { stream: true });
        }
      } finally {
        if (!ready()) {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
        } else {
          child.kill("SIGTERM");
        }
        reader.releaseLock();
        await child.stdout.cancel().catch(() => {});
      }
      const status = await child.status;
      const err = await errText;
      assert.ok(ready(), `the node did not start:\n${out}\n${err}`);
      assert.match(out, /\n {2}data +\.dfs\//, "the embedded default data directory");
      assert.equal(status.code, 0, `exit after SIGTERM\n${err}`);
      assert.equal(await Deno.stat(`${dir}/node_modules`).then(() => true, () => false), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
