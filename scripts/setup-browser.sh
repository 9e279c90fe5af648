#!/usr/bin/env bash
# Installs what the headless-browser tests need: Debian's chromium (apt, when /usr/bin/chromium
# or $CHROMIUM is missing; sudo only when not root) and the npm packages of tests/browser
# (playwright-core, @socket.io/admin-ui's built UI, socket.io-client). Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${CHROMIUM:-}" ] && ! [ -x /usr/bin/chromium ]; then
  echo "==> apt: chromium"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
fi

echo "==> npm: tests/browser (playwright-core, @socket.io/admin-ui, socket.io-client)"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
