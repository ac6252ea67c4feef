#!/usr/bin/env bash
# Installs (if missing) and starts Redis and Postgres on 127.0.0.1 for the atombot-jobs tests.
# Idempotent: safe to run again. Writes the test URLs to $ATOMBOT_SERVICES_ENV
# (default: target/ci-services.env) and prints them; the CI script does:
#
#   jobs/ci-services.sh && . target/ci-services.env   # exports ATOMBOT_TEST_{REDIS,POSTGRES}_URL
#
# Needs root (apt-get, su postgres). Set ATOMBOT_SKIP_INSTALL=1 to never call apt-get.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ENV_FILE="${ATOMBOT_SERVICES_ENV:-$ROOT/target/ci-services.env}"
REDIS_PORT="${ATOMBOT_REDIS_PORT:-6379}"
PG_PORT="${ATOMBOT_PG_PORT:-5432}"
PG_USER=atombot
PG_PASS=atombot-test
PG_DB=atombot_test

need_install=()
command -v redis-server >/dev/null || need_install+=(redis-server)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need_install+=(postgresql)
if [ "${#need_install[@]}" -gt 0 ]; then
    if [ "${ATOMBOT_SKIP_INSTALL:-0}" = 1 ]; then
        echo "ci-services: missing ${need_install[*]} and ATOMBOT_SKIP_INSTALL=1" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    [ -n "${ATOMBOT_APT_UPDATED:-}" ] || apt-get update -qq
    apt-get install -y -qq "${need_install[@]}" >/dev/null
fi

# Redis: loopback only, append-only file so acknowledged pushes survive a restart.
if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    mkdir -p /tmp/atombot-redis
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
        --dir /tmp/atombot-redis --appendonly yes --save "" \
        --logfile /tmp/atombot-redis/redis.log
    for _ in $(seq 50); do
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
fi
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null

# Postgres: the distribution's cluster, listening on 127.0.0.1 only.
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
PG_VER="$(basename "$(dirname "$PG_BIN")")"
if command -v pg_lsclusters >/dev/null; then
    if ! pg_lsclusters -h | awk '{print $1,$2}' | grep -q "^$PG_VER main$"; then
        pg_createcluster "$PG_VER" main >/dev/null
    fi
    if ! pg_lsclusters -h | awk '$1=="'"$PG_VER"'" && $2=="main" {print $4}' | grep -q online; then
        pg_ctlcluster "$PG_VER" main start -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT"
    fi
else
    DATA=/tmp/atombot-pg
    if [ ! -d "$DATA" ]; then
        mkdir -p "$DATA" && chown postgres "$DATA"
        su postgres -c "$PG_BIN/initdb -D $DATA -A scram-sha-256 --pwfile=<(echo postgres)" >/dev/null
    fi
    su postgres -c "$PG_BIN/pg_ctl -D $DATA status" >/dev/null 2>&1 ||
        su postgres -c "$PG_BIN/pg_ctl -D $DATA -l $DATA/log -w start -o '-c listen_addresses=127.0.0.1 -c port=$PG_PORT'"
fi
for _ in $(seq 100); do
    su postgres -c "psql -h 127.0.0.1 -p $PG_PORT -qAtc 'select 1'" >/dev/null 2>&1 && break
    su postgres -c "psql -p $PG_PORT -qAtc 'select 1'" >/dev/null 2>&1 && break
    sleep 0.1
done
psql_su() { su postgres -c "psql -p $PG_PORT -qAt -v ON_ERROR_STOP=1 -c \"$1\""; }
if [ "$(psql_su "select 1 from pg_roles where rolname='$PG_USER'")" != 1 ]; then
    psql_su "create role $PG_USER login password '$PG_PASS'"
fi
if [ "$(psql_su "select 1 from pg_database where datname='$PG_DB'")" != 1 ]; then
    psql_su "create database $PG_DB owner $PG_USER"
fi

REDIS_URL="redis://127.0.0.1:$REDIS_PORT/"
PG_URL="postgres://$PG_USER:$PG_PASS@127.0.0.1:$PG_PORT/$PG_DB"
mkdir -p "$(dirname "$ENV_FILE")"
cat >"$ENV_FILE" <<ENV
export ATOMBOT_TEST_REDIS_URL=$REDIS_URL
export ATOMBOT_TEST_POSTGRES_URL=$PG_URL
ENV
cat "$ENV_FILE"
