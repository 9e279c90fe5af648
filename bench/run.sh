#!/usr/bin/env bash
# Runs every scenario against every server, one server at a time, the server pinned to core 0
# and the load generator to core 1, and writes bench/RESULTS.md: medians of REPS runs per
# scenario and server, ours / each peer, and the server CPU time per operation.
#
#   bench/run.sh                          # the full run (about 25 minutes on 2 cores)
#   REPS=1 ECHO_SECS=3 BROADCAST_SECS=3 SERVERS="ours socketioxide" bench/run.sh   # a quick look
#   SCENARIOS=broadcast-redis SERVERS="ours socketioxide" OUT=/tmp/r.md bench/run.sh   # one scenario
#   SERVER_CPUS=0-7 LOADGEN_CPUS=8-15 LOADGEN_PROCS=8 BROADCAST_RECEIVERS=20000 \
#     SCENARIOS="echo broadcast" SERVERS="ours socketioxide bare-ws" bench/run.sh   # multi-core
#
# Scenarios (SCENARIOS, all by default):
#   echo, broadcast, connect      WebSocket; REPS rounds
#   broadcast-redis               two nodes through Redis (REDIS_SERVERS only); REPS rounds
#   echo-polling, broadcast-polling   the same over HTTP long-polling (POLLING_SERVERS only:
#                                 bare-ws has no polling); POLLING_REPS rounds
#   rooms                         broadcast to one room of each of ROOM_SIZES members
#                                 (ROOMS_SERVERS only); ROOMS_REPS rounds of ROOMS_SECS
#   idle, idle-polling            server RSS per idle connection at each of IDLE_COUNTS, a fresh
#                                 server per count (idle-polling: POLLING_SERVERS only); one run
#                                 each; IDLE_SKIP leaves out "server:count" or
#                                 "server-polling:count" pairs (e.g. "python-polling:19000")
#
# Environment (defaults below): REPS, ECHO_CLIENTS, ECHO_SECS, WARMUP_SECS,
# BROADCAST_RECEIVERS, BROADCAST_SECS, BROADCAST_WINDOW, CONNECT_COUNT, CONNECT_CONCURRENCY,
# POLLING_REPS, POLLING_SERVERS, ROOM_SIZES, ROOMS_SERVERS, ROOMS_REPS, ROOMS_SECS, IDLE_COUNTS,
# IDLE_SKIP, PORT, PORT2, REDIS_URL, REDIS_SERVERS, SCENARIOS, SERVERS, OUT, and the placement:
#   SERVER_CPUS     taskset list for every server process (default 0; SERVER_CPU is the old name)
#   LOADGEN_CPUS    taskset list for the load generator(s) (default 1; LOADGEN_CPU the old name)
#   LOADGEN_PROCS   load generator processes for echo, broadcast, echo-polling and
#                   broadcast-polling (default 1): echo splits ECHO_CLIENTS across them;
#                   broadcast gives each process a room of its own ("loadgen-I", with
#                   BROADCAST_RECEIVERS / LOADGEN_PROCS receivers and its own emitter); the
#                   results are summed (bench/report.py --combine). The Rust servers run a tokio
#                   multi-thread runtime with one worker per CPU of their cpuset (tokio sizes it
#                   from available_parallelism, which honours taskset); Node and python are
#                   single-threaded whatever the cpuset.
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
IDLE_COUNTS=${IDLE_COUNTS:-"1000 5000 19000"}
IDLE_SKIP=${IDLE_SKIP:-""}
POLLING_REPS=${POLLING_REPS:-3}
POLLING_SERVERS=${POLLING_SERVERS:-"ours socketioxide node python"}
ROOM_SIZES=${ROOM_SIZES:-"10 100 1000 10000"}
ROOMS_SERVERS=${ROOMS_SERVERS:-"ours socketioxide node bare-ws"}
ROOMS_REPS=${ROOMS_REPS:-2}
ROOMS_SECS=${ROOMS_SECS:-3}
PORT=${PORT:-3190}
PORT2=${PORT2:-$((PORT + 1))}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
# the servers that have a Redis node binary (server-NAME-redis; REDIS_URL / REDIS_KEY)
REDIS_SERVERS=${REDIS_SERVERS:-"ours socketioxide"}
SCENARIOS=${SCENARIOS:-"echo broadcast connect broadcast-redis echo-polling broadcast-polling rooms idle idle-polling"}
SERVERS=${SERVERS:-"ours socketioxide node python bare-ws"}
OUT=${OUT:-bench/RESULTS.md}
SERVER_CPUS=${SERVER_CPUS:-${SERVER_CPU:-0}}
LOADGEN_CPUS=${LOADGEN_CPUS:-${LOADGEN_CPU:-1}}
LOADGEN_PROCS=${LOADGEN_PROCS:-1}

# 19 000 idle connections need as many descriptors in the server and in the load generator.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
max_idle=$(printf '%s\n' $IDLE_COUNTS 0 | sort -n | tail -n 1)
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((max_idle + 200)) ]; then
  echo "warning: ulimit -n is $(ulimit -n); the $max_idle-connection idle run may fail" >&2
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
    # with REDIS_KEY set (broadcast_redis), the binary that links the Redis adapter
    ours|socketioxide) taskset -c "$SERVER_CPUS" "$bin/server-$1${REDIS_KEY:+-redis}" "$port" \
      2>>"$work/server.err" & ;;
    bare-ws) taskset -c "$SERVER_CPUS" "$bin/server-bare-ws" "$port" 2>>"$work/server.err" & ;;
    node) taskset -c "$SERVER_CPUS" node bench/node/server.js "$port" 2>>"$work/server.err" & ;;
    # aiohttp logs a traceback for each short-lived polling POST connection the idle-polling
    # load generator resets right after the response (harmless): hence the file
    python) taskset -c "$SERVER_CPUS" bench/python/.venv/bin/python bench/python/server.py "$port" \
      2>>"$work/server.err" & ;;
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
  echo "server $1 did not start on port $port (see $work/server.err)" >&2
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
  load "$server" broadcast-redis "receivers=$BROADCAST_RECEIVERS" \
    "secs=$BROADCAST_SECS" "window=$BROADCAST_WINDOW" "receivers_port=$PORT2" \
    "pid2=${server_pids[1]}"
  stop_server
}

# loadgen NAME ARGS...: runs one bounded load generator for scenario NAME (as the results name
# it: echo-polling is loadgen's echo with transport=polling, rooms and broadcast-redis are its
# broadcast under another name) and prints its last line.
loadgen() {
  local name=$1 scenario extra=()
  shift
  case "$name" in
    *-polling) scenario=${name%-polling}; extra=(transport=polling) ;;
    rooms|broadcast-redis) scenario=broadcast; extra=("name=$name") ;;
    *) scenario=$name ;;
  esac
  timeout 300 taskset -c "$LOADGEN_CPUS" "$bin/loadgen" "$scenario" "port=$PORT" \
    "pid=$server_pid" "${extra[@]}" "$@" 2>>"$work/loadgen.err" | tail -n 1
}

# load SERVER NAME ARGS...: one bounded load generator run, its JSON line tagged with the
# server; a failed run is recorded as such and the suite goes on.
load() {
  local server=$1 name=$2 line
  shift 2
  if line=$(loadgen "$name" "$@") && [ -n "$line" ]; then
    echo "$server $line" >> "$results"
  else
    echo "$server {\"scenario\":\"$name\",\"failed\":true}" >> "$results"
    echo "  $name failed against $server (see $work/loadgen.err)" >&2
  fi
}

# load_split SERVER NAME KEY TOTAL ARGS...: LOADGEN_PROCS load generators at once sharing
# KEY=TOTAL (echo clients or broadcast receivers); broadcast ones each get a room of their own
# (with its own emitter); their lines are summed into one (bench/report.py --combine).
load_split() {
  local server=$1 name=$2 key=$3 total=$4 procs=$LOADGEN_PROCS i n line ok=1 pids=() room=()
  shift 4
  if [ "$procs" -le 1 ]; then
    load "$server" "$name" "$key=$total" "$@"
    return
  fi
  rm -f "$work"/proc-*.out
  for i in $(seq 0 $((procs - 1))); do
    n=$((total / procs + (i < total % procs ? 1 : 0)))
    [[ "$name" == broadcast* ]] && room=("room=loadgen-$i")
    loadgen "$name" "$key=$n" "${room[@]}" "$@" > "$work/proc-$i.out" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do
    wait "$i" || ok=0
  done
  if [ "$ok" = 1 ] && line=$(python3 bench/report.py --combine "$work"/proc-*.out) \
      && [ -n "$line" ]; then
    echo "$server $line" >> "$results"
  else
    echo "$server {\"scenario\":\"$name\",\"failed\":true}" >> "$results"
    echo "  $name ($procs processes) failed against $server (see $work/loadgen.err)" >&2
  fi
}

# listed LIST WORD: whether the space-separated LIST holds WORD
listed() { [[ " $1 " == *" $2 "* ]]; }

{
  printf 'params {"reps":%s,"echo_clients":%s,"echo_secs":%s,"warmup_secs":%s,' \
    "$REPS" "$ECHO_CLIENTS" "$ECHO_SECS" "$WARMUP_SECS"
  printf '"broadcast_receivers":%s,"broadcast_secs":%s,"broadcast_window":%s,' \
    "$BROADCAST_RECEIVERS" "$BROADCAST_SECS" "$BROADCAST_WINDOW"
  printf '"connect_count":%s,"connect_concurrency":%s,"idle_counts":"%s",' \
    "$CONNECT_COUNT" "$CONNECT_CONCURRENCY" "$IDLE_COUNTS"
  printf '"redis_servers":"%s","scenarios":"%s",' "$REDIS_SERVERS" "$SCENARIOS"
  printf '"polling_reps":%s,"polling_servers":"%s",' "$POLLING_REPS" "$POLLING_SERVERS"
  printf '"room_sizes":"%s","rooms_servers":"%s","rooms_reps":%s,"rooms_secs":%s,' \
    "$ROOM_SIZES" "$ROOMS_SERVERS" "$ROOMS_REPS" "$ROOMS_SECS"
  printf '"idle_skip":"%s","server_cpus":"%s","loadgen_cpus":"%s","loadgen_procs":%s,' \
    "$IDLE_SKIP" "$SERVER_CPUS" "$LOADGEN_CPUS" "$LOADGEN_PROCS"
  printf '"loadavg_before":"%s","busy_before":"%s"}\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(busy_share)"
} >> "$results"

# Repetitions go round the servers (ours, socketioxide, ..., ours, socketioxide, ...), so a
# slow drift of the machine's speed touches every server alike instead of one of them.
for rep in $(seq "$REPS"); do
  for server in $SERVERS; do
    if wants echo || wants broadcast || wants connect || wants broadcast-redis \
        || { { wants echo-polling || wants broadcast-polling; } && [ "$rep" -le "$POLLING_REPS" ]; }; then
      echo "round $rep/$REPS: $server..." >&2
    fi
    if wants echo || wants broadcast || wants connect; then
      start_server "$server"
      if wants echo; then
        load_split "$server" echo clients "$ECHO_CLIENTS" "secs=$ECHO_SECS" "warmup=$WARMUP_SECS"
      fi
      if wants broadcast; then
        load_split "$server" broadcast receivers "$BROADCAST_RECEIVERS" "secs=$BROADCAST_SECS" \
          "window=$BROADCAST_WINDOW"
      fi
      if wants connect; then
        load "$server" connect "count=$CONNECT_COUNT" "concurrency=$CONNECT_CONCURRENCY"
      fi
      stop_server
    fi
    if wants broadcast-redis && listed "$REDIS_SERVERS" "$server"; then
      broadcast_redis "$server"
    fi
    if { wants echo-polling || wants broadcast-polling; } && listed "$POLLING_SERVERS" "$server" \
        && [ "$rep" -le "$POLLING_REPS" ]; then
      start_server "$server"
      if wants echo-polling; then
        load_split "$server" echo-polling clients "$ECHO_CLIENTS" "secs=$ECHO_SECS" \
          "warmup=$WARMUP_SECS"
      fi
      if wants broadcast-polling; then
        load_split "$server" broadcast-polling receivers "$BROADCAST_RECEIVERS" \
          "secs=$BROADCAST_SECS" "window=$BROADCAST_WINDOW"
      fi
      stop_server
    fi
  done
done
# How cost grows: one room of each size (a fresh server per size), then idle connections.
for rep in $(seq "$ROOMS_REPS"); do
  wants rooms || break
  for server in $SERVERS; do
    listed "$ROOMS_SERVERS" "$server" || continue
    echo "rooms $rep/$ROOMS_REPS: $server..." >&2
    for n in $ROOM_SIZES; do
      start_server "$server"
      load "$server" rooms "receivers=$n" "secs=$ROOMS_SECS" "window=$BROADCAST_WINDOW"
      stop_server
    done
  done
done
for server in $SERVERS; do
  for kind in idle idle-polling; do
    wants "$kind" || continue
    [ "$kind" = idle-polling ] && ! listed "$POLLING_SERVERS" "$server" && continue
    echo "$kind: $server..." >&2
    for n in $IDLE_COUNTS; do
      if listed "$IDLE_SKIP" "${server}${kind#idle}:$n"; then
        echo "$server${kind#idle} $n: skipped (IDLE_SKIP)" >&2
        continue
      fi
      start_server "$server"   # a fresh process: RSS before is the idle server's
      load "$server" "$kind" "count=$n"
      stop_server
    done
  done
done

echo "total: $(( $(date +%s) - started )) s; raw results in $results" >&2
GROWTH_DIR="$(dirname "$OUT")" python3 bench/report.py "$results" > "$OUT"
cat "$OUT"
