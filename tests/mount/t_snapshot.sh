# t_snapshot.sh - snapshots: a frozen, read-only copy of the tree that
# standard tools copy without a warning while the live tree changes.

make_tree() {
	mkdir -p environments/prod/runtimes/chat environments/dev \
		projects/shop/integrations/orders
	echo 1 > environments/prod/critical
	ln -s ../../../../../../environments/prod/runtimes/chat \
		projects/shop/integrations/orders/runtimes/prod/chat
}

test_snapshot_lifecycle() {
	make_tree
	run ls snapshots
	expect ""
	run mkdir snapshots/before
	expect_rc 0
	run ls snapshots snapshots/before
	expect "snapshots:
before

snapshots/before:
audit
environments
projects"
	run mkdir snapshots/before
	expect "mkdir: cannot create directory ‘snapshots/before’: File exists"
	run mkdir 'snapshots/bad name'
	expect_rc 1
	# the live tree moves on, the snapshot does not
	echo 0 > environments/prod/critical
	rmdir environments/dev
	run cat snapshots/before/environments/prod/critical environments/prod/critical
	expect "1
0"
	run ls snapshots/before/environments
	expect "dev
prod"
	run readlink snapshots/before/projects/shop/runtimes/prod/chat
	expect "../../../../environments/prod/runtimes/chat"
	run cat snapshots/before/projects/shop/runtimes/prod/chat/status
	expect "CREATING"
	run rmdir snapshots/before
	expect_rc 0
	run ls snapshots
	expect ""
	run rmdir snapshots/before
	expect "rmdir: failed to remove 'snapshots/before': No such file or directory"
}

test_snapshot_is_read_only() {
	make_tree
	mkdir snapshots/s
	sh 'echo 0 > snapshots/s/environments/prod/critical'
	expect "bash: line 1: snapshots/s/environments/prod/critical: Read-only file system"
	run cat .last_error
	expect_has "snapshot 's' is read-only"
	run mkdir snapshots/s/environments/x
	expect "mkdir: cannot create directory ‘snapshots/s/environments/x’: Read-only file system"
	run rmdir snapshots/s/environments/dev
	expect "rmdir: failed to remove 'snapshots/s/environments/dev': Read-only file system"
	run rm snapshots/s/projects/shop/integrations/orders/runtimes/prod/chat
	expect "rm: cannot remove 'snapshots/s/projects/shop/integrations/orders/runtimes/prod/chat': Read-only file system"
	run touch snapshots/s/environments/prod/x
	expect_has "Read-only file system"
	run mkdir snapshots/s/snapshots
	expect_rc 1
	run ls -A snapshots/s
	expect "audit
environments
projects"
	run cat environments/prod/critical snapshots/s/environments/prod/critical
	expect "1
1"
}

test_snapshot_survives_remount() {
	make_tree
	mkdir snapshots/kept
	remount
	run cat snapshots/kept/environments/prod/critical
	expect "1"
	run ls snapshots
	expect "kept"
}

# tar, cp -a and rsync -a of a snapshot while the live tree changes: no
# warning, and the copies are the same, file for file.
test_copies_while_live_tree_changes() {
	make_tree
	local i pid
	for i in $(seq 20); do mkdir "environments/prod/runtimes/r$i"; done
	mkdir snapshots/b
	(for i in $(seq 200); do
		echo $((i % 2)) > environments/prod/critical
		mkdir "environments/dev/runtimes/n$i" 2>/dev/null
		rmdir "environments/prod/runtimes/r$((i % 20 + 1))" 2>/dev/null
	done) &
	pid=$!
	run tar -C snapshots/b -cf "$WORK/b.tar" .
	expect ""
	expect_rc 0
	run cp -a snapshots/b "$WORK/cp"
	expect ""
	expect_rc 0
	run rsync -a snapshots/b/ "$WORK/rsync/"
	expect ""
	expect_rc 0
	wait "$pid"
	mkdir "$WORK/tar"
	tar -C "$WORK/tar" -xf "$WORK/b.tar"
	run diff -r --no-dereference "$WORK/tar" "$WORK/cp"
	expect ""
	run diff -r --no-dereference "$WORK/tar" "$WORK/rsync"
	expect ""
	run diff -r --no-dereference "$WORK/tar" snapshots/b
	expect ""
	run bash -c "ls '$WORK/tar/environments/prod/runtimes' | wc -l"
	expect "21"
	run cat "$WORK/cp/environments/prod/critical"
	expect "1"
	# and mtimes came through: the copy's critical is as old as the value
	run stat -c %Y "$WORK/rsync/environments/prod/critical"
	expect "$(stat -c %Y snapshots/b/environments/prod/critical)"
}

# From the live tree too: heartbeats move mtimes (liveness) but not
# ctimes, and sizes stay exact, so tar sees nothing change under it.
test_live_tree_copies_while_heartbeats_flow() {
	mkdir -p environments/prod
	local i pid
	for i in $(seq 10); do
		touch "environments/prod/secrets/r$i"
		secret_of "environments/prod/secrets/r$i" >"$WORK/s$i"
		send "$(hb "$(cat "$WORK/s$i")" "r$i")"
	done
	(
		exec 3<>heartbeat
		beats=()
		for i in $(seq 10); do
			beats+=("$(hb "$(cat "$WORK/s$i")" "r$i")")
		done
		while [ ! -e "$WORK/stop" ]; do
			for b in "${beats[@]}"; do printf '%s' "$b" >&3; done
		done
	) &
	pid=$!
	sleep 1.1
	run tar -cf "$WORK/live.tar" environments projects
	expect ""
	expect_rc 0
	run cp -a environments "$WORK/cp"
	expect ""
	expect_rc 0
	run rsync -a environments/ "$WORK/rsync/"
	expect ""
	expect_rc 0
	run stat -c %Y "$WORK/cp/prod/runtimes/r1/registered"
	expect "$(stat -c %Y environments/prod/runtimes/r1/registered)"
	touch "$WORK/stop"
	wait "$pid"
	run tar -tf "$WORK/live.tar" environments/prod/runtimes/r10/status
	expect "environments/prod/runtimes/r10/status"
}

# A snapshot a crash cut short (its .NAME.tmp copy beside the others) is
# cleared at the next mount; on PostgreSQL, where a cut-short copy leaves
# nothing, the schema of a snapshot no longer listed is.
test_cut_short_snapshot_cleared() {
	mkdir environments/prod snapshots/s
	if on_pg; then
		# a schema no snapshot lists: a drop's, left while read
		db_sql "CREATE SCHEMA ${PG_SCHEMA}_snap_999"
		remount
		run db_sql "SELECT count(*) FROM pg_namespace
			WHERE nspname LIKE '${PG_SCHEMA}_snap_%'"
		expect "1"
	else
		touch "$DB.snapshots/.t.tmp" "$DB.snapshots/.t.tmp-journal"
		remount
		run ls -A "$DB.snapshots"
		expect "s.db"
	fi
	run ls snapshots
	expect "s"
}
