#!/usr/bin/env bash
# `make test-ckan`: a real, unmodified CKAN 2.9.11 from nothing, the push round trip
# against it, and every process it started stopped afterwards.
#
#   1. tests/ckan/setup.sh: Debian packages and CKAN in .ckan-venv/ (cached);
#   2. in a fresh temporary folder: a private PostgreSQL cluster (initdb, as the
#      postgres user when run as root) and a Redis server, each on a free local port;
#      the system's own servers are never touched;
#   3. ckan.ini from tests/ckan/ckan.ini.in, the database, a sysadmin, an API token,
#      an organisation; CKAN's server on a free local port;
#   4. pytest -m ckan (tests/test_push.py), with the portal's URL, organisation and
#      token in the environment;
#   5. on exit, however it ends: CKAN, Redis and PostgreSQL stopped, the folder removed
#      (kept with PGO_CKAN_KEEP=1, for a look at the logs).
#
# Usage: tests/ckan/run.sh [PYTHON] [pytest arguments...]   (PYTHON: the project's, .venv/bin/python)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PYTHON=${1:-$ROOT/.venv/bin/python}
shift || true
VENV=${CKAN_VENV:-$ROOT/.ckan-venv}
START=$(date +%s)

say() { printf 'test-ckan: %s (%ss)\n' "$*" "$(($(date +%s) - START))" >&2; }

bash "$ROOT/tests/ckan/setup.sh"
say "CKAN installed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgo-ckan.XXXXXX")
chmod 755 "$WORK"
CKAN_PID="" REDIS_PID="" PG_STARTED="" PGDATA="$WORK/pg"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    local status=$?
    set +e
    if [[ -n $CKAN_PID ]]; then kill "$CKAN_PID" 2>/dev/null; wait "$CKAN_PID" 2>/dev/null; fi
    if [[ -n $REDIS_PID ]]; then kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; fi
    if [[ -n $PG_STARTED ]]; then as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1; fi
    if ((status != 0)) && [[ -f $WORK/ckan.log ]]; then
        echo "--- last lines of CKAN's log ---" >&2
        tail -n 40 "$WORK/ckan.log" >&2
    fi
    if [[ ${PGO_CKAN_KEEP:-} == 1 ]]; then
        echo "test-ckan: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    say "stopped everything it started; exit code $status"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local deadline=$(($(date +%s) + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        if (($(date +%s) > deadline)); then say "$what did not start"; return 1; fi
        sleep 0.5
    done
}

# --- PostgreSQL: a private cluster in $WORK ------------------------------------------
PG_PORT=$(free_port)
mkdir -p "$PGDATA"
if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$PGDATA"; fi
chmod 700 "$PGDATA"
as_postgres "$PG_BIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log" >&2; exit 1; }
PG_STARTED=1
as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $PGDATA -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null
psql_admin() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
psql_admin -c "CREATE ROLE ckan LOGIN PASSWORD 'ckan'" -c "CREATE DATABASE ckan OWNER ckan ENCODING 'UTF8'"
say "PostgreSQL on port $PG_PORT"

# --- Redis -----------------------------------------------------------------------------
REDIS_PORT=$(free_port)
mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK/redis" \
    --logfile "$WORK/redis/redis.log" --daemonize no &
REDIS_PID=$!
wait_for 30 Redis redis-cli -p "$REDIS_PORT" ping
say "Redis on port $REDIS_PORT"

# --- CKAN --------------------------------------------------------------------------------
CKAN_PORT=$(free_port)
INI=$WORK/ckan.ini
mkdir -p "$WORK/storage" "$WORK/cache"
WHO_INI=$("$VENV/bin/python" -c 'import ckan, os; print(os.path.join(os.path.dirname(ckan.__file__), "config", "who.ini"))')
SECRET=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(32))')
UUID=$("$PYTHON" -c 'import uuid; print(uuid.uuid4())')
sed -e "s|@CKAN_PORT@|$CKAN_PORT|g" -e "s|@PG_PORT@|$PG_PORT|g" -e "s|@REDIS_PORT@|$REDIS_PORT|g" \
    -e "s|@WORK@|$WORK|g" -e "s|@SECRET@|$SECRET|g" -e "s|@UUID@|$UUID|g" -e "s|@WHO_INI@|$WHO_INI|g" \
    "$ROOT/tests/ckan/ckan.ini.in" > "$INI"
ckan_cli() { "$VENV/bin/ckan" -c "$INI" "$@" 2>>"$WORK/ckan-cli.log"; }
ckan_cli db init >/dev/null
ckan_cli user add pgo-admin email=pgo-admin@example.org password="$SECRET" >/dev/null
ckan_cli sysadmin add pgo-admin >/dev/null
TOKEN=$(ckan_cli user token add pgo-admin pgo-round-trip --quiet | tail -n 1)
say "database, sysadmin and API token ready"

"$VENV/bin/ckan" -c "$INI" run --host 127.0.0.1 --port "$CKAN_PORT" --disable-reloader >"$WORK/ckan.log" 2>&1 &
CKAN_PID=$!
URL=http://127.0.0.1:$CKAN_PORT
wait_for 120 CKAN "$PYTHON" -c "import urllib.request; urllib.request.urlopen('$URL/api/3/action/status_show', timeout=5)"
say "CKAN $("$PYTHON" -c "import json, urllib.request; print(json.load(urllib.request.urlopen('$URL/api/3/action/status_show'))['result']['ckan_version'])") at $URL"

# The organisation. Without Solr, organization_create creates it, then fails while
# showing it (the dataset count is a search): check that it is there instead.
ORG=pgo-round-trip
CKAN_API_TOKEN=$TOKEN "$PYTHON" - "$URL" "$ORG" <<'EOF'
import json, os, sys, urllib.error, urllib.request

url, org = sys.argv[1:]
def call(action, data):
    request = urllib.request.Request(
        f"{url}/api/3/action/{action}", json.dumps(data).encode(),
        {"Content-Type": "application/json", "Authorization": os.environ["CKAN_API_TOKEN"]},
    )
    try:
        return json.load(urllib.request.urlopen(request, timeout=60))
    except urllib.error.HTTPError as exc:
        return json.load(exc)
call("organization_create", {"name": org, "title": "Gouvernement ouvert (essai)"})
orgs = call("organization_list_for_user", {"permission": "create_dataset"})["result"]
if org not in [o["name"] for o in orgs]:
    sys.exit(f"organisation {org} was not created")
EOF
say "organisation $ORG ready"

# --- the round trip ------------------------------------------------------------------------
if [[ ${PGO_CKAN_SERVE:-} == 1 ]]; then  # keep the portal up for a look by hand, until killed
    printf 'export PGO_CKAN_URL=%s PGO_CKAN_ORG=%s CKAN_API_TOKEN=%s\n' "$URL" "$ORG" "$TOKEN" > "$WORK/env"
    say "serving: source $WORK/env; stop with kill $$"
    sleep infinity &
    wait $!
fi
set +e
PGO_CKAN_URL=$URL PGO_CKAN_ORG=$ORG CKAN_API_TOKEN=$TOKEN PGO_CKAN_WORK=$WORK \
    "$PYTHON" -m pytest -p no:cacheprovider -m ckan tests/test_push.py "$@"
status=$?
set -e
say "round-trip tests done"
exit "$status"
