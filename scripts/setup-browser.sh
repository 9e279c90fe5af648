#!/usr/bin/env bash
# Installs what the headless-browser tests (tests/browser.rs, tests/admin_ui.rs) need: Debian's chromium (apt, only
# when /usr/bin/chromium is missing and CHROMIUM names no browser) and playwright-core (npm ci
# in tests/browser). Safe to run repeatedly; called by scripts/setup-interop.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${CHROMIUM:-}" ] && [ -x "$CHROMIUM" ]; then
  echo "==> chromium: $CHROMIUM (from CHROMIUM)"
elif [ -x /usr/bin/chromium ]; then
  echo "==> chromium: /usr/bin/chromium"
else
  echo "==> apt: chromium"
  command -v apt-get >/dev/null || { echo "no /usr/bin/chromium and no apt-get: install Chromium and set CHROMIUM" >&2; exit 1; }
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

echo "==> npm: tests/browser (playwright-core, @socket.io/admin-ui, socket.io-client)"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
