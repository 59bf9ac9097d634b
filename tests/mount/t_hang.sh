# t_hang.sh - nothing hangs (issue 10): removals through two views at
# once, and a kill -9 under load.  Each round waits a bounded time for its
# commands; one that does not come back is a hang, and the connection is
# aborted so that the rest of the suite can go on.

# finish SECONDS PID...: waits for the PIDs; 1 (and the mount aborted)
# when one is still running after SECONDS.
finish() {
	local deadline=$((SECONDS + $1)) pid

	shift
	for pid in "$@"; do
		while kill -0 "$pid" 2>/dev/null; do
			if [ $SECONDS -ge $deadline ]; then
				fail "hung: $(ps -o pid=,stat=,args= -p "$*" 2>/dev/null | tr '\n' ';')"
				abort_mount
				return 1
			fi
			sleep 0.05
		done
	done
	return 0
}

# Whether every thread of process $1 has exited (it may wait to be
# reaped): a daemon killed with a thread stuck in the kernel has not.
dead() {
	local t state

	for t in /proc/"$1"/task/*/stat; do
		[ -e "$t" ] || continue
		state=$(sed 's/.*) //' "$t" 2>/dev/null | cut -d' ' -f1)
		[ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ] || return 1
	done
	return 0
}

# Aborts the FUSE connection of $MNT: what frees processes stuck on it.
abort_mount() {
	local dev

	dev=$(stat -c %d "$MNT" 2>/dev/null) &&
		echo 1 >"/sys/fs/fuse/connections/$dev/abort" 2>/dev/null
	umount -f "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
}

test_removals_through_two_views_at_once() {
	local round pids n
	mkdir -p environments/x projects/P/integrations/I
	for round in 1 2 3 4 5; do
		for n in 1 2 3; do
			mkdir environments/x/runtimes/a$n environments/x/runtimes/b$n
			for r in a$n b$n; do
				ln -s ../../../../../../environments/x/runtimes/$r \
					projects/P/integrations/I/runtimes/x/$r
			done
		done
		# the kernel holds every name and attribute of both views
		ls -lR environments projects >/dev/null
		pids=()
		for n in 1 2 3; do
			rmdir environments/x/runtimes/a$n & pids+=($!)
			rm projects/P/integrations/I/runtimes/x/b$n & pids+=($!)
		done
		finish 20 "${pids[@]}" || return
		run ls environments/x/runtimes projects/P/integrations/I/runtimes/x
		expect "environments/x/runtimes:

projects/P/integrations/I/runtimes/x:"
		[ "$TEST_FAILED" = 0 ] || return
	done
}

test_secret_revocations_through_two_views_at_once() {
	local round pids
	mkdir -p environments/prod projects/shop/integrations/orders
	for round in 1 2 3 4 5; do
		touch environments/prod/secrets/a \
			projects/shop/integrations/orders/secrets/prod/b
		ls -lR environments projects >/dev/null
		rm environments/prod/secrets/a & pids=($!)
		rm projects/shop/integrations/orders/secrets/prod/b & pids+=($!)
		finish 20 "${pids[@]}" || return
		run ls environments/prod/secrets \
			projects/shop/integrations/orders/secrets/prod
		expect "environments/prod/secrets:

projects/shop/integrations/orders/secrets/prod:"
		[ "$TEST_FAILED" = 0 ] || return
	done
}

# Removals and changes through the tree and both views of the same
# runtimes, all at once, in a loop: runtimes removed through the
# environment and through an integration's view, others deployed, pinned,
# stopped and moved to another integration by a link, while readers list
# everything.  Nothing may hang, and afterwards what the kernel shows
# through its caches is what a fresh mount shows.
test_changes_and_removals_through_views_in_a_loop() {
	local round pids n view=projects/P/integrations/I/runtimes/x
	local other=projects/P/integrations/J/runtimes/x cached
	mkdir -p environments/x projects/P/integrations/I projects/P/integrations/J
	for round in 1 2 3 4 5; do
		for n in 1 2 3; do
			mkdir environments/x/runtimes/a$n environments/x/runtimes/b$n \
				environments/x/runtimes/c$n
			spec 1 >environments/x/runtimes/c$n/spec
			mkdir environments/x/runtimes/c$n/endpoints/canary
			for r in a$n b$n c$n; do
				ln -s ../../../../../../environments/x/runtimes/$r "$view/$r"
			done
		done
		ls -lR environments projects >/dev/null
		pids=()
		for n in 1 2 3; do
			rmdir environments/x/runtimes/a$n & pids+=($!)
			rm "$view/b$n" & pids+=($!)
			(spec 2 >environments/x/runtimes/c$n/spec &&
				echo 1 >environments/x/runtimes/c$n/endpoints/canary/version &&
				ln -s ../../../../../../environments/x/runtimes/c$n "$other/c$n" &&
				echo stop >environments/x/runtimes/c$n/ctl) & pids+=($!)
		done
		(for _ in 1 2 3 4 5; do ls -lR environments projects; done) \
			>/dev/null 2>&1 & pids+=($!)
		(for _ in 1 2 3 4 5; do find . -name status -exec cat {} +; done) \
			>/dev/null 2>&1 & pids+=($!)
		finish 30 "${pids[@]}" || return
		run ls environments/x/runtimes "$view" "$other"
		expect "environments/x/runtimes:
c1
c2
c3

$view:

$other:
c1
c2
c3"
		cached=$(cached_tree)
		remount
		run diff <(echo "$cached") <(cached_tree)
		expect ""
		rm -r environments/x/runtimes/c* || return
		[ "$TEST_FAILED" = 0 ] || return
	done
}

# A name removed behind the kernel's back is gone for every later call,
# although the kernel kept it: stat, open and a new object of that name.
test_names_removed_elsewhere_are_gone() {
	mkdir -p environments/x/runtimes/r1 projects/P/integrations/I
	ln -s ../../../../../../environments/x/runtimes/r1 \
		projects/P/integrations/I/runtimes/x/r1
	touch environments/x/secrets/s
	stat environments/x/runtimes/r1/status environments/x/secrets/s \
		projects/P/integrations/I/secrets/x >/dev/null
	rm projects/P/integrations/I/runtimes/x/r1
	run stat -c %s environments/x/runtimes/r1/status
	expect "stat: cannot statx 'environments/x/runtimes/r1/status': No such file or directory"
	run cat environments/x/runtimes/r1/id
	expect "cat: environments/x/runtimes/r1/id: No such file or directory"
	sh '[ -e environments/x/runtimes/r1 ] || [ -r environments/x/runtimes/r1/type ] || cd environments/x/runtimes/r1'
	expect "bash: line 1: cd: environments/x/runtimes/r1: No such file or directory"
	mkdir environments/x/runtimes/r1
	run cat environments/x/runtimes/r1/status
	expect CREATING
	# a secret revoked through the integration's view, made again by
	# touch in the environment (open without O_EXCL of a kept name)
	touch projects/P/integrations/I/secrets/x/t
	stat environments/x/secrets/t >/dev/null
	rm projects/P/integrations/I/secrets/x/t
	run touch environments/x/secrets/t
	expect_rc 0
	run ls environments/x/secrets
	expect "s
t"
}

test_kill9_under_load_leaves_no_zombie() {
	local round pids n
	mkdir -p environments/x projects/P/integrations/I
	for round in 1 2 3 4 5 6; do
		for n in 1 2 3 4; do
			mkdir -p environments/x/runtimes/a$n
			[ -L projects/P/integrations/I/runtimes/x/a$n ] ||
				ln -s ../../../../../../environments/x/runtimes/a$n \
				projects/P/integrations/I/runtimes/x/a$n
			touch environments/x/secrets/s$n
		done
		ls -lR environments projects >/dev/null
		pids=()
		for n in 1 2 3 4; do
			rmdir environments/x/runtimes/a$n 2>/dev/null & pids+=($!)
			rm -f environments/x/secrets/s$n 2>/dev/null & pids+=($!)
			ls -lR projects >/dev/null 2>&1 & pids+=($!)
		done
		sleep 0.0$((RANDOM % 10))
		kill -9 "$DAEMON"
		# a daemon with a thread stuck in the kernel would stay a zombie
		local deadline=$((SECONDS + 10))
		until dead "$DAEMON"; do
			if [ $SECONDS -ge $deadline ]; then
				fail "hung: the killed daemon did not die:$(grep -h State /proc/"$DAEMON"/task/*/status | tr '\n\t' '  ')"
				abort_mount
				return
			fi
			sleep 0.05
		done
		wait "$DAEMON" 2>/dev/null
		DAEMON=
		# what the dead mount left waiting ends with ENOTCONN
		finish 10 "${pids[@]}" || return
		cd / && { fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"; }
		mount_fs || return
		cd "$MNT" || return
		db_check "$DB" "kill -9 under load" || return
	done
}
