#!/usr/bin/env bash
# pg_floor.sh [ROUNDS] - what PostgreSQL itself allows a repoint on this
# machine, beside what the daemon does: `make bench-floor`.
#
# Issue 13 asks for repoints on PostgreSQL at 50% of SQLite's rate or
# more.  A repoint on PostgreSQL is one durable transaction of the
# statements store_pg.c sent for it before it took two round trips (a
# real repoint's server log, with log_min_duration_statement = 0, shows
# them): BEGIN, the quiet triggers and the write lock with the
# endpoint's row (S_ENDPOINT_GET); the version pinned (S_VERSION_GET);
# savepoint w and the UPDATE (S_ENDPOINT_SET_VERSION); the event and the
# audit line (LOG_INSERT), the announcement and COMMIT.  The daemon now
# sends a repoint in two round trips: BEGIN and the lock with the
# endpoint and the version in one SELECT (S_ENDPOINT_GET_PIN), then the
# UPDATE with the COMMIT (S_ENDPOINT_SET_VERSION_LATE).  Here pgbench
# runs the older statements, prepared, one client,
# on a second runtime of the same tree, in four, three, two and one
# round trips (\startpipeline), with no FUSE and no daemon in the way,
# and no daemon listening (one fewer backend to signal: the figure is a
# bound from above).  Each round also runs `load repoints` for
# SECONDS_EACH s through a mount on SQLite and one on PostgreSQL, so
# that the rates are from the same minutes: a shared virtual machine's
# fsyncs vary by more than 2× from minute to minute.  Medians (min–max)
# of ROUNDS rounds (5), and each as a share of SQLite's repoints.
#
# PostgreSQL is tests/pg.sh's, durable (PG_DURABLE=1: fsync and
# full-page writes on, as bench/run.sh's PG=1), on the same disk as
# SQLite's file (/var/tmp).  Writes its section to bench/results.md
# (<!-- bench:floor -->).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
if [ -z "${RUNTIMEFS_TEST_LOCATOR:-}" ]; then
	PG_DURABLE=1 exec bash "$repo/tests/pg.sh" bash "$0" "$@"
fi
ROUNDS=${1:-5} SECONDS_EACH=${SECONDS_EACH:-3}
RUNTIMEFS=${RUNTIMEFS:-$repo/build/runtimefs}
LOAD=${LOAD:-$repo/build/bench/load}
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
DB=$RUNTIMEFS_TEST_LOCATOR
TAG=floor OUT=$here/results.md
for f in "$RUNTIMEFS" "$LOAD" "$PGBENCH"; do
	[ -x "$f" ] || { echo "pg_floor.sh: $f: not built or not installed" >&2; exit 1; }
done
WORK=$(mktemp -d /var/tmp/rtfs-floor-XXXXXX)
. "$here/lib.sh"      # fail, wait_mount, stats, merge
pid=
cleanup() {
	for m in "$WORK/sq" "$WORK/pg"; do
		mountpoint -q "$m" 2>/dev/null && fusermount3 -u "$m"
	done
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$WORK/sq" "$WORK/pg"

# mount_on sq|pg: the daemon on SQLite's file or on PostgreSQL
mount_on() {
	local db=$WORK/state.db
	[ "$1" = pg ] && db=$DB
	"$RUNTIMEFS" --db "$db" -o "key_file=$WORK/$1.key" \
		-o offline_after=86400 -f "$WORK/$1" \
		</dev/null >/dev/null 2>>"$WORK/daemon.log" &
	pid=$!
	wait_mount "$pid" "$WORK/$1" || fail "the daemon did not mount ($1)"
}
unmount() {
	fusermount3 -u "$WORK/$1"
	wait "$pid" || fail "the daemon failed ($1)"
	pid=
}

# one environment of 50 agent runtimes on each, each with versions 1-3
# and a canary endpoint (bench/load populate)
for b in sq pg; do
	mount_on "$b"
	"$LOAD" populate "$WORK/$b" 1 50 1 "$WORK/$b.fleet" >/dev/null ||
		fail "load populate failed ($b)"
	unmount "$b"
done

psql_q() {
	PGOPTIONS="-c search_path=runtimefs" psql -X -q -t -A "$DB" -c "$1"
}
# pgbench works on r00001 (`load repoints` on r00000)
read -r rid eid < <(psql_q "SELECT e.runtime_id || ' ' || e.id FROM endpoint e
	JOIN runtime r ON r.id = e.runtime_id
	WHERE r.name = 'r00001' AND e.name = 'canary'")
[ -n "$eid" ] || fail "no canary endpoint of r00001"
line="',\"time\":\"2026-12-03T00:00:00.000000Z\",\"kind\":\"endpoint.pinned\",\"path\":\"environments/e00/runtimes/r00001/endpoints/canary\",\"from\":1,\"to\":2}
'"
log_insert() {   # TABLE: store_pg.c's LOG_INSERT, its parameters literal
	printf "INSERT INTO %s (seq, off, len, at_ns, dedup, line) SELECT coalesce(e.seq, 0) + 1, coalesce(e.off + e.len, 0), octet_length('{\"seq\":' || (coalesce(e.seq, 0) + 1) || %s), 1796256000000000000, NULL, '{\"seq\":' || (coalesce(e.seq, 0) + 1) || %s FROM (SELECT 1) o LEFT JOIN (SELECT seq, off, len FROM %s ORDER BY off DESC LIMIT 1) e ON true ON CONFLICT DO NOTHING RETURNING seq, off, len, at_ns;\n" \
		"$1" "$line" "$line" "$1"
}
begin="BEGIN;
SET LOCAL runtimefs.quiet = 'on';
SELECT pg_advisory_xact_lock(1381254775, hashtext('runtimefs'));
SELECT id, runtime_id, name, uuid, version, created_ns, updated_ns FROM endpoint WHERE runtime_id = $rid AND name = 'canary';"
version="SELECT runtime_id, number, created_ns, spec, image_password FROM version WHERE runtime_id = $rid AND number = 2;"
update="SAVEPOINT w;
UPDATE endpoint SET version = 3 - version, updated_ns = 1796256000000000000 WHERE id = $eid;"
commit="$(log_insert event)$(log_insert audit)SELECT pg_notify('runtimefs.runtimefs', 'v
e/0/64/$rid/e00/r00001/canary/
');
COMMIT;"
piped() {       # each argument one round trip
	for trip in "$@"; do
		printf '\\startpipeline\n%s\n\\endpipeline\n' "$trip"
	done
}
piped "$begin" "$version" "$update" "$commit" > "$WORK/trips4.sql"
piped "$begin" "$version" "$update
$commit" > "$WORK/trips3.sql"
piped "$begin
$version" "$update
$commit" > "$WORK/trips2.sql"
piped "$begin
$version
$update
$commit" > "$WORK/trips1.sql"

tps() {
	PGOPTIONS="-c search_path=runtimefs" "$PGBENCH" -M prepared -n -c 1 \
		-T "$SECONDS_EACH" -f "$1" "$DB" 2>&1 |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p' | cut -d. -f1
}

for r in $(seq "$ROUNDS"); do
	for b in sq pg; do
		mount_on "$b"
		rate=$("$LOAD" repoints "$WORK/$b" "$SECONDS_EACH" \
			"$WORK/$b.fleet") || fail "load repoints failed ($b)"
		unmount "$b"
		echo "$rate" >> "$WORK/daemon-$b"
	done
	for n in 4 3 2 1; do
		rate=$(tps "$WORK/trips$n.sql")
		[ -n "$rate" ] || fail "pgbench failed on trips$n.sql"
		echo "$rate" >> "$WORK/trips$n"
	done
	echo "round $r: SQLite $(tail -1 "$WORK/daemon-sq"), PostgreSQL $(tail -1 "$WORK/daemon-pg"), pgbench 4/3/2/1 round trips $(tail -qn1 "$WORK"/trips{4,3,2,1} | tr '\n' ' ')" >&2
done

sq=$(stats 0 < "$WORK/daemon-sq")
row() {        # what FILE
	local m lo hi n
	read -r m lo hi n < <(stats 0 < "$2")
	printf '| %s | %s (%s–%s) | %d%% |\n' "$1" "$m" "$lo" "$hi" \
		$((m * 100 / ${sq%% *}))
}
{
	echo "## What PostgreSQL allows a repoint here (\`make bench-floor\`, $(date -u +%Y-%m-%d))"
	echo
	echo "bench/pg_floor.sh: a repoint's SQL run by pgbench (prepared, one"
	echo "client, durable PostgreSQL $(psql -X -A -t -q "$DB" -c 'SHOW server_version' | cut -d' ' -f1) over a Unix socket, no FUSE, no daemon) in"
	echo "four to one round trips, beside \`load repoints\` through a mount on"
	echo "each backend; $ROUNDS rounds of ${SECONDS_EACH} s each, interleaved. $(nproc) CPUs."
	echo
	echo "| what | per second, median (min–max) | of SQLite's repoints |"
	echo "|---|---|---|"
	row "repoints through the mount, SQLite" "$WORK/daemon-sq"
	row "repoints through the mount, PostgreSQL (two round trips)" "$WORK/daemon-pg"
	for n in 4 3 2 1; do
		row "pgbench, the same SQL in $n round trip$([ $n = 1 ] || echo s)" "$WORK/trips$n"
	done
} > "$WORK/section.md"
cat "$WORK/section.md"
merge
