#!/usr/bin/env bash
# run.sh - runs every mount test (tests/mount/t_*.sh, or the files given)
# against the real daemon, each test on a fresh database and mountpoint.
#
# Mount tests need /dev/fuse and fusermount3.  Without them the tests are
# skipped, except under CI=true, where a skipped mount test is a failure.
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

files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$here"/t_*.sh)
passed=0
failed=0
failures=()
for file in "${files[@]}"; do
	for t in $(bash -c ". '$here/lib.sh'; . '$file'; declare -F" |
			awk '$3 ~ /^test_/ { print $3 }'); do
		WORK=$(mktemp -d /tmp/rtfs-mount.XXXXXX)
		(
			TEST_FAILED=0
			MNT=$WORK/mnt DB=$WORK/state.db LOG=$WORK/daemon.log
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
		)
		if [ $? = 0 ]; then
			passed=$((passed + 1))
			echo "ok   $(basename "$file" .sh) $t"
		else
			failed=$((failed + 1))
			failures+=("$t")
			echo "FAIL $(basename "$file" .sh) $t"
		fi
		# lazily, so that the mount of a daemon that crashed goes too
		fusermount3 -uz "$WORK/mnt" 2>/dev/null
		rm -rf "$WORK"
	done
done
[ $failed = 0 ] || echo "failed: ${failures[*]}"
echo "mount: $passed passed, $failed failed"
[ $failed = 0 ]
