"""Turns bench/run.sh's results (JSON lines prefixed with the server name) into RESULTS.md.

    report.py RESULTS.jsonl > RESULTS.md
    report.py --combine PROC-0.out PROC-1.out ...   # one line from several load generators

--combine sums the JSON lines of load generator processes that ran at once against one server
(bench/run.sh's LOADGEN_PROCS): counts and rates add up; the server's CPU time per operation is
the server's CPU time over the (overlapping) runs, averaged over what each process saw, divided
by all their operations together; latencies are the median of the processes' p50 and the
largest p99."""
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
    ('polling echo round trips/s', 'echo-polling', 'round_trips_per_s', True),
    ('polling echo p50 latency (µs)', 'echo-polling', 'p50_us', False),
    ('polling echo p99 latency (µs)', 'echo-polling', 'p99_us', False),
    ('polling broadcast deliveries/s', 'broadcast-polling', 'deliveries_per_s', True),
]
CPU_METRICS = [
    ('echo: server CPU µs per round trip (user + sys)', 'echo'),
    ('broadcast: server CPU µs per delivery (user + sys)', 'broadcast'),
    ('broadcast via Redis: both nodes\' CPU µs per delivery (user + sys)', 'broadcast-redis'),
    ('connect: server CPU µs per connection (user + sys)', 'connect'),
    ('polling echo: server CPU µs per round trip (user + sys)', 'echo-polling'),
    ('polling broadcast: server CPU µs per delivery (user + sys)', 'broadcast-polling'),
]
IDLE_RSS = 'server RSS before any connection (KiB)'
TRANSPORT_NAME = {'idle': 'WebSocket', 'idle-polling': 'polling'}


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


def combine(paths):
    """One JSON line from the last lines of several load generator runs (see the docstring)."""
    runs = []
    for path in paths:
        lines = [l for l in open(path).read().splitlines() if l.strip()]
        if not lines:
            sys.exit(f'{path}: no result')
        runs.append(json.loads(lines[-1]))
    first = runs[0]
    out = dict(first)
    out['procs'] = len(runs)

    def ops(r):
        return r.get('round_trips', r.get('expected', 0) - r.get('lost', 0) + r.get('extra', 0))

    for key in ('clients', 'receivers', 'round_trips', 'round_trips_per_s', 'messages',
                'deliveries_per_s', 'expected', 'lost', 'extra', 'loadgen_cpu_util'):
        if key in first:
            out[key] = sum(r[key] for r in runs)
    if 'p50_us' in first:
        out['p50_us'] = statistics.median(r['p50_us'] for r in runs)
        out['p99_us'] = max(r['p99_us'] for r in runs)
    total_ops = sum(ops(r) for r in runs) or 1
    if all('server_user_us_per_op' in r for r in runs):
        for key in ('server_user_us_per_op', 'server_sys_us_per_op'):
            out[key] = statistics.mean(r[key] * ops(r) for r in runs) / total_ops
        out['server_cpu_util'] = statistics.mean(r['server_cpu_util'] for r in runs)
    if all('others_cpu_util' in r for r in runs):
        # each process counts the other load generators among the "others"
        me = sum(r['loadgen_cpu_util'] for r in runs)
        out['others_cpu_util'] = max(0.0, statistics.mean(
            r['others_cpu_util'] - (me - r['loadgen_cpu_util']) for r in runs))
    return json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()})


def svg_growth(series, xs, title, ylabel, xlabel, path):
    """A small line chart (log x axis) of {name: {x: y}} as SVG, with no extra packages."""
    import math
    w, h, left, right, top, bottom = 720, 360, 95, 190, 40, 55
    ys = [y for pts in series.values() for y in pts.values()]
    if not ys or len(xs) < 2:
        return False
    ymax = max(ys) * 1.1 or 1
    lx = [math.log10(x) for x in xs]

    def px(x):
        return left + (math.log10(x) - lx[0]) / ((lx[-1] - lx[0]) or 1) * (w - left - right)

    def py(y):
        return top + (1 - y / ymax) * (h - top - bottom)

    # One colour per server (the series name's first word), dashed for polling.
    colors = ['#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#1f77b4', '#8c564b', '#7f7f7f']
    servers = list(dict.fromkeys(name.split()[0] for name in series))
    e = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
         f'font-family="sans-serif" font-size="12">',
         f'<rect width="{w}" height="{h}" fill="white"/>',
         f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
         f'<line x1="{left}" y1="{py(0)}" x2="{w - right}" y2="{py(0)}" stroke="black"/>',
         f'<line x1="{left}" y1="{top}" x2="{left}" y2="{py(0)}" stroke="black"/>',
         f'<text x="15" y="{h / 2}" transform="rotate(-90 15 {h / 2})" '
         f'text-anchor="middle">{ylabel}</text>',
         f'<text x="{(left + w - right) / 2}" y="{h - 8}" text-anchor="middle">{xlabel} (log scale)</text>']
    for x in xs:
        e.append(f'<text x="{px(x):.1f}" y="{py(0) + 18:.1f}" text-anchor="middle">{x:,}</text>')
    for i in range(5):
        y = ymax * i / 4
        e.append(f'<text x="{left - 5}" y="{py(y) + 4:.1f}" text-anchor="end">{fmt(y) if y else 0}</text>')
    for i, (name, pts) in enumerate(series.items()):
        c = colors[servers.index(name.split()[0]) % len(colors)]
        dash = ' stroke-dasharray="6 4"' if 'polling' in name else ''
        coords = ' '.join(f'{px(x):.1f},{py(pts[x]):.1f}' for x in xs if x in pts)
        e.append(f'<polyline points="{coords}" fill="none" stroke="{c}" stroke-width="2"{dash}/>')
        for x in xs:
            if x in pts:
                e.append(f'<circle cx="{px(x):.1f}" cy="{py(pts[x]):.1f}" r="3" fill="{c}"/>')
        ly = top + 15 + 16 * i
        e.append(f'<line x1="{w - right + 10}" y1="{ly - 4}" x2="{w - right + 34}" y2="{ly - 4}" '
                 f'stroke="{c}" stroke-width="2"{dash}/>')
        e.append(f'<text x="{w - right + 40}" y="{ly}" fill="{c}">{name}</text>')
    e.append('</svg>')
    with open(path, 'w') as f:
        f.write('\n'.join(e) + '\n')
    return True


def main():
    if sys.argv[1] == '--combine':
        print(combine(sys.argv[2:]))
        return
    rows = defaultdict(list)      # (label, server) -> values
    cpu = defaultdict(list)       # (label, server) -> (user, sys, server util, loadgen util)
    failures = []
    rooms = defaultdict(list)     # (server, members) -> (deliveries/s, server CPU µs per delivery)
    idle_growth = defaultdict(list)   # (server, transport, count) -> bytes per connection
    idle_open = defaultdict(list)     # (server, transport, count) -> seconds to open them all
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
        if r['scenario'] in TRANSPORT_NAME:
            t = TRANSPORT_NAME[r['scenario']]
            rows[(f"RSS per idle {t} connection at {r['count']} (bytes)", server)].append(
                r['bytes_per_connection'])
            idle_growth[(server, t, r['count'])].append(r['bytes_per_connection'])
            if 'open_secs' in r:
                idle_open[(server, t, r['count'])].append(r['open_secs'])
            if r['scenario'] == 'idle':
                rows[(IDLE_RSS, server)].append(r['rss_before_kib'])
        if r['scenario'] == 'rooms' and 'server_user_us_per_op' in r:
            rooms[(server, r['receivers'])].append(
                (r['deliveries_per_s'], r['server_user_us_per_op'] + r['server_sys_us_per_op']))
    servers.sort(key=lambda s: PEERS_ORDER.index(s) if s in PEERS_ORDER else len(PEERS_ORDER))
    peers = [s for s in servers if s != 'ours']
    labels = [(label, higher) for label, _, _, higher in METRICS]
    idle_labels = sorted({l for (l, _) in rows if l.startswith('RSS')},
                         key=lambda l: ('polling' in l, int(re.search(r'at (\d+)', l).group(1))))
    labels += [(IDLE_RSS, False)] + [(l, False) for l in idle_labels]
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
    p(f'- Machine: `{platform.node()}`, {os.cpu_count()} cores ({cpu_model}), {mem_kib / 1048576:.1f} GiB memory, '
      f'{platform.system()} {platform.release()}; load average before the run: '
      f"{params.get('loadavg_before', '?')} (it includes the build); CPU busy over the 2 s before the "
      f"first measurement: {params.get('busy_before', '?')}.")
    if others:
        worst = max(others)
        p(f'- Other processes during the measurements: median {statistics.median(o for o, _ in others):.2f} '
          f'cores, at most {worst[0]:.2f} ({worst[1]}); runs with more than 0.10: '
          f"{sum(1 for o, _ in others if o > 0.10)} of {len(others)}.")
    scpus, lcpus = params.get('server_cpus', '0'), params.get('loadgen_cpus', '1')
    procs = params.get('loadgen_procs', 1)
    gens = ('the load generator' if procs == 1 else
            f'{procs} load generator processes at once (echo clients split between them; '
            'broadcast: each its own room with BROADCAST_RECEIVERS / processes receivers and its own '
            'emitter; results summed)')
    p(f'- The server runs pinned to cores {scpus} (`taskset -c {scpus}`; the Rust servers run one tokio '
      f'worker per core of that set, Node and python one thread), {gens} (`bench/src/bin/loadgen.rs`, '
      'one tokio thread each, Engine.IO v4 / Socket.IO v5 over WebSocket or HTTP long-polling by hand) '
      f'to cores {lcpus}; loopback only; a fresh server process for every repetition.')
    p(f"- Versions: ours = socketio-core {lock_version('socketio-core')} (this tree), its routes on an axum "
      f"{lock_version('axum')} `Router` served by `socketio_axum::Server` (hyper's HTTP/1 with the "
      f"header timeout and peer address; `AXUM_SERVE=1` serves it with `axum::serve` instead), tokio "
      f"{lock_version('tokio')}, tungstenite "
      f"{lock_version('tungstenite')}; socketioxide {lock_version('socketioxide')} "
      f"(engineioxide {lock_version('engineioxide')}) on the same axum with `axum::serve`; Node {run(['node', '--version'])} "
      f"with socket.io {npm_version('socket.io')} (engine.io {npm_version('engine.io')}, ws "
      f"{npm_version('ws')}); Python {py_ver} with python-socketio {sio_ver} (python-engineio "
      f"{eio_ver}) on aiohttp {aiohttp_ver}; bare-ws = tokio-tungstenite "
      f"{lock_version('tokio-tungstenite')} with no framework; {run(['rustc', '--version'])}.")
    p('- Every server: `echo` acks its argument, `join` joins room "bench" (or the one it names), `broadcast` '
      'emits `msg` with its argument to room "bench" (or to its `room` field: one room per load generator '
      'process) (the emitting client is not in it). All with `TCP_NODELAY` (Node\'s '
      'http server and aiohttp set it by default; the Rust servers set it on accept).')
    if params:
        p(f"- Scenarios, {params['reps']} runs each (median shown): echo = {params['echo_clients']} clients, "
          f"one request in flight each, {params['echo_secs']} s after {params['warmup_secs']} s warm-up; "
          f"broadcast = {params['broadcast_receivers']} receivers in the room, one emitter for "
          f"{params['broadcast_secs']} s with at most {params['broadcast_window']} messages not yet received "
          f"by everyone, deliveries counted at the receivers; connect = {params['connect_count']} "
          f"connections (WS handshake + open packet + CONNECT answer), {params['connect_concurrency']} at "
          f"a time; idle = {params['idle_counts'].replace(' ', ', ')} connected clients, server RSS "
          f"(VmRSS) 2 s after the last connected minus before the first, per connection (one run each, "
          f"a fresh server per count; the server RSS before any connection is the median over those "
          f"fresh WebSocket-idle servers); the single-node Rust servers are the binaries without a Redis "
          f"client (`server-ours`, `server-socketioxide`; the Redis row runs their `-redis` twins)"
          + (f"; left out: {params['idle_skip']}" if params.get('idle_skip') else '') + '.')
        if 'polling' in params.get('scenarios', ''):
            p(f"- Polling (servers {params.get('polling_servers', '?')}; bare-ws has no polling): Engine.IO v4 "
              "long-polling over HTTP/1.1 keep-alive, each client with one GET always pending on a "
              "connection of its own and its POSTs (packets joined with `\\x1e`, one POST at a time) on a "
              "second one; echo and broadcast as above, "
              f"{params.get('polling_reps', '?')} runs each; idle polling clients hold only their pending "
              "GET's connection (the CONNECT and the pongs are POSTed on short-lived connections).")
        if 'rooms' in params.get('scenarios', ''):
            p(f"- Rooms (servers {params.get('rooms_servers', '?')}): broadcast as above to one room of "
              f"{params.get('room_sizes', '?').replace(' ', ', ')} members, {params.get('rooms_secs', '?')} s, "
              f"{params.get('rooms_reps', '?')} runs each (fewer than the other rows: it is a growth curve), "
              "a fresh server per size.")
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
        if not any((label, s) in cpu for s in servers):
            continue  # a scenario left out of this run
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
    # the plots go next to the report (run.sh sets GROWTH_DIR to OUT's folder)
    growth_dir = os.environ.get('GROWTH_DIR') or os.path.join(ROOT, 'bench')
    counts = sorted({c for (_, _, c) in idle_growth})
    if idle_growth:
        p('### Growth: RSS per idle connection\n')
        p('Server RSS growth per idle connection (bytes, KiB in brackets) by number of connections; '
          'flat rows mean a constant cost per connection. Seconds to open them all in the last column '
          '(the load generator opens 100 at a time).\n')
        head = ['server', 'transport'] + [f'{c:,}' for c in counts] + ['seconds to open']
        p('| ' + ' | '.join(head) + ' |')
        p('|' + '---|' * len(head))
        for s in servers:
            for t in ('WebSocket', 'polling'):
                if not any((s, t, c) in idle_growth for c in counts):
                    continue
                cells = [s, t]
                for c in counts:
                    v = idle_growth.get((s, t, c))
                    cells.append(f'{statistics.median(v):,.0f} ({statistics.median(v) / 1024:.1f})'
                                 if v else '–')
                cells.append(', '.join(f'{statistics.median(idle_open[(s, t, c)]):.1f}'
                                       if idle_open.get((s, t, c)) else '–' for c in counts))
                p('| ' + ' | '.join(cells) + ' |')
        p('')
        series = {f'{s} {t}': {c: statistics.median(v) / 1024 for (s2, t2, c), v in idle_growth.items()
                               if s2 == s and t2 == t}
                  for s in servers for t in ('WebSocket', 'polling')
                  if any(k[0] == s and k[1] == t for k in idle_growth)}
        svg = os.path.join(growth_dir, 'growth-idle.svg')
        if os.environ.get('GROWTH_SVG') != '0' and svg_growth(
                series, counts, 'RSS per idle connection', 'KiB per connection', 'connections', svg):
            p('![RSS per idle connection](growth-idle.svg)\n')
    sizes = sorted({m for (_, m) in rooms})
    if rooms:
        p('### Growth: one room of N members\n')
        p('Broadcast deliveries/s to one room by its size, and the server CPU µs per delivery '
          '(user + sys; about flat = linear cost). Medians.\n')
        head = ['server'] + [f'{m:,} members' for m in sizes]
        p('| ' + ' | '.join(head) + ' |')
        p('|' + '---|' * len(head))
        for s in servers:
            if not any((s, m) in rooms for m in sizes):
                continue
            cells = [s]
            for m in sizes:
                v = rooms.get((s, m))
                cells.append(f'{fmt(statistics.median(x[0] for x in v))} /s, '
                             f'{fmt(statistics.median(x[1] for x in v))} µs' if v else '–')
            p('| ' + ' | '.join(cells) + ' |')
        p('')
        series = {s: {m: statistics.median(x[0] for x in v) for (s2, m), v in rooms.items() if s2 == s}
                  for s in servers if any(k[0] == s for k in rooms)}
        svg = os.path.join(growth_dir, 'growth-rooms.svg')
        if os.environ.get('GROWTH_SVG') != '0' and svg_growth(
                series, sizes, 'Broadcast to one room', 'deliveries/s', 'members', svg):
            p('![Deliveries/s by room size](growth-rooms.svg)\n')
    targets = []
    def ratio(label, peer):
        a, b = med(label, 'ours'), med(label, peer)
        return a / b if a is not None and b else None

    def cpu_per_op(label, server):
        vals = cpu.get((label, server))
        return statistics.median(v[0] + v[1] for v in vals) if vals else None

    bc_cpu = 'broadcast: server CPU µs per delivery (user + sys)'
    ours_bc, bare_bc = cpu_per_op(bc_cpu, 'ours'), cpu_per_op(bc_cpu, 'bare-ws')
    multi = procs > 1
    checks = [
        ('echo round trips/s ≥ 1.3 × socketioxide', ratio('echo round trips/s', 'socketioxide'), 1.3, True),
        ('broadcast deliveries/s ≥ 2.5 × socketioxide', ratio('broadcast deliveries/s', 'socketioxide'), 2.5, True),
        ('broadcast server CPU per delivery ≤ 1.10 × bare-ws',
         ours_bc / bare_bc if ours_bc is not None and bare_bc else None, 1.10, False),
        ('echo round trips/s ≥ 0.7 × bare-ws', None if multi else ratio('echo round trips/s', 'bare-ws'),
         0.7, True),
        (f'{IDLE_RSS} ≤ socketioxide', ratio(IDLE_RSS, 'socketioxide'), 1.0, False),
    ]
    if multi:
        checks += [
            ('multi-core: echo round trips/s ≥ 0.85 × bare-ws', ratio('echo round trips/s', 'bare-ws'), 0.85, True),
            ('multi-core: broadcast deliveries/s ≥ 0.9 × bare-ws',
             ratio('broadcast deliveries/s', 'bare-ws'), 0.9, True),
        ]
    # Polling targets (our choice, see the README's "Benchmarks" section for the reasons)
    checks += [
        ('polling echo round trips/s ≥ 1.2 × socketioxide',
         ratio('polling echo round trips/s', 'socketioxide'), 1.2, True),
        ('polling echo round trips/s ≥ 2.5 × node', ratio('polling echo round trips/s', 'node'), 2.5, True),
        ('polling broadcast deliveries/s ≥ 1.5 × socketioxide',
         ratio('polling broadcast deliveries/s', 'socketioxide'), 1.5, True),
        ('polling broadcast deliveries/s ≥ 3 × node',
         ratio('polling broadcast deliveries/s', 'node'), 3.0, True),
    ]
    for name, r, bound, higher in checks:
        if r is None:
            continue
        ok = r >= bound if higher else r <= bound
        targets.append(f"- {name}: {r:.2f} — {'met' if ok else 'not met'}")
    # absolute: RSS per idle connection ≤ 10 KiB at 5 000 and more, on both transports
    for l in idle_labels:
        n = int(re.search(r'at (\d+)', l).group(1))
        v = med(l, 'ours')
        if n >= 5000 and v is not None:
            targets.append(f"- {l.replace(' (bytes)', '')} ≤ 10 KiB: {v / 1024:.1f} KiB — "
                           f"{'met' if v <= 10240 else 'not met'}")
    # linear cost: the two largest rooms (in small ones the per-message cost shows per delivery)
    if len(sizes) >= 2 and ('ours', sizes[-2]) in rooms and ('ours', sizes[-1]) in rooms:
        a = statistics.median(x[1] for x in rooms[('ours', sizes[-2])])
        b = statistics.median(x[1] for x in rooms[('ours', sizes[-1])])
        if a:
            targets.append(f"- rooms: CPU per delivery at {sizes[-1]:,} members ≤ 1.2 × at {sizes[-2]:,} "
                           f"(linear cost): {b / a:.2f} — {'met' if b / a <= 1.2 else 'not met'}")
    if targets:
        p('### Targets\n')
        out.extend(targets)
        p('')
        if any(t.endswith('not met') for t in targets):
            p('For each target not met, [PROFILES.md](PROFILES.md) gives the profile that shows why and '
              'what would be needed (measured separately, dated there).')
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
