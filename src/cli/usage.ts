/**
 * Usage text of the `dfs` command and of each subcommand.
 *
 * @module
 */

import { DEFAULT_API, DEFAULT_LISTEN } from "./address.ts";

const CLIENT_OPTIONS =
  `  --api URL|HOST:PORT   node API to talk to (default $DFS_API, else ${DEFAULT_API})
  --api-token-file FILE the node's API token (default $DFS_API_TOKEN_FILE; else, for a node on
                        this machine, DIR/api-token of --data DIR or $DFS_DATA, if there)
  --json                print the API's JSON answer
  -h, --help            this help`;

/** Usage of each subcommand. */
export const COMMAND_USAGE: Readonly<Record<string, string>> = {
  serve: `usage: dfs [serve] [--listen HOST:PORT] [--data DIR] [--api HOST:PORT]
                 [--bootstrap ADDR,...] [--replication N | --redundancy POLICY]
                 [--block-size BYTES] [--log-level LEVEL] [--max-store BYTES]
                 [--max-connections N] [--cluster-key-file PATH] [--drain]
                 [--api-token-file FILE] [--api-allow-host NAME] [--max-requests-per-peer N]
                 [--max-store-per-peer BYTES] [--max-connections-per-host N]
                 [--repair-interval SECONDS] [--repair-grace SECONDS] [--repair-rate MIB_PER_S]
                 [--no-repair] [--scrub-rate MIB_PER_S] [--gc-grace SECONDS]
                 [--tombstone-ttl DAYS] [--log-format text|json] [--config FILE]

Starts a node and serves its HTTP API until SIGINT/SIGTERM (or until "dfs drain").

  -l, --listen HOST:PORT   P2P address (default ${DEFAULT_LISTEN}; ":3000" means 127.0.0.1:3000)
  -d, --data DIR           data directory (default $DFS_DATA, else .dfs/<p2p port>)
      --api HOST:PORT      HTTP API address (default $DFS_API, else ${DEFAULT_API})
  -b, --bootstrap ADDR,... peers to join through (repeatable, comma-separated)
  -r, --replication N      copies of each file, the local one included (default: node's, 3)
  -R, --redundancy POLICY  default policy of a put: replicas:N, replicas:MIN-MAX or rs:K+M
                           (default $DFS_REDUNDANCY, else replicas:3)
      --block-size BYTES   block size for new files (e.g. 262144, 256KiB, 1MiB)
      --max-store BYTES    most bytes this node stores (e.g. 50GiB; default $DFS_MAX_STORE, else
                           no bound); past it puts fail and peers' blocks are refused
      --max-connections N  most peer connections open at once (default $DFS_MAX_CONNECTIONS,
                           else 64); idle ones are closed to make room
      --log-level LEVEL    node log on stderr: debug, info, warn, error (default $DFS_LOG_LEVEL
                           or $DFS_LOG, else warn)
      --log-format FORMAT  text (default) or json: one JSON object a line, with timestamp,
                           level, category (dfs.peer, dfs.store, ...), message and fields
  -c, --config FILE        config file (default $DFS_CONFIG, else DIR/dfs.json if it exists): a
                           JSON object whose keys are these long flags ("max-store": "50GiB")
      --cluster-key-file PATH
                           private cluster: only nodes with the same key file (its raw bytes,
                           16..1024) may connect (default $DFS_CLUSTER_KEY_FILE, else an open
                           cluster; make one: head -c 32 /dev/urandom > cluster.key)
      --insecure-plaintext peer traffic in clear (tests and benches only; printed loudly):
                           peer connections are Noise-encrypted by default
      --drain              on SIGTERM, hand this node's data off to other nodes before exiting
                           (a second signal stops without finishing)
  -h, --help               this help

Access and per-peer limits:
      --api-token-file FILE  API bearer token file (default $DFS_API_TOKEN_FILE). Given, the API
                           requires its token on any address; else only when --api is not
                           loopback, from DIR/api-token. A missing file is made (0600), and the
                           token printed once
      --api-allow-host NAME  another host name the API answers to (repeatable, comma-separated;
                           default $DFS_API_ALLOW_HOST): on loopback it takes only requests
                           addressed to localhost or 127.x/[::1] (against DNS rebinding), and
                           browsers' requests only from its own origin. Use a reverse proxy's name
      --max-requests-per-peer N
                           requests per second one peer connection may send, burst 2 s; more
                           are answered LIMIT (default 5000)
      --max-store-per-peer BYTES
                           bytes of new blocks accepted from one peer, kept across restarts
                           (e.g. 10GiB; default $DFS_MAX_STORE_PER_PEER, else no bound)
      --max-connections-per-host N
                           connections one remote host may hold; loopback exempt (default 8)

Durability (repair, scrubbing, garbage collection, tombstones):
      --repair-interval SECONDS  time between two repair checks of a file (default 600)
      --repair-grace SECONDS     how long a copy or shard must stay unreachable before repair
                                 re-creates it (default 900)
      --repair-rate MIB_PER_S    most MiB/s repair pushes to other nodes (default 32)
      --no-repair                no repair loop (scrubbing, gc and --drain still work)
      --scrub-rate MIB_PER_S     MiB/s the scrubber re-verifies stored blocks; 0 = off (default 16)
      --gc-grace SECONDS         how long a block no file refers to is kept (default 3600)
      --tombstone-ttl DAYS       how long a delete's tombstone is kept and honoured (default 30)

Every option is also read from $DFS_<NAME> (--max-store: $DFS_MAX_STORE) and from the config
file; flags win over the environment, which wins over the file. "dfs config" shows the result.`,
  config: `usage: dfs config [serve's options] [--json]

Prints the configuration "serve" would run with, given the same options, environment and config
file: every setting, its value, and where it came from (default, file PATH, env NAME, flag).
A bad value or an unknown key in the file is the error "serve" would stop on.

  --json      print it as JSON: {"file": PATH|null, "settings": {KEY: {value, default, source, from}}}
  -h, --help  this help`,
  put: `usage: dfs put PATH|- [--public | --convergent] [--name NAME [--share-key]]
               [--copies N | --redundancy POLICY] [--quiet] [--api URL] [--json]

Stores a file (or standard input with -), encrypted under a fresh key, and prints its read
capability dfs:r:ID:KEY: the one string that reads it (holders see only ciphertext).

      --public          store it unencrypted (content meant to be shared); prints its id
      --convergent      key derived from the content: the same file gives the same key and
                        shares its stored blocks (through one node, the same capability), but
                        anyone with the same file can confirm you stored it; needs a PATH
                        (the file is read twice)
  -n, --name NAME       also bind NAME to the file (names are public: NAME gives the id only)
      --share-key       with --name: NAME gives the capability, so anyone can read the file
  -c, --copies N        copies wanted: short for --redundancy replicas:N
  -R, --redundancy POLICY
                        replicas:N, replicas:MIN-MAX (place MAX, repair below MIN) or rs:K+M
                        (Reed-Solomon: K data + M parity shards per stripe, survives M losses);
                        default: the node's
  -q, --quiet           no progress bar
${CLIENT_OPTIONS}`,
  get: `usage: dfs get ID|NAME|CAPABILITY [-o PATH] [--quiet] [--api URL]

Writes a file to standard output, or to PATH (written to a temporary file, then renamed). An
encrypted file needs its capability (dfs:r:ID:KEY); it is decrypted and verified.

  -o, --output PATH     write to PATH instead of standard output
  -q, --quiet           no progress bar
${CLIENT_OPTIONS}`,
  rm: `usage: dfs rm ID|NAME [--api URL] [--json]

Deletes the local copy and tells the holders; the delete's tombstone, kept by the node and the
holders, stops repair and returning nodes from bringing the file back.

${CLIENT_OPTIONS}`,
  ls: `usage: dfs ls [--api URL] [--json]

Lists the files the node holds locally.

${CLIENT_OPTIONS}`,
  stat: `usage: dfs stat ID|NAME [--no-health] [--api URL] [--json]

Describes a file: size, blocks, redundancy policy (and stripes), whether it is local, and, from a
check of its holders, its health (healthy, degraded, at risk, lost), live copies or shards per
stripe against the target, holders (and their shard columns), unreachable nodes, and when it was
deleted.

      --no-health       skip the check of the holders (the manifests only)
${CLIENT_OPTIONS}`,
  peers: `usage: dfs peers [--api URL] [--json]

Lists the node's peers, then its DHT routing table: contacts, buckets, open connections, and
contacts and replacements per bucket. --json prints { "peers": [...], "dht": {...} } ("dht" is
null when the node runs without a DHT).

${CLIENT_OPTIONS}`,
  status: `usage: dfs status [--api URL] [--json]

Shows the node's status: its repair queue and what repair, the scrubber and garbage collection
did, tombstones held, and its DHT figures (routing table size, lookups, provider and name
records, requests served) when it runs a DHT.

${CLIENT_OPTIONS}`,
  drain: `usage: dfs drain [--api URL] [--json]

Asks the node to hand its data off to other nodes (copies, or its shard columns, re-created
elsewhere) and prints what it did; a node run by "dfs serve" then stops. Exit 1 when some file
could not be handed off.

${CLIENT_OPTIONS}`,
};

/** Top-level usage. */
export const USAGE = `dfs — a peer-to-peer, content-addressed distributed file store

usage:
  dfs [serve] [--listen HOST:PORT] [--data DIR] [--api HOST:PORT] [--bootstrap ADDR,...]
  dfs put PATH|- [--public]           store a file encrypted, print its capability (or id)
  dfs get ID|NAME|CAP [-o PATH]       fetch a file to stdout or PATH
  dfs rm ID|NAME                      delete a file
  dfs ls                              list local files
  dfs stat ID|NAME [--no-health]      describe a file and its health
  dfs peers                           list peers and the DHT routing table
  dfs status                          node status: repair, scrub, gc, DHT
  dfs drain                           hand the node's data off, then stop it
  dfs config [serve's options]        the configuration serve would run with, and its sources
  dfs help [COMMAND]                  help on a command
  dfs --version

Client commands take --api URL|HOST:PORT (default $DFS_API, else ${DEFAULT_API}) and --json.
Exit codes: 0 ok, 1 error, 2 bad arguments, 3 not found, 4 node unreachable, 130 interrupted.`;
