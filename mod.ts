/**
 * dfs: a peer-to-peer, content-addressed distributed file store.
 *
 * @module
 */

export { DfsError } from "./src/errors.ts";
