#!/bin/sh
# One sitting of the issue 12 benches on Deno, Bun and Node, one after another, each under the
# bench lock, with the load average before each command. Output: one log with every table.
#
#     sh bench/sitting.sh [LOG] [SIZE_PUT] [SIZE_GET]
#
# Defaults: LOG bench-sitting.log in the working directory, 128M puts, 256M remote gets. Run it
# from the repository root on a quiet machine; it takes 5-10 minutes (the first peers run installs
# Helia and Hyperdrive into $SCRATCH).
set -eu
LOG=${1:-bench-sitting.log}
PUT=${2:-128M}
GET=${3:-256M}
export PATH="$(pwd)/node_modules/.bin:$PATH"
: > "$LOG"
run() {
  echo "## $*" | tee -a "$LOG"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$LOG"
  flock /tmp/dfs-bench.lock "$@" 2>&1 | tee -a "$LOG"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$LOG"
}
run deno run -A bench/digest_cpu.ts 1024
for rt in deno bun node; do
  run deno run -A bench/put_bench.ts --size "$PUT" --runtime "$rt" --runs 3
  run deno run -A bench/e2e_bench.ts --size "$GET" --durability none --runtime "$rt" --runs 3
done
run deno run -A bench/peers_bench.ts --sizes 16,64,256 --runs 3
