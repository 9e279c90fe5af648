"""Interop client: drives a server implementing tests/TEST_SERVER.md with the LEGACY official
python-socketio 4.x sync ``socketio.Client`` (Engine.IO protocol v3 / Socket.IO protocol v4).

Usage: python client.py <base-url> <polling|websocket|upgrade>

Prints ``ok <scenario>`` / ``FAIL <scenario>: <reason>`` per scenario, then
``interop-python-legacy <mode>: N passed, M failed``. Exit status 0 only when every scenario
passed.

What python-socketio 4.x does differently from 5.x (and from ../python/client.py):
- ``connect()`` returns once the Engine.IO connection is open; "/" is connected by the server, and
  the client sends a CONNECT for every other namespace only when "/"'s CONNECT arrives. So every
  scenario waits for the namespaces' ``connect`` events itself.
- There is no ``auth`` argument and no API for a namespace query string. The namespace name is
  written verbatim into the CONNECT packet, though, so ``namespaces=['/custom?token=abc']`` sends
  ``0/custom?token=abc`` -- the v4 wire form of a namespace query (what socket.io-client 2.x sends
  for ``{query: {token: 'abc'}}``, without its trailing comma). The server answers CONNECT for
  ``/custom``, which the client then adds as a connected namespace. The scenarios use that to
  send namespace queries.
- A refused namespace CONNECT (ERROR packet) triggers ``connect_error`` on that namespace with the
  bare data (a string in v4); ``disconnect`` handlers get no argument (no reason).
- The client has one ``sid``: the Engine.IO session id, which the socket.io 2.x server also uses as
  the id of the socket on "/".
- ``call()`` exists (returns one value, a tuple for several ack args, None for none).
"""

import os
import signal
import sys
import threading
import time
import traceback
import urllib.request

import socketio

SCENARIO_TIMEOUT = 10.0
GLOBAL_WATCHDOG = 90
QUIET = 0.3  # how long to wait to be sure an event does NOT arrive

MODES = {
    'polling': ['polling'],
    'websocket': ['websocket'],
    'upgrade': ['polling', 'websocket'],
}

if len(sys.argv) != 3 or sys.argv[2] not in MODES:
    print('usage: python client.py <base-url> <polling|websocket|upgrade>', file=sys.stderr)
    sys.exit(2)

BASE = sys.argv[1].rstrip('/')
MODE = sys.argv[2]
TRANSPORTS = MODES[MODE]
LABEL = f'interop-python-legacy {MODE}'

passed = 0
failed = 0


def _out(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def _watchdog_fire(*_):
    _out(f'FAIL watchdog: global timeout of {GLOBAL_WATCHDOG} s reached')
    _out(f'{LABEL}: {passed} passed, {failed + 1} failed')
    os._exit(3)


signal.signal(signal.SIGALRM, _watchdog_fire)
signal.alarm(GLOBAL_WATCHDOG)
# Backup in case the main thread is stuck somewhere signals are not delivered.
_wd_thread = threading.Timer(GLOBAL_WATCHDOG + 5, _watchdog_fire)
_wd_thread.daemon = True
_wd_thread.start()


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def short(value, limit=160):
    r = repr(value)
    return r if len(r) <= limit else r[:limit] + f'...({len(r)} chars)'


def eq(actual, expected, what):
    if actual != expected or type(actual) is not type(expected):
        raise Fail(f'{what}: expected {short(expected)}, got {short(actual)}')


def plain(ns):
    """The namespace without its query string (what the server answers and events use)."""
    return ns.split('?', 1)[0]


RECORDED = ('connect', 'connect_error', 'disconnect', 'auth', 'echo', 'room-message', 'question')


class Conn:
    """One python-socketio 4.x client (one Engine.IO connection) with event recording.

    namespaces: what to connect ('/' is always connected by the server); a namespace may carry a
    query string ('/custom?token=abc').
    """

    def __init__(self, namespaces=('/',)):
        self.namespaces = list(namespaces)
        self.events = []  # (namespace, event, args)
        self.cond = threading.Condition()
        self.sio = socketio.Client(reconnection=False, request_timeout=5)
        for ns in {'/'} | {plain(n) for n in self.namespaces}:
            for ev in RECORDED:
                self.sio.on(ev, self._recorder(ns, ev), namespace=ns)

    def _recorder(self, ns, ev):
        def handler(*args):
            with self.cond:
                self.events.append((ns, ev, args))
                self.cond.notify_all()
            if ev == 'question':
                return f'answer-{args[0]}'  # the ack of the server's "question"
        return handler

    def got(self, event, namespace='/'):
        with self.cond:
            return [args for (ns, ev, args) in self.events if ns == namespace and ev == event]

    def wait_event(self, event, namespace='/', count=1, timeout=5.0):
        """Waits until `count` `event`s were recorded on `namespace`; returns the count-th args."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [a for (ns, ev, a) in self.events if ns == namespace and ev == event]
                if len(got) >= count:
                    return got[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Fail(f'no "{event}" #{count} on {namespace} within {timeout} s '
                               f'(recorded: {short(self.events, 300)})')
                self.cond.wait(remaining)

    def open(self):
        """Opens the Engine.IO connection; the namespaces connect (or fail) afterwards."""
        nss = [n for n in self.namespaces if n != '/']
        self.sio.connect(BASE, transports=TRANSPORTS, namespaces=nss)
        return self

    def connect(self):
        """Opens the connection and waits until every namespace is connected."""
        self.open()
        for ns in ['/'] + [plain(n) for n in self.namespaces if n != '/']:
            try:
                self.wait_event('connect', ns)
            except Fail:
                errors = self.got('connect_error', ns)
                raise Fail(f'{ns} not connected within 5 s'
                           + (f' (connect_error {errors[0]!r})' if errors else '')) from None
        return self

    def emit(self, event, data=None, namespace='/'):
        self.sio.emit(event, data=data, namespace=namespace)

    def call(self, event, data=None, namespace='/', timeout=5):
        try:
            return self.sio.call(event, data=data, namespace=namespace, timeout=timeout)
        except socketio.exceptions.TimeoutError:
            raise Fail(f'no ack for "{event}" on {namespace} within {timeout} s') from None

    def emit_all(self, event, data=None, namespace='/', timeout=5):
        """emit with a callback; returns ALL the ack args as a tuple."""
        done = threading.Event()
        result = []

        def cb(*args):
            result.append(args)
            done.set()

        self.sio.emit(event, data=data, namespace=namespace, callback=cb)
        if not done.wait(timeout):
            raise Fail(f'no ack for "{event}" on {namespace} within {timeout} s')
        return result[0]

    def sid(self):
        return self.sio.sid

    def transport(self):
        return self.sio.transport()

    def close(self):
        try:
            if self.sio.eio.state != 'disconnected':
                self.sio.disconnect()
        except Exception:
            pass


class Ctx:
    def __init__(self):
        self.conns = []

    def conn(self, *args, **kwargs):
        c = Conn(*args, **kwargs)
        self.conns.append(c)
        return c

    def close(self):
        for c in self.conns:
            c.close()


# ---------------------------------------------------------------------------------------------
# scenarios

SCENARIOS = []


def scenario(fn):
    SCENARIOS.append((fn.__name__.replace('_', '-'), fn))
    return fn


@scenario
def health(ctx):
    with urllib.request.urlopen(BASE + '/health', timeout=5) as r:
        status, body = r.status, r.read().decode()
    eq(status, 200, 'GET /health status')
    eq(body, 'ok', 'GET /health body')


@scenario
def connect_auth_query(ctx):
    # "/" has no auth in protocol v4; "/custom" gets its CONNECT query as auth
    c = ctx.conn(['/', '/custom?token=abc']).connect()
    eq(c.wait_event('auth', '/'), (None,), '"/" auth event')
    eq(c.wait_event('auth', '/custom'), ({'token': 'abc'},), '"/custom" auth event (query)')
    eq(c.call('ack', 'on-main', namespace='/'), 'on-main', '"/" ack')
    eq(c.call('ack', 'on-custom', namespace='/custom'), 'on-custom', '"/custom" ack')

    # without a query: no auth
    d = ctx.conn(['/custom']).connect()
    a = d.wait_event('auth', '/custom')[0]
    check(a is None or a == {}, f'"/custom" auth without query: expected None or {{}}, got {a!r}')

    # query values are strings
    e = ctx.conn(['/custom?token=xyz&n=1']).connect()
    eq(e.wait_event('auth', '/custom'), ({'token': 'xyz', 'n': '1'},), 'auth with two values')


@scenario
def socket_ids(ctx):
    # the socket.io 2.x server's id of a socket on "/" is the Engine.IO session id, the only
    # id python-socketio 4.x knows; on another namespace it is "<nsp>#<session id>". A fresh
    # socket's rooms are [its id].
    c = ctx.conn(['/', '/custom']).connect()
    check(c.sid(), 'client has no sid')
    mismatches = []
    for ns, want in (('/', c.sid()), ('/custom', '/custom#' + c.sid())):
        rooms = c.call('rooms', namespace=ns)
        if rooms != [want]:
            mismatches.append(f'{ns}: expected [{want!r}], server-side rooms {rooms!r}')
    check(not mismatches, 'server socket id != socket.io 2.x id: ' + '; '.join(mismatches))


@scenario
def ack_mixed_args(ctx):
    c = ctx.conn().connect()
    eq(c.call('ack', ('hello', 42, {'a': 1}, [1, 2])), ('hello', 42, {'a': 1}, [1, 2]),
       'call() with several ack args')
    eq(c.call('ack', 'only'), 'only', 'call() with one ack arg')
    eq(c.call('ack'), None, 'call() with no ack arg')
    eq(c.emit_all('ack', ('hello', 42, {'a': 1}, [1, 2])),
       ('hello', 42, {'a': 1}, [1, 2]), 'callback ack args')
    eq(c.emit_all('ack', (None, True, 1.5, '', {'nested': {'deep': [None, False]}})),
       (None, True, 1.5, '', {'nested': {'deep': [None, False]}}), 'mixed ack args')
    eq(c.emit_all('ack'), (), 'empty ack')
    eq(c.emit_all('ack', 'héllo wörld ✓ 🚀'), ('héllo wörld ✓ 🚀',), 'unicode ack')


@scenario
def binary(ctx):
    c = ctx.conn().connect()
    data = bytes([0, 1, 2, 3, 254, 255, 128, 10, 13])
    eq(c.emit_all('ack', data), (data,), 'binary ack')

    other = b'second buffer \x00\xff'
    c.emit('echo', ({'bin': data, 'n': 1}, other))
    eq(c.wait_event('echo'), ({'bin': data, 'n': 1}, other), 'binary echo')

    big = bytes([7]) * 100_000
    eq(c.emit_all('ack', ('txt', [data, {'b': big}], 3)),
       ('txt', [data, {'b': big}], 3), 'several attachments in one ack')


@scenario
def server_to_client_ack(ctx):
    c = ctx.conn().connect()
    eq(c.call('ask', 'x'), 'answer-x', 'ask')
    eq(c.call('ask', 7), 'answer-7', 'ask 7')
    eq(c.got('question'), [('x',), (7,)], 'questions received')


@scenario
def rooms(ctx):
    A, B, C = ctx.conn().connect(), ctx.conn().connect(), ctx.conn().connect()
    # the server's socket ids (compared with the client's sid in "socket-ids")
    ids = {}
    for name, s in (('A', A), ('B', B), ('C', C)):
        r = s.call('rooms')
        check(isinstance(r, list) and len(r) == 1, f'{name}: rooms of a fresh socket: {r!r}')
        ids[name] = r[0]

    for name, s in (('A', A), ('B', B)):
        eq(s.call('join', 'r1'), sorted([ids[name], 'r1']), f'{name} join ack: sorted rooms')
    eq(C.call('rooms'), [ids['C']], 'C rooms')

    # to-room excludes the sender
    eq(A.call('to-room', ('r1', {'m': 1})), True, 'to-room ack')
    B.wait_event('room-message')
    time.sleep(QUIET)
    eq(B.got('room-message'), [({'m': 1},)], 'B room messages')
    eq(A.got('room-message'), [], 'sender A must not receive to-room')
    eq(C.got('room-message'), [], 'C is not in r1')

    # to-room-all includes the sender
    eq(A.call('to-room-all', ('r1', {'m': 2})), True, 'to-room-all ack')
    A.wait_event('room-message')
    B.wait_event('room-message', count=2)
    time.sleep(QUIET)
    eq(A.got('room-message'), [({'m': 2},)], 'A room messages')
    eq(B.got('room-message'), [({'m': 1},), ({'m': 2},)], 'B room messages')
    eq(C.got('room-message'), [], 'C is not in r1')

    # B leaves
    eq(B.call('leave', 'r1'), [ids['B']], 'B leave ack')
    eq(A.call('to-room-all', ('r1', {'m': 3})), True, 'to-room-all ack')
    A.wait_event('room-message', count=2)
    time.sleep(QUIET)
    eq(A.got('room-message'), [({'m': 2},), ({'m': 3},)], 'A room messages')
    eq(len(B.got('room-message')), 2, 'B left r1 and must not receive')
    eq(C.got('room-message'), [], 'C room messages')
    eq(A.call('rooms'), sorted([ids['A'], 'r1']), 'A rooms')


@scenario
def transport(ctx):
    c = ctx.conn().connect()
    if MODE == 'upgrade':
        deadline = time.monotonic() + 5
        while c.transport() != 'websocket':
            check(time.monotonic() < deadline, f'no upgrade to websocket, still {c.transport()!r}')
            time.sleep(0.05)
        eq(c.call('transport'), 'websocket', 'server-side transport after upgrade')
    else:
        eq(c.transport(), MODE, 'client transport')
        eq(c.call('transport'), MODE, 'server-side transport')
        time.sleep(QUIET)
        eq(c.transport(), MODE, 'client transport later')
        eq(c.call('transport'), MODE, 'server-side transport later')


@scenario
def unknown_namespace(ctx):
    c = ctx.conn(['/', '/nope']).open()
    eq(c.wait_event('connect_error', '/nope'), ('Invalid namespace',), 'connect_error data')
    eq(c.got('connect', '/nope'), [], '/nope must not connect')
    eq(c.call('ack', 'still-here'), 'still-here', '"/" still works')


@scenario
def admin(ctx):
    for ns in ('/admin', '/admin?token=nope', '/admin?token=secret&x=1'):
        c = ctx.conn(['/', ns]).open()
        eq(c.wait_event('connect_error', '/admin'), ('unauthorized',), f'connect_error for {ns}')
        eq(c.got('connect', '/admin'), [], f'{ns} must not connect')
    ok = ctx.conn(['/', '/admin?token=secret']).connect()
    eq(ok.wait_event('auth', '/admin'), ({'token': 'secret'},), '/admin auth event')
    eq(ok.call('ack', 'admin', namespace='/admin'), 'admin', '/admin ack')


@scenario
def disconnect_me(ctx):
    c = ctx.conn().connect()
    c.emit('disconnect-me')
    eq(c.wait_event('disconnect'), (), 'disconnect handler args')
    time.sleep(0.1)
    check(not c.sio.connected, 'client still connected')


@scenario
def disconnect_me_multiplexed(ctx):
    c = ctx.conn(['/', '/custom']).connect()
    c.emit('disconnect-me', namespace='/custom')
    eq(c.wait_event('disconnect', '/custom'), (), '/custom disconnect')
    eq(c.call('ack', 'still-here', namespace='/'), 'still-here', '"/" still connected')
    eq(c.got('disconnect', '/'), [], '"/" must not be disconnected')


@scenario
def close_me(ctx):
    c = ctx.conn(['/', '/custom']).connect()
    c.emit('close-me')
    eq(c.wait_event('disconnect', '/'), (), '"/" disconnect')
    eq(c.wait_event('disconnect', '/custom'), (), '"/custom" disconnect')


# ---------------------------------------------------------------------------------------------
# runner

def clip(text, limit=500):
    text = ' '.join(text.split())
    return text if len(text) <= limit else text[:limit] + '...'


def run(fn, ctx):
    """Runs a scenario in a daemon thread; returns None, the exception, or 'timeout'."""
    outcome = []

    def target():
        try:
            fn(ctx)
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - reported by the runner
            outcome.append(e)

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(SCENARIO_TIMEOUT)
    return outcome[0] if outcome else 'timeout'


for name, fn in SCENARIOS:
    ctx = Ctx()
    try:
        e = run(fn, ctx)
        if e is None:
            passed += 1
            _out(f'ok {name}')
        elif e == 'timeout':
            failed += 1
            _out(f'FAIL {name}: scenario timeout after {SCENARIO_TIMEOUT} s')
        elif isinstance(e, Fail):
            failed += 1
            _out(f'FAIL {name}: ' + clip(str(e)))
        else:  # unexpected: show where
            failed += 1
            where = traceback.extract_tb(e.__traceback__)[-1]
            _out(f'FAIL {name}: {type(e).__name__}: ' + clip(str(e))
                 + f' (at {os.path.basename(where.filename)}:{where.lineno})')
    except BaseException as e:  # noqa: BLE001 - report and go on
        failed += 1
        _out(f'FAIL {name}: runner: {type(e).__name__}: {e}')
    finally:
        closer = threading.Thread(target=ctx.close, daemon=True)
        closer.start()
        closer.join(6)

_out(f'{LABEL}: {passed} passed, {failed} failed')
os._exit(0 if failed == 0 else 1)
