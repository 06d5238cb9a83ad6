/**
 * The delaying relay of the network test bed: a user-space process in the hub namespace that
 * opens a TUN device, reads every IPv4 packet the hub routes into it, holds the packet for the
 * one-way delay of its link (from the last octets of its source and destination addresses) and
 * writes it back, after which the kernel forwards it on to its destination host. It stands in
 * for `tc netem delay`, which this kernel lacks (docs/netbed.md). Random loss and partitions are
 * nftables rules in the hub, not done here.
 *
 * Run by `netbed.ts` (Deno, `--allow-ffi`, as root in the hub namespace):
 *
 * ```sh
 * ip netns exec HUB deno run -A tests/netbed/delay_relay.ts --tun tun0 \
 *   --delay 1-2=35 --delay 1-3=70 --default-delay 50 [--max-queue-bytes 67108864]
 * ```
 *
 * `--delay A-B=MS` sets the delay of the link between hosts `A` and `B` (last octets of their
 * addresses), both directions. Prints `ready` on stdout once the device exists (the caller then
 * brings it up and routes through it), and `stats {...}` on stderr when it gets SIGTERM.
 * Packets over `--max-queue-bytes` held at once are dropped (a router's full buffer).
 *
 * libc is reached through Deno's FFI: `open`, `ioctl(TUNSETIFF)`, `fcntl(O_NONBLOCK)`, a `poll`
 * run off the main thread (`nonblocking`), then batches of `read`, and `write`.
 *
 * @module
 */

const args = Deno.args;
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

const tunName = flag("tun") ?? "tun0";
const defaultDelay = Number(flag("default-delay") ?? "0");
const maxQueueBytes = Number(flag("max-queue-bytes") ?? String(64 * 1024 * 1024));
/** One-way delay in ms by `min(a, b) * 256 + max(a, b)` of the hosts' last octets. */
const delays = new Map<number, number>();
for (let i = 0; i < args.length; i++) {
  if (args[i] !== "--delay") continue;
  const m = /^(\d+)-(\d+)=(\d+(?:\.\d+)?)$/.exec(args[i + 1] ?? "");
  if (!m) {
    console.error(`delay_relay: bad --delay ${args[i + 1]} (want A-B=MS)`);
    Deno.exit(2);
  }
  const a = Number(m[1]), b = Number(m[2]);
  delays.set(Math.min(a, b) * 256 + Math.max(a, b), Number(m[3]));
}

const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
});

const O_RDWR = 2;
const O_NONBLOCK = 0o4000;
const F_GETFL = 3;
const F_SETFL = 4;
const POLLIN = 1;
const TUNSETIFF = 0x400454can;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;

const fd = libc.symbols.open(new TextEncoder().encode("/dev/net/tun\0"), O_RDWR);
if (fd < 0) {
  console.error("delay_relay: cannot open /dev/net/tun");
  Deno.exit(1);
}
const ifreq = new Uint8Array(40); // struct ifreq: char ifr_name[16]; short ifr_flags; ...
ifreq.set(new TextEncoder().encode(tunName).subarray(0, 15));
new DataView(ifreq.buffer).setUint16(16, IFF_TUN | IFF_NO_PI, true);
if (libc.symbols.ioctl(fd, TUNSETIFF, ifreq) !== 0) {
  console.error(`delay_relay: TUNSETIFF ${tunName} failed`);
  Deno.exit(1);
}

// Non-blocking reads: one poll (off the main thread) then a batch of reads until the device is
// empty, so a burst of packets costs one thread hop, not one per packet.
libc.symbols.fcntl(fd, F_SETFL, libc.symbols.fcntl(fd, F_GETFL, 0) | O_NONBLOCK);

interface Held {
  readonly due: number;
  readonly packet: Uint8Array;
}

/**
 * One FIFO per distinct delay: packets enter in arrival order and all wait the same time, so
 * each queue is ordered by due time and the next packet out is the earliest head.
 */
const queues = new Map<number, { items: Held[]; head: number }>();
let heldBytes = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let timerDue = Infinity;
const stats = { packets: 0, bytes: 0, dropped: 0, late: 0, maxLateMs: 0 };

function delayOf(packet: Uint8Array): number {
  if (packet.length < 20 || packet[0] >> 4 !== 4) return defaultDelay;
  const a = packet[15], b = packet[19]; // last octets of source and destination
  return delays.get(Math.min(a, b) * 256 + Math.max(a, b)) ?? defaultDelay;
}

function flush(): void {
  timer = undefined;
  timerDue = Infinity;
  const now = performance.now();
  for (const q of queues.values()) {
    while (q.head < q.items.length && q.items[q.head].due <= now + 0.25) {
      const { due, packet } = q.items[q.head++];
      const late = now - due;
      if (late > 2) stats.late++;
      if (late > stats.maxLateMs) stats.maxLateMs = late;
      heldBytes -= packet.length;
      libc.symbols.write(fd, packet, BigInt(packet.length));
    }
    if (q.head > 1024 && q.head * 2 > q.items.length) {
      q.items = q.items.slice(q.head);
      q.head = 0;
    }
  }
  schedule();
}

function schedule(): void {
  let next = Infinity;
  for (const q of queues.values()) {
    if (q.head < q.items.length) next = Math.min(next, q.items[q.head].due);
  }
  if (next === Infinity || next >= timerDue) return;
  if (timer !== undefined) clearTimeout(timer);
  timerDue = next;
  timer = setTimeout(flush, Math.max(0, next - performance.now()));
}

Deno.addSignalListener("SIGTERM", () => {
  console.error(`stats ${JSON.stringify(stats)}`);
  Deno.exit(0);
});

console.log("ready");

const buf = new Uint8Array(65_536);
const pollfd = new Uint8Array(8); // struct pollfd { int fd; short events; short revents; }
new DataView(pollfd.buffer).setInt32(0, fd, true);
new DataView(pollfd.buffer).setInt16(4, POLLIN, true);
/** Most packets read in one batch before the timers get a turn. */
const BATCH = 256;
let failures = 0;
// The process lives until its caller kills it (or the device keeps failing).
while (failures < 100) {
  const ready = await libc.symbols.poll(pollfd, 1n, 1000);
  if (ready < 0) {
    failures++;
    continue;
  }
  failures = 0;
  for (let k = 0; k < BATCH; k++) {
    const n = Number(libc.symbols.read(fd, buf, BigInt(buf.length)));
    if (n <= 0) break; // EAGAIN: the device is empty
    take(buf.slice(0, n));
  }
}
console.error("delay_relay: polling the TUN device keeps failing");
Deno.exit(1);

function take(packet: Uint8Array): void {
  const n = packet.length;
  stats.packets++;
  stats.bytes += n;
  if (heldBytes + n > maxQueueBytes) {
    stats.dropped++;
    return;
  }
  const delay = delayOf(packet);
  let q = queues.get(delay);
  if (!q) queues.set(delay, q = { items: [], head: 0 });
  q.items.push({ due: performance.now() + delay, packet });
  heldBytes += n;
  schedule();
}
