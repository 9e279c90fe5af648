"""Interop client: drives a server implementing tests/TEST_SERVER.md with the official
python-socketio client (sync ``socketio.Client`` or ``socketio.AsyncClient``).

Usage: python client.py <base-url> <polling|websocket|upgrade> <sync|async>

Prints ``ok <scenario>`` / ``FAIL <scenario>: <reason>`` per scenario, then
``interop-python-<sync|async> <mode>: N passed, M failed``. Exit status 0 only when every
scenario passed.

The scenarios are written once, as coroutines, against the small ``Conn`` adapter below. With
``async`` the adapter drives ``socketio.AsyncClient`` directly; with ``sync`` every blocking call
of ``socketio.Client`` runs in a worker thread (the sync client is fully exercised: its own
threads, requests / websocket-client transports, its callbacks), so both share the per-scenario
timeouts.
"""

import asyncio
import concurrent.futures
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

if len(sys.argv) != 4 or sys.argv[2] not in MODES or sys.argv[3] not in ('sync', 'async'):
    print('usage: python client.py <base-url> <polling|websocket|upgrade> <sync|async>',
          file=sys.stderr)
    sys.exit(2)

BASE = sys.argv[1].rstrip('/')
MODE = sys.argv[2]
KIND = sys.argv[3]
TRANSPORTS = MODES[MODE]
LABEL = f'interop-python-{KIND} {MODE}'

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

# Dedicated pool for blocking sync-client calls; a hung call cannot starve later scenarios.
EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix='sync-call')


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


def _set_result(fut, value):
    if not fut.done():
        fut.set_result(value)


class Conn:
    """One python-socketio client (one Engine.IO connection) with event recording.

    question: how the client answers the server's "question" event:
      'answer' -> returns "answer-<payload>" (the ack), 'slow' -> answers only after 6.5 s.
    """

    def __init__(self, loop, question='answer'):
        self.loop = loop
        self.events = []  # (namespace, event, args)
        self.changed = asyncio.Event()
        self.stop = threading.Event()
        self.question = question
        if KIND == 'async':
            self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False,
                                            request_timeout=5)
        else:
            self.sio = socketio.Client(reconnection=False, handle_sigint=False,
                                       request_timeout=5)
        self._register()

    # -- python-engineio teardown race ------------------------------------------------------
    # python-engineio's write loop re-checks `state == 'connected'` after each polling POST. If
    # disconnect() runs while a POST is still in flight (e.g. connect() giving up right after a
    # CONNECT_ERROR that overtook the POST answering the CONNECT packet, or a disconnect right
    # after an ack), the loop exits without sending the CLOSE packet and disconnect() then blocks
    # joining the read loop until the server answers the pending GET (the next ping: up to 25 s
    # with the interop options). This is a client-side race that any server triggers; it is
    # avoided by letting the send queue drain before disconnecting. The connect_error handlers
    # run before connect() decides to disconnect, so they drain too.
    def _unsent(self):
        q = getattr(self.sio.eio, 'queue', None)
        if q is None:
            return 0
        return getattr(q, 'unfinished_tasks', getattr(q, '_unfinished_tasks', 0))

    def _drain_sync(self, timeout=1.0):
        deadline = time.monotonic() + timeout
        while self._unsent() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)

    async def _drain_async(self, timeout=1.0):
        deadline = time.monotonic() + timeout
        while self._unsent() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)

    # -- recording ------------------------------------------------------------------------
    def _record(self, namespace, event, args):
        def add():
            self.events.append((namespace, event, args))
            self.changed.set()
        self.loop.call_soon_threadsafe(add)

    def _register(self):
        sio = self.sio
        if KIND == 'async':
            async def on_connect(ns):
                self._record(ns, 'connect', ())

            async def on_connect_error(ns, *data):
                self._record(ns, 'connect_error', data)
                await self._drain_async()

            async def on_disconnect(ns, *reason):
                self._record(ns, 'disconnect', reason)

            async def on_question(ns, *args):
                self._record(ns, 'question', args)
                if self.question == 'slow':
                    await asyncio.sleep(6.5)
                    return 'late'
                return 'answer-' + str(args[0] if args else None)

            async def on_any(event, ns, *args):
                self._record(ns, event, args)
        else:
            def on_connect(ns):
                self._record(ns, 'connect', ())

            def on_connect_error(ns, *data):
                self._record(ns, 'connect_error', data)
                self._drain_sync()

            def on_disconnect(ns, *reason):
                self._record(ns, 'disconnect', reason)

            def on_question(ns, *args):
                self._record(ns, 'question', args)
                if self.question == 'slow':
                    self.stop.wait(6.5)
                    return 'late'
                return 'answer-' + str(args[0] if args else None)

            def on_any(event, ns, *args):
                self._record(ns, event, args)

        sio.on('connect', on_connect, namespace='*')
        sio.on('connect_error', on_connect_error, namespace='*')
        sio.on('disconnect', on_disconnect, namespace='*')
        sio.on('question', on_question, namespace='*')
        sio.on('*', on_any, namespace='*')

    def got(self, event, namespace='/'):
        return [args for (ns, ev, args) in self.events if ns == namespace and ev == event]

    async def wait_event(self, event, namespace='/', count=1, timeout=5.0):
        """Waits until `count` `event`s were recorded on `namespace`; returns the count-th args."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.got(event, namespace)
            if len(got) >= count:
                return got[count - 1]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Fail(f'no "{event}" #{count} on {namespace} within {timeout} s '
                           f'(recorded: {short(self.events, 300)})')
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    # -- client calls ---------------------------------------------------------------------
    async def _run(self, fn, *args, **kwargs):
        if KIND == 'async':
            return await fn(*args, **kwargs)
        return await self.loop.run_in_executor(EXECUTOR, lambda: fn(*args, **kwargs))

    async def connect(self, namespaces=('/',), auth=None):
        await self._run(self.sio.connect, BASE, auth=auth, transports=TRANSPORTS,
                        namespaces=list(namespaces), wait_timeout=5)

    async def connect_fails(self, namespaces=('/',), auth=None):
        """Connect must raise socketio.exceptions.ConnectionError; returns the exception."""
        try:
            await self.connect(namespaces, auth)
        except socketio.exceptions.ConnectionError as e:
            return e
        raise Fail(f'connect to {list(namespaces)} with auth {auth!r} succeeded, expected error')

    async def emit(self, event, data=None, namespace='/'):
        await self._run(self.sio.emit, event, data=data, namespace=namespace)

    async def call(self, event, data=None, namespace='/', timeout=5):
        return await self._run(self.sio.call, event, data=data, namespace=namespace,
                               timeout=timeout)

    async def emit_all(self, event, data=None, namespace='/', timeout=5):
        """emit with a callback; returns ALL the ack args as a tuple."""
        fut = self.loop.create_future()

        def cb(*args):
            self.loop.call_soon_threadsafe(_set_result, fut, args)

        await self._run(self.sio.emit, event, data=data, namespace=namespace, callback=cb)
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise Fail(f'no ack for "{event}" within {timeout} s') from None

    def sid(self, namespace='/'):
        return self.sio.get_sid(namespace)

    def transport(self):
        return self.sio.transport()

    async def close(self):
        self.stop.set()
        try:
            if self.sio.connected or self.sio.eio.state != 'disconnected':
                if KIND == 'async':
                    await self._drain_async()
                else:
                    await self.loop.run_in_executor(EXECUTOR, self._drain_sync)
                await self._run(self.sio.disconnect)
        except Exception:
            pass


class Ctx:
    def __init__(self, loop):
        self.loop = loop
        self.conns = []

    def conn(self, **kwargs):
        c = Conn(self.loop, **kwargs)
        self.conns.append(c)
        return c

    async def close(self):
        await asyncio.gather(*(asyncio.wait_for(c.close(), 5) for c in self.conns),
                             return_exceptions=True)


# ---------------------------------------------------------------------------------------------
# scenarios

SCENARIOS = []


def scenario(fn):
    SCENARIOS.append((fn.__name__.replace('_', '-'), fn))
    return fn


@scenario
async def health(ctx):
    def get():
        with urllib.request.urlopen(BASE + '/health', timeout=5) as r:
            return r.status, r.read().decode()
    status, body = await ctx.loop.run_in_executor(EXECUTOR, get)
    eq(status, 200, 'GET /health status')
    eq(body, 'ok', 'GET /health body')


@scenario
async def connect_auth_multiplex(ctx):
    # one client, one Engine.IO connection, two namespaces; python-socketio sends the same auth
    # payload in the CONNECT packet of every namespace
    c = ctx.conn()
    await c.connect(['/', '/custom'], auth={'token': 'abc'})
    eq((await c.wait_event('auth', '/'))[0], {'token': 'abc'}, '"/" auth event')
    eq((await c.wait_event('auth', '/custom'))[0], {'token': 'abc'}, '"/custom" auth event')
    s1, s2 = c.sid('/'), c.sid('/custom')
    check(s1 and s2, f'missing namespace sids: {s1!r} {s2!r}')
    check(s1 != s2, f'"/" and "/custom" must have different ids, both are {s1!r}')
    check(s1 != c.sio.eio.sid, 'namespace sid must differ from the Engine.IO sid')
    eq(await c.call('ack', 'on-main', namespace='/'), 'on-main', '"/" ack')
    eq(await c.call('ack', 'on-custom', namespace='/custom'), 'on-custom', '"/custom" ack')

    # python-socketio sends {} when no auth is given
    d = ctx.conn()
    await d.connect(['/custom'])
    a = (await d.wait_event('auth', '/custom'))[0]
    check(a is None or a == {}, f'"/custom" auth without payload: expected None or {{}}, got {a!r}')


@scenario
async def ack_mixed_args(ctx):
    c = ctx.conn()
    await c.connect()
    r = await c.call('ack', ('hello', 42, {'a': 1}, [1, 2]))
    eq(r, ('hello', 42, {'a': 1}, [1, 2]), 'call() with several ack args')
    eq(await c.call('ack', 'only'), 'only', 'call() with one ack arg')
    eq(await c.call('ack'), None, 'call() with no ack arg')
    eq(await c.emit_all('ack', ('hello', 42, {'a': 1}, [1, 2])),
       ('hello', 42, {'a': 1}, [1, 2]), 'callback ack args')
    eq(await c.emit_all('ack', (None, True, 1.5, '', {'nested': {'deep': [None, False]}})),
       (None, True, 1.5, '', {'nested': {'deep': [None, False]}}), 'mixed ack args')
    eq(await c.emit_all('ack'), (), 'empty ack')
    eq(await c.emit_all('ack', 'héllo wörld ✓ 🚀'), ('héllo wörld ✓ 🚀',), 'unicode ack')


@scenario
async def binary(ctx):
    c = ctx.conn()
    await c.connect()
    data = bytes([0, 1, 2, 3, 254, 255, 128, 10, 13])
    eq(await c.emit_all('ack', data), (data,), 'binary ack')

    other = b'second buffer \x00\xff'
    await c.emit('echo', ({'bin': data, 'n': 1}, other))
    args = await c.wait_event('echo')
    eq(args, ({'bin': data, 'n': 1}, other), 'binary echo')

    big = bytes([7]) * 100_000
    eq(await c.emit_all('ack', ('txt', [data, {'b': big}], 3)),
       ('txt', [data, {'b': big}], 3), 'several attachments in one ack')


@scenario
async def server_to_client_ack(ctx):
    c = ctx.conn(question='answer')
    await c.connect()
    eq(await c.call('ask', 'x'), 'answer-x', 'ask')
    eq(await c.call('ask', 7), 'answer-7', 'ask 7')
    eq(c.got('question'), [('x',), (7,)], 'questions received')


@scenario
async def server_to_client_ack_timeout(ctx):
    # python-socketio always acks an event that asked for one (even without a handler), so the
    # server-side 5 s timeout is exercised with a handler that answers after 6.5 s.
    c = ctx.conn(question='slow')
    await c.connect()
    started = time.monotonic()
    eq(await c.call('ask', 'y', timeout=8), {'error': 'timeout'}, 'ask with late answer')
    check(time.monotonic() - started >= 4.5, 'server answered the timeout too early')
    eq(c.got('question'), [('y',)], 'questions received')


@scenario
async def rooms(ctx):
    A, B, C = ctx.conn(), ctx.conn(), ctx.conn()
    await asyncio.gather(A.connect(), B.connect(), C.connect())

    for name, s in (('A', A), ('B', B)):
        r = await s.call('join', 'r1')
        check(isinstance(r, list), f'{name} join ack must be a list, got {r!r}')
        check('r1' in r, f'{name} join ack {r!r} lacks r1')
        check(s.sid() in r, f'{name} join ack {r!r} lacks own id {s.sid()!r}')
        eq(r, sorted(r), f'{name} join ack sorted')
    eq(await C.call('rooms'), [C.sid()], 'C rooms')

    # to-room excludes the sender
    eq(await A.call('to-room', ('r1', {'m': 1})), True, 'to-room ack')
    await B.wait_event('room-message')
    await asyncio.sleep(QUIET)
    eq(B.got('room-message'), [({'m': 1},)], 'B room messages')
    eq(A.got('room-message'), [], 'sender A must not receive to-room')
    eq(C.got('room-message'), [], 'C is not in r1')

    # to-room-all includes the sender
    eq(await A.call('to-room-all', ('r1', {'m': 2})), True, 'to-room-all ack')
    await A.wait_event('room-message')
    await B.wait_event('room-message', count=2)
    await asyncio.sleep(QUIET)
    eq(A.got('room-message'), [({'m': 2},)], 'A room messages')
    eq(B.got('room-message'), [({'m': 1},), ({'m': 2},)], 'B room messages')
    eq(C.got('room-message'), [], 'C is not in r1')

    # B leaves
    eq(await B.call('leave', 'r1'), [B.sid()], 'B leave ack')
    eq(await A.call('to-room-all', ('r1', {'m': 3})), True, 'to-room-all ack')
    await A.wait_event('room-message', count=2)
    await asyncio.sleep(QUIET)
    eq(A.got('room-message'), [({'m': 2},), ({'m': 3},)], 'A room messages')
    eq(len(B.got('room-message')), 2, 'B left r1 and must not receive')
    eq(C.got('room-message'), [], 'C room messages')
    eq(await A.call('rooms'), sorted([A.sid(), 'r1']), 'A rooms')


@scenario
async def transport(ctx):
    c = ctx.conn()
    await c.connect()
    if MODE == 'upgrade':
        deadline = time.monotonic() + 5
        while c.transport() != 'websocket':
            check(time.monotonic() < deadline, f'no upgrade to websocket, still {c.transport()!r}')
            await asyncio.sleep(0.05)
        eq(await c.call('transport'), 'websocket', 'server-side transport after upgrade')
    else:
        eq(c.transport(), MODE, 'client transport')
        eq(await c.call('transport'), MODE, 'server-side transport')
        await asyncio.sleep(QUIET)
        eq(c.transport(), MODE, 'client transport later')
        eq(await c.call('transport'), MODE, 'server-side transport later')


@scenario
async def unknown_namespace(ctx):
    c = ctx.conn()
    e = await c.connect_fails(['/nope'])
    check('/nope' in str(e), f'ConnectionError should name /nope: {e}')
    eq((await c.wait_event('connect_error', '/nope'))[0], {'message': 'Invalid namespace'},
       'connect_error data')


@scenario
async def admin(ctx):
    for auth in (None, {'token': 'nope'}, {'token': 'secret', 'x': 1}):
        c = ctx.conn()
        await c.connect_fails(['/admin'], auth=auth)
        eq((await c.wait_event('connect_error', '/admin'))[0], {'message': 'unauthorized'},
           f'connect_error data with auth {auth!r}')
    ok = ctx.conn()
    await ok.connect(['/admin'], auth={'token': 'secret'})
    eq(await ok.call('ack', 'admin', namespace='/admin'), 'admin', '/admin ack')


@scenario
async def rejection(ctx):
    for ns in ('/', '/custom'):
        c = ctx.conn()
        await c.connect_fails([ns], auth={'reject': True})
        eq((await c.wait_event('connect_error', ns))[0], {'message': 'rejected by server'},
           f'{ns} connect_error data')
    fine = ctx.conn()
    await fine.connect(['/'], auth={'reject': False})


@scenario
async def disconnect_me(ctx):
    c = ctx.conn()
    await c.connect()
    await c.emit('disconnect-me')
    reason = await c.wait_event('disconnect')
    # python-socketio reports a DISCONNECT packet from the server as "server disconnect"
    eq(reason, (c.sio.reason.SERVER_DISCONNECT,), 'disconnect reason')
    eq(reason, ('server disconnect',), 'disconnect reason')
    await asyncio.sleep(0.1)
    check(not c.sio.connected, 'client still connected')


@scenario
async def disconnect_me_multiplexed(ctx):
    c = ctx.conn()
    await c.connect(['/', '/custom'])
    await c.emit('disconnect-me', namespace='/custom')
    eq(await c.wait_event('disconnect', '/custom'), ('server disconnect',), '/custom reason')
    eq(await c.call('ack', 'still-here', namespace='/'), 'still-here', '"/" still connected')
    eq(c.got('disconnect', '/'), [], '"/" must not be disconnected')


CLOSE_REASONS = {
    # What python-socketio reports when the server closes the Engine.IO connection: on polling
    # the server answers the pending GET with an Engine.IO "close" packet, which the client
    # reports as "server disconnect"; on websocket the socket is just closed, which the client
    # reports as "transport error".
    'polling': 'server disconnect',
    'websocket': 'transport error',
    'upgrade': 'transport error',
}


@scenario
async def close_me(ctx):
    c = ctx.conn()
    await c.connect(['/', '/custom'])
    await c.emit('close-me')
    r1 = await c.wait_event('disconnect', '/')
    r2 = await c.wait_event('disconnect', '/custom')
    expected = (CLOSE_REASONS[MODE],)
    eq(r1, expected, '"/" disconnect reason')
    eq(r2, expected, '"/custom" disconnect reason')


# ---------------------------------------------------------------------------------------------
# runner

def clip(text, limit=500):
    text = ' '.join(text.split())
    return text if len(text) <= limit else text[:limit] + '...'


async def main():
    global passed, failed
    loop = asyncio.get_running_loop()
    for name, fn in SCENARIOS:
        ctx = Ctx(loop)
        try:
            await asyncio.wait_for(fn(ctx), SCENARIO_TIMEOUT)
            passed += 1
            _out(f'ok {name}')
        except asyncio.TimeoutError:
            failed += 1
            _out(f'FAIL {name}: scenario timeout after {SCENARIO_TIMEOUT} s')
        except Fail as e:
            failed += 1
            _out(f'FAIL {name}: ' + clip(str(e)))
        except Exception as e:  # unexpected: show where
            failed += 1
            where = traceback.extract_tb(e.__traceback__)[-1]
            _out(f'FAIL {name}: {type(e).__name__}: ' + clip(str(e))
                 + f' (at {os.path.basename(where.filename)}:{where.lineno})')
        finally:
            try:
                await asyncio.wait_for(ctx.close(), 6)
            except Exception:
                pass


try:
    asyncio.run(main())
except BaseException as e:  # noqa: BLE001 - report and fall through to the summary
    failed += 1
    _out(f'FAIL runner: {type(e).__name__}: {e}')
_out(f'{LABEL}: {passed} passed, {failed} failed')
os._exit(0 if failed == 0 else 1)
