#!/usr/bin/env bash
# Installs the real clients the interop tests drive: socket.io-client (npm), python-socketio
# (pip, in a venv) and, for the example chat's browser test, Chromium with playwright-core
# (scripts/setup-browser.sh). Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null || { echo "node is required for the JS interop tests" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required for the Python interop tests" >&2; exit 1; }

echo "==> npm: tests/interop/js"
(cd tests/interop/js && npm ci --no-audit --no-fund --loglevel=error)

echo "==> npm: tests/interop/node-cluster (socket.io + @socket.io/redis-adapter/-emitter)"; (cd tests/interop/node-cluster && npm ci --no-audit --no-fund --loglevel=error)
echo "==> npm: tests/interop/node-postgres (socket.io + @socket.io/postgres-adapter/-emitter)"; (cd tests/interop/node-postgres && npm ci --no-audit --no-fund --loglevel=error)
echo "==> npm: tests/interop/node-streams (socket.io + @socket.io/redis-streams-adapter)"; (cd tests/interop/node-streams && npm ci --no-audit --no-fund --loglevel=error)

echo "==> npm: tests/typescript (typescript + socket.io-client, for the tsc proof of the generated .d.ts)"
(cd tests/typescript && npm ci --no-audit --no-fund --loglevel=error)

echo "==> the headless-browser tests: the example chat and the admin UI (chromium, tests/browser)"
scripts/setup-browser.sh

echo "==> pip: tests/interop/python/.venv"
venv=tests/interop/python/.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/interop/python/requirements.txt

echo "==> npm: tests/interop/js-legacy (socket.io-client 2.x)"
(cd tests/interop/js-legacy && npm ci --no-audit --no-fund --loglevel=error)

echo "==> pip: tests/interop/python-legacy/.venv (python-socketio 4.x)"
legacy=tests/interop/python-legacy/.venv
[ -x "$legacy/bin/python" ] || python3 -m venv "$legacy"
"$legacy/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/interop/python-legacy/requirements.txt

echo "==> npm: tests/protocol-suites (the official Engine.IO and Socket.IO protocol test suites)"
(cd tests/protocol-suites/engine.io && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/protocol-suites/socket.io && npm ci --no-audit --no-fund --loglevel=error)

