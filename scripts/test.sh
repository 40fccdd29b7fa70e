#!/usr/bin/env bash
# Runs tributary's whole test suite. Installs what the tests drive besides tributary itself:
# newsboat (Debian) and feedparser (PyPI, in a venv under target/), the real clients the merged
# feed is checked against; chromium (Debian), the browser the web pages are tested in; promtool
# and systemd-analyze (Debian), the checkers of /metrics and of the service unit; PostgreSQL's
# server (Debian), the second store backend. Safe to run again: installs are skipped when
# already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# The binary's allocator (jemalloc) is built from C with make, beside the bundled SQLite's cc.
if ! command -v make >/dev/null 2>&1; then
  echo "installing make (Debian package, to build jemalloc)..." >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq make >/dev/null
fi

if ! command -v newsboat >/dev/null 2>&1; then
  echo "installing newsboat (Debian package)..." >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq newsboat >/dev/null
fi

# promtool (Debian package prometheus) checks /metrics in tests/it/service.rs; systemd-analyze
# (package systemd) checks dist/systemd/tributary.service in .ci/run.
for tool in promtool:prometheus systemd-analyze:systemd; do
  if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
    echo "installing ${tool#*:} (Debian package, for ${tool%%:*})..." >&2
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${tool#*:}" >/dev/null
  fi
done
# chromium (Debian package) loads the river, topic and sources pages in tests/it/browser.rs.
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian package, for the browser tests)..." >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
# prlimit starts the daemon with an open-file limit of 1024 (tests/it/serve_limits.rs).
if ! command -v prlimit >/dev/null 2>&1; then
  echo "installing util-linux (prlimit)..." >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq util-linux >/dev/null
fi

# PostgreSQL (Debian package postgresql): the store tests and the end-to-end tests run against
# both backends; the tests start a throw-away cluster themselves (src/store/test_cluster.rs),
# as the postgres user when run as root, so only the server's binaries are needed here.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing postgresql (Debian package, for the PostgreSQL store tests)..." >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

venv=target/test-venv
if ! "$venv/bin/python" -c "import feedparser" >/dev/null 2>&1; then
  echo "installing feedparser into $venv..." >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q feedparser
fi
export TRIBUTARY_TEST_PYTHON="$PWD/$venv/bin/python"

cargo test --all-targets "$@"
