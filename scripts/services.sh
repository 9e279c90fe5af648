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

pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

if ! pg_up; then
  echo "==> starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null; then
    for c in $(pg_lsclusters -h 2>/dev/null | awk '{print $1 "/" $2}'); do pg_ctlcluster "${c%/*}" "${c#*/}" start || true; done
  elif command -v service >/dev/null; then
    service postgresql start || true
  fi
  for _ in $(seq 60); do pg_up && break; sleep 0.5; done
  pg_up || { echo "PostgreSQL is needed on 127.0.0.1:5432 for the postgres adapter tests" >&2; exit 1; }
fi
# The postgres adapter tests connect as postgres to the database "test" (trust auth on loopback).
if command -v psql >/dev/null && ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -d postgres -c 'create database test' >/dev/null 2>&1 || true
fi
echo "==> postgresql answers"
