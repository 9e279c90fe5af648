#!/usr/bin/env bash
# Runs every scenario against every server, one server at a time, the server pinned to core 0
# and the load generator to core 1, and writes bench/RESULTS.md: medians of REPS runs per
# scenario and server, ours / each peer, and the server CPU time per operation.
#
#   bench/run.sh                          # the full run (about 10 minutes on 2 cores)
#   REPS=1 ECHO_SECS=3 BROADCAST_SECS=3 SERVERS="ours socketioxide" bench/run.sh   # a quick look
#   SCENARIOS=broadcast-redis SERVERS="ours socketioxide" OUT=/tmp/r.md bench/run.sh   # one scenario
#
# broadcast-redis (ours and socketioxide only) runs two nodes of one server on one Redis
# ($REDIS_URL, a fresh channel key per run), both pinned to core 0, on $PORT and $PORT2: the
# receivers are on the second node, the emitter on the first.
#
# Every load generator run is bounded (its own limits, and `timeout` around it); all traffic is
# on 127.0.0.1. Nothing else should run meanwhile: the machine has 2 cores and the numbers are
# only comparable when both are free.
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-5}
ECHO_CLIENTS=${ECHO_CLIENTS:-50}
ECHO_SECS=${ECHO_SECS:-6}
WARMUP_SECS=${WARMUP_SECS:-1}
BROADCAST_RECEIVERS=${BROADCAST_RECEIVERS:-200}
BROADCAST_SECS=${BROADCAST_SECS:-6}
BROADCAST_WINDOW=${BROADCAST_WINDOW:-20}
CONNECT_COUNT=${CONNECT_COUNT:-5000}
CONNECT_CONCURRENCY=${CONNECT_CONCURRENCY:-50}
IDLE_COUNTS=${IDLE_COUNTS:-"1000 10000"}
PORT=${PORT:-3190}
PORT2=${PORT2:-$((PORT + 1))}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
# the servers that have a Redis adapter mode (REDIS_URL / REDIS_KEY in their binaries)
REDIS_SERVERS=${REDIS_SERVERS:-"ours socketioxide"}
SCENARIOS=${SCENARIOS:-"echo broadcast connect broadcast-redis idle"}
SERVERS=${SERVERS:-"ours socketioxide node python bare-ws"}
OUT=${OUT:-bench/RESULTS.md}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}

# 10 000 idle connections need as many descriptors in the server and in the load generator.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10100 ]; then
  echo "warning: ulimit -n is $(ulimit -n); the 10 000-connection idle run may fail" >&2
fi

echo "building (release)..." >&2
cargo build --release --locked -p socketio-bench --quiet
if [[ " $SERVERS " == *" node "* ]] && [ ! -d bench/node/node_modules ]; then
  (cd bench/node && npm ci --no-audit --no-fund --loglevel=error)
fi
if [[ " $SERVERS " == *" python "* ]] && [ ! -x bench/python/.venv/bin/python ]; then
  python3 -m venv bench/python/.venv
  bench/python/.venv/bin/pip install --quiet -r bench/python/requirements.txt
fi

bin=target/release
work=target/bench
mkdir -p "$work"
results="$work/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
: > "$results"
started=$(date +%s)

# Share of the machine's CPU time used over 2 s by anything (should be ~0 before a run).
busy_share() {
  local a b
  a=$(head -n 1 /proc/stat)
  sleep 2
  b=$(head -n 1 /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {
    split(a, x); split(b, y); total = 0; idle = 0
    for (i = 2; i <= 9; i++) total += y[i] - x[i]
    idle = (y[5] - x[5]) + (y[6] - x[6])
    printf "%.0f%%", total ? 100 * (total - idle) / total : 0
  }'
}

server_pid=     # the last server started
server_pids=()  # every server running
stop_server() {
  local pid
  for pid in "${server_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  server_pids=()
  server_pid=
}
trap stop_server EXIT

# start_server KIND [PORT]: one more server process (the environment, REDIS_URL and REDIS_KEY
# included, is passed on).
start_server() {
  local port=${2:-$PORT}
  case "$1" in
    ours) taskset -c "$SERVER_CPU" "$bin/server-ours" "$port" & ;;
    socketioxide) taskset -c "$SERVER_CPU" "$bin/server-socketioxide" "$port" & ;;
    bare-ws) taskset -c "$SERVER_CPU" "$bin/server-bare-ws" "$port" & ;;
    node) taskset -c "$SERVER_CPU" node bench/node/server.js "$port" & ;;
    python) taskset -c "$SERVER_CPU" bench/python/.venv/bin/python bench/python/server.py "$port" & ;;
    *) echo "unknown server $1" >&2; exit 2 ;;
  esac
  server_pid=$!  # taskset execs the server: this is the server's own pid
  server_pids+=("$server_pid")
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      sleep 0.2
      return
    fi
    sleep 0.05
  done
  echo "server $1 did not start on port $port" >&2
  exit 1
}

# wants SCENARIO: whether SCENARIOS includes it
wants() { [[ " $SCENARIOS " == *" $1 "* ]]; }

# broadcast_redis SERVER: two nodes of SERVER on one Redis (a key of their own), the receivers
# on node B ($PORT2), the emitter on node A ($PORT); both nodes' CPU time is measured.
broadcast_redis() {
  local server=$1 key pid_a
  key="bench-$$-$(date +%s%N)"
  REDIS_URL="$REDIS_URL" REDIS_KEY="$key" start_server "$server" "$PORT"
  pid_a=$server_pid
  REDIS_URL="$REDIS_URL" REDIS_KEY="$key" start_server "$server" "$PORT2"
  sleep 0.3  # both nodes subscribed before the first broadcast
  server_pid=$pid_a
  load "$server" broadcast "receivers=$BROADCAST_RECEIVERS" \
    "secs=$BROADCAST_SECS" "window=$BROADCAST_WINDOW" "receivers_port=$PORT2" \
    "pid2=${server_pids[1]}" "name=broadcast-redis"
  stop_server
}

# load SERVER SCENARIO ARGS...: one bounded load generator run, its JSON line tagged with the
# server; a failed run is recorded as such and the suite goes on.
load() {
  local server=$1 scenario=$2 line
  shift 2
  if line=$(timeout 300 taskset -c "$LOADGEN_CPU" "$bin/loadgen" "$scenario" "port=$PORT" \
      "pid=$server_pid" "$@" 2>>"$work/loadgen.err" | tail -n 1) && [ -n "$line" ]; then
    echo "$server $line" >> "$results"
  else
    echo "$server {\"scenario\":\"$scenario\",\"failed\":true}" >> "$results"
    echo "  $scenario failed against $server (see $work/loadgen.err)" >&2
  fi
}

{
  printf 'params {"reps":%s,"echo_clients":%s,"echo_secs":%s,"warmup_secs":%s,' \
    "$REPS" "$ECHO_CLIENTS" "$ECHO_SECS" "$WARMUP_SECS"
  printf '"broadcast_receivers":%s,"broadcast_secs":%s,"broadcast_window":%s,' \
    "$BROADCAST_RECEIVERS" "$BROADCAST_SECS" "$BROADCAST_WINDOW"
  printf '"connect_count":%s,"connect_concurrency":%s,"idle_counts":"%s",' \
    "$CONNECT_COUNT" "$CONNECT_CONCURRENCY" "$IDLE_COUNTS"
  printf '"redis_servers":"%s","scenarios":"%s",' "$REDIS_SERVERS" "$SCENARIOS"
  printf '"loadavg_before":"%s","busy_before":"%s"}\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(busy_share)"
} >> "$results"

# Repetitions go round the servers (ours, socketioxide, ..., ours, socketioxide, ...), so a
# slow drift of the machine's speed touches every server alike instead of one of them.
for rep in $(seq "$REPS"); do
  for server in $SERVERS; do
    echo "round $rep/$REPS: $server..." >&2
    if wants echo || wants broadcast || wants connect; then
      start_server "$server"
      if wants echo; then
        load "$server" echo "clients=$ECHO_CLIENTS" "secs=$ECHO_SECS" "warmup=$WARMUP_SECS"
      fi
      if wants broadcast; then
        load "$server" broadcast "receivers=$BROADCAST_RECEIVERS" "secs=$BROADCAST_SECS" \
          "window=$BROADCAST_WINDOW"
      fi
      if wants connect; then
        load "$server" connect "count=$CONNECT_COUNT" "concurrency=$CONNECT_CONCURRENCY"
      fi
      stop_server
    fi
    if wants broadcast-redis && [[ " $REDIS_SERVERS " == *" $server "* ]]; then
      broadcast_redis "$server"
    fi
  done
done
for server in $SERVERS; do
  wants idle || break
  echo "idle: $server..." >&2
  for n in $IDLE_COUNTS; do
    start_server "$server"   # a fresh process: RSS before is the idle server's
    load "$server" idle "count=$n"
    stop_server
  done
done

echo "total: $(( $(date +%s) - started )) s; raw results in $results" >&2
python3 bench/report.py "$results" > "$OUT"
cat "$OUT"
