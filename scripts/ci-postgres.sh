#!/usr/bin/env bash
# The suite against PostgreSQL: installs Debian's server if missing (root), starts a private
# cluster on loopback in a temporary directory, creates a database, and runs pytest with
# DATABASE_URL pointing there. Stops and removes the cluster on exit, whatever happens.
#
# Only the tests marked `database` run: tests/conftest.py marks every test that reaches the
# database through the `settings` fixture (and fails any other test that touches one), and a
# test that needs PostgreSQL itself is marked by hand. The rest (processing, signing,
# verification of files, the PKI installations' own SQLite) cannot differ from the SQLite run.
# `-m "database or not database"` runs everything.
#
#   bash scripts/ci-postgres.sh [pytest args...]      (PG_PORT to change the port, default 54329)
#   bash scripts/ci-postgres.sh --install             (the server and the driver only; no run)
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT="${PG_PORT:-54329}"
PSYCOPG_PIN="psycopg2-binary==2.9.13"
PY=.venv/bin/python

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$dir" ] && echo "$dir"
}

if [ -z "$(pg_bin)" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "ci-postgres: PostgreSQL tidak terpasang dan skrip ini bukan root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
fi
BIN="$(pg_bin)"

[ -x "$PY" ] || make install
"$PY" -c "import psycopg2" 2>/dev/null || "$PY" -m pip install -q "$PSYCOPG_PIN"
[ "${1:-}" = "--install" ] && exit 0

WORK="$(mktemp -d /tmp/ci-postgres.XXXXXX)"
# initdb and postgres refuse to run as root: a system account owns the cluster.
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$WORK"
    RUN_AS=(runuser -u postgres --)
fi

cleanup() {
    "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

"${RUN_AS[@]}" "$BIN/initdb" -D "$WORK/data" -U ci --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
"$BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U ci pengesahan_ci

export DATABASE_URL="postgresql://ci@127.0.0.1:$PG_PORT/pengesahan_ci"
export TEST_DATABASE_URL="$DATABASE_URL"
export PATH="$BIN:$PATH"   # pg_dump / pg_restore of the same version for the backup tests
echo "ci-postgres: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') di 127.0.0.1:$PG_PORT"
"$PY" -m pytest -q -m database "$@"
