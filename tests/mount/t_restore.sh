# t_restore.sh - backups made with tar, cp -a and rsync -a of a snapshot,
# restored with the same tools into a second, empty mount (-o restore),
# compared file by file; and restores that must fail and leave the target
# empty.  The second mount's database is $NEW: a SQLite file, or a
# second schema on PostgreSQL (second_db).

NEW=$(second_db new)

spec() {
	printf '{"imageUrl": "registry.example/chat:%s", "flavorId": "g1-small", "command": ["python"], "args": ["app.py"], "environmentVariables": {"LOG_LEVEL": "info"}, "autoscaling": {"minReplicas": 1, "maxReplicas": 3, "cpuUtilization": 70, "memoryUtilization": 80}, "description": "chat agent"}' "$1"
}

# Everything a backup holds: two environments, a project with two
# integrations, two MI runtimes registered by heartbeat (one with an
# environment secret, one with an integration secret), an agent runtime
# with three versions and a pinned endpoint, another never deployed, and
# unbound secrets at environment and integration level.
make_rich_tree() {
	mkdir -p environments/prod environments/dev \
		projects/shop/integrations/orders \
		projects/shop/integrations/billing projects/ops
	echo 1 > environments/prod/critical
	echo MI > projects/shop/integrations/orders/type
	touch environments/prod/secrets/orders-eu-1
	S1=$(secret_of environments/prod/secrets/orders-eu-1)
	send "$(hb "$S1" orders-eu-1)"
	touch projects/shop/integrations/orders/secrets/prod/orders-eu-2
	S2=$(secret_of projects/shop/integrations/orders/secrets/prod/orders-eu-2)
	send "$(hb "$S2" orders-eu-2)"
	touch environments/dev/secrets/spare
	touch projects/shop/integrations/billing/secrets/prod/billing-1
	mkdir environments/prod/runtimes/chat environments/dev/runtimes/bot
	ln -s ../../../../../../environments/prod/runtimes/chat \
		projects/shop/integrations/billing/runtimes/prod/chat
	local v
	for v in 1 2 3; do
		spec $v > environments/prod/runtimes/chat/spec
	done
	mkdir environments/prod/runtimes/chat/endpoints/canary
	echo 1 > environments/prod/runtimes/chat/endpoints/canary/version
	rm environments/prod/runtimes/chat/versions/2
	echo stop > environments/prod/runtimes/chat/ctl
	SA=$(cat environments/prod/runtimes/chat/service_account)
	ID1=$(cat environments/prod/runtimes/orders-eu-1/id)
}

# A listing of a tree with a checksum per file and the target of each
# link, live files (status, last_heartbeat, runtime.json) and what a
# runtime reports again (reported.json) aside.
listing() {
	(cd "$1" && find environments projects -type d | sort &&
	find environments projects \( -type f -o -type l \) ! -name status ! -name last_heartbeat \
		! -name runtime.json ! -name reported.json | sort | while read -r f; do
		if [ -L "$f" ]; then
			echo "$f -> $(readlink "$f")"
		else
			echo "$f $(sha256sum < "$f" | cut -c1-16) $(stat -c %a "$f")"
		fi
	done)
}

# The second mount, on its own database: mount2 [OPTS...] / unmount2; a
# daemon that did not mount leaves its exit code in $RC2.
mount2() {
	mkdir -p "$WORK/new"
	mount_db "$NEW" "$WORK/new" "$WORK/new.log" "$@" && {
		D2=$STARTED
		return 0
	}
	wait "$STARTED"
	RC2=$?
	D2=
	return 1
}

unmount2() {
	fusermount3 -u "$WORK/new"
	wait "$D2"
	RC2=$?
	D2=
}

# Backs the rich tree up with tar from a snapshot, into $WORK/b.tar.
backup() {
	make_rich_tree
	mkdir snapshots/b
	run tar -C snapshots/b -cf "$WORK/b.tar" .
	expect ""
	expect_rc 0
}

test_restore_tar_round_trip() {
	backup
	mount2 -o restore
	run tar -C "$WORK/new" -xf "$WORK/b.tar"
	expect ""
	expect_rc 0
	unmount2
	[ "$RC2" = 0 ] || fail "the restore daemon exited with $RC2: $(cat "$WORK/new.log")"
	run tail -1 "$WORK/new.log"
	expect_has "runtimefs: restore of "
	expect_has "entries committed to $NEW"
	mount2
	run diff <(listing snapshots/b) <(listing "$WORK/new")
	expect ""
	# the audit log came through, numbered anew, then a line of the
	# restore itself (MOUNT/audit)
	local n
	n=$(wc -l < snapshots/b/audit)
	[ "$n" -gt 5 ] || fail "the backup's audit log has $n lines"
	run jq -c 'select(.restore) | [.seq, .op, .result, .lines_restored]' \
		"$WORK/new/audit"
	expect "[$((n + 1)),\"restore\",\"ok\",$n]"
	run diff <(jq -c 'del(.seq)' snapshots/b/audit) \
		<(head -n "$n" "$WORK/new/audit" | jq -c 'del(.seq)')
	expect ""
	run ls "$WORK/new/environments/prod/runtimes/chat/versions"
	expect "1
3"
	# times came through too, as tar set them
	run stat -c %Y "$WORK/new/environments/prod/critical" \
		"$WORK/new/environments/dev/secrets/spare" \
		"$WORK/new/projects/shop/integrations/orders/type"
	expect "$(stat -c %Y snapshots/b/environments/prod/critical \
		snapshots/b/environments/dev/secrets/spare \
		snapshots/b/projects/shop/integrations/orders/type)"
	run cat "$WORK/new/environments/prod/runtimes/chat/endpoints/canary/version" \
		"$WORK/new/environments/prod/runtimes/chat/status" \
		"$WORK/new/environments/prod/runtimes/orders-eu-1/id"
	expect "1
STOPPED
$ID1"
	# old secrets and the old service account still work
	send "$(hb "$S1" orders-eu-1)" "$WORK/new"
	expect "{\"acknowledged\":true,\"fullHeartbeatRequired\":true,\"commands\":[],\"supportedHeartbeatFields\":[\"tryItHost\",\"openApiDefinitions\",\"workflowMetadata\"],\"runtimeId\":\"$ID1\"}"
	send "$(hb "$S2" orders-eu-2)" "$WORK/new"
	expect_has '"acknowledged":true'
	run cat "$WORK/new/environments/prod/runtimes/orders-eu-1/status"
	expect "RUNNING"
	send "{\"serviceAccount\": \"$SA\", \"runtime\": \"chat\", \"environment\": \"prod\"}" "$WORK/new"
	expect_has '"acknowledged":true'
	# the numbering goes on after the latest version
	spec 4 > "$WORK/new/environments/prod/runtimes/chat/spec"
	run ls "$WORK/new/environments/prod/runtimes/chat/versions"
	expect "1
3
4"
	unmount2
}

# restore_with CMD...: a fresh empty database mounted with -o restore,
# CMD run (its output and code in $OUT, $RC), then unmounted ($RC2).
restore_with() {
	drop_db "$NEW"
	mount2 -o restore || return 1
	run "$@"
	LASTERR=$(cut -d' ' -f2- "$WORK/new/.last_error")
	unmount2
}

# restored_as TREE CMD...: restores with CMD, which must say nothing and
# succeed, as must the commit; the restored tree, mounted as usual, must
# list as TREE does.  It stays mounted.
restored_as() {
	local tree=$1

	shift
	restore_with "$@"
	expect ""
	expect_rc 0
	[ "$RC2" = 0 ] || fail "$1: the restore was refused: $(tail -1 "$WORK/new.log")"
	mount2
	run diff <(listing "$tree") <(listing "$WORK/new")
	expect ""
}

test_restore_cp_and_rsync() {
	backup
	run cp -a snapshots/b "$WORK/cp"
	expect_rc 0
	restored_as snapshots/b cp -a "$WORK/cp/." "$WORK/new/"
	unmount2
	restored_as snapshots/b rsync -a "$WORK/cp/" "$WORK/new/"
	send "$(hb "$S1" orders-eu-1)" "$WORK/new"
	expect "{\"acknowledged\":true,\"fullHeartbeatRequired\":true,\"commands\":[],\"supportedHeartbeatFields\":[\"tryItHost\",\"openApiDefinitions\",\"workflowMetadata\"],\"runtimeId\":\"$ID1\"}"
	unmount2
}

test_restore_into_a_non_empty_database() {
	backup
	mount2
	mkdir "$WORK/new/environments/kept"
	unmount2
	mount2 -o restore
	expect_rc 0
	[ "$RC2" = 1 ] || fail "-o restore on a non-empty database: exit $RC2"
	run tail -1 "$WORK/new.log"
	expect "runtimefs: a restore goes into an empty database only; this one holds 1 environment(s), 0 project(s) and 0 snapshot(s)"
	mount2
	run ls "$WORK/new/environments"
	expect "kept"
	unmount2
}

# edit FILE SED: the backup extracted, FILE edited, archived again.
edit_backup() {
	rm -rf "$WORK/x" && mkdir "$WORK/x" &&
	tar -C "$WORK/x" -xf "$WORK/b.tar" &&
	sed -i "$2" "$WORK/x/$1" &&
	tar -C "$WORK/x" -cf "$WORK/bad.tar" .
}

# The database the restore went into is still empty.
expect_target_empty() {
	[ "$RC2" = 1 ] || fail "the refused restore's daemon exited with $RC2"
	mount2
	run ls -A "$WORK/new/environments" "$WORK/new/projects"
	expect "$WORK/new/environments:

$WORK/new/projects:"
	unmount2
}

test_restore_refuses_a_pin_to_a_missing_version() {
	backup
	edit_backup environments/prod/runtimes/chat/endpoints/canary/version 's/1/9/'
	restore_with tar -C "$WORK/new" -xf "$WORK/bad.tar"
	expect "tar: .: Cannot utime: No such file or directory
tar: Exiting with failure status due to previous errors"
	expect_rc 2
	run echo "$LASTERR"
	expect "utimens /: environments/prod/runtimes/chat/endpoints/canary/version: the runtime has no version 9 (No such file or directory)"
	run tail -1 "$WORK/new.log"
	expect "runtimefs: restore refused, $NEW is left empty: environments/prod/runtimes/chat/endpoints/canary/version: the runtime has no version 9 (No such file or directory)"
	expect_target_empty
}

test_restore_refuses_a_bad_value() {
	backup
	edit_backup environments/prod/critical 's/1/2/'
	restore_with tar -C "$WORK/new" -xf "$WORK/bad.tar"
	expect "tar: ./environments/prod/critical: Cannot close: Invalid argument
tar: .: Cannot utime: Invalid argument
tar: Exiting with failure status due to previous errors"
	expect_rc 2
	run echo "$LASTERR"
	expect "utimens /: environments/prod/critical: '2' is not one of the values this file takes (Invalid argument)"
	run tail -1 "$WORK/new.log"
	expect "runtimefs: restore refused, $NEW is left empty: environments/prod/critical: '2' is not one of the values this file takes (Invalid argument)"
	expect_target_empty
}

# versions/N are immutable: one edited no longer matches spec.
test_restore_refuses_an_edited_version() {
	backup
	edit_backup environments/prod/runtimes/chat/versions/3 's/chat:3/chat:9/'
	restore_with tar -C "$WORK/new" -xf "$WORK/bad.tar"
	expect "tar: .: Cannot utime: Invalid argument
tar: Exiting with failure status due to previous errors"
	expect_rc 2
	run tail -1 "$WORK/new.log"
	expect "runtimefs: restore refused, $NEW is left empty: environments/prod/runtimes/chat/spec: not the spec of the latest version (3) (Invalid argument)"
	expect_target_empty
}

# A file the tree would show otherwise (here a bound secret's snippet
# whose runtime line was changed) is refused, and so is a file the tree
# does not have.
test_restore_refuses_what_the_tree_would_not_show() {
	backup
	edit_backup environments/prod/runtimes/orders-eu-1/secret.toml 's/^runtime = .*/runtime = "other"/'
	restore_with tar -C "$WORK/new" -xf "$WORK/bad.tar"
	expect_rc 2
	run tail -1 "$WORK/new.log"
	expect "runtimefs: restore refused, $NEW is left empty: environments/prod/runtimes/orders-eu-1/secret.toml: the snippet is for runtime 'other' of environment 'prod' (Invalid argument)"
	expect_target_empty
	drop_db "$NEW"
	mount2 -o restore
	run mkdir -p "$WORK/new/environments/prod/stray"
	expect "mkdir: cannot create directory ‘$WORK/new/environments/prod/stray’: Operation not permitted"
	run cat "$WORK/new/.last_error"
	expect_has "mkdir /environments/prod/stray: 'environments/prod/stray' is not part of a runtimefs tree (Operation not permitted)"
	run touch "$WORK/new/environments/prod/runtimes"
	expect "touch: cannot touch '$WORK/new/environments/prod/runtimes': Operation not permitted"
	# a time the model cannot hold, past 2262
	run touch -d 5026-11-23T12:46:55Z "$WORK/new/environments"
	expect "touch: setting times of '$WORK/new/environments': Invalid argument"
	run cat "$WORK/new/.last_error"
	expect_has "utimens /environments: a time is from 1970-01-01T00:00:01Z to 2262-04-11T23:47:16Z (Invalid argument)"
	# its last second, whole; past it by a fraction (a sum that would
	# not fit in 64 bits)
	run touch -d "2262-04-11 23:47:16Z" "$WORK/new/environments"
	expect ""
	run touch -d "2262-04-11 23:47:16.9Z" "$WORK/new/environments"
	expect "touch: setting times of '$WORK/new/environments': Invalid argument"
	unmount2
	expect_target_empty
}

# A restore made in the -o restore mount is read back there as written,
# and reading it changes nothing.
test_restore_mount_is_a_plain_tree_until_unmount() {
	backup
	mount2 -o restore
	tar -C "$WORK/new" -xf "$WORK/b.tar"
	run cat "$WORK/new/environments/prod/critical"
	expect "1"
	run diff <(listing snapshots/b) <(listing "$WORK/new")
	expect ""
	if on_pg; then
		run psql -X -t -A "$RUNTIMEFS_TEST_LOCATOR" -c "SELECT count(*)
			FROM pg_tables WHERE schemaname = '${NEW##*%3D}_restore'"
		expect 0
	else
		run ls "$WORK/new.db.restore"
		expect_rc 2
	fi
	unmount2
	[ "$RC2" = 0 ] || fail "the restore was refused: $(tail -1 "$WORK/new.log")"
}

# A backup of the live mount holds README, heartbeat, .last_error and
# snapshots/ too: the restore skips them.
test_restore_from_the_live_tree() {
	make_rich_tree
	mkdir snapshots/b
	run tar -C . -cf "$WORK/live.tar" .
	expect ""
	expect_rc 0
	restored_as . tar -C "$WORK/new" -xf "$WORK/live.tar"
	run ls "$WORK/new/snapshots"
	expect ""
	unmount2
}

# A mount of the database started while the restore is still mounted (or
# still committing after fusermount3 -u) waits for it, and then shows the
# restored tree; a second restore into it at the same time is refused.
# Of two mounts waiting, the first to take the database serves it and
# the other is refused, naming it.
test_mount_waits_for_the_restore() {
	backup
	mount2 -o restore
	tar -C "$WORK/new" -xf "$WORK/b.tar"
	run rtfs --db "$NEW" -o restore -f "$WORK/cp"
	expect "$(served_by "$D2" "$NEW")"
	expect_rc 1
	mkdir "$WORK/other"
	"$RUNTIMEFS" --db "$NEW" -f $(key_args "$NEW") "$WORK/other" 2>"$WORK/other.log" &
	local d3=$! i
	for i in $(seq 100); do
		[ -s "$WORK/other.log" ] && break
		sleep 0.05
	done
	run mountpoint -q "$WORK/other"
	expect_rc 32
	run cat "$WORK/other.log"
	expect "runtimefs: a restore into $NEW is going on; waiting for it to finish"
	unmount2
	[ "$RC2" = 0 ] || fail "the restore was refused: $(tail -1 "$WORK/new.log")"
	for i in $(seq 100); do
		mountpoint -q "$WORK/other" && break
		sleep 0.05
	done
	run cat "$WORK/other/environments/prod/critical"
	expect "1"
	fusermount3 -u "$WORK/other"
	wait "$d3"
	run echo $?
	expect "0"
}

# (on PostgreSQL, where several daemons serve one schema, both serve)
test_two_mounts_wait_for_the_restore_one_serves() {
	local p1 p2 i serving
	backup
	mount2 -o restore
	tar -C "$WORK/new" -xf "$WORK/b.tar"
	mkdir "$WORK/m1" "$WORK/m2"
	"$RUNTIMEFS" --db "$NEW" -f $(key_args "$NEW") "$WORK/m1" 2>"$WORK/m1.log" &
	p1=$!
	"$RUNTIMEFS" --db "$NEW" -f $(key_args "$NEW") "$WORK/m2" 2>"$WORK/m2.log" &
	p2=$!
	sleep 0.5
	unmount2
	[ "$RC2" = 0 ] || fail "the restore was refused: $(tail -1 "$WORK/new.log")"
	for i in $(seq 100); do
		{ mountpoint -q "$WORK/m1" || mountpoint -q "$WORK/m2"; } && break
		sleep 0.05
	done
	sleep 0.5
	serving=
	for i in 1 2; do
		mountpoint -q "$WORK/m$i" && serving=$serving$i
	done
	# PostgreSQL: several daemons serve one schema, both do (the second
	# may still be connecting when the first is up: a few seconds)
	if on_pg; then
		for i in $(seq 100); do
			[ "$serving" = 12 ] && break
			sleep 0.1
			serving=
			mountpoint -q "$WORK/m1" && serving=1
			mountpoint -q "$WORK/m2" && serving=${serving}2
		done
		[ "$serving" = 12 ] || fail "mounts serving the restored schema:" \
			"'$serving', not both (m1: $(tail -3 "$WORK/m1.log"
			); m2: $(tail -3 "$WORK/m2.log"); restore: $(
			tail -3 "$WORK/new.log"))"
		serving=1
	else
		case $serving in
		1)
			run tail -1 "$WORK/m2.log"
			expect "$(served_by "$p1" "$NEW")" ;;
		2)
			run tail -1 "$WORK/m1.log"
			expect "$(served_by "$p2" "$NEW")" ;;
		*)
			fail "mounts serving the restored database: '$serving', not one" ;;
		esac
	fi
	run cat "$WORK/m$serving/environments/prod/critical"
	expect 1
	for i in 1 2; do
		mountpoint -q "$WORK/m$i" && fusermount3 -u "$WORK/m$i"
	done
	wait "$p1" "$p2"
}

# A restore into a database that a daemon serves would rename a new file
# over it and remove its -wal under the daemon's feet: refused, even when
# that database is empty.
test_restore_into_a_served_database_is_refused() {
	mkdir "$WORK/other"
	run rtfs -t 5 --db "$DB" -o restore -f "$WORK/other"
	expect "$(served_by "$DAEMON")"
	expect_rc 1
	run mountpoint -q "$WORK/other"
	expect_rc 32
	mkdir environments/prod
	echo 1 > environments/prod/critical
	remount
	run cat environments/prod/critical
	expect 1
}

# A restore killed before its commit (kill -9, a crash) leaves the target
# as it was, empty, and its files beside it: DB.restore-lock, and
# DB.restore with its -wal when it was killed while building.  A mount of
# the database says so and mounts the empty tree; the next -o restore
# works at once and commits.
test_restore_killed_before_its_commit() {
	backup
	mount2 -o restore
	tar -C "$WORK/new" -xf "$WORK/b.tar"
	kill -9 "$D2"
	wait "$D2" 2>/dev/null
	D2=
	fusermount3 -uz "$WORK/new"
	# as a build killed half-way leaves them (SQLite's files)
	if ! on_pg; then
		sqlite3 "$WORK/new.db.restore" 'CREATE TABLE env (id INTEGER)'
		printf 'not a wal' > "$WORK/new.db.restore-wal"
		run ls "$WORK/new.db.restore-lock" "$WORK/new.db.restore"
		expect_rc 0
	fi
	mount2
	run cat "$WORK/new.log"
	expect "runtimefs: an interrupted restore left $NEW empty; mount with -o restore and copy the backup in again"
	run ls -A "$WORK/new/environments" "$WORK/new/projects"
	expect "$WORK/new/environments:

$WORK/new/projects:"
	unmount2
	: > "$WORK/new.log"
	mount2 -o restore
	run tar -C "$WORK/new" -xf "$WORK/b.tar"
	expect ""
	expect_rc 0
	unmount2
	[ "$RC2" = 0 ] || fail "the restore was refused: $(cat "$WORK/new.log")"
	[ -e "$(key_of "$NEW")" ] || fail "no key file $(key_of "$NEW")"
	[ ! -e "$WORK/new.db.restore" ] || fail "new.db.restore is left"
	[ ! -e "$WORK/new.db.restore-lock" ] || fail "new.db.restore-lock is left"
	: > "$WORK/new.log"
	mount2
	run cat "$WORK/new.log" "$WORK/new/environments/prod/critical"
	expect "1"
	unmount2
}

# as_nobody CMD...: CMD as uid and gid 65534 with no other group; as_in
# GID CMD...: the same in group GID too.
as_nobody() {
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

as_in() {
	local gid=$1

	shift
	run setpriv --reuid=65534 --regid=65534 --groups="$gid" "$@"
}

# A restore mount with allow_other holds the daemon's roles, with or
# without default_permissions: anyone else may look, but neither add a
# secret of their choosing (a backdoor for later heartbeats) nor change
# or remove anything, nor read key material; the commit holds what the
# admin staged only.
test_restore_roles_hold_for_other_users() {
	local new=$WORK/new dir
	backup
	chmod 755 "$WORK"
	mount2 -o restore,allow_other
	tar -C "$new" -xf "$WORK/b.tar"
	dir=$new/environments/prod
	as_nobody cat "$dir/critical"
	expect "1"
	as_nobody ls "$dir/secrets"
	expect "billing-1"
	as_nobody touch "$dir/secrets/backdoor"
	expect "touch: cannot touch '$dir/secrets/backdoor': Permission denied"
	as_nobody bash -c "echo 0 > $dir/critical"
	expect "bash: line 1: $dir/critical: Permission denied"
	as_nobody mkdir "$new/environments/dev2"
	expect "mkdir: cannot create directory ‘$new/environments/dev2’: Permission denied"
	as_nobody ln -s x "$new/projects/shop/runtimes/prod/x"
	expect "ln: failed to create symbolic link '$new/projects/shop/runtimes/prod/x': Permission denied"
	as_nobody mv "$dir/runtimes/chat/spec" "$dir/runtimes/chat/.spec"
	expect "mv: cannot move '$dir/runtimes/chat/spec' to '$dir/runtimes/chat/.spec': Permission denied"
	as_nobody rm "$dir/critical"
	expect "rm: cannot remove '$dir/critical': Permission denied"
	as_nobody rmdir "$dir/runtimes/chat/endpoints/canary"
	expect "rmdir: failed to remove '$dir/runtimes/chat/endpoints/canary': Permission denied"
	as_nobody truncate -s 0 "$dir/critical"
	expect "truncate: cannot open '$dir/critical' for writing: Permission denied"
	as_nobody chmod 644 "$dir/secrets/billing-1"
	expect "chmod: changing permissions of '$dir/secrets/billing-1': Operation not permitted"
	as_nobody chown 65534 "$dir/critical"
	expect "chown: changing ownership of '$dir/critical': Operation not permitted"
	as_nobody touch -d @0 "$dir/critical"
	expect "touch: cannot touch '$dir/critical': Permission denied"
	as_nobody touch "$new"
	expect "touch: setting times of '$new': Permission denied"
	as_nobody cat "$dir/secrets/billing-1"
	expect "cat: $dir/secrets/billing-1: Permission denied"
	as_nobody cat "$dir/runtimes/orders-eu-1/secret.toml"
	expect "cat: $dir/runtimes/orders-eu-1/secret.toml: Permission denied"
	as_nobody cat "$dir/runtimes/chat/service_account"
	expect "cat: $dir/runtimes/chat/service_account: Permission denied"
	as_nobody cat "$new/.last_error"
	expect_has "open /environments/prod/runtimes/chat/service_account: environments/prod/runtimes/chat/service_account is read by root, the daemon's user and the admin group only (Permission denied)"
	run grep -c "^runtimefs: uid 65534: .* create /environments/prod/secrets/backdoor: only root and uid 0 (the daemon's user) may change a restore (Permission denied)$" "$WORK/new.log"
	expect "1"
	unmount2
	[ "$RC2" = 0 ] || fail "the restore was refused: $(tail -1 "$WORK/new.log")"
	mount2
	run ls "$dir/secrets"
	expect "billing-1"
	run cat "$dir/critical"
	expect "1"
	unmount2
	# the same with the kernel checking modes first
	drop_db "$NEW"
	mount2 -o restore,allow_other,default_permissions
	tar -C "$new" -xf "$WORK/b.tar"
	as_nobody touch "$dir/secrets/backdoor"
	expect "touch: cannot touch '$dir/secrets/backdoor': Permission denied"
	as_nobody cat "$dir/secrets/billing-1"
	expect "cat: $dir/secrets/billing-1: Permission denied"
	unmount2
	[ "$RC2" = 0 ] || fail "the restore was refused: $(tail -1 "$WORK/new.log")"
}

# The -o admin_gid group changes and reads a restore as the owner does,
# with default_permissions too (the tree gives the group the owner's
# rights, as the live tree does).
test_restore_admin_group() {
	local new=$WORK/new dir opts
	backup
	chmod 755 "$WORK"
	dir=$new/environments/prod
	for opts in restore,allow_other,admin_gid=4242 \
			restore,allow_other,default_permissions,admin_gid=4242; do
		drop_db "$NEW"
		mount2 -o "$opts"
		as_in 4242 mkdir -p "$new/environments"
		expect ""
		expect_rc 0
		as_in 4243 mkdir "$new/projects"
		expect "mkdir: cannot create directory ‘$new/projects’: Permission denied"
		run tar -C "$new" -xf "$WORK/b.tar"
		expect ""
		run stat -c '%a %g' "$dir/secrets/billing-1" "$dir/critical"
		expect "660 4242
664 4242"
		as_in 4242 cat "$dir/secrets/billing-1"
		expect_has "[wso2.icp.runtime.bridge]"
		as_nobody cat "$dir/secrets/billing-1"
		expect "cat: $dir/secrets/billing-1: Permission denied"
		as_in 4242 bash -c "echo 0 > $dir/critical"
		expect ""
		as_nobody bash -c "echo 1 > $dir/critical"
		expect "bash: line 1: $dir/critical: Permission denied"
		unmount2
		[ "$RC2" = 0 ] || fail "$opts: the restore was refused: $(tail -1 "$WORK/new.log")"
		mount2
		run cat "$dir/critical"
		expect "0"
		unmount2
	done
}

# Whatever grows what a restore stages (create, write, truncate, rename)
# counts against one cap on the memory it holds, counted as allocated:
# beyond it ENOSPC, said in .last_error; what is given back (a file cut
# or removed) can be staged again.  Files named .* (rsync's temporary
# files) are staged and never checked: the way to fill a restore.
test_restore_memory_cap() {
	backup
	mount2 -o restore,restore_max=1
	tar -C "$WORK/new" -xf "$WORK/b.tar"
	cd "$WORK/new/environments/prod" || return
	run truncate -s 256K .t1 .t2 .t3
	expect ""
	run truncate -s 256K .t4
	expect "truncate: failed to truncate '.t4' at 262144 bytes: No space left on device"
	run cut -d' ' -f2- "$WORK/new/.last_error"
	expect "truncate /environments/prod/.t4: a restore stages at most 1 MiB in memory (entries, names and data as allocated; -o restore_max=MIB) (No space left on device)"
	sh 'head -c 200K /dev/zero > .t5'
	expect "head: error writing 'standard output': No space left on device"
	run mv .t4 .t4-with-a-much-longer-name-than-before
	expect ""
	truncate -s 0 .t1
	run truncate -s 256K .t4-with-a-much-longer-name-than-before
	expect ""
	expect_rc 0
	rm .t*
	cd / || return
	unmount2
	[ "$RC2" = 0 ] || fail "the restore was refused: $(tail -1 "$WORK/new.log")"
}

# Each check of the whole restore (setting the root's times, as tar, cp -a
# and rsync -a do last) and the commit at unmount read what is staged at
# that moment, and nothing an earlier check read: values edited between
# checks pass every check, and the unmount commits exactly what the
# staged tree holds then, checked then.
test_restore_checks_what_is_staged_now() {
	local new=$WORK/new i
	backup
	for opts in restore restore,-s; do
		drop_db "$NEW"
		mount2 -o "$opts"
		tar -C "$new" -xf "$WORK/b.tar"
		for i in $(seq 30); do
			echo $((i % 2)) > "$new/environments/prod/critical"
			run touch "$new"
			expect ""
		done
		touch -d 2020-01-02T03:04:05Z "$new/environments/dev/secrets/spare"
		chmod 600 "$new/environments/prod/critical"
		unmount2
		[ "$RC2" = 0 ] || fail "$opts: the restore was refused: $(tail -1 "$WORK/new.log")"
		mount2
		run cat "$new/environments/prod/critical"
		expect "0"
		run date -u -r "$new/environments/dev/secrets/spare" +%FT%TZ
		expect "2020-01-02T03:04:05Z"
		unmount2
	done
	# a check passed, then an edit breaks the tree: the commit sees it
	drop_db "$NEW"
	mount2 -o restore
	tar -C "$new" -xf "$WORK/b.tar"
	echo 9 > "$new/environments/prod/runtimes/chat/endpoints/canary/version"
	unmount2
	run tail -1 "$WORK/new.log"
	expect "runtimefs: restore refused, $NEW is left empty: environments/prod/runtimes/chat/endpoints/canary/version: the runtime has no version 9 (No such file or directory)"
	expect_target_empty
}

# An archive's listing (names, modes, owners, sizes, times) and the
# archive unpacked in `dir`, what depends on the moment aside.
# The top directories have no time of their own: they show their daemon's
# start, which two daemons differ in (by a minute in tar's listing when
# one starts in the next).
archive_listing() {
	tar -tvf "$1" | grep -Ev '/(status|last_heartbeat|runtime\.json|reported\.json|url)$' |
		awk '{ $1 = $1 }
		     $6 == "environments/" || $6 == "projects/" { $4 = $5 = "-" }
		     { print }' | sort
}

# The restore mount is a mode of the one front end: statfs as the live
# mount, .last_error for refusals, the roles for another user (access(2)
# too), and a tar of the live tree restored and tarred again lists and
# unpacks the same.
test_restore_is_served_by_the_one_front_end() {
	local new=$WORK/new
	make_rich_tree
	run tar -C . -cf "$WORK/live.tar" environments projects
	expect ""
	chmod 755 "$WORK"
	mount2 -o restore,allow_other
	run stat -f -c '%l %S' "$new"
	expect "$(stat -f -c '%l %S' .)"
	run touch "$new/NOTES"
	expect "touch: cannot touch '$new/NOTES': Operation not permitted"
	run cut -d' ' -f2- "$new/.last_error"
	expect "create /NOTES: 'NOTES' is not part of a runtimefs tree (Operation not permitted)"
	sh "head -c 300K /dev/zero > $new/.big"
	expect "head: error writing 'standard output': File too large"
	run cut -d' ' -f2- "$new/.last_error"
	expect "write /.big: a file of a backup is at most 262144 bytes (File too large)"
	rm "$new/.big"
	run tar -C "$new" -xf "$WORK/live.tar"
	expect ""
	expect_rc 0
	as_nobody test -r "$new/environments/prod/critical"
	expect_rc 0
	as_nobody test -w "$new/environments/prod"
	expect_rc 1
	as_nobody test -r "$new/environments/prod/runtimes/chat/service_account"
	expect_rc 1
	as_nobody mkdir "$new/environments/x"
	expect "mkdir: cannot create directory ‘$new/environments/x’: Permission denied"
	as_nobody cut -d' ' -f2- "$new/.last_error"
	expect "mkdir /environments/x: only root and uid 0 (the daemon's user) may change a restore (Permission denied)"
	# the whole check, as tar of "." would make it
	run touch "$new"
	expect ""
	unmount2
	[ "$RC2" = 0 ] || fail "the restore was refused: $(tail -1 "$WORK/new.log")"
	mount2
	run tar -C "$new" -cf "$WORK/again.tar" environments projects
	expect ""
	run diff <(archive_listing "$WORK/live.tar") <(archive_listing "$WORK/again.tar")
	expect ""
	mkdir "$WORK/a" "$WORK/b"
	tar -C "$WORK/a" -xf "$WORK/live.tar"
	tar -C "$WORK/b" -xf "$WORK/again.tar"
	run diff -r --no-dereference -x status -x last_heartbeat -x runtime.json -x reported.json -x url "$WORK/a" "$WORK/b"
	expect ""
	unmount2
}

# A restore with -o key_file seals what it takes with that key, not with
# the one the store keeps by default: the next mount with the same option
# opens every secret, and none was made beside the database.
test_restore_with_a_key_file() {
	backup
	mount2 -o "restore,key_file=$WORK/other.key"
	run tar -C "$WORK/new" -xf "$WORK/b.tar"
	expect ""
	unmount2
	[ "$RC2" = 0 ] || fail "the restore daemon exited with $RC2: $(cat "$WORK/new.log")"
	run ls "$(key_of "$NEW")"
	expect "ls: cannot access '$(key_of "$NEW")': No such file or directory"
	mount2 -o "key_file=$WORK/other.key" ||
		{ fail "no mount with the key: $(tail -3 "$WORK/new.log")"; return; }
	send "$(hb "$S1" orders-eu-1)" "$WORK/new"
	expect "{\"acknowledged\":true,\"fullHeartbeatRequired\":true,\"commands\":[],\"supportedHeartbeatFields\":[\"tryItHost\",\"openApiDefinitions\",\"workflowMetadata\"],\"runtimeId\":\"$ID1\"}"
	run cmp environments/dev/secrets/spare "$WORK/new/environments/dev/secrets/spare"
	expect ""
	unmount2
}

# Artifacts are what a runtime reports again: a backup holding them
# restores without them, and the next full heartbeat brings them back.
# The display names a heartbeat gave a project and an integration come
# back with a restore; a project made with mkdir still shows its name.
test_restore_keeps_display_names() {
	mkdir -p environments/prod projects/plain
	touch environments/prod/secrets/a
	local s
	s=$(secret_of environments/prod/secrets/a)
	send "$(hb "$s" mi-1 prod "Order Management" "Order API")"
	run cat projects/order-management/display_name \
		projects/order-management/integrations/order-api/display_name \
		projects/plain/display_name
	expect "Order Management
Order API
plain"
	mkdir snapshots/b
	run tar -C snapshots/b -cf "$WORK/b.tar" .
	expect_rc 0
	restore_with tar -C "$WORK/new" -xf "$WORK/b.tar"
	expect ""
	[ "$RC2" = 0 ] || fail "the restore was refused: $(tail -1 "$WORK/new.log")"
	mount2
	run cat "$WORK/new/projects/order-management/display_name" \
		"$WORK/new/projects/order-management/integrations/order-api/display_name" \
		"$WORK/new/projects/plain/display_name"
	expect "Order Management
Order API
plain"
	unmount2
}

test_restore_leaves_artifacts_out() {
	mkdir -p environments/prod
	touch environments/prod/secrets/a
	local s d=environments/prod/runtimes/mi-1
	s=$(secret_of environments/prod/secrets/a)
	send "$(hb_with "$s" mi-1 '{"apis": [{"name": "Pay"}, {"name": "a b"}]}')"
	run ls $d/artifacts/apis
	expect "Pay
a%20b"
	mkdir snapshots/b
	run tar -C snapshots/b -cf "$WORK/b.tar" .
	expect_rc 0
	run tar -tf "$WORK/b.tar" ./$d/artifacts/apis/Pay/artifact.json
	expect "./$d/artifacts/apis/Pay/artifact.json"
	restore_with tar -C "$WORK/new" -xf "$WORK/b.tar"
	expect ""
	[ "$RC2" = 0 ] || fail "the restore was refused: $(tail -1 "$WORK/new.log")"
	mount2
	run ls "$WORK/new/$d/artifacts"
	expect ""
	run cat "$WORK/new/$d/reported.json"
	expect "{}"
	send "$(hb_with "$s" mi-1 '{"apis": [{"name": "Pay"}]}')" "$WORK/new"
	run ls "$WORK/new/$d/artifacts/apis"
	expect "Pay"
	unmount2
}
