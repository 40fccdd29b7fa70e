#!/usr/bin/env bash
# Checks dist/systemd/tributary.service with systemd's own tools (Debian's systemd package):
# `systemd-analyze verify` (syntax, directives, executables) and `systemd-analyze security`
# (exposure score; fails above 2.0, the README records the current score).
# The unit names /usr/local/bin/tributary, where the README installs it; here a copy of the unit
# points at the freshly built binary instead, so the check needs no install and no root.
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:-$PWD/target/debug/tributary}"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "installing systemd (Debian package, for systemd-analyze)..." >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi
[ -x "$binary" ] || { echo "verify.sh: build tributary first ($binary missing)" >&2; exit 1; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
sed "s|/usr/local/bin/tributary|$binary|" dist/systemd/tributary.service >"$scratch/tributary.service"
systemd-analyze verify "$scratch/tributary.service"
systemd-analyze security --offline=yes --threshold=20 "$scratch/tributary.service" | tail -n 1
