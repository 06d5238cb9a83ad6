/**
 * Usage text of the `dfs` command and of each subcommand.
 *
 * @module
 */

import { DEFAULT_API, DEFAULT_LISTEN } from "./address.ts";

const CLIENT_OPTIONS =
  `  --api URL|HOST:PORT   node API to talk to (default $DFS_API, else ${DEFAULT_API})
  --json                print the API's JSON answer
  -h, --help            this help`;

/** Usage of each subcommand. */
export const COMMAND_USAGE: Readonly<Record<string, string>> = {
  serve: `usage: dfs [serve] [--listen HOST:PORT] [--data DIR] [--api HOST:PORT]
                 [--bootstrap ADDR,...] [--replication N] [--block-size BYTES] [--log-level LEVEL]
                 [--max-store BYTES] [--max-connections N] [--cluster-key-file PATH]

Starts a node and serves its HTTP API until SIGINT/SIGTERM.

  -l, --listen HOST:PORT   P2P address (default ${DEFAULT_LISTEN}; ":3000" means 127.0.0.1:3000)
  -d, --data DIR           data directory (default $DFS_DATA, else .dfs/<p2p port>)
      --api HOST:PORT      HTTP API address (default $DFS_API, else ${DEFAULT_API})
  -b, --bootstrap ADDR,... peers to join through (repeatable, comma-separated)
  -r, --replication N      copies of each file, the local one included (default: node's, 3)
      --block-size BYTES   block size for new files (e.g. 262144, 256KiB, 1MiB)
      --max-store BYTES    most bytes this node stores (e.g. 50GiB; default $DFS_MAX_STORE, else
                           no bound); past it puts fail and peers' blocks are refused
      --max-connections N  most peer connections open at once (default $DFS_MAX_CONNECTIONS,
                           else 64); idle ones are closed to make room
      --log-level LEVEL    node log on stderr: debug, info, warn, error (default $DFS_LOG, else warn)
      --cluster-key-file PATH
                           private cluster: only nodes with the same key file (its raw bytes,
                           16..1024) may connect (default $DFS_CLUSTER_KEY_FILE, else an open
                           cluster; make one: head -c 32 /dev/urandom > cluster.key)
  -h, --help               this help`,
  put: `usage: dfs put PATH|- [--name NAME] [--copies N] [--quiet] [--api URL] [--json]

Stores a file (or standard input with -) and prints its id.

  -n, --name NAME       also bind NAME to the file
  -c, --copies N        copies wanted (default: the node's replication)
  -q, --quiet           no progress bar
${CLIENT_OPTIONS}`,
  get: `usage: dfs get ID|NAME [-o PATH] [--quiet] [--api URL]

Writes a file to standard output, or to PATH (written to a temporary file, then renamed).

  -o, --output PATH     write to PATH instead of standard output
  -q, --quiet           no progress bar
${CLIENT_OPTIONS}`,
  rm: `usage: dfs rm ID|NAME [--api URL] [--json]

Deletes the local copy and tells the holders.

${CLIENT_OPTIONS}`,
  ls: `usage: dfs ls [--api URL] [--json]

Lists the files the node holds locally.

${CLIENT_OPTIONS}`,
  stat: `usage: dfs stat ID|NAME [--api URL] [--json]

Describes a file.

${CLIENT_OPTIONS}`,
  peers: `usage: dfs peers [--api URL] [--json]

Lists the node's peers, then its DHT routing table: contacts, buckets, open connections, and
contacts and replacements per bucket. --json prints { "peers": [...], "dht": {...} } ("dht" is
null when the node runs without a DHT).

${CLIENT_OPTIONS}`,
  status: `usage: dfs status [--api URL] [--json]

Shows the node's status, with its DHT figures (routing table size, lookups, provider and name
records, requests served) when it runs a DHT.

${CLIENT_OPTIONS}`,
};

/** Top-level usage. */
export const USAGE = `dfs — a peer-to-peer, content-addressed distributed file store

usage:
  dfs [serve] [--listen HOST:PORT] [--data DIR] [--api HOST:PORT] [--bootstrap ADDR,...]
  dfs put PATH|- [--name NAME]        store a file, print its id
  dfs get ID|NAME [-o PATH]           fetch a file to stdout or PATH
  dfs rm ID|NAME                      delete a file
  dfs ls                              list local files
  dfs stat ID|NAME                    describe a file
  dfs peers                           list peers and the DHT routing table
  dfs status                          node status
  dfs help [COMMAND]                  help on a command
  dfs --version

Client commands take --api URL|HOST:PORT (default $DFS_API, else ${DEFAULT_API}) and --json.
Exit codes: 0 ok, 1 error, 2 bad arguments, 3 not found, 4 node unreachable, 130 interrupted.`;
