/**
 * Every suite that runs on all three runtimes. Each entry builds its cases from the host's
 * {@linkcode Runtime} and a scratch directory that `run.ts` creates and removes.
 *
 * To add a suite: write it runtime-neutral (only `Runtime`, web APIs and `node:assert/strict`),
 * export a function returning `Case[]`, and add ONE line to {@linkcode suites} below.
 *
 * @module
 */

import type { Runtime } from "../../src/runtime/types.ts";
import { fsContractSuite } from "../runtime/fs_contract.ts";
import { httpContractSuite } from "../runtime/http_contract.ts";
import { netContractCases } from "../runtime/net_contract.ts";
import type { Case } from "./harness.ts";
import { processContractSuite } from "./process_contract.ts";
import { storeSuite } from "../store/store_suite.ts";

/** Builds a suite's cases for one runtime; `scratchDir` exists and is private to the run. */
export type SuiteFactory = (runtime: Runtime, scratchDir: string) => Case[];

let fsFixtures = 0;

/** The FileSystem contract on the host's adapter, each case in its own fresh directory. */
const fsSuite: SuiteFactory = (rt, scratch) =>
  fsContractSuite(async () => {
    const root = `${scratch}/fs-${++fsFixtures}`;
    await rt.fs.mkdir(root, { recursive: true });
    return { fs: rt.fs, root, cleanup: () => rt.fs.remove(root, { recursive: true }) };
  });

/** Suites by name; cases run as `name/case`. One line per suite. */
export const suites: { readonly name: string; readonly make: SuiteFactory }[] = [
  { name: "fs", make: fsSuite },
  { name: "http", make: (rt) => httpContractSuite(rt.serve) },
  { name: "process", make: (rt) => processContractSuite(rt) },
  { name: "net", make: (rt) => netContractCases(rt) },
  { name: "store", make: (rt, scratch) => storeSuite(rt, scratch) },
];
