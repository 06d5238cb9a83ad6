/**
 * `dfs serve`: start a node, serve its HTTP API, stop cleanly on SIGINT/SIGTERM (with
 * `--drain`, hand the data off first) or once `POST /drain` drained it.
 *
 * @module
 */

import { formatAddress } from "../peer/address.ts";
import { requireBearerToken } from "../api/auth.ts";
import { guardBrowserRequests } from "../api/browser_guard.ts";
import { createApiHandler } from "../api/handler.ts";
import { ApiRefusals } from "../api/metrics/api_refusals.ts";
import { HostNotAllowedError } from "../api/errors.ts";
import { withDashboard } from "../api/dashboard/with_dashboard.ts";
import { errorText } from "../errors.ts";
import { errorFields } from "../util/log.ts";
import type { DfsNode } from "../node/types.ts";
import { API_PREFIX } from "./address.ts";
import { serveApiToken } from "./api_token.ts";
import { apiTokenLines } from "./serve_token.ts";
import { readClusterKeyFile } from "./cluster_key_file.ts";
import type { CliContext } from "./context.ts";
import { EXIT } from "./errors.ts";
import { serveOptions } from "./serve_options.ts";
import { formatLogLine, type LogFormat } from "./log/format.ts";
import { type CliLogging, startLogging } from "./log/setup.ts";
import type { LogLevel } from "../util/log.ts";
import type { FetchHandler } from "../runtime/types.ts";
import { StopControl, untilAborted } from "./serve_stop.ts";
import { drainWarning, formatDrain } from "./upkeep_format.ts";
import { COMMAND_USAGE } from "./usage.ts";
import { VERSION } from "./version.ts";

export { serveOptions } from "./serve_options.ts";

/** How long `serve` waits for in-flight HTTP requests on shutdown before closing the node. */
const HTTP_GRACE_MS = 5000;

/**
 * Runs `dfs serve`: reads the cluster key file if one is given, starts the node, serves the
 * API, prints the node id, P2P address and API URL on stdout (never the key), and on
 * SIGINT/SIGTERM closes the API server, then the node, and returns 0. With `--drain`, a SIGTERM
 * first drains the node (a second signal cancels the drain: 130); once `POST /drain` drained
 * it, it stops the same way. Exit 1 when a drain left files below target or failed. A signal
 * during shutdown (past any drain) exits at once with 130.
 */
export async function serve(ctx: CliContext, args: readonly string[]): Promise<number> {
  const parsed = await serveOptions(ctx, args);
  if (parsed.help) {
    await ctx.out(COMMAND_USAGE.serve + "\n");
    return EXIT.OK;
  }
  const logging = await startLogging({
    level: parsed.log.level,
    format: parsed.log.format,
    write: (text) => void ctx.err(text).catch(() => {}),
  });
  try {
    return await serveWithLogging(ctx, parsed, logging);
  } finally {
    await logging.close();
  }
}

/** A status line of `serve`: `dfs: message` in text, a JSON record (category `dfs.cli`) in JSON. */
function notice(ctx: CliContext, format: LogFormat) {
  return async (level: LogLevel, message: string, fields: Record<string, unknown> = {}) => {
    if (format === "json") {
      await ctx.err(
        formatLogLine(
          { timestamp: Date.now(), level, category: "dfs.cli", message, fields },
          "json",
        ),
      );
    } else {
      await ctx.err(message.split("\n").map((l) => `dfs: ${l}\n`).join(""));
    }
  };
}

/**
 * `handler` logging every request at debug (`dfs.api`: method, path, status, ms) and every
 * error it throws at error (then answering 500), so that no runtime adapter has to.
 */
function loggedHandler(
  handler: FetchHandler,
  logging: CliLogging,
): (request: Request) => Promise<Response> {
  return async (req) => {
    const start = performance.now();
    const path = new URL(req.url).pathname;
    try {
      const res = await handler(req);
      logging.log("debug", "request", {
        method: req.method,
        path,
        status: res.status,
        ms: Math.round(performance.now() - start),
      }, "dfs.api");
      return res;
    } catch (err) {
      logging.log("error", "request failed", {
        method: req.method,
        path,
        ...errorFields(err),
      }, "dfs.api");
      return new Response("internal error", { status: 500 });
    }
  };
}

async function serveWithLogging(
  ctx: CliContext,
  parsed: Exclude<Awaited<ReturnType<typeof serveOptions>>, { help: true }>,
  logging: CliLogging,
): Promise<number> {
  const say = notice(ctx, parsed.log.format);
  const keyFile = parsed.clusterKeyFile;
  const opts = keyFile
    ? {
      ...parsed,
      node: {
        ...parsed.node,
        clusterKey: await readClusterKeyFile(ctx.runtime.fs, keyFile.path, keyFile.what),
        log: logging.log,
      },
    }
    : { ...parsed, node: { ...parsed.node, log: logging.log } };
  if (opts.node.clusterKey) logging.redactor.add(opts.node.clusterKey);
  const control = new StopControl(ctx.process, { drainOnSigterm: opts.drain });
  try {
    await ctx.runtime.fs.mkdir(opts.node.dataDir, { recursive: true, mode: 0o700 });
    const node = await ctx.startNode(opts.node);
    let server;
    let token;
    try {
      const file = opts.apiTokenFile, dataDir = opts.node.dataDir;
      token = await serveApiToken(ctx.runtime.fs, { apiHost: opts.api.hostname, dataDir, file });
      if (token) logging.redactor.add(token.token);
      // The token check and the browser guard count what they refuse; /metrics shows it.
      const refusals = new ApiRefusals();
      const handler = createApiHandler(node, {
        refusals,
        // A client that goes away before the answer cancels the node's work on it (a get still
        // looking for providers, say): left running, abandoned gets would hold connection slots
        // and slow every other request of a busy node. (Deno: see deno.json's `unstable`.)
        useRequestSignal: true,
        onError: (err, req) => {
          logging.log("error", "API request failed", {
            method: req.method,
            path: new URL(req.url).pathname,
            ...errorFields(err),
          }, "dfs.api");
        },
        onDrained: (report) => control.drained(report),
      });
      // The dashboard page is static and holds no data: it is served without the token and
      // sends the token the user gives it to the API. In front of both, the browser guard
      // refuses cross-site requests and (on loopback, where no token is asked) foreign Hosts.
      server = await ctx.runtime.serve(
        opts.api,
        guardBrowserRequests(
          withDashboard(
            loggedHandler(
              token
                ? requireBearerToken(handler, token.token, {
                  onRefused: () => refusals.record("unauthorized"),
                })
                : handler,
              logging,
            ),
          ),
          {
            listenHostname: opts.api.hostname,
            allowedHosts: opts.apiAllowHosts,
            onRefused: (err, req) => {
              refusals.record(
                err instanceof HostNotAllowedError ? "host_not_allowed" : "origin_not_allowed",
              );
              logging.log("info", "browser request refused", {
                code: err.code,
                method: req.method,
                path: new URL(req.url).pathname,
              }, "dfs.api");
            },
          },
        ),
      );
    } catch (err) {
      await node.close();
      throw err;
    }
    const status = await node.status();
    const webUrl = `http://${formatAddress(server.address)}/`;
    const apiUrl = `${webUrl.slice(0, -1)}${API_PREFIX}`;
    await ctx.out(
      `dfs ${VERSION} node ${node.nodeId}\n` +
        `  p2p   ${status.address}\n` +
        `  api   ${apiUrl}\n` +
        `  web   ${webUrl}\n` +
        `  data  ${opts.node.dataDir}\n` + apiTokenLines(token),
    );
    if (opts.node.encryption === "plaintext") {
      await say(
        "warn",
        "WARNING: --insecure-plaintext: peer traffic is NOT encrypted or authenticated;\n" +
          "WARNING: anyone on the path can read and alter it. For tests and benches only.",
      );
    }
    if (parsed.configFile !== undefined) {
      await say("info", `config file ${parsed.configFile}`, { path: parsed.configFile });
    }
    if (!control.stopping) await say("info", "running; press Ctrl-C to stop");
    const reason = await control.stopped;
    let code: number = EXIT.OK;
    if (reason.kind === "drained") {
      await say("info", `drained through the API: ${formatDrain(reason.report)}; stopping`);
      if (reason.report.failed > 0) code = EXIT.ERROR;
    } else if (control.drainSignal) {
      await say(
        "info",
        `${reason.signal}: draining (handing data off to other nodes; ` +
          `signal again to stop without finishing)`,
      );
    } else {
      await say("info", `${reason.signal}: stopping`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      server.close(),
      new Promise<void>((resolve) => timer = setTimeout(resolve, HTTP_GRACE_MS)),
    ]);
    clearTimeout(timer);
    const drainSignal = control.drainSignal;
    if (drainSignal) code = await drainBeforeExit(node, drainSignal, say);
    control.endDrain();
    await node.close();
    logging.flush(); // what the rate limit held back, before the last line
    await say("info", "stopped");
    return code;
  } finally {
    control.dispose();
  }
}

/** `--drain` on SIGTERM: drains `node` until done or `signal` aborts; returns the exit code. */
async function drainBeforeExit(
  node: DfsNode,
  signal: AbortSignal,
  say: ReturnType<typeof notice>,
): Promise<number> {
  try {
    const report = await untilAborted(
      signal.aborted ? Promise.reject(signal.reason) : node.drain(signal),
      signal,
    );
    await say("info", `drained: ${formatDrain(report)}`);
    const warning = drainWarning(report);
    if (warning === undefined) return EXIT.OK;
    await say("warn", `warning: ${warning}`);
    return EXIT.ERROR;
  } catch (err) {
    if (signal.aborted) {
      await say("warn", "drain cancelled; stopping without finishing it");
      return EXIT.INTERRUPTED;
    }
    await say("error", `error: drain failed: ${errorText(err)}`, errorFields(err));
    return EXIT.ERROR;
  }
}
