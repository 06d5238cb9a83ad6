/**
 * The node's default log sink: every record goes to logtape's logger of its category
 * (`dfs.peer` is `getLogger(["dfs", "peer"])`). Until the application calls logtape's
 * `configure`, logtape has no sink and nothing is written: the library is quiet by default, and an
 * application that already uses logtape gets dfs's records by category.
 *
 * @module
 */

import { getConfig, getLogger, type Logger as LogtapeLogger } from "@logtape/logtape";
import type { Logger } from "../util/log.ts";

const loggers = new Map<string, LogtapeLogger>();

/**
 * A {@linkcode Logger} forwarding to logtape (`warn` is logtape's `warning`); a record without a
 * category goes to `dfs`.
 *
 * @example
 * ```ts
 * import { logtapeLogger } from "./logtape_logger.ts";
 * logtapeLogger("info", "node started", { nodeId: "9f2c" }, "dfs.node"); // silent until configured
 * ```
 */
export const logtapeLogger: Logger = (level, message, fields, category = "dfs") => {
  if (getConfig() === null) return; // nothing configured: nothing to do (the common library case)
  let logger = loggers.get(category);
  if (logger === undefined) {
    logger = getLogger(category.split("."));
    loggers.set(category, logger);
  }
  const props = fields ?? {};
  if (level === "debug") logger.debug(message, props);
  else if (level === "info") logger.info(message, props);
  else if (level === "warn") logger.warn(message, props);
  else logger.error(message, props);
};
