#!/usr/bin/env sh
# Debian packages some tests drive (the README's test command and .ci/run call this first):
#   clang-19 lld-19   the wasm kernel's build check        gcc libisal-dev  the ISA-L cross-check
#   prometheus        promtool and a real scrape            chromium         the dashboard's browser tests
#   iproute2 nftables the network-namespace test bed
# As root with apt-get, the missing ones are installed (once; about two minutes). Otherwise the
# missing ones are listed with the command that installs them: the tests that need them then
# fail (the browser tests) or say loudly that they did not run.
set -u
PACKAGES="clang-19 lld-19 gcc libisal-dev prometheus chromium iproute2 nftables"
missing=""
for pkg in $PACKAGES; do
  dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "system packages: installing$missing"
  # shellcheck disable=SC2086 # one word per package
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; then
    exit 0
  fi
  echo "!!! system packages: apt-get could not install$missing"
else
  echo "!!! system packages missing:$missing"
  echo "!!! install them with: sudo apt-get install -y --no-install-recommends$missing"
fi
echo "!!! tests that need them fail or report loudly that they did not run"
exit 0
