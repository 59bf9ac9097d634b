#!/usr/bin/env bash
# run.sh - runs every mount test (tests/mount/t_*.sh, or the files given)
# against the real daemon, each test on a fresh database and mountpoint.
#
# Mount tests need /dev/fuse and fusermount3.  Without them the tests are
# skipped, except under CI=true, where a skipped mount test is a failure.
#
# A hang is a failure: a test still running after MOUNT_TEST_TIMEOUT
# seconds (120) is reported as hung, with what it is stuck on (the state,
# wait channel and kernel stack of each of its processes and of each of
# the daemon's threads); then its FUSE connections are aborted, its mounts
# taken down and its processes killed, and the next test runs.  Each test
# runs in a process group of its own, so that this is possible.
#
# With RUNTIMEFS_TEST_LOCATOR set (tests/pg.sh sets it), each test's
# database is a schema of its own in that PostgreSQL database instead of
# $WORK/state.db, named by a postgresql:// URI, and the daemon is given
# the key file $WORK/pg.key (lib.sh: on_pg, KEY, rtfs, db_sql).  A test
# about SQLite's own files says so (sqlite_only) and is reported as
# "skip NAME: SQLite only: REASON", counted apart.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	if [ "${CI:-}" = true ]; then
		echo "mount: FUSE is not available here, and CI=true: failing"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "mount: FUSE is not available here: mount tests skipped"
	exit 0
fi

timeout_s=${MOUNT_TEST_TIMEOUT:-120}
if ! [[ $timeout_s =~ ^[0-9]+(\.[0-9]+)?$ ]] || [[ $timeout_s =~ ^0*(\.0*)?$ ]]; then
	echo "mount: MOUNT_TEST_TIMEOUT must be a number of seconds above 0, not '$timeout_s'"
	exit 2
fi

# The mounts a test made: every mount whose mountpoint or source is in
# its work directory, deepest first, as "MOUNTPOINT MAJOR:MINOR FSTYPE".
# Read from mountinfo, which never asks a (possibly hung) filesystem.
work_mounts() {
	awk -v w="$1" '
		function inside(p) { return p == w || index(p, w "/") == 1 }
		{
			for (i = 7; $i != "-"; i++) ;
			mp = $5; src = $(i + 2)
			gsub(/\\040/, " ", mp); gsub(/\\040/, " ", src)
			if (inside(mp) || inside(src))
				print length(mp), mp, $3, $(i + 1)
		}' /proc/self/mountinfo | sort -rn | cut -d' ' -f2-
}

# The processes of a test: its process group, and any other process with
# its working directory, root or an open file in the work directory (a
# daemon that detached itself, say); not the dead ones waiting for init
# to reap them.  /proc's links are read without asking the filesystem
# they point into.
work_pids() {
	local work=$1 pgrp=$2 d stat f

	{
		for d in /proc/[0-9]*; do
			{ read -r stat < "$d/stat"; } 2>/dev/null || continue
			read -r -a f <<<"${stat##*) }"
			[ "${f[2]}" != "$pgrp" ] || [ "${f[0]}" = Z ] ||
				echo "${d#/proc/}"
		done
		find /proc/[0-9]*/cwd /proc/[0-9]*/root /proc/[0-9]*/fd \
			-maxdepth 1 \( -lname "$work" -o -lname "$work/*" \) \
			-print 2>/dev/null | cut -d/ -f3
	} | sort -un | grep -v -x "$$"
}

# One line per task of process $1 (pid, name, state, wait channel), each
# followed by its kernel stack when /proc lets us read it.
show_tasks() {
	local t stat f name

	for t in /proc/"$1"/task/*; do
		stat=$(cat "$t/stat" 2>/dev/null) || continue
		name=${stat#*(}
		name=${name%)*}
		read -r -a f <<<"${stat##*) }"
		printf '      %s %-16s state %s wchan %s\n' "${t##*/}" "$name" \
			"${f[0]}" "$(cat "$t/wchan" 2>/dev/null || echo '?')"
		if [ -r "$t/stack" ]; then
			sed 's/^/          /' "$t/stack" 2>/dev/null | head -16
		fi
	done
}

# What a hung test is stuck on: each of its processes, every thread of
# the daemons among them.
show_stuck() {
	local work=$1 pgrp=$2 p exe

	echo "    what is stuck (processes of the test; for runtimefs, every thread):"
	for p in $(work_pids "$work" "$pgrp"); do
		exe=$(readlink "/proc/$p/exe" 2>/dev/null)
		echo "    pid $p: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | cut -c1-160)"
		if [ "${exe##*/}" = runtimefs ] || [ "${exe##*/}" = "$(basename "$RUNTIMEFS")" ]; then
			show_tasks "$p"
		else
			show_tasks "$p" | head -18
		fi
	done
	echo "    mounts: $(work_mounts "$work" | tr '\n' ';')"
}

# Takes down everything a test left in $1, its process group being $2:
# aborts its FUSE connections (which fails every request waiting on them),
# unmounts, then stops its processes (TERM, then KILL).  Prints what
# could not be cleaned and returns 1 if anything could not.
clean_work() {
	local work=$1 pgrp=$2 mp dev type pids p left=0 i

	while read -r mp dev type; do
		[ -n "$mp" ] || continue
		case $type in
		fuse|fuse.*|fuseblk)
			[ -d /sys/fs/fuse/connections/"${dev#*:}" ] ||
				mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null
			echo 1 > /sys/fs/fuse/connections/"${dev#*:}"/abort 2>/dev/null
			;;
		esac
		umount -f "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
	done < <(work_mounts "$work")
	# by pid, as found: a group of that number may be another's by now
	for i in $(seq 50); do
		pids=$(work_pids "$work" "$pgrp")
		[ -n "$pids" ] || break
		# shellcheck disable=SC2086
		if [ "$i" = 1 ]; then
			kill -TERM $pids 2>/dev/null
		elif [ "$i" -ge 10 ]; then
			kill -KILL $pids 2>/dev/null
		fi
		sleep 0.1
	done
	if [ -n "$pids" ]; then
		echo "    left behind, alive after kill -9:"
		for p in $pids; do
			show_tasks "$p"
		done
		left=1
	fi
	if [ -n "$(work_mounts "$work")" ]; then
		echo "    left behind, still mounted: $(work_mounts "$work" | tr '\n' ';')"
		left=1
	fi
	return $left
}

# A key=value locator or a URI (RUNTIMEFS_TEST_LOCATOR) as a
# postgresql:// URI with `schema` as its search_path: one word, for
# mount(8), fstab and pgrep as much as for the daemon.
pg_uri() {
	local loc=$1 schema=$2 host='' user='' db='' kv

	case $loc in
	*://*\?*) echo "$loc&options=-csearch_path%3D$schema"; return ;;
	*://*) echo "$loc?options=-csearch_path%3D$schema"; return ;;
	esac
	for kv in $loc; do
		case $kv in
		host=*) host=${kv#host=} ;;
		user=*) user=${kv#user=} ;;
		dbname=*) db=${kv#dbname=} ;;
		esac
	done
	echo "postgresql:///$db?host=$host&user=$user&options=-csearch_path%3D$schema"
}
PG_RUN=${RUNTIMEFS_TEST_LOCATOR:+1}

CURRENT_WORK='' CURRENT_PGRP=''
interrupted() {
	trap - INT TERM
	echo "mount: interrupted; cleaning up the running test"
	[ -z "$CURRENT_WORK" ] || clean_work "$CURRENT_WORK" "$CURRENT_PGRP" >/dev/null
	[ -z "$CURRENT_WORK" ] || rm -rf --one-file-system "$CURRENT_WORK"
	exit 130
}
trap interrupted INT TERM

files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$here"/t_*.sh)
passed=0
failed=0
skipped=0
failures=()
for file in "${files[@]}"; do
	for t in $(bash -c ". '$here/lib.sh'; . '$file'; declare -F" |
			awk '$3 ~ /^test_/ { print $3 }'); do
		WORK=$(mktemp -d "${TMPDIR:-/tmp}/rtfs-mount.XXXXXX")
		name="$(basename "$file" .sh) $t"
		# a process group of its own (set -m), so that all it started
		# can be found and stopped
		set -m
		(
			TEST_FAILED=0
			MNT=$WORK/mnt DB=$WORK/state.db LOG=$WORK/daemon.log
			KEY=$DB.key KEY_OPT='' PG_SCHEMA=''
			# on PostgreSQL: a schema of the test's own
			if [ -n "${RUNTIMEFS_TEST_LOCATOR:-}" ]; then
				PG_SCHEMA=m${WORK##*.}
				PG_SCHEMA=${PG_SCHEMA,,}
				DB=$(pg_uri "$RUNTIMEFS_TEST_LOCATOR" "$PG_SCHEMA")
				KEY=$WORK/pg.key KEY_OPT=",key_file=$KEY"
			fi
			DAEMON=
			mkdir "$MNT"
			. "$file"
			if mount_fs; then
				cd "$MNT" && "$t"
			fi
			cd /
			unmount_fs
			if grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' "$LOG"; then
				fail "the sanitizers spoke:"
				grep -A20 'Sanitizer\|runtime error' "$LOG" | head -40 >&2
			fi
			exit $TEST_FAILED
		) </dev/null &
		tpid=$!
		set +m
		CURRENT_WORK=$WORK CURRENT_PGRP=$tpid
		sleep "$timeout_s" &
		spid=$!
		ended=
		while [ -z "$ended" ]; do
			wait -n -p ended "$tpid" "$spid"
			rc=$?
		done
		if [ "$ended" = "$tpid" ]; then
			kill "$spid" 2>/dev/null
			wait "$spid" 2>/dev/null
			# lazily, so that the mount of a daemon that crashed goes too
			fusermount3 -uz "$WORK/mnt" 2>/dev/null
			if ! clean_work "$WORK" "$tpid"; then
				echo "    FAIL: the test left the above behind" >&2
				rc=1
			fi
			if [ "$rc" = 0 ] && [ -e "$WORK/skipped" ]; then
				skipped=$((skipped + 1))
				echo "skip $name: $(cat "$WORK/skipped")"
			elif [ "$rc" = 0 ]; then
				passed=$((passed + 1))
				echo "ok   $name"
			else
				failed=$((failed + 1))
				failures+=("$t")
				echo "FAIL $name"
			fi
		else
			failed=$((failed + 1))
			failures+=("$t (hung)")
			echo "FAIL $name: hung (still running after $timeout_s s)"
			show_stuck "$WORK" "$tpid"
			clean_work "$WORK" "$tpid"
			wait "$tpid" 2>/dev/null
		fi
		CURRENT_WORK='' CURRENT_PGRP=''
		[ -n "$(work_mounts "$WORK")" ] || rm -rf --one-file-system "$WORK"
	done
done
[ $failed = 0 ] || echo "failed: ${failures[*]}"
[ $skipped = 0 ] || skipped=", $skipped skipped (above)"
echo "mount${PG_RUN:+ (postgresql)}: $passed passed, $failed failed${skipped#0}"
[ $failed = 0 ]
