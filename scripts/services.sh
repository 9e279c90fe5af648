#!/usr/bin/env bash
# Makes sure the services the cluster tests talk to answer on loopback: Redis on 6379, a Redis
# Cluster of three primaries on 7000-7002, RabbitMQ on 5672 and PostgreSQL on 5432
# (REDIS_URL / AMQP_URL point some tests elsewhere). Starts a local one that is installed but
# down.
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

# The Redis Cluster of the adapters' cluster tests: three primaries (7000-7002), no replicas,
# nothing persisted. Made again from scratch when any node is down or the cluster is not ok.
cluster_ports="7000 7001 7002"
cluster_dir=/tmp/socketio-redis-cluster
cluster_ok() { redis-cli -p 7000 cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }
cluster_nodes_up() { for p in $cluster_ports; do redis-cli -p "$p" ping 2>/dev/null | grep -q PONG || return 1; done; }

if ! { cluster_nodes_up && cluster_ok; }; then
  command -v redis-server >/dev/null || { echo "redis-server is needed for the Redis Cluster tests" >&2; exit 1; }
  echo "==> starting a Redis Cluster on 127.0.0.1:7000-7002"
  for p in $cluster_ports; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  rm -rf "$cluster_dir"
  for p in $cluster_ports; do
    mkdir -p "$cluster_dir/$p"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$p" --cluster-enabled yes \
      --cluster-config-file "$cluster_dir/$p/nodes.conf" --cluster-node-timeout 2000 \
      --save "" --appendonly no --dir "$cluster_dir/$p" --logfile "$cluster_dir/$p/redis.log"
  done
  for _ in $(seq 50); do cluster_nodes_up && break; sleep 0.1; done
  redis-cli --cluster create 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002 \
    --cluster-replicas 0 --cluster-yes >/dev/null
  for _ in $(seq 100); do cluster_ok && break; sleep 0.1; done
  cluster_ok || { echo "the Redis Cluster on 7000-7002 did not come up (see $cluster_dir/*/redis.log)" >&2; exit 1; }
fi
echo "==> redis cluster answers"

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
