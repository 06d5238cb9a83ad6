import { denoNetwork } from "../../src/runtime/deno/net.ts";
import { MemoryNetwork } from "../../src/runtime/memory/net.ts";
import { netContractCases } from "./net_contract.ts";

for (const c of netContractCases({ net: denoNetwork() })) {
  Deno.test(`deno_net_${c.name}`, c.fn);
}

for (const c of netContractCases({ net: new MemoryNetwork() })) {
  Deno.test(`memory_net_${c.name}`, c.fn);
}
