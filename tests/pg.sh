#!/usr/bin/env bash
# pg.sh - a private, throwaway PostgreSQL 15 for tests and try-outs.
#
#   tests/pg.sh                  start one, print its connection string,
#                                serve until Ctrl-C, then remove it
#   tests/pg.sh CMD ARGS...      start one, run CMD with
#                                RUNTIMEFS_TEST_LOCATOR set to its
#                                connection string, then remove it; exits
#                                with CMD's code
#
# The cluster is initdb'd into a new temporary directory by a non-root
# user (the `postgres` user of the Debian package when run as root, else
# the caller), listens on a Unix socket in that directory only (no TCP),
# trusts local connections, and runs with fsync off: it holds test data
# only (PG_DURABLE=1 keeps fsync and full-page writes on, for the
# benchmark, which compares it with SQLite's fsyncs).  It has a database `runtimefs`.  Whatever happens (an error, a
# signal), the trap stops the server and removes the directory.
#
# Without PostgreSQL 15 installed it says so and skips CMD (exit 0),
# except under CI=true, where a skipped PostgreSQL run is a failure.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
	echo "pg.sh: PostgreSQL 15 is not installed ($PGBIN/initdb):" \
		"apt-get install postgresql-15" >&2
	if [ "${CI:-}" = true ] || [ $# = 0 ]; then
		echo "pg.sh: under CI=true a skipped PostgreSQL run is a" \
			"failure" >&2
		exit 1
	fi
	echo "pg.sh: skipped: $*" >&2
	exit 0
fi

# as root, the server runs as `postgres`; otherwise as the caller
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=postgres --regid=postgres --init-groups \
			--reset-env "$@"
	else
		"$@"
	fi
}

DIR=$(mktemp -d /tmp/rtfs-pg-XXXXXX)
chmod 0711 "$DIR"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
OWNER=$([ "$(id -u)" = 0 ] && echo postgres || id -un)

stop() {
	[ -z "${!:-}" ] || kill "$!" 2>/dev/null || true    # the idle sleep
	as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w stop \
		>/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap stop EXIT
trap 'exit 130' INT TERM HUP

DURABILITY="-c fsync=off -c full_page_writes=off"
[ "${PG_DURABLE:-0}" != 1 ] || DURABILITY=""
as_owner "$PGBIN/initdb" -D "$DIR/data" -U "$OWNER" --auth=trust \
	--encoding=UTF8 --locale=C >"$DIR/initdb.log" 2>&1 || {
	cat "$DIR/initdb.log" >&2
	exit 1
}
as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
	-o "-c listen_addresses='' -c unix_socket_directories='$DIR'" \
	-o "$DURABILITY -c max_connections=200" \
	start >/dev/null || {
	cat "$DIR/server.log" >&2
	exit 1
}
as_owner "$PGBIN/createdb" -h "$DIR" -U "$OWNER" runtimefs

LOCATOR="host=$DIR user=$OWNER dbname=runtimefs"
if [ $# = 0 ]; then
	echo "$LOCATOR"
	echo "pg.sh: serving until Ctrl-C (then removed)" >&2
	# in the background, so that Ctrl-C runs the trap at once
	while :; do sleep 3600 & wait $!; done
fi
# where the server lives, for a test that stops and starts it (lib.sh's
# pg_server)
RUNTIMEFS_TEST_PG_DIR=$DIR RUNTIMEFS_TEST_PG_BIN=$PGBIN \
	RUNTIMEFS_TEST_LOCATOR=$LOCATOR "$@"
