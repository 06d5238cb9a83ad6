/**
 * Debian's Chromium for the browser tests, driven by `playwright-core`: where it is
 * (`/usr/bin/chromium`, or `$DFS_CHROMIUM`), the flags it needs on this closed network, and a
 * failure (never a skip) with how to install it when it is missing.
 */
import { type Browser, chromium } from "playwright-core";

/** The Chromium binary the tests drive. */
const CHROMIUM: string = Deno.env.get("DFS_CHROMIUM") ?? "/usr/bin/chromium";

/** The flags Chromium needs on this closed network (see the env notes). */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Throws, with how to install it, when there is no Chromium to drive (`what` needs it). */
export function requireChromium(what: string): void {
  try {
    if (Deno.statSync(CHROMIUM).isFile) return;
  } catch {
    // reported below
  }
  const ci = Deno.env.get("DFS_REQUIRE_CHROMIUM") === "1"
    ? " (DFS_REQUIRE_CHROMIUM=1: .ci/run should have installed it in its toolchain step)"
    : "";
  throw new Error(
    `${what} needs Chromium at ${CHROMIUM}, which is missing${ci}. ` +
      "Install Debian's package: apt-get install -y --no-install-recommends chromium " +
      "(or point DFS_CHROMIUM at a Chromium binary). This test does not skip.",
  );
}

/** Launches headless Chromium with the flags above and `extraArgs` (bounded: 60 s). */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 60_000,
  });
}
