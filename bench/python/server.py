"""The benchmark server on python-socketio (asyncio + aiohttp), same handlers as the others:
"echo" acks its argument, "join" joins room "bench", "broadcast" emits "msg" to room "bench".
Listens on 127.0.0.1 only; aiohttp sets TCP_NODELAY by default."""
import os
import sys

import socketio
from aiohttp import web

sio = socketio.AsyncServer(async_mode='aiohttp')
app = web.Application()
sio.attach(app)


@sio.on('echo')
async def echo(sid, data):
    return data


@sio.on('join')
async def join(sid, room='bench'):
    await sio.enter_room(sid, room)


@sio.on('broadcast')
async def broadcast(sid, data):
    room = data.get('room', 'bench') if isinstance(data, dict) else 'bench'
    await sio.emit('msg', data, room=room)


if __name__ == '__main__':
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get('PORT', 3190))
    web.run_app(app, host='127.0.0.1', port=port, print=None, access_log=None)
