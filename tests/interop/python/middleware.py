"""Middlewares and dynamic namespaces as python-socketio's AsyncClient sees them (driven by
tests/middleware.rs). Usage: python middleware.py <base-url>. Exit status 0 when every check
passed."""

import asyncio
import sys

import socketio

BASE = sys.argv[1]


async def refused():
    sio = socketio.AsyncClient(reconnection=False)
    errors = []
    sio.on('connect_error', lambda data: errors.append(data), namespace='/guarded')
    try:
        await sio.connect(BASE, namespaces=['/guarded'], auth={'token': 'wrong'},
                          transports=['websocket'], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        pass
    else:
        raise AssertionError('a wrong token was accepted')
    await sio.disconnect()
    assert errors == [{'message': 'unauthorized', 'data': {'code': 401, 'ns': '/guarded'}}], errors


async def accepted():
    sio = socketio.AsyncClient(reconnection=False)
    welcome = asyncio.get_running_loop().create_future()
    sio.on('welcome', lambda order, role: welcome.set_result((order, role)), namespace='/guarded')
    await sio.connect(BASE, namespaces=['/guarded', '/room-7'], auth={'token': 's3cret'},
                      transports=['polling', 'websocket'], wait_timeout=5)
    assert await asyncio.wait_for(welcome, 5) == (['first', 'second'], 'member')
    assert await sio.call('hits', namespace='/guarded', timeout=5) == 1
    got = await sio.call('blocked', 1, namespace='/guarded', timeout=5)
    assert got == {'error': 'blocked by middleware'}, got
    assert await sio.call('rewrite', 'py', namespace='/guarded', timeout=5) == ['PY']
    assert await sio.call('where', namespace='/room-7', timeout=5) == '/room-7'
    seen = await sio.call('seen', namespace='/guarded', timeout=5)
    assert seen == ['hits', 'blocked', 'rewrite', 'seen'], seen
    await sio.disconnect()


async def main():
    await refused()
    await accepted()
    print('ok')


asyncio.run(asyncio.wait_for(main(), 30))
