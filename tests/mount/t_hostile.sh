# t_hostile.sh - input nobody should send: the daemon refuses it, stays up,
# and changes nothing.

test_garbage_into_value_files() {
	mkdir -p environments/prod projects/shop/integrations/orders
	local f
	for f in environments/prod/critical projects/shop/integrations/orders/type; do
		head -c 100000 /dev/urandom > "$WORK/noise"
		run cp "$WORK/noise" "$f"
		expect_rc 1
		printf '1\0' > "$WORK/nul"
		run cp "$WORK/nul" "$f"
		expect_rc 1
		sh "printf '%s' \"\$(printf 'x%.0s' \$(seq 70000))\" > $f"
		expect_rc 1
		sh "printf '' > $f"
		expect_rc 0
		# a write far past the end of the value
		run dd if=/dev/zero of="$f" bs=1 count=1 seek=1099511627776 conv=notrunc status=none
		expect_rc 1
	done
	run cat environments/prod/critical projects/shop/integrations/orders/type
	expect "0
default"
	run cat .last_error
	expect_has "(File too large)"
}

test_odd_paths() {
	run mkdir "environments/$(printf 'a\nb')"
	expect_rc 1
	run mkdir "environments/$(printf 'tab\there')"
	expect_rc 1
	run mkdir environments/..hidden environments/.. environments/.
	expect_rc 1
	run ls environments/does-not-exist/runtimes
	expect_rc 2
	run cat environments/x/critical
	expect "cat: environments/x/critical: No such file or directory"
	run ls "projects/$(printf '%0300d' 0)"
	expect_rc 2
	run ls README/x
	expect "ls: cannot access 'README/x': Not a directory"
	run rmdir environments
	expect_rc 1
	run rm -rf projects
	expect_rc 1
	run ls
	expect "README
environments
heartbeat
projects
snapshots"
	# the log line of a name with a newline is one line
	[ "$(grep -c 'uid' "$LOG")" = "$(wc -l < "$LOG")" ] ||
		fail "a log line was split: $(cat "$LOG")"
}

test_many_parallel_writers() {
	local pids=() i
	mkdir -p environments/prod
	for i in $(seq 8); do
		(for j in $(seq 50); do
			echo $((j % 2)) > environments/prod/critical
			mkdir environments/prod/runtimes/r$i-$j 2>/dev/null
			cat environments/prod/runtimes/r$i-$j/status >/dev/null
		done) &
		pids+=($!)
	done
	wait "${pids[@]}"
	run bash -c 'ls environments/prod/runtimes | wc -l'
	expect "400"
	# every writer's last write is 50 % 2
	run cat environments/prod/critical
	expect "0"
}

# Times and sizes set through an open directory or file (futimens,
# ftruncate): the daemon gets a directory's handle where a file's could be.
test_calls_on_open_handles() {
	mkdir -p environments/prod/runtimes/chat
	run perl -e 'open(my $d, "<", "environments/prod") or die "$!\n";
		utime(1, 1, $d) or die "utime: $!\n"; print "ok\n"'
	expect ok
	run perl -e 'open(my $f, "+<", "environments/prod/critical") or die;
		truncate($f, 0) or die "truncate: $!\n"; print "ok\n"'
	expect ok
	run cat environments/prod/critical
	expect 0
	run stat -c %s environments/prod
	expect 0
}
