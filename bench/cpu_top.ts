/**
 * Summarises V8 CPU profiles (`.cpuprofile`, as `node --cpu-prof` writes them): the frames with
 * the most self time, per profile.
 *
 *     deno run -A bench/cpu_top.ts DIR_OR_FILE [--top 15]
 *
 * Prints, for each profile, its total sampled time and a markdown table of the top frames by
 * self time (function, file:line, ms, share of the profile), for bench/RESULTS.md.
 *
 * @module
 */

interface CpuNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly CpuNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const target = Deno.args[0];
if (!target) throw new Error("usage: bench/cpu_top.ts DIR_OR_FILE [--top N]");
const topAt = Deno.args.indexOf("--top");
const top = topAt >= 0 ? Number(Deno.args[topAt + 1]) : 15;

const files: string[] = [];
if ((await Deno.stat(target)).isDirectory) {
  for await (const e of Deno.readDir(target)) {
    if (e.name.endsWith(".cpuprofile")) files.push(`${target}/${e.name}`);
  }
} else files.push(target);

for (const file of files.sort()) {
  const profile = JSON.parse(await Deno.readTextFile(file)) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    const f = node.callFrame;
    const where = f.url
      ? `${f.url.replace(/^.*\/(src|bench|node_modules)\//, "$1/")}:${f.lineNumber + 1}`
      : "";
    const key = `${f.functionName || "(anonymous)"} | ${where}`;
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  }
  const idle = [...self.entries()].filter(([k]) => k.startsWith("(idle)")).reduce(
    (s, [, v]) => s + v,
    0,
  );
  console.log(
    `\n${file}: ${(total / 1000).toFixed(0)} ms sampled, ${
      ((total - idle) / 1000).toFixed(0)
    } ms not idle\n`,
  );
  console.log("| frame | where | self ms | share of busy |");
  console.log("| --- | --- | --- | --- |");
  const rows = [...self.entries()].filter(([k]) => !k.startsWith("(idle)")).sort((a, b) =>
    b[1] - a[1]
  )
    .slice(0, top);
  for (const [key, us] of rows) {
    const [name, where] = key.split(" | ");
    const share = ((100 * us) / Math.max(1, total - idle)).toFixed(1);
    console.log(`| ${name} | ${where || "(native)"} | ${(us / 1000).toFixed(0)} | ${share}% |`);
  }
}
