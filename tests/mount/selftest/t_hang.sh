# t_hang.sh - tests that never end, for the runner's own check
# (selftest/check.sh, `make test-runner`): run.sh must report each as
# hung, say what it is stuck on, abort its FUSE connection, unmount, kill
# what it started and go on.  Not one of the mount tests (t_*.sh there).
#
# Each test notes the pids it leaves running in $SELFTEST_PIDS, so that
# check.sh can see they are gone.

note_pids() {
	[ -z "${SELFTEST_PIDS:-}" ] || echo "$@" >> "$SELFTEST_PIDS"
}

# A request the daemon never answers: with the daemon stopped, cat waits
# in the kernel for the lookup of README.
test_blocks_in_a_request() {
	kill -STOP "$DAEMON"
	cat README >/dev/null &
	note_pids "$DAEMON" "$!" "$BASHPID"
	wait
}

# A second daemon, in a session of its own as a daemon started by mount(8)
# would be, stopped: ls waits for it; once killed, only an unmount can
# take its mount away.
test_blocks_on_a_detached_daemon() {
	local d

	mkdir "$WORK/other"
	setsid "$RUNTIMEFS" --db "$WORK/other.db" -f "$WORK/other" 2>/dev/null &
	d=$!
	for _ in $(seq 100); do
		mountpoint -q "$WORK/other" && break
		sleep 0.05
	done
	kill -STOP "$d"
	ls "$WORK/other" &
	note_pids "$d" "$!" "$BASHPID"
	wait
}

# The next test runs as usual after a hang.
test_runs_after_a_hang() {
	mkdir environments/prod
	run ls environments
	expect "prod"
}

# A test that sleeps forever with its working directory in the mount.
test_sleeps_in_the_mount() {
	sleep 1000 &
	note_pids "$DAEMON" "$!" "$BASHPID"
	wait
}
