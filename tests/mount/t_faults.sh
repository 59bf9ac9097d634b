# t_faults.sh - what the shell sees when the store fails under a change
# (issue 10): the daemon's test build fails one store call of one
# operation with an injected errno, as a full disk or a failing device
# would; the operation is refused with that errno, .last_error says why,
# nothing changed, and the next operation succeeds.  test_faults.c walks
# every store call of every model change; these are the sessions.

# mkdir of an environment: its insert (call 2 of the change: BEGIN,
# INSERT, the lines of MOUNT/events and MOUNT/audit, COMMIT) runs out of
# space, then its event line cannot be written, then its COMMIT fails.
test_mkdir_refused_by_the_store() {
	mkdir environments/prod
	remount_faults 2:ENOSPC
	run mkdir environments/x
	expect "mkdir: cannot create directory ‘environments/x’: No space left on device"
	expect_rc 1
	run cut -d' ' -f2- .last_error
	expect "mkdir /environments/x: injected fault (ENOSPC in store_env_insert) (No space left on device)"
	run ls environments
	expect "prod"
	run mkdir environments/x
	expect_rc 0
	run ls environments
	expect "prod
x"

	remount_faults 3:EIO
	run mkdir environments/w
	expect "mkdir: cannot create directory ‘environments/w’: Input/output error"
	expect_rc 1
	run cut -d' ' -f2- .last_error
	expect "mkdir /environments/w: injected fault (EIO in store_log_append_late) (Input/output error)"
	run ls environments
	expect "prod
x"

	remount_faults 5:EIO
	run mkdir environments/y
	expect "mkdir: cannot create directory ‘environments/y’: Input/output error"
	expect_rc 1
	run cut -d' ' -f2- .last_error
	expect "mkdir /environments/y: injected fault (EIO in store_commit) (Input/output error)"
	run ls environments
	expect "prod
x"
	run stat -c %n environments/y
	expect "stat: cannot statx 'environments/y': No such file or directory"
	run mkdir environments/y
	expect_rc 0

	# what the faulty daemon committed is there after a plain mount
	remount
	run ls environments
	expect "prod
x
y"
}

# A deploy: version 2's insert (call 5: BEGIN, the environment, the
# runtime, version 1, INSERT) runs out of space, then the COMMIT (call
# 12, after two lines of MOUNT/events and one of MOUNT/audit) fails;
# spec, versions and DEFAULT stay on version 1.
test_deploy_refused_by_the_store() {
	mkdir -p environments/prod/runtimes/chat
	spec 1 > environments/prod/runtimes/chat/spec
	remount_faults 5:ENOSPC
	cd environments/prod/runtimes/chat || return
	sh "printf '%s' '$(spec 2)' > spec"
	expect "bash: line 1: printf: write error: No space left on device"
	run cut -d' ' -f2- ../../../../.last_error
	expect "write /environments/prod/runtimes/chat/spec: injected fault (ENOSPC in store_version_insert) (No space left on device)"
	run ls versions
	expect "1"
	run cat endpoints/DEFAULT/version
	expect "1"
	run jq -r .imageUrl spec
	expect "registry.example/chat:1"
	sh "printf '%s' '$(spec 2)' > spec"
	expect ""
	expect_rc 0
	run ls versions
	expect "1
2"

	remount_faults 12:EIO
	cd environments/prod/runtimes/chat || return
	sh "printf '%s' '$(spec 3)' > spec"
	expect "bash: line 1: printf: write error: Input/output error"
	run cut -d' ' -f2- ../../../../.last_error
	expect "write /environments/prod/runtimes/chat/spec: injected fault (EIO in store_commit) (Input/output error)"
	run ls versions
	expect "1
2"
	run cat endpoints/DEFAULT/version
	expect "2"
	run jq -r .latest_version runtime.json
	expect "2"
	run jq -r .imageUrl spec
	expect "registry.example/chat:2"
	sh "printf '%s' '$(spec 3)' > spec"
	expect_rc 0
	run cat endpoints/DEFAULT/version
	expect "3"
}

# A snapshot: its copy (call 1, VACUUM INTO) runs out of space; nothing
# is left behind, and the next mkdir makes it.
test_snapshot_refused_by_the_store() {
	mkdir environments/prod
	remount_faults 1:ENOSPC
	run mkdir snapshots/before
	expect "mkdir: cannot create directory ‘snapshots/before’: No space left on device"
	run cut -d' ' -f2- .last_error
	expect "mkdir /snapshots/before: injected fault (ENOSPC in store_snapshot_create) (No space left on device)"
	run ls -A snapshots
	expect ""
	if on_pg; then
		run db_sql "SELECT nspname FROM pg_namespace
			WHERE nspname LIKE '${PG_SCHEMA}_snap_%'"
		[ -z "$OUT" ] || fail "a refused snapshot left schema $OUT"
	else
		[ -z "$(ls -A "$DB.snapshots" 2>/dev/null)" ] ||
			fail "a refused snapshot left $(ls -A "$DB.snapshots")"
	fi
	run mkdir snapshots/before
	expect_rc 0
	run ls snapshots/before/environments
	expect "prod"
}

# Dropping a snapshot is a change of its own (call 5, after its lines of
# MOUNT/events and MOUNT/audit: BEGIN, the lines, COMMIT): refused, the
# snapshot stays, whole; the next rmdir drops it.
test_snapshot_drop_refused_by_the_store() {
	mkdir environments/prod snapshots/s
	remount_faults 5:EIO
	run rmdir snapshots/s
	expect "rmdir: failed to remove 'snapshots/s': Input/output error"
	run cut -d' ' -f2- .last_error
	expect "rmdir /snapshots/s: injected fault (EIO in store_snapshot_drop) (Input/output error)"
	run ls snapshots/s/environments
	expect "prod"
	run rmdir snapshots/s
	expect_rc 0
	run ls -A snapshots
	expect ""
}

# A fault that is not N:ERRNO stops the test build before it mounts.
test_fault_must_be_well_formed() {
	cd / || return
	unmount_fs
	RUNTIMEFS=$RUNTIMEFS_FAULTS RUNTIMEFS_FAULT=2 run rtfs --db "$DB" -f "$MNT"
	expect "runtimefs: RUNTIMEFS_FAULT is N:ERRNO (3:ENOSPC), not '2'"
	expect_rc 1
	RUNTIMEFS=$RUNTIMEFS_FAULTS RUNTIMEFS_FAULT=2:ENOTANERRNO \
		run rtfs --db "$DB" -f "$MNT"
	expect "runtimefs: RUNTIMEFS_FAULT is N:ERRNO (3:ENOSPC), not '2:ENOTANERRNO'"
	expect_rc 1
	mountpoint -q "$MNT" && fail "the test build mounted with a bad fault"
	mount_fs
}

# A change that was committed but could not be read back (call 6 of a
# mkdir: the lookup that answers the kernel) says both: the error, and
# in .last_error that the directory was made; a failing read is never
# taken for "not there".
test_change_made_but_not_read_back() {
	remount_faults 6:EIO
	run mkdir environments/z
	expect "mkdir: cannot create directory ‘environments/z’: Input/output error"
	run cut -d' ' -f2- .last_error
	expect "mkdir /environments/z: it was made, but reading it back failed: injected fault (EIO in store_env_get) (Input/output error)"
	run ls environments
	expect "z"
}

# A database another program holds the write lock of, for longer than the
# busy timeout (5 s): the change is refused with EAGAIN, "Resource
# temporarily unavailable" (try again), never EBUSY, which is for an
# object's state; nothing changed, and once the lock is given up the
# same mkdir works.
test_busy_database_is_eagain() {
	mkdir environments/prod
	db_hold_lock 7 "$WORK/locked"
	run mkdir environments/x
	expect "mkdir: cannot create directory ‘environments/x’: Resource temporarily unavailable"
	run cut -d' ' -f2- .last_error
	expect "mkdir /environments/x: begin: database is busy (another connection holds its lock); try again (Resource temporarily unavailable)"
	run ls environments
	expect "prod"
	wait "$HOLDER"
	run mkdir environments/x
	expect_rc 0
}
