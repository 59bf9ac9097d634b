# t_hosts.sh - several hosts on one PostgreSQL schema (issue 13): a
# second daemon on the same database at $WORK/h2; each kind of change made
# through one mount is seen through the other, which had it cached,
# within a second (cat, stat, ls); two hosts deploying to one runtime at
# once lose no version; a key file that is not the first host's is
# refused; PostgreSQL restarted under both: writes fail with ENOTCONN
# while it is down and work again after, nothing acknowledged lost.
# PostgreSQL only: SQLite serves one daemon per file.

# host2: the second daemon, on $DB at $WORK/h2 ($H2 its pid).
host2() {
	mkdir -p "$WORK/h2"
	mount_db "$DB" "$WORK/h2" "$WORK/h2.log" "$@" && { H2=$STARTED; return 0; }
	fail "the second daemon did not mount: $(tail -3 "$WORK/h2.log")"
	return 1
}

unhost2() {
	fusermount3 -u "$WORK/h2"
	wait "$H2"
}

# seen WHAT CMD EXPECTED: CMD's output (run by bash on host 2's mount,
# $WORK/h2) is EXPECTED within 1 s, polled; says how long it took.
seen() {
	local t0=${EPOCHREALTIME/./} out took

	while :; do
		out=$(cd "$WORK/h2" && bash -c "$2" 2>&1)
		took=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
		[ "$out" = "$3" ] && break
		if [ "$took" -gt 1000 ]; then
			fail "$1: not seen on the other mount within 1 s: $2
      expected: $3
      got:      $out"
			return 1
		fi
		sleep 0.02
	done
	echo "    $1: seen on the other mount after $took ms"
}

# Everything the other mount shows of the tree, read so that its kernel
# caches hold names and attributes.
warm() {
	ls -lR "$WORK/h2/environments" "$WORK/h2/projects" "$WORK/h2/snapshots" >/dev/null 2>&1
	find "$WORK/h2/environments" -type f ! -name '.last_error' -exec cat {} + >/dev/null 2>&1
}

test_each_change_is_seen_on_the_other_mount() {
	on_pg || { pg_only "two daemons on one database"; return; }
	local r=environments/prod/runtimes
	host2 || return
	mkdir -p environments/prod
	warm
	# mkdir
	mkdir "$r/chat"
	seen mkdir "ls $r; cat $r/chat/status" "chat
CREATING" || return
	# deploy: a spec written
	spec 1 > "$r/chat/spec"
	seen deploy "ls $r/chat/versions; stat -c %s $r/chat/spec" "1
$(stat -c %s "$r/chat/spec")" || return
	spec 2 > "$r/chat/spec"
	mkdir "$r/chat/endpoints/canary"
	seen endpoint "cat $r/chat/endpoints/canary/version" "2" || return
	# pin
	echo 1 > "$r/chat/endpoints/canary/version"
	seen pin "cat $r/chat/endpoints/canary/version" "1" || return
	# heartbeat: registration, then a later one flushed
	register
	seen register "cat $r/orders-eu-1/status" "RUNNING" || return
	local beat
	sleep 1.1
	send "$(hb "$SECRET" orders-eu-1)"
	beat=$(cat "$r/orders-eu-1/last_heartbeat")
	seen heartbeat "cat $r/orders-eu-1/last_heartbeat" "$beat" || return
	# revoke
	rm "$r/orders-eu-1/secret"
	seen revoke "cat $r/orders-eu-1/status; ls $r/orders-eu-1 | grep -c '^secret$'" "OFFLINE
0" || return
	# delete
	rmdir "$r/orders-eu-1"
	seen delete "ls $r" "chat" || return
	# snapshot
	mkdir snapshots/s1
	seen snapshot "ls snapshots; cat snapshots/s1/$r/chat/endpoints/canary/version" "s1
1" || return
	unhost2
}

# What one host commits reaches the other as exact invalidations: its
# heartbeat flushes (every 500 ms) and a deploy are told there as the
# runtime they touch, never as "anything changed", which would drop
# every cache of the other mount.
test_the_other_host_is_told_exactly() {
	on_pg || { pg_only "two daemons on one database"; return; }
	local r=environments/prod/runtimes i
	RUNTIMEFS_COUNT_READS=1 host2 || return
	register
	# the other host's kernel holds the runtime (a heartbeat that only
	# moves time is not told of a runtime the kernel does not hold)
	seen register "cat $r/orders-eu-1/status" RUNNING || return
	mkdir "$r/chat"
	for i in 1 2 3; do
		sleep 0.3
		send "$(hb "$SECRET" orders-eu-1)"
	done
	spec 1 > "$r/chat/spec"
	seen deploy "ls $r/chat/versions" "1" || return
	sleep 0.7
	run grep -c 'told runtime 0x1:' "$WORK/h2.log"
	[ "${OUT:-0}" -ge 1 ] || fail "no heartbeat told exactly: $(grep told "$WORK/h2.log" | tail -5)"
	run grep -c 'told all' "$WORK/h2.log"
	expect 0
	unhost2
}

# Two hosts deploy to one runtime at the same time: every spec written
# and acknowledged is a version, none lost, numbered without a gap.
test_two_hosts_deploy_to_one_runtime_at_once() {
	on_pg || { pg_only "two daemons on one database"; return; }
	local r=environments/prod/runtimes/chat i pids=() n
	host2 || return
	mkdir -p "$r"
	for i in $(seq 1 10); do
		spec "a$i" > "$r/spec" & pids+=($!)
		spec "b$i" > "$WORK/h2/$r/spec" & pids+=($!)
	done
	n=0
	for i in "${pids[@]}"; do wait "$i" && n=$((n + 1)); done
	run ls "$r/versions"
	expect "$(seq 1 $n | sort)"
	run bash -c "ls '$WORK/h2/$r/versions' | wc -l"
	expect "$n"
	[ "$n" = 20 ] || fail "only $n of 20 deploys were acknowledged"
	unhost2
}

# A second host whose key file is not the first host's is refused at
# start, even before anything secret is sealed; the right one mounts.
test_another_key_file_is_refused() {
	on_pg || { pg_only "a key check kept in the PostgreSQL schema"; return; }
	mkdir -p "$WORK/h2"
	head -c 32 /dev/urandom > "$WORK/other.key"
	chmod 600 "$WORK/other.key"
	run rtfs -t 10 --db "$DB" -o "key_file=$WORK/other.key" -f "$WORK/h2"
	expect_rc 1
	expect_has "key file $WORK/other.key does not open the secrets sealed in"
	run mountpoint -q "$WORK/h2"
	expect_rc 32
	host2 || return
	unhost2
}

# PostgreSQL restarted under two daemons: while it is down a write fails
# with ENOTCONN ("Transport endpoint is not connected") at once; after,
# both serve again by themselves, holding their claims again, and every
# write acknowledged before is there on both.
test_postgres_restart_under_two_daemons() {
	on_pg || { pg_only "the database server restarted under the daemons"; return; }
	[ -n "${RUNTIMEFS_TEST_PG_DIR:-}" ] ||
		{ fail "tests/pg.sh gives no RUNTIMEFS_TEST_PG_DIR"; return; }
	local r=environments/prod/runtimes before
	host2 || return
	mkdir -p "$r/a" "$WORK/h2/$r/b"
	spec 1 > "$r/a/spec"
	spec 2 > "$WORK/spec2"
	pg_server stop || { fail "pg_ctl stop failed"; return; }
	run mkdir "$r/c"
	expect_has "Transport endpoint is not connected"
	expect_rc 1
	run cp "$WORK/spec2" "$WORK/h2/$r/a/spec"
	expect_has "Transport endpoint is not connected"
	pg_server start || { fail "pg_ctl start failed"; return; }
	seen "writes after the restart" "mkdir -p $r/d 2>/dev/null; ls $r" "a
b
d" || return
	run mkdir "$r/c"
	expect_rc 0
	run ls "$r/a/versions"
	expect "1"
	# a heartbeat's time written: the flusher's connection is back too;
	# each connection says so once, the second naming itself
	register
	expect_has '"acknowledged":true'
	before=$(stored_heartbeat)
	send "$(hb "$SECRET" orders-eu-1)"
	expect_has '"acknowledged":true'
	within 5 eval '[ "$(stored_heartbeat)" != "$before" ]'
	run grep -c "connected to PostgreSQL again$" "$LOG"
	expect "1"
	run grep -c "connected to PostgreSQL again (second connection)$" "$LOG"
	expect "1"
	# and they hold their claims again: a restore is refused
	mkdir "$WORK/r"
	run rtfs -t 10 --db "$DB" -o restore -f "$WORK/r"
	expect_rc 1
	expect_has "already served by another runtimefs"
	unhost2
}
