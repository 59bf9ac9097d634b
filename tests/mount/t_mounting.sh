# t_mounting.sh - runtimefs mounts the way Linux filesystems mount: mount -t,
# an fstab line, a systemd unit, and recovery from a daemon that died; the
# source a SQLite file or a PostgreSQL connection string, spaces and all.
# These tests install the helper into /sbin (where mount(8) looks) and
# remove it again.

# Installs with `make install` into $WORK, but the helpers into /sbin.
install_helpers() {
	local bdir
	bdir=$(dirname "$RUNTIMEFS")
	make -s -C "$REPO" install BUILD="$bdir" -o "$bdir/runtimefs" \
		PREFIX="$WORK/prefix" SBINDIR=/sbin UNITDIR="$WORK/units" ||
		fail "make install failed"
	trap 'rm -f /sbin/mount.runtimefs /sbin/mount.fuse.runtimefs' EXIT
}

# Waits for the daemon serving $DB (or the locator given) to exit after
# an unmount.
wait_daemon_gone() {
	local db=${1:-$DB}

	for _ in $(seq 100); do
		pgrep -f -- "$(re_quote "$db")" >/dev/null || return 0
		sleep 0.05
	done
	fail "the daemon for $db is still running after the unmount"
}

# The arguments of the daemon serving LOCATOR, one a line, its own path
# left out: what mount(8), the helper or systemd made of the source.
daemon_args() {
	local pid

	pid=$(pgrep -f -- "$(re_quote "$1")" | head -1)
	if [ -z "$pid" ]; then
		echo "no daemon serves $1"
		return
	fi
	tr '\0' '\n' <"/proc/$pid/cmdline" | tail -n +2
}

# keyword_source [WORDS]: on PostgreSQL, a libpq key=value string of the
# test's schema ($SRC): RUNTIMEFS_TEST_LOCATOR's words (tests/pg.sh gives
# key=value), options='-csearch_path=SCHEMA', and WORDS (keywords that
# come after options in libpq's order, each quoted where it must be);
# $SHOWN is what findmnt shows of it: the words as the daemon writes them
# again (store_locator_shown(): libpq's order, quoted only where needed).
keyword_source() {
	local kv h='' u='' d=''

	for kv in $RUNTIMEFS_TEST_LOCATOR; do
		case $kv in
		host=*) h=${kv#host=} ;;
		user=*) u=${kv#user=} ;;
		dbname=*) d=${kv#dbname=} ;;
		esac
	done
	SRC="$RUNTIMEFS_TEST_LOCATOR options='-csearch_path=$PG_SCHEMA'${1:+ $1}"
	SHOWN="user=$u dbname=$d host=$h options=-csearch_path=$PG_SCHEMA${1:+ $1}"
}

# On PostgreSQL, the tests that add words to RUNTIMEFS_TEST_LOCATOR need
# it as key=value words, as tests/pg.sh gives it: else they are skipped.
keyword_locator() {
	case ${RUNTIMEFS_TEST_LOCATOR:-} in
	*://*) echo "needs RUNTIMEFS_TEST_LOCATOR as key=value words" \
		"(tests/pg.sh's), not a URI" >"$WORK/skipped"; return 1 ;;
	esac
}

# A source that stays one argument only if nobody splits or rewrites it:
# spaces, quotes, =, ?, & and %.  On SQLite a file of that name ($SRC,
# and findmnt shows it as $SHOWN); on PostgreSQL a keyword_source.
odd_source() {
	if on_pg; then
		keyword_source "application_name='rt?a=1&b=%41 x'"
	else
		mkdir -p "$WORK/a dir"
		SRC="$WORK/a dir/it's x=1?y&z%41.db" SHOWN=$SRC
	fi
}

test_make_install_layout() {
	install_helpers
	run find "$WORK/prefix" "$WORK/units" -type f -printf '%P %m\n'
	expect "bin/runtimefs 755
runtimefs.service 644"
	run stat -c '%a %N' /sbin/mount.runtimefs /sbin/mount.fuse.runtimefs
	expect "755 '/sbin/mount.runtimefs'
777 '/sbin/mount.fuse.runtimefs' -> 'mount.runtimefs'"
	run grep -c "$WORK/prefix/bin/runtimefs" /sbin/mount.runtimefs "$WORK/units/runtimefs.service"
	expect "/sbin/mount.runtimefs:1
$WORK/units/runtimefs.service:1"
}

test_mount_type_runtimefs_and_umount() {
	install_helpers
	cd / && unmount_fs
	run mount -t runtimefs "$DB" "$MNT" -o offline_after=5,nofail,_netdev,x-systemd.automount$KEY_OPT
	expect ""
	expect_rc 0
	run findmnt -n -o FSTYPE,SOURCE "$MNT"
	expect "fuse.runtimefs $DB"
	mkdir "$MNT/environments/prod"
	run umount "$MNT"
	expect_rc 0
	wait_daemon_gone
	if on_pg; then
		run db_sql 'SELECT name FROM env'
		expect "prod"
		return
	fi
	# unmounted cleanly: the WAL was checkpointed and removed
	run ls "$WORK"
	expect_has "state.db"
	[ ! -e "$DB-wal" ] || fail "state.db-wal left behind"
	run sqlite3 "$DB" 'PRAGMA integrity_check' 'SELECT name FROM env'
	expect "ok
prod"
}

test_mount_type_fuse_runtimefs() {
	install_helpers
	cd / && unmount_fs
	run mount -t fuse.runtimefs "$DB" "$MNT" -o allow_other$KEY_OPT
	expect_rc 0
	run ls "$MNT"
	expect "README
audit
environments
heartbeat
projects
snapshots"
	fusermount3 -u "$MNT"
	wait_daemon_gone
}

test_fstab_line() {
	install_helpers
	cd / && unmount_fs
	printf '%s %s runtimefs offline_after=9,nofail%s 0 0\n' "$DB" "$MNT" \
		"$KEY_OPT" > "$WORK/fstab"
	run mount --fstab "$WORK/fstab" "$MNT"
	expect_rc 0
	run mountpoint -q "$MNT"
	expect_rc 0
	run pgrep -af -- "$(re_quote "$DB")"
	expect_has "offline_after=9"
	umount "$MNT"
	wait_daemon_gone
}

# Whatever the source holds, mount(8) and the helper give it to the
# daemon as one argument, unchanged, from the command line and from an
# fstab line that writes its spaces \040 (fstab(5): mount(8) decodes
# them); findmnt shows it.
test_source_is_one_argument() {
	local SRC SHOWN opts

	keyword_locator || return
	install_helpers
	cd / && unmount_fs
	odd_source
	opts=offline_after=7$KEY_OPT
	run mount -t runtimefs "$SRC" "$MNT" -o "$opts"
	expect ""
	expect_rc 0
	run daemon_args "$SRC"
	expect "$SRC
$MNT
-o
rw,$opts"
	run findmnt -n -o FSTYPE,SOURCE "$MNT"
	expect "fuse.runtimefs $SHOWN"
	mkdir "$MNT/environments/prod"
	umount "$MNT"
	wait_daemon_gone "$SRC"
	printf '%s %s runtimefs offline_after=9,nofail%s 0 0\n' \
		"${SRC// /\\040}" "$MNT" "$KEY_OPT" >"$WORK/fstab"
	run mount --fstab "$WORK/fstab" "$MNT"
	expect ""
	expect_rc 0
	run daemon_args "$SRC"
	expect "$SRC
$MNT
-o
rw,offline_after=9$KEY_OPT"
	run findmnt -n -o SOURCE "$MNT"
	expect "$SHOWN"
	run ls "$MNT/environments"
	expect "prod"
	umount "$MNT"
	wait_daemon_gone "$SRC"
	mount_fs
}

# On PostgreSQL the source is a libpq connection string, here key=value
# words with spaces (a URI: test_mount_type_runtimefs_and_umount): it
# mounts with mount -t and from fstab, serves the test's schema, and a
# dead daemon's mountpoint is recovered by mounting it again.
test_keyword_string_source() {
	local SRC SHOWN ci shown

	on_pg || { pg_only "a libpq key=value string is a PostgreSQL locator"; return; }
	keyword_locator || return
	install_helpers
	cd / && unmount_fs
	keyword_source
	ci=$SRC shown=$SHOWN
	run mount -t runtimefs "$ci" "$MNT" -o "allow_other,default_permissions,nofail$KEY_OPT"
	expect ""
	expect_rc 0
	run findmnt -n -o FSTYPE,SOURCE "$MNT"
	expect "fuse.runtimefs $shown"
	run mkdir "$MNT/environments/prod"
	expect ""
	umount "$MNT"
	wait_daemon_gone "$ci"
	# in the test's schema, as another host sees it
	run db_sql 'SELECT name FROM env'
	expect "prod"
	printf '%s %s runtimefs allow_other,default_permissions,nofail%s 0 0\n' \
		"${ci// /\\040}" "$MNT" "$KEY_OPT" >"$WORK/fstab"
	run mount -T "$WORK/fstab" "$MNT"
	expect ""
	expect_rc 0
	run findmnt -n -o SOURCE "$MNT"
	expect "$shown"
	run ls "$MNT/environments"
	expect "prod"
	# a daemon that dies: mounting the fstab line again recovers it
	kill -9 "$(pgrep -f -- "$(re_quote "$ci")")"
	wait_daemon_gone "$ci"
	run ls "$MNT/environments"
	expect "ls: cannot open directory '$MNT/environments': Transport endpoint is not connected"
	run mount -T "$WORK/fstab" "$MNT"
	expect "mount.runtimefs: $MNT: stale mount of a dead daemon, unmounting it"
	expect_rc 0
	run findmnt -n -o SOURCE "$MNT"
	expect "$shown"
	run ls "$MNT/environments"
	expect "prod"
	umount "$MNT"
	wait_daemon_gone "$ci"
	mount_fs
}

test_stale_mount_recovered() {
	install_helpers
	mkdir environments/prod
	cd / || return
	kill -9 "$DAEMON"
	wait "$DAEMON" 2>/dev/null
	DAEMON=
	# the kernel may still hold the root's attributes (cache.h): stat
	# succeeds, opening fails
	run stat -c %F "$MNT/environments"
	expect "stat: cannot statx '$MNT/environments': Transport endpoint is not connected"
	run mount -t runtimefs "$DB" "$MNT" ${KEY_OPT:+-o ${KEY_OPT#,}}
	expect "mount.runtimefs: $MNT: stale mount of a dead daemon, unmounting it"
	expect_rc 0
	run ls "$MNT/environments"
	expect "prod"
	umount "$MNT"
	wait_daemon_gone
}

test_systemd_unit_verifies() {
	command -v systemd-analyze >/dev/null || {
		[ "${CI:-}" != true ] || fail "systemd-analyze missing under CI"
		return
	}
	install_helpers
	run systemd-analyze verify "$WORK/units/runtimefs.service"
	expect ""
	expect_rc 0
	run grep -E '^(Restart|After|Wants|ExecStart)=' "$WORK/units/runtimefs.service"
	expect "After=local-fs.target network-online.target postgresql.service
Wants=network-online.target
ExecStart=$WORK/prefix/bin/runtimefs --db \${RUNTIMEFS_DB} -f -o \${RUNTIMEFS_OPTIONS} \${RUNTIMEFS_MOUNT}
Restart=on-failure"
}

# SIGTERM (systemctl stop) and SIGHUP stop the daemon cleanly: it
# unmounts, closes the database and exits 0, so systemd does not mark a
# clean stop as failed.  (SIGINT does too, from a terminal; a shell starts
# background jobs with it ignored, as here.)
test_sigterm_is_a_clean_stop() {
	local sig rc
	for sig in TERM HUP; do
		mkdir -p environments/e$sig
		cd / || return
		kill -$sig "$DAEMON"
		wait "$DAEMON"
		rc=$?
		DAEMON=
		[ "$rc" = 0 ] || fail "SIG$sig: the daemon exited with $rc"
		mountpoint -q "$MNT" && fail "SIG$sig: still mounted"
		mount_fs || return
		cd "$MNT" || return
		run ls environments
		expect_has "e$sig"
	done
}

# The request threads (fs/loop.c): a request that waits does not hold up
# the next one, on runtimefs's pool polling (the default) or not
# (spin_us=0) and on libfuse's (clone_fd, which only it has): the pool
# grows when its last idle thread takes a request.  A spin_us outside 0
# to 100000 is refused before anything is opened.
test_request_threads() {
	local RUNTIMEFS=$RUNTIMEFS_FAULTS slow o
	mkdir -p environments/x/runtimes/a
	for o in spin_us=100 spin_us=0 clone_fd; do
		export RUNTIMEFS_SLOW_LISTING=/environments/x/runtimes:3000
		remount -o "$o" || return
		unset RUNTIMEFS_SLOW_LISTING
		ls environments/x/runtimes >"$WORK/slow" & slow=$!
		sleep 0.5
		# served while the listing waits on another thread
		run cat environments/x/critical
		expect "0"
		kill -0 "$slow" 2>/dev/null ||
			fail "$o: cat was served after the listing, not beside it"
		wait "$slow"
		run cat "$WORK/slow"
		expect "a"
	done
	mkdir "$WORK/other"
	for o in spin_us=-1 spin_us=100001; do
		run rtfs -t 5 --db "$DB" -f -o "$o" "$WORK/other"
		expect "runtimefs: spin_us must be a number of microseconds from 0 to 100000"
		expect_rc 1
	done
}

# A daemon short of file descriptors serves with the request threads it
# has.  Each thread's wait (an epoll descriptor) is made before the thread
# is, so a thread that cannot be made ends nothing; once, a thread that
# found no descriptor ended the whole mount ("Software caused connection
# abort").  The daemon's limit is lowered, as it runs, to 3: the
# descriptors it holds stay good, and no new one can be made, whatever
# it closes meanwhile (a limit at its lowest free descriptor was not
# enough: once, on PostgreSQL under CI, a thread could still be made).
# With one idle thread kept, its pool is one thread when idle.
test_request_threads_short_of_descriptors() {
	local RUNTIMEFS=$RUNTIMEFS_FAULTS i pids=()
	mkdir -p environments/x/runtimes/a
	export RUNTIMEFS_SLOW_LISTING=/environments/x/runtimes:1000,1000,1000
	remount -o max_idle_threads=1 || return
	unset RUNTIMEFS_SLOW_LISTING
	prlimit --pid "$DAEMON" --nofile=3: || fail "prlimit"
	for i in 1 2 3; do
		ls environments/x/runtimes >"$WORK/slow$i" 2>&1 & pids+=($!)
	done
	wait "${pids[@]}"
	for i in 1 2 3; do
		run cat "$WORK/slow$i"
		expect "a"
	done
	run cat environments/x/critical
	expect "0"
	run grep -c "^runtimefs: no more request threads than [0-9]*: Too many open files$" "$LOG"
	expect "1"
	prlimit --pid "$DAEMON" --nofile=1024:
}

# A daemon started short of file descriptors either refuses to start, with
# exit code 1 and no mount left behind, or mounts and serves; the limit is
# swept over every value where it runs out somewhere in its start.  Once,
# a daemon that ran out after mounting (its model is opened again in the
# INIT request, after a fork) exited and left "Transport endpoint is not
# connected" on the mountpoint.
test_start_short_of_descriptors() {
	local n pid rc
	mkdir -p environments/x
	cd / && unmount_fs
	for n in $(seq 6 40); do
		(ulimit -n "$n" && exec timeout 20 "$RUNTIMEFS" --db "$DB" -f \
			$(key_args "$DB") "$MNT") 2>"$WORK/start" & pid=$!
		for _ in $(seq 100); do
			mountpoint -q "$MNT" || kill -0 "$pid" 2>/dev/null || break
			mountpoint -q "$MNT" &&
				timeout 10 cat "$MNT/environments/x/critical" \
				>"$WORK/out" 2>&1 && break
			sleep 0.05
		done
		if kill -0 "$pid" 2>/dev/null; then
			run cat "$WORK/out"
			expect "0"
			fusermount3 -u "$MNT"
			wait "$pid"
			rc=$?
			[ "$rc" = 0 ] || fail "ulimit -n $n: served, then exit $rc"
			continue
		fi
		wait "$pid"
		rc=$?
		[ "$rc" = 1 ] ||
			fail "ulimit -n $n: exit $rc: $(cat "$WORK/start")"
		grep -q "^runtimefs: .*Too many open files$" "$WORK/start" ||
			fail "ulimit -n $n: no reason given: $(cat "$WORK/start")"
		if mountpoint -q "$MNT"; then
			fail "ulimit -n $n: the mount was left behind"
			fusermount3 -uz "$MNT"
		fi
	done
	mount_fs && cd "$MNT"
}

# One daemon per database: a second one, mounted in the foreground or
# going to the background, exits 1 at once and names the first, which
# goes on serving; once the first is gone the database mounts again.
test_second_daemon_is_refused() {
	sqlite_only "several daemons serve one PostgreSQL schema (t_hosts)" &&
		return
	mkdir environments/prod
	mkdir "$WORK/other"
	run rtfs -t 5 --db "$DB" -f "$WORK/other"
	expect "$(served_by "$DAEMON")"
	expect_rc 1
	run rtfs "$DB" "$WORK/other"
	expect "$(served_by "$DAEMON")"
	expect_rc 1
	run mountpoint -q "$WORK/other"
	expect_rc 32
	run ls environments
	expect "prod"
	mountpoint -q "$WORK/other" && fusermount3 -u "$WORK/other"
}

# A daemon that went to the background (fuse_daemonize forks) keeps the
# lock in the child, and the lock file names the child.
test_background_daemon_keeps_the_lock() {
	local pid
	sqlite_only "several daemons serve one PostgreSQL schema (t_hosts)" &&
		return
	cd / && unmount_fs
	run rtfs "$DB" "$MNT"
	expect ""
	expect_rc 0
	pid=$(pgrep -f -- "^$(re_quote "$RUNTIMEFS $DB $MNT")( |$)")
	[ -n "$pid" ] || fail "no daemon in the background"
	mkdir "$WORK/other"
	run rtfs -t 5 --db "$DB" -f "$WORK/other"
	expect "$(served_by "$pid")"
	expect_rc 1
	fusermount3 -u "$MNT"
	wait_daemon_gone
	mount_fs
}

# The key file is 32 bytes that only the daemon's user may read: another
# mode or length is refused with what fixes it, and a database path that
# is a directory leaves no key file (nor any other) behind.
test_key_file_mode_and_length() {
	cd / && unmount_fs
	chmod 644 "$KEY"
	run rtfs -t 5 --db "$DB" -f "$MNT"
	expect "runtimefs: key file $KEY may be read or written by group or others (mode 0644): chmod 600 $KEY"
	expect_rc 1
	chmod 600 "$KEY"
	cp "$KEY" "$WORK/key"
	printf x >> "$KEY"
	run rtfs -t 5 --db "$DB" -f "$MNT"
	expect "runtimefs: key file $KEY is 33 bytes long; a key file holds exactly 32 bytes"
	expect_rc 1
	cp "$WORK/key" "$KEY"
	# a path that is a directory is SQLite's alone
	if on_pg; then
		mount_fs
		return
	fi
	mkdir "$WORK/dir.db" "$WORK/other"
	run timeout 5 "$RUNTIMEFS" --db "$WORK/dir.db" -f "$WORK/other"
	expect "runtimefs: database $WORK/dir.db is not a file"
	expect_rc 1
	run ls "$WORK"
	expect "daemon.log
dir.db
key
mnt
other
state.db
state.db.key
state.db.lock"
	mount_fs
}

# -o key_file puts the key where it says, a relative path taken from
# where runtimefs starts: nothing is made beside the database, and the
# database then opens with that key file only.
test_key_file_option() {
	sqlite_only "the default key file beside the database, which" \
		"PostgreSQL has not (every test gives -o key_file there)" && return
	cd / && unmount_fs
	rm -f "$DB" "$DB-wal" "$DB-shm" "$DB.key"
	mkdir -m 700 "$WORK/keys"
	cd "$WORK/keys" && mount_fs -o key_file=state.key
	cd "$MNT" || return
	mkdir environments/prod
	touch environments/prod/secrets/s1
	run cat environments/prod/secrets/s1
	local snippet=$OUT
	cd / && unmount_fs
	run stat -c '%a %s %n' "$WORK/keys/state.key"
	expect "600 32 $WORK/keys/state.key"
	run ls "$DB.key"
	expect "ls: cannot access '$DB.key': No such file or directory"
	run timeout 5 "$RUNTIMEFS" --db "$DB" -f "$MNT"
	expect "runtimefs: key file $DB.key is missing, and $DB holds secrets sealed with it: put that key file back (a new one would open none of them)"
	expect_rc 1
	mount_fs -o key_file="$WORK/keys/state.key"
	run cat "$MNT/environments/prod/secrets/s1"
	expect "$snippet"
	run ls "$DB.key"
	expect "ls: cannot access '$DB.key': No such file or directory"
}

# The database, its -wal and -shm (which SQLite makes with the database's
# mode) and its snapshots are the daemon user's only; a database with a
# wider mode is served with a warning.
test_database_modes() {
	sqlite_only "the modes of the .db, -wal, -shm and snapshot files" \
		"SQLite makes" && return
	mkdir environments/prod snapshots/s
	run stat -c '%a %n' "$DB" "$DB-wal" "$DB-shm" "$DB.snapshots/s.db"
	expect "600 $DB
600 $DB-wal
600 $DB-shm
600 $DB.snapshots/s.db"
	cd / && unmount_fs
	chmod 644 "$DB"
	: > "$LOG"
	mount_fs
	run cat "$LOG"
	expect "runtimefs: warning: database $DB has mode 0644: group or others may read it (and its -wal and -shm, which SQLite makes with its mode); chmod 600 $DB"
	run ls "$MNT/environments"
	expect "prod"
}
