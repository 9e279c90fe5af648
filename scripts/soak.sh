#!/usr/bin/env bash
# Soak with churn (issue #16 item 2): builds `soak-server` and the `soak` load generator
# (bench/src/bin), starts the server and runs thousands of clients against it for [seconds]
# (default 600) after a warm-up run, then checks that sessions, sockets, rooms, tokio tasks and
# RSS went back to the idle baseline and that no ack or broadcast was lost. Prints one JSON line
# per run, a summary and PASS/FAIL (exit status 1 on FAIL).
#
#   scripts/soak.sh [seconds] [soak options: warmup=S concurrency=N stable=N rss_growth_pct=P]
#
# SOAK_PROFILE=debug builds without optimizations (what CI runs, for the build time);
# SOAK_PORT (default 3391) is the server's port; RUST_LOG=socketio_core=debug makes the server
# log why each session ended (to stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
port=${SOAK_PORT:-3391}
target=${CARGO_TARGET_DIR:-target}
if [ "${SOAK_PROFILE:-release}" = debug ]; then
  cargo build --locked -p socketio-bench --bin soak --bin soak-server
  bin="$target/debug"
else
  cargo build --release --locked -p socketio-bench --bin soak --bin soak-server
  bin="$target/release"
fi
"$bin/soak-server" "$port" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
echo "soak: server pid $server on port $port, $secs s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/soak" "port=$port" "secs=$secs" "$@"
kill -0 "$server" 2>/dev/null || { echo "soak: the server died" >&2; exit 1; }
echo "soak: load average after $(cut -d' ' -f1-3 /proc/loadavg)"
