#!/usr/bin/env bash
# Makes sure the services the cluster tests talk to answer on loopback: Redis on 6379 and
# RabbitMQ on 5672 (REDIS_URL / AMQP_URL point the tests elsewhere). Starts a local one that is
# installed but down.
set -euo pipefail

redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }

if [ -z "${REDIS_URL:-}" ] && ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "==> starting redis-server on 127.0.0.1:6379"
    mkdir -p /tmp/socketio-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp/socketio-redis --logfile /tmp/socketio-redis/redis.log
    for _ in $(seq 50); do redis_up && break; sleep 0.1; done
  fi
  redis_up || { echo "Redis is needed on 127.0.0.1:6379 for the cluster tests (or set REDIS_URL)" >&2; exit 1; }
fi
echo "==> redis answers"

amqp_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

if [ -z "${AMQP_URL:-}" ] && ! amqp_up; then
  if command -v rabbitmq-server >/dev/null; then
    echo "==> starting rabbitmq-server"
    rabbitmq-server -detached
    for _ in $(seq 120); do amqp_up && break; sleep 0.5; done
  fi
  amqp_up || { echo "RabbitMQ is needed on 127.0.0.1:5672 for the cluster tests (or set AMQP_URL)" >&2; exit 1; }
fi
echo "==> rabbitmq answers"
