#!/usr/bin/env bash
# check.sh - proves that run.sh ends hung tests: runs selftest/t_hang.sh
# with a short MOUNT_TEST_TIMEOUT and checks that run.sh fails, reports
# each hung test with what it was stuck on, runs the next test, and
# leaves no mount and no process behind.  `make test-runner` runs it;
# VERBOSE=1 shows run.sh's report even when all is well.
set -u
here=$(cd "$(dirname "$0")" && pwd)
failed=0

fail() {
	echo "runner: FAIL: $*"
	failed=1
}

if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	[ "${CI:-}" = true ] || { echo "runner: FUSE is not available here: skipped"; exit 0; }
fi
base=$(mktemp -d /tmp/rtfs-runner.XXXXXX)
mkdir "$base/tmp"
start=$(date +%s)
# a runner that does not end its hung tests hangs itself: give it 60 s
out=$(TMPDIR=$base/tmp SELFTEST_PIDS=$base/pids MOUNT_TEST_TIMEOUT=${TIMEOUT:-3} \
	timeout -k 5 60 bash "$here/../run.sh" "$here/t_hang.sh" 2>&1)
rc=$?
took=$(($(date +%s) - start))

[ "$rc" != 0 ] || fail "run.sh exited with 0 after hung tests"
for t in test_blocks_in_a_request test_blocks_on_a_detached_daemon \
		test_sleeps_in_the_mount; do
	grep -q -x "FAIL t_hang $t: hung (still running after ${TIMEOUT:-3} s)" <<<"$out" ||
		fail "$t was not reported as hung"
done
grep -q -x "ok   t_hang test_runs_after_a_hang" <<<"$out" ||
	fail "the test after a hang did not run, or failed"
grep -q -x "mount: 1 passed, 3 failed" <<<"$out" || fail "wrong count"
grep -q "left behind" <<<"$out" && fail "run.sh says it left something behind"
# what was stuck: the cat waiting for the daemon's answer, the stopped
# daemon's threads (state T)
grep -q "^      [0-9]* runtimefs  *state T" <<<"$out" ||
	fail "the stopped daemon's threads are not shown"
if [ -r /proc/self/stack ]; then
	grep -q "request_wait_answer\|fuse_simple_request" <<<"$out" ||
		fail "no kernel stack shows the FUSE request cat waits for"
fi
# nothing left: the noted processes are gone, nothing is mounted or
# open in the work directories, and run.sh removed them
for p in $(cat "$base/pids" 2>/dev/null); do
	state=$(sed 's/.*) \(.\).*/\1/' "/proc/$p/stat" 2>/dev/null)
	[ -z "$state" ] || [ "$state" = Z ] ||
		fail "process $p is still there: $(tr '\0' ' ' < "/proc/$p/cmdline")"
done
[ -s "$base/pids" ] || fail "the hung tests noted no pids"
grep -q " $base/" /proc/self/mountinfo && fail "left mounted: $(grep " $base/" /proc/self/mountinfo)"
left=$(find /proc/[0-9]*/cwd /proc/[0-9]*/fd -maxdepth 1 -lname "$base/*" 2>/dev/null)
[ -z "$left" ] || fail "processes still use $base: $left"
[ -z "$(ls -A "$base/tmp")" ] || fail "work directories left: $(ls "$base/tmp")"
[ "$took" -lt 60 ] || fail "it took $took s"
# run.sh's report, in full when something is wrong
if [ $failed != 0 ] || [ -n "${VERBOSE:-}" ]; then
	printf '%s\n' "$out" | sed 's/^/runner: | /'
fi
if [ $failed = 0 ]; then
	rm -rf --one-file-system "$base"
	echo "runner: ok: hung tests reported, cleaned up and failed the run ($took s)"
else
	# not to leave behind what the runner did not clean
	# shellcheck disable=SC2046
	kill -KILL $(cat "$base/pids" 2>/dev/null) 2>/dev/null
	awk -v b="$base/" 'index($5, b) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r mp; do umount -l "$mp"; done
	echo "runner: what the runner left is in $base"
fi
exit $failed
