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
import { withDashboard } from "../api/dashboard/with_dashboard.ts";
import { errorText } from "../errors.ts";
import type { DfsNode } from "../node/types.ts";
import { API_PREFIX } from "./address.ts";
import { serveApiToken } from "./api_token.ts";
import { apiTokenLines } from "./serve_token.ts";
import { readClusterKeyFile } from "./cluster_key_file.ts";
import type { CliContext } from "./context.ts";
import { EXIT } from "./errors.ts";
import { serveOptions } from "./serve_options.ts";
import { StopControl, untilAborted } from "./serve_stop.ts";
import { drainWarning, formatDrain } from "./upkeep_format.ts";
import { COMMAND_USAGE } from "./usage.ts";
import { VERSION } from "./version.ts";

export { serveOptions, stderrLogger } from "./serve_options.ts";

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
  const parsed = serveOptions(ctx, args);
  if (parsed.help) {
    await ctx.out(COMMAND_USAGE.serve + "\n");
    return EXIT.OK;
  }
  const keyFile = parsed.clusterKeyFile;
  const opts = keyFile
    ? {
      ...parsed,
      node: {
        ...parsed.node,
        clusterKey: await readClusterKeyFile(ctx.runtime.fs, keyFile.path, keyFile.what),
      },
    }
    : parsed;
  const control = new StopControl(ctx.process, { drainOnSigterm: opts.drain });
  try {
    await ctx.runtime.fs.mkdir(opts.node.dataDir, { recursive: true, mode: 0o700 });
    const node = await ctx.startNode(opts.node);
    let server;
    let token;
    try {
      const file = opts.apiTokenFile, dataDir = opts.node.dataDir;
      token = await serveApiToken(ctx.runtime.fs, { apiHost: opts.api.hostname, dataDir, file });
      const handler = createApiHandler(node, {
        onError: (err, req) => {
          ctx.err(`dfs: api: ${req.method} ${new URL(req.url).pathname}: ${String(err)}\n`)
            .catch(() => {});
        },
        onDrained: (report) => control.drained(report),
      });
      // The dashboard page is static and holds no data: it is served without the token and
      // sends the token the user gives it to the API. In front of both, the browser guard
      // refuses cross-site requests and (on loopback, where no token is asked) foreign Hosts.
      const web = withDashboard(token ? requireBearerToken(handler, token.token) : handler);
      server = await ctx.runtime.serve(
        opts.api,
        guardBrowserRequests(web, {
          listenHostname: opts.api.hostname,
          allowedHosts: opts.apiAllowHosts,
        }),
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
      await ctx.err(
        "dfs: WARNING: --insecure-plaintext: peer traffic is NOT encrypted or authenticated;\n" +
          "dfs: WARNING: anyone on the path can read and alter it. For tests and benches only.\n",
      );
    }
    if (!control.stopping) await ctx.err("dfs: running; press Ctrl-C to stop\n");
    const reason = await control.stopped;
    let code: number = EXIT.OK;
    if (reason.kind === "drained") {
      await ctx.err(`dfs: drained through the API: ${formatDrain(reason.report)}; stopping\n`);
      if (reason.report.failed > 0) code = EXIT.ERROR;
    } else if (control.drainSignal) {
      await ctx.err(
        `dfs: ${reason.signal}: draining (handing data off to other nodes; ` +
          `signal again to stop without finishing)\n`,
      );
    } else {
      await ctx.err(`dfs: ${reason.signal}: stopping\n`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      server.close(),
      new Promise<void>((resolve) => timer = setTimeout(resolve, HTTP_GRACE_MS)),
    ]);
    clearTimeout(timer);
    const drainSignal = control.drainSignal;
    if (drainSignal) code = await drainBeforeExit(ctx, node, drainSignal);
    control.endDrain();
    await node.close();
    await ctx.err("dfs: stopped\n");
    return code;
  } finally {
    control.dispose();
  }
}

/** `--drain` on SIGTERM: drains `node` until done or `signal` aborts; returns the exit code. */
async function drainBeforeExit(
  ctx: CliContext,
  node: DfsNode,
  signal: AbortSignal,
): Promise<number> {
  try {
    const report = await untilAborted(
      signal.aborted ? Promise.reject(signal.reason) : node.drain(signal),
      signal,
    );
    await ctx.err(`dfs: drained: ${formatDrain(report)}\n`);
    const warning = drainWarning(report);
    if (warning === undefined) return EXIT.OK;
    await ctx.err(`dfs: warning: ${warning}\n`);
    return EXIT.ERROR;
  } catch (err) {
    if (signal.aborted) {
      await ctx.err("dfs: drain cancelled; stopping without finishing it\n");
      return EXIT.INTERRUPTED;
    }
    await ctx.err(`dfs: error: drain failed: ${errorText(err)}\n`);
    return EXIT.ERROR;
  }
}
