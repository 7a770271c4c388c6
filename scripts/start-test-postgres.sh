#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the test suite (idempotent) and print its URL.
#
#   export TEST_POSTGRES_URL="$(bash scripts/start-test-postgres.sh)"
#
# Installs the `postgresql` apt package when no initdb is found. Runs the server as the
# `postgres` OS user with trust authentication, listening on 127.0.0.1 only. Everything but
# the URL goes to stderr. Override PGTEST_DIR (default /tmp/pgtest) and PGTEST_PORT (55432).
set -euo pipefail

dir="${PGTEST_DIR:-/tmp/pgtest}"
port="${PGTEST_PORT:-55432}"
url="postgresql://postgres@127.0.0.1:${port}/postgres"

find_bin() {
    local candidate
    candidate="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$candidate" && -x "$candidate/initdb" ]]; then
        echo "$candidate"
    fi
}

bin="$(find_bin)"
if [[ -z "$bin" ]]; then
    echo "installing postgresql..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y postgresql >&2
    bin="$(find_bin)"
fi
if [[ -z "$bin" ]]; then
    echo "no PostgreSQL initdb found under /usr/lib/postgresql/*/bin" >&2
    exit 1
fi

as_postgres() {
    if [[ "$(id -un)" == "postgres" ]]; then
        bash -c "$1"
    else
        su postgres -s /bin/bash -c "$1"
    fi
}

mkdir -p "$dir"
if [[ "$(id -u)" == "0" ]]; then
    chown postgres "$dir"
fi

if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    echo "initialising $dir/data..." >&2
    as_postgres "'$bin/initdb' -D '$dir/data' -A trust -U postgres" >&2
fi

if as_postgres "'$bin/pg_ctl' -D '$dir/data' status" >/dev/null 2>&1; then
    echo "PostgreSQL already running in $dir/data" >&2
else
    as_postgres "'$bin/pg_ctl' -D '$dir/data' -w -t 60 \
        -o '-p $port -k $dir -c listen_addresses=127.0.0.1' -l '$dir/log' start" >&2
fi

for _ in $(seq 1 60); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        echo "$url"
        exit 0
    fi
    sleep 1
done
echo "PostgreSQL did not become ready on port $port; see $dir/log" >&2
exit 1
