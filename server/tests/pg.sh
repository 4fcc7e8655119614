#!/bin/sh
# Run the server's test suite on PostgreSQL as well as SQLite: a throwaway cluster from Debian's
# packages (`apt-get install -y postgresql`), initdb into a temp dir, listening on 127.0.0.1 only,
# stopped and removed on exit.
#
#   server/tests/pg.sh                 # the server's tests and the CLI's `serve` tests, on PostgreSQL
#   server/tests/pg.sh --start-only    # print an `export AIRBYTE_SERVER_TEST_PG=...` and keep it running
#
# Environment: PG_PORT (default 54329), PG_BIN (default: newest /usr/lib/postgresql/*/bin).
set -eu

PG_PORT="${PG_PORT:-54329}"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
[ -x "$PG_BIN/initdb" ] || { echo "pg.sh: no PostgreSQL binaries (apt-get install -y postgresql)" >&2; exit 1; }

DIR="$(mktemp -d "${TMPDIR:-/tmp}/airbyte-server-pg.XXXXXX")"
# PostgreSQL refuses to run as root: run the cluster as the `postgres` user then.
if [ "$(id -u)" = 0 ]; then
    chown postgres "$DIR"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

stop() {
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
}

as_pg "$PG_BIN/initdb" -D "$DIR/data" -U airbyte --auth=trust -E UTF8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$DIR -c fsync=off" start >/dev/null
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U airbyte airbyte_server_test

URL="postgres://airbyte@127.0.0.1:$PG_PORT/airbyte_server_test"
if [ "${1:-}" = "--start-only" ]; then
    echo "export AIRBYTE_SERVER_TEST_PG=$URL"
    echo "# stop: $PG_BIN/pg_ctl -D $DIR/data stop && rm -rf $DIR"
    exit 0
fi
trap stop EXIT INT TERM
AIRBYTE_SERVER_TEST_PG="$URL" cargo test -p airbyte-agent-server "$@"
# `airbyte-agent serve` and the CLI's setup flow against the server, on a database of their own
# (the binary checks its master key against what the database holds; the tests above use many).
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U airbyte airbyte_cli_test
AIRBYTE_SERVER_TEST_PG="postgres://airbyte@127.0.0.1:$PG_PORT/airbyte_cli_test" \
    cargo test -p airbyte-agent-cli --test serve "$@"
