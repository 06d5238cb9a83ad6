import { denoServe } from "../../src/runtime/deno/http.ts";
import { MemoryHttp } from "../../src/runtime/memory/http.ts";
import { registerCases } from "../portable/harness.ts";
import { httpContractSuite } from "./http_contract.ts";

registerCases("http/deno", httpContractSuite(denoServe));

const memory = new MemoryHttp();
registerCases(
  "http/memory",
  httpContractSuite(memory.serve, (input, init) => memory.fetch(input, init)),
);
