"""Turns bench/run.sh's results (JSON lines prefixed with the server name) into RESULTS.md."""
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS_ORDER = ['ours', 'socketioxide', 'node', 'python', 'bare-ws']

# (label, scenario, field, higher is better)
METRICS = [
    ('echo round trips/s', 'echo', 'round_trips_per_s', True),
    ('echo p50 latency (µs)', 'echo', 'p50_us', False),
    ('echo p99 latency (µs)', 'echo', 'p99_us', False),
    ('broadcast deliveries/s', 'broadcast', 'deliveries_per_s', True),
    ('broadcast via Redis, 2 nodes, deliveries/s', 'broadcast-redis', 'deliveries_per_s', True),
    ('connections/s', 'connect', 'connections_per_s', True),
]
CPU_METRICS = [
    ('echo: server CPU µs per round trip (user + sys)', 'echo'),
    ('broadcast: server CPU µs per delivery (user + sys)', 'broadcast'),
    ('broadcast via Redis: both nodes\' CPU µs per delivery (user + sys)', 'broadcast-redis'),
    ('connect: server CPU µs per connection (user + sys)', 'connect'),
]


def run(cmd, cwd=ROOT):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return '?'


def lock_version(name):
    lock = open(os.path.join(ROOT, 'Cargo.lock')).read()
    m = re.search(r'name = "%s"\nversion = "([^"]+)"' % re.escape(name), lock)
    return m.group(1) if m else '?'


def npm_version(name):
    try:
        path = os.path.join(ROOT, 'bench/node/node_modules', name, 'package.json')
        return json.load(open(path))['version']
    except OSError:
        return '?'


def pip_versions():
    py = os.path.join(ROOT, 'bench/python/.venv/bin/python')
    code = ('import importlib.metadata as m, platform; print(platform.python_version(), '
            '*(m.version(p) for p in ("python-socketio", "python-engineio", "aiohttp")))')
    out = run([py, '-c', code]).split()
    return out if len(out) == 4 else ['?'] * 4


def redis_version():
    out = run(['redis-cli', 'INFO', 'server'])
    m = re.search(r'redis_version:(\S+)', out)
    return f'Redis {m.group(1)}' if m else 'Redis ?'


def fmt(v):
    if v >= 100:
        return f'{v:,.0f}'
    if v >= 10:
        return f'{v:.1f}'
    return f'{v:.2f}'


def main():
    rows = defaultdict(list)      # (label, server) -> values
    cpu = defaultdict(list)       # (label, server) -> (user, sys, server util, loadgen util)
    failures = []
    losses = []                   # broadcast runs where receivers did not get every message once
    others = []                   # (cores used by other processes during a measurement, run)
    params = {}
    servers = []
    for line in open(sys.argv[1]):
        server, _, payload = line.strip().partition(' ')
        r = json.loads(payload)
        if server == 'params':
            params = r
            continue
        if server not in servers:
            servers.append(server)
        if r.get('failed'):
            failures.append(f"{r['scenario']} against {server}")
            continue
        if r.get('lost') or r.get('extra'):
            losses.append(f"{r['scenario']} against {server}: {r.get('lost', 0):,} deliveries lost and "
                          f"{r.get('extra', 0):,} extra of {r['expected']:,}")
        for label, scenario, field, _ in METRICS:
            if r['scenario'] == scenario:
                rows[(label, server)].append(r[field])
        for label, scenario in CPU_METRICS:
            if r['scenario'] == scenario and 'server_user_us_per_op' in r:
                cpu[(label, server)].append((r['server_user_us_per_op'], r['server_sys_us_per_op'],
                                             r['server_cpu_util'], r['loadgen_cpu_util']))
        if 'others_cpu_util' in r:
            others.append((r['others_cpu_util'], f"{r['scenario']} against {server}"))
        if r['scenario'] == 'idle':
            rows[(f"RSS per idle connection at {r['count']} (bytes)", server)].append(
                r['bytes_per_connection'])
    servers.sort(key=lambda s: PEERS_ORDER.index(s) if s in PEERS_ORDER else len(PEERS_ORDER))
    peers = [s for s in servers if s != 'ours']
    labels = [(label, higher) for label, _, _, higher in METRICS]
    idle_labels = sorted({l for (l, _) in rows if l.startswith('RSS')},
                         key=lambda l: int(re.search(r'at (\d+)', l).group(1)))
    labels += [(l, False) for l in idle_labels]
    # a scenario left out of this run (SCENARIOS) has no row
    labels = [(l, h) for l, h in labels if any(label == l for (label, _) in rows)]

    def med(label, server):
        vals = rows.get((label, server))
        return statistics.median(vals) if vals else None

    cpu_model = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo')
                      if l.startswith('model name')), '?')
    mem_kib = next((int(l.split()[1]) for l in open('/proc/meminfo') if l.startswith('MemTotal')), 0)
    py_ver, sio_ver, eio_ver, aiohttp_ver = pip_versions()
    now = datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')

    out = []
    p = out.append
    p(f'# Benchmark results ({now})\n')
    p('Produced by `bench/run.sh` (see the README\'s "Benchmarks" section); rerun it to refresh.\n')
    p('## Setup\n')
    p(f'- Machine: {os.cpu_count()} cores ({cpu_model}), {mem_kib / 1048576:.1f} GiB memory, '
      f'{platform.system()} {platform.release()}; load average before the run: '
      f"{params.get('loadavg_before', '?')} (it includes the build); CPU busy over the 2 s before the "
      f"first measurement: {params.get('busy_before', '?')}.")
    if others:
        worst = max(others)
        p(f'- Other processes during the measurements: median {statistics.median(o for o, _ in others):.2f} '
          f'cores, at most {worst[0]:.2f} ({worst[1]}); runs with more than 0.10: '
          f"{sum(1 for o, _ in others if o > 0.10)} of {len(others)}.")
    p('- The server runs pinned to core 0 (`taskset -c 0`), the load generator (`bench/src/bin/loadgen.rs`, '
      'one tokio thread, Engine.IO v4 / Socket.IO v5 over WebSocket by hand) to core 1; loopback only; '
      'a fresh server process for every repetition.')
    p(f"- Versions: ours = socketio-core {lock_version('socketio-core')} (this tree) on axum "
      f"{lock_version('axum')}, tokio {lock_version('tokio')}, tungstenite "
      f"{lock_version('tungstenite')}; socketioxide {lock_version('socketioxide')} "
      f"(engineioxide {lock_version('engineioxide')}) on the same axum; Node {run(['node', '--version'])} "
      f"with socket.io {npm_version('socket.io')} (engine.io {npm_version('engine.io')}, ws "
      f"{npm_version('ws')}); Python {py_ver} with python-socketio {sio_ver} (python-engineio "
      f"{eio_ver}) on aiohttp {aiohttp_ver}; bare-ws = tokio-tungstenite "
      f"{lock_version('tokio-tungstenite')} with no framework; {run(['rustc', '--version'])}.")
    p('- Every server: `echo` acks its argument, `join` joins room "bench", `broadcast` emits `msg` with '
      'its argument to room "bench" (the emitting client is not in it). All with `TCP_NODELAY` (Node\'s '
      'http server and aiohttp set it by default; the Rust servers set it on accept).')
    if params:
        p(f"- Scenarios, {params['reps']} runs each (median shown): echo = {params['echo_clients']} clients, "
          f"one request in flight each, {params['echo_secs']} s after {params['warmup_secs']} s warm-up; "
          f"broadcast = {params['broadcast_receivers']} receivers in the room, one emitter for "
          f"{params['broadcast_secs']} s with at most {params['broadcast_window']} messages not yet received "
          f"by everyone, deliveries counted at the receivers; connect = {params['connect_count']} "
          f"connections (WS handshake + open packet + CONNECT answer), {params['connect_concurrency']} at "
          f"a time; idle = {params['idle_counts'].replace(' ', ' and ')} connected clients, server RSS "
          f"(VmRSS) after minus before, per connection (one run each).")
        if 'broadcast-redis' in params.get('scenarios', 'broadcast-redis'):
            p(f"- broadcast via Redis (servers {params.get('redis_servers', 'ours socketioxide')} only: "
              "Node and python have no row here): two nodes of one server on the local Redis "
              f"({redis_version()}, a fresh channel key per run), ours on `socketio_redis::node::RedisAdapter`, "
              f"socketioxide on socketioxide-redis {lock_version('socketioxide-redis')} (redis-crate driver, "
              "RESP3); both nodes pinned to core 0 like the single-node servers (Redis unpinned); the "
              f"{params['broadcast_receivers']} receivers on node B, the emitter on node A, the same window, "
              "duration and delivery check as broadcast. Server CPU is both nodes' together; Redis's "
              "own CPU shows under other processes.")
    p('')
    p('## Results\n')
    p('Medians. ↑ higher is better, ↓ lower is better; a ratio is ours / peer (so above 1 is better '
      'for ↑ rows, below 1 for ↓ rows).\n')
    head = ['metric'] + servers + [f'ours / {s}' for s in peers]
    p('| ' + ' | '.join(head) + ' |')
    p('|' + '---|' * len(head))
    for label, higher in labels:
        cells = [f"{label} {'↑' if higher else '↓'}"]
        for s in servers:
            v = med(label, s)
            cells.append(fmt(v) if v is not None else '–')
        ours = med(label, 'ours')
        for s in peers:
            v = med(label, s)
            cells.append(f'{ours / v:.2f}' if ours is not None and v else '–')
        p('| ' + ' | '.join(cells) + ' |')
    p('')
    p('### Where the time goes (server side)\n')
    p('Server CPU time per operation from `/proc/<pid>/stat` (10 ms ticks), user + system, and the '
      'busy share of the server\'s and the load generator\'s core. On loopback the kernel time of a '
      'send includes delivering it to the peer socket, so system time dominates small messages; the '
      'user time is what the server\'s own code (framework, WebSocket, runtime) costs. When both cores '
      'are near 1.00 the throughput is the machine\'s, and CPU per operation is the fairer '
      'comparison.\n')
    head = ['metric'] + servers
    p('| ' + ' | '.join(head) + ' |')
    p('|' + '---|' * len(head))
    for label, _ in CPU_METRICS:
        cells = [label]
        for s in servers:
            vals = cpu.get((label, s))
            if not vals:
                cells.append('–')
                continue
            u = statistics.median(v[0] for v in vals)
            k = statistics.median(v[1] for v in vals)
            su = statistics.median(v[2] for v in vals)
            lu = statistics.median(v[3] for v in vals)
            cells.append(f'{fmt(u + k)} ({fmt(u)} + {fmt(k)}); cores {su:.2f} / {lu:.2f}')
        p('| ' + ' | '.join(cells) + ' |')
    p('')
    p('"cores a / b": busy share of the server\'s core / of the load generator\'s core.\n')
    p('### Every run\n')
    head = ['metric'] + servers
    p('| ' + ' | '.join(head) + ' |')
    p('|' + '---|' * len(head))
    for label, _ in labels:
        cells = [label]
        for s in servers:
            vals = rows.get((label, s), [])
            cells.append(', '.join(fmt(v) for v in vals) or '–')
        p('| ' + ' | '.join(cells) + ' |')
    p('')
    targets = []
    def ratio(label, peer):
        a, b = med(label, 'ours'), med(label, peer)
        return a / b if a is not None and b else None
    checks = [
        ('echo round trips/s ≥ 1.3 × socketioxide', ratio('echo round trips/s', 'socketioxide'), 1.3, True),
        ('broadcast deliveries/s ≥ 1.3 × socketioxide', ratio('broadcast deliveries/s', 'socketioxide'), 1.3, True),
        ('echo round trips/s ≥ 0.7 × bare-ws', ratio('echo round trips/s', 'bare-ws'), 0.7, True),
    ] + [(f'{l.replace(" (bytes)", "")} ≤ socketioxide', ratio(l, 'socketioxide'), 1.0, False)
         for l in idle_labels]
    for name, r, bound, higher in checks:
        if r is None:
            continue
        ok = r >= bound if higher else r <= bound
        targets.append(f"- {name}: {r:.2f} — {'met' if ok else 'not met'}")
    if targets:
        p('### Targets\n')
        out.extend(targets)
        p('')
    if failures:
        p('### Failed runs\n')
        out.extend(f'- {f}' for f in failures)
        p('')
    p('### Delivery check\n')
    if losses:
        p('Broadcast runs in which some receiver did not get every message exactly once (the run '
          'still counts in the rates above):\n')
        out.extend(f'- {l}' for l in losses)
    else:
        p('Every receiver got every broadcast message exactly once, in every run.')
    p('')
    print('\n'.join(out))


main()
