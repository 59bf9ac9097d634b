# lib.sh - what every mount test uses: a real daemon on a temporary
# mountpoint, and checks that read like the shell session they test.
#
# A test is a function named test_* in a tests/mount/t_*.sh file.  run.sh
# gives each one a fresh database and mount, with the working directory at
# the mountpoint, so paths in expected messages are the ones a user types.
#
#   run CMD ARGS...      runs CMD, keeping its output ($OUT, stdout and
#                        stderr together) and exit code ($RC)
#   sh 'LINE'            runs LINE in bash, as run does (bash's builtin echo)
#   expect TEXT          $OUT must be TEXT exactly
#   expect_rc N          $RC must be N
#   expect_has TEXT      $OUT must contain TEXT
#   within S CMD ARGS... runs CMD until it succeeds, every 20 ms for S
#                        seconds at most; its last status
#   remount [OPTS]       unmounts cleanly and mounts the same database again
#
# and, at the end, what several test files drive the tree with.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNTIMEFS=${RUNTIMEFS:-build/runtimefs}
case $RUNTIMEFS in /*) ;; *) RUNTIMEFS=$REPO/$RUNTIMEFS ;; esac

fail() {
	echo "    FAIL: $*" >&2
	TEST_FAILED=1
}

run() {
	OUT=$("$@" 2>&1)
	RC=$?
}

sh() {
	OUT=$(bash -c "$1" 2>&1)
	RC=$?
}

expect() {
	if [ "$OUT" != "$1" ]; then
		fail "expected output:"
		printf '%s\n' "$1" | sed 's/^/      | /' >&2
		echo "    got:" >&2
		printf '%s\n' "$OUT" | sed 's/^/      | /' >&2
	fi
}

expect_rc() {
	[ "$RC" = "$1" ] || fail "expected exit code $1, got $RC (output: $OUT)"
}

expect_has() {
	case $OUT in
	*"$1"*) ;;
	*) fail "expected output to contain '$1', got: $OUT" ;;
	esac
}

within() {
	local tries=$(($1 * 50))
	shift
	for _ in $(seq "$tries"); do
		"$@" && return 0
		sleep 0.02
	done
	"$@"
}

# The backend the tests run on (run.sh): SQLite, a file $DB; or, when
# RUNTIMEFS_TEST_LOCATOR is set, PostgreSQL, where $DB is a
# postgresql:// URI whose search_path is the test's own schema
# $PG_SCHEMA.  What tests that start the daemon themselves or look at the
# database behind its back use:
#   on_pg                true on PostgreSQL
#   KEY                  the daemon's key file: $DB.key beside a SQLite
#                        file; $WORK/pg.key, given by -o key_file, on
#                        PostgreSQL, which has no place beside it
#   KEY_OPT              ",key_file=$KEY" on PostgreSQL, else "": for an
#                        -o list of mount(8) or fstab
#   rtfs [-t S] ARGS...  runs $RUNTIMEFS ARGS (under `timeout S`), in the
#                        foreground, with -o key_file=$KEY last when one
#                        of ARGS is $DB on PostgreSQL (a second
#                        database a test makes, say the target of a
#                        restore, made by second_db, gets its own key
#                        file too: key_of)
#   second_db NAME       a second database of the test's: $WORK/NAME.db,
#                        or on PostgreSQL schema ${PG_SCHEMA}_name of the
#                        same database (a locator)
#   key_of DB            the key file a daemon on DB is given: $KEY for
#                        $DB; beside a SQLite file; $WORK/SCHEMA.key
#   drop_db DB           removes a second database and its key file, so
#                        that the next daemon on it finds it empty
#   db_sql SQL           runs SQL on the database from a connection of
#                        its own, as another host's daemon would: the
#                        sqlite3 shell, or psql with the store's write
#                        lock (store_pg.c's advisory lock) held for it
#   db_hold_lock S FILE  holds the store's write lock from another
#                        connection for S seconds, in the background
#                        ($HOLDER), touching FILE once it has it
#   served_by PID [DB]   what a second daemon says when PID serves DB
#                        ($DB)
#   sqlite_only REASON   on PostgreSQL, records the test as skipped for
#                        REASON (run.sh prints it) and returns 0; else 1:
#                        `sqlite_only "..." && return`
#   pg_only REASON       on SQLite, records the test as skipped for REASON:
#                        `on_pg || { pg_only "..."; return; }`
#   pg_server stop|start stops (fast) or starts tests/pg.sh's server
#   re_quote TEXT        TEXT as an extended regular expression of itself
#                        (pgrep's)
on_pg() {
	[ -n "${PG_SCHEMA:-}" ]
}

rtfs() {
	local t=()

	[ "$1" != -t ] || { t=(timeout "$2"); shift 2; }
	"${t[@]}" "$RUNTIMEFS" "$@" $(key_args "$@")
}

# -o key_file=KEY when one of ARGS is a database on PostgreSQL (KEY its
# key_of) and none gives a key file already, as words.
key_args() {
	local a

	on_pg || return 0
	for a in "$@"; do
		case $a in *key_file=*) return ;; esac
	done
	for a in "$@"; do
		case $a in
		"$DB"|postgresql://*)
			echo "-o key_file=$(key_of "$a")"; return ;;
		esac
	done
}

second_db() {
	if on_pg; then
		pg_uri "$RUNTIMEFS_TEST_LOCATOR" "${PG_SCHEMA}_$1"
	else
		echo "$WORK/$1.db"
	fi
}

key_of() {
	if [ "$1" = "$DB" ]; then
		echo "$KEY"
	elif on_pg; then
		echo "$WORK/${1##*search_path%3D}.key"
	else
		echo "$1.key"
	fi
}

drop_db() {
	local schema

	rm -f "$(key_of "$1")"
	if on_pg; then
		schema=${1##*search_path%3D}
		psql -X -q -v ON_ERROR_STOP=1 "$RUNTIMEFS_TEST_LOCATOR" >/dev/null <<-EOF
			SET client_min_messages = warning;
			DROP SCHEMA IF EXISTS "$schema" CASCADE;
			DROP SCHEMA IF EXISTS "${schema}_restore" CASCADE;
		EOF
	else
		rm -f "$1"
	fi
}

# the first key of store_pg.c's write lock (LOCK_WRITE)
PG_LOCK_WRITE=1381254775

db_sql() {
	if on_pg; then
		printf '%s\n' "BEGIN;" "SELECT 1 FROM (SELECT pg_advisory_xact_lock($PG_LOCK_WRITE, hashtext('$PG_SCHEMA'))) l WHERE false;" "$1;" "COMMIT;" |
			psql -X -q -t -A -v ON_ERROR_STOP=1 "$DB" 2>&1
	else
		sqlite3 -cmd '.timeout 5000' "$DB" "$1" 2>&1
	fi
}

db_hold_lock() {
	if on_pg; then
		printf '%s\n' "BEGIN;" \
			"SELECT pg_advisory_xact_lock($PG_LOCK_WRITE, hashtext('$PG_SCHEMA'));" \
			"\\! touch $2" "SELECT pg_sleep($1);" "COMMIT;" |
			psql -X -q "$DB" >/dev/null &
	else
		printf 'BEGIN IMMEDIATE;\n.shell touch %s; sleep %s\nCOMMIT;\n' \
			"$2" "$1" | sqlite3 "$DB" &
	fi
	HOLDER=$!
	for _ in $(seq 100); do
		[ -e "$2" ] && return 0
		sleep 0.05
	done
	fail "the lock holder did not start"
}

served_by() {
	local db=${2:-$DB}

	if on_pg; then
		echo "runtimefs: schema ${db##*search_path%3D} of database" \
			"runtimefs is already served by another runtimefs" \
			"(pid $1 on $(hostname))"
	else
		echo "runtimefs: $db is already served by another runtimefs (pid $1)"
	fi
}

sqlite_only() {
	on_pg || return 1
	echo "SQLite only: $*" >"$WORK/skipped"
	return 0
}

pg_only() {
	echo "PostgreSQL only: $*" >"$WORK/skipped"
}

pg_server() {
	local d=$RUNTIMEFS_TEST_PG_DIR
	local a=("$RUNTIMEFS_TEST_PG_BIN/pg_ctl" -D "$d/data" -w -t 60)

	case $1 in
	stop) a+=(-m fast stop) ;;
	start) a+=(-l "$d/server.log"
		-o "-c listen_addresses='' -c unix_socket_directories='$d'"
		-o "-c fsync=off -c full_page_writes=off -c max_connections=200"
		start) ;;
	esac
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=postgres --regid=postgres --init-groups \
			--reset-env "${a[@]}"
	else
		"${a[@]}"
	fi >/dev/null 2>&1
}

re_quote() {
	printf '%s' "$1" | sed 's/[][\.*^$?+(){}|]/\\&/g'
}

# mount_db DB MOUNTPOINT LOG [OPTS...]: starts a daemon in the foreground
# (in the background of this shell), so that its exit code and its log
# can be checked, and waits for its mount; its pid is $STARTED.
mount_db() {
	local db=$1 mnt=$2 log=$3

	shift 3
	# the daemon itself in the background, so that $STARTED is its pid
	"$RUNTIMEFS" --db "$db" -f "$@" $(key_args "$db" "$@") "$mnt" 2>>"$log" &
	STARTED=$!
	for _ in $(seq 100); do
		mountpoint -q "$mnt" && return 0
		kill -0 "$STARTED" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}

# Starts the test's daemon on $DB at $MNT.
mount_fs() {
	mount_db "$DB" "$MNT" "$LOG" "$@"
	local rc=$?

	DAEMON=$STARTED
	[ $rc = 0 ] && return 0
	fail "the daemon did not mount (log: $(cat "$LOG"))"
	return 1
}

unmount_fs() {
	local rc

	[ -n "$DAEMON" ] || return 0
	fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	wait "$DAEMON"
	rc=$?
	DAEMON=
	[ "$rc" = 0 ] || fail "the daemon exited with $rc (log: $(tail -5 "$LOG"))"
}

remount() {
	cd / || return 1
	unmount_fs
	mount_fs "$@"
	cd "$MNT" || return 1
}

# Kills the daemon without warning, then mounts the database again.
kill9_remount() {
	cd / || return 1
	kill -9 "$DAEMON"
	wait "$DAEMON" 2>/dev/null
	DAEMON=
	fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"
	mount_fs "$@"
	cd "$MNT" || return 1
}

# What the heartbeat, cache and restore tests share:
#   secret_of FILE       the credential in a secret file's snippet
#   hb SECRET RUNTIME [ENV [PROJECT [COMPONENT]]]
#                        the heartbeat of an MI runtime
#   send JSON [MOUNT]    sends one heartbeat from bash, the way the README
#                        shows; the reply (and any error of printf) lands
#                        in $OUT
#   register             runtime orders-eu-1 in prod, registered by its
#                        first heartbeat ($SECRET its secret)
#   stored_heartbeat     its heartbeat time in the database (db_sql)
#   spec TAG [TEXT]      a full spec whose image tag is TAG
secret_of() {
	sed -n 's/^secret = "\(.*\)"$/\1/p' "$1" | head -1
}

hb() {
	printf '{"secret": "%s", "runtime": "%s", "runtimeType": "MI", "environment": "%s", "project": "%s", "component": "%s", "version": "4.4.0", "status": "RUNNING", "nodeInfo": {"platformName": "WSO2 Micro Integrator", "platformVersion": "4.4.0", "osName": "Linux", "osVersion": "6.1.0"}}' \
		"$1" "$2" "${3:-prod}" "${4:-shop}" "${5:-orders}"
}

# hb_with SECRET RUNTIME ARTIFACTS: hb's heartbeat reporting ARTIFACTS,
# an object of ICP's Artifacts ({"apis": [{"name": "Pay"}]}).
hb_with() {
	local body
	body=$(hb "$1" "$2")
	printf '%s, "artifacts": %s}' "${body%\}}" "$3"
}

send() {
	json=$1 hbfile=${2:+$2/}heartbeat \
		sh 'exec 3<>"$hbfile"; printf "%s" "$json" >&3; cat <&3'
}

register() {
	mkdir -p environments/prod
	touch environments/prod/secrets/orders-eu-1
	SECRET=$(secret_of environments/prod/secrets/orders-eu-1)
	send "$(hb "$SECRET" orders-eu-1)"
}

# orders-eu-1's heartbeat time in the database (db_sql)
stored_heartbeat() {
	db_sql "SELECT heartbeat_ns FROM runtime WHERE name = 'orders-eu-1'"
}

spec() {
	printf '{"imageUrl": "registry.example/chat:%s", "flavorId": "g1-small",
 "command": ["python"], "args": ["app.py", "--port", "8080"],
 "environmentVariables": {"LOG_LEVEL": "info"},
 "autoscaling": {"minReplicas": 1, "maxReplicas": 3,
  "cpuUtilization": 70, "memoryUtilization": 80},
 "description": "%s"}\n' "$1" "${2:-chat agent}"
}

# The daemon's test clock (-o test_clock, fs/clock.h), so that a test of
# what time changes moves time instead of sleeping:
#   clock_remount [OPTS] remounts with the clock at the present second,
#                        kept in $WORK/clock
#   advance SECONDS      moves it on
clock_remount() {
	date +%s >"$WORK/clock"
	remount -o "test_clock=$WORK/clock${1:+,$1}"
}

advance() {
	echo $(($(cat "$WORK/clock") + $1)) >"$WORK/clock"
}

# The test build of the daemon with the store's fault hook (make builds
# it beside the unit tests), and remounting with it:
#   remount_faults N:ERRNO [OPTS]
#                        remounts with that daemon, which fails the N-th
#                        store call of the first change to come with
#                        ERRNO, once (RUNTIMEFS_FAULT; see fs/main.c)
RUNTIMEFS_FAULTS=${RUNTIMEFS_FAULTS:-$(dirname "$RUNTIMEFS")/tests/runtimefs-faults}
case $RUNTIMEFS_FAULTS in /*) ;; *) RUNTIMEFS_FAULTS=$REPO/$RUNTIMEFS_FAULTS ;; esac

remount_faults() {
	local RUNTIMEFS=$RUNTIMEFS_FAULTS fault=$1

	shift
	if [ ! -x "$RUNTIMEFS" ]; then
		fail "no $RUNTIMEFS (make test-mount builds it)"
		return 1
	fi
	export RUNTIMEFS_FAULT=$fault
	remount "$@"
	unset RUNTIMEFS_FAULT
}

# What the crash tests add:
#   tree_listing DIR     environments/ and projects/ of DIR, a checksum
#                        and mode per file and each link's target, live
#                        files (status, last_heartbeat, runtime.json) and
#                        what a restore leaves to the next heartbeat
#                        (reported.json, artifacts/) aside
#   db_check DB WHEN     PRAGMA integrity_check says ok and
#                        foreign_key_check nothing (else it fails and
#                        returns 1); read-only, so that a WAL left by a
#                        crash stays for the daemon to read; on
#                        PostgreSQL, that the schema answers
#   kill9_unmount        kill -9 of the daemon, which must be gone within
#                        10 s, then its dead mount unmounted; not mounted
#                        again
# What the kernel shows through its caches, of every name below the root
# but the root's own files: type, size, mode, mtime, ctime, link targets,
# and the bytes of every file.  (A snapshot's environments/ and projects/
# show the mount's start, as the live ones do.)
cached_tree() {
	find environments projects snapshots -mindepth 1 \
		-printf '%p %y %s %m %T@ %C@ %l\n' | sort |
		grep -v '^snapshots/[^/]*/[a-z]* d '
	find environments projects snapshots -type f -print0 | sort -z |
		xargs -0 -r sha256sum
}

tree_listing() {
	(cd "$1" && find environments projects -type d | sort &&
	find environments projects -type l -printf '%p -> %l\n' | sort &&
	find environments projects -type f ! -name status ! -name last_heartbeat \
		! -name runtime.json -printf '%p %m\n' | sort &&
	find environments projects -type f ! -name status ! -name last_heartbeat \
		! -name runtime.json -print0 | sort -z | xargs -0 -r sha256sum) |
	# what a runtime reports again after a restore: reported.json and
	# its artifacts (README, Backup and restore)
	grep -v -e '/reported\.json' -e '/artifacts/' -e '/artifacts$' -e '/artifacts '
}

db_check() {
	local out

	# PostgreSQL checks its constraints at each commit and replays its
	# own WAL: what is left to see is that the schema answers
	if on_pg; then
		out=$(psql -X -q -t -A "$1" -c 'SELECT 1 FROM schema_version' 2>&1)
		[ "$out" = 1 ] && return 0
		fail "$2: $1 does not answer: $(head -10 <<<"$out")"
		return 1
	fi
	out=$(sqlite3 -readonly "$1" 'PRAGMA integrity_check' 'PRAGMA foreign_key_check' 2>&1)
	[ "$out" = ok ] && return 0
	fail "$2: integrity_check of $1 says: $(head -10 <<<"$out")"
	return 1
}

kill9_unmount() {
	local pid=$DAEMON state

	cd / || return 1
	kill -9 "$pid"
	# (bash's "Killed" notice of the job to /dev/null)
	for _ in $(seq 200); do
		state=$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null)
		[ -z "$state" ] || [ "$state" = Z ] && break
		sleep 0.05
	done 2>/dev/null
	if [ -n "$state" ] && [ "$state" != Z ]; then
		fail "the daemon (pid $pid) is still there 10 s after kill -9, in state $state: $(cat /proc/"$pid"/task/*/stack 2>/dev/null | sort | uniq -c | sort -rn | head -5)"
		return 1
	fi
	wait "$pid" 2>/dev/null
	DAEMON=
	fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"
}

# What the tests of ICP's listener share (t_https.sh, t_icp_clients.sh):
#   free_port            a port nobody listens on
#   listen_remount [OPTS]
#                        remounts with the listener on a free port
#                        ($PORT), with OPTS added; $CERT is the
#                        certificate clients trust
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

listen_remount() {
	PORT=$(free_port)
	CERT=$(cert_file)
	remount -o "icp_listen=127.0.0.1:$PORT${1:+,$1}$(tls_args)"
}

# tls_args: what -o needs besides icp_listen on this backend: nothing on
# SQLite, where the daemon makes its pair beside the database; on
# PostgreSQL, which has no such place, a pair of the test's own
# (",tls_cert=...,tls_key=..."), made once.  cert_file: the certificate
# clients trust.
tls_args() {
	on_pg || return 0
	[ -s "$WORK/pg-tls.crt" ] ||
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -days 2 -subj /CN=localhost \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,DNS:$(hostname)" \
			-keyout "$WORK/pg-tls.key" -out "$WORK/pg-tls.crt" 2>/dev/null
	chmod 600 "$WORK/pg-tls.key"
	printf ',tls_cert=%s,tls_key=%s' "$WORK/pg-tls.crt" "$WORK/pg-tls.key"
}

cert_file() {
	if on_pg; then
		tls_args >/dev/null
		echo "$WORK/pg-tls.crt"
	else
		echo "$DB.tls.crt"
	fi
}
