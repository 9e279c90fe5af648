#!/usr/bin/env bash
# Runs the interop client scripts against the reference server (Node's official socket.io v4,
# js/reference-server.mjs) to prove that every expectation they encode is what real socket.io
# does. Exit status is non-zero if any scenario of any client run failed.
#
# Usage: tests/interop/run-against-reference.sh
# Env:   PYTHON   python interpreter with requirements.txt installed
#                 (default: python/.venv/bin/python, created on first use)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

# --- dependencies (installed only when missing) ---------------------------------------------
if [ ! -d js/node_modules/socket.io ] || [ ! -d js/node_modules/socket.io-client ]; then
  echo "installing js deps (npm ci)" >&2
  (cd js && npm ci --no-audit --no-fund >&2) || { echo "npm ci failed" >&2; exit 2; }
fi
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  PYTHON="$HERE/python/.venv/bin/python"
  if [ ! -x "$PYTHON" ] || ! "$PYTHON" -c 'import socketio, aiohttp, requests, websocket' 2>/dev/null; then
    echo "creating python venv (python/.venv)" >&2
    python3 -m venv python/.venv >&2 \
      && python/.venv/bin/pip install -q -r python/requirements.txt >&2 \
      || { echo "python venv setup failed" >&2; exit 2; }
  fi
fi

# --- reference server -----------------------------------------------------------------------
TMP="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

node js/reference-server.mjs >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 100); do
  PORT="$(sed -n 's/^LISTENING \([0-9][0-9]*\)$/\1/p' "$TMP/server.out" | head -n1)"
  [ -n "$PORT" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$PORT" ]; then
  echo "reference server did not start" >&2
  cat "$TMP/server.err" >&2
  exit 2
fi
BASE="http://127.0.0.1:$PORT"
echo "reference server (node socket.io) listening on $BASE"

# --- clients --------------------------------------------------------------------------------
TOTAL_PASSED=0
TOTAL_FAILED=0
RUNS_FAILED=0

run() {
  local label="$1"; shift
  echo "== $label"
  timeout -k 5 150 "$@" >"$TMP/run.out" 2>"$TMP/run.err"
  local rc=$?
  cat "$TMP/run.out"
  local summary p f
  summary="$(grep -E ': [0-9]+ passed, [0-9]+ failed$' "$TMP/run.out" | tail -n1)"
  if [ -n "$summary" ]; then
    p="$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/' <<<"$summary")"
    f="$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/' <<<"$summary")"
  else
    p=0; f=1
    echo "FAIL $label: no summary line (exit $rc)"
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "FAIL $label: exit status $rc"; fi
  if [ "$rc" -ne 0 ] && [ -s "$TMP/run.err" ]; then
    echo "-- stderr ($label):"; tail -n 30 "$TMP/run.err"
  fi
  TOTAL_PASSED=$((TOTAL_PASSED + p))
  TOTAL_FAILED=$((TOTAL_FAILED + f))
  [ "$rc" -ne 0 ] && RUNS_FAILED=$((RUNS_FAILED + 1))
  return 0
}

for mode in polling websocket upgrade; do
  run "js $mode" node js/client.mjs "$BASE" "$mode"
done
for kind in sync async; do
  for mode in polling websocket upgrade; do
    run "python-$kind $mode" "$PYTHON" python/client.py "$BASE" "$mode" "$kind"
  done
done

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "FAIL reference server died during the run"; cat "$TMP/server.err"
  TOTAL_FAILED=$((TOTAL_FAILED + 1))
fi

echo "interop-reference: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_FAILED" -eq 0 ] && [ "$RUNS_FAILED" -eq 0 ]
