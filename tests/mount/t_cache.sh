# t_cache.sh - the kernel keeps names, attributes and listings (issue 6),
# and is told of every change at once: each test first makes the kernel
# hold a value, changes it by another way than writing that file, and
# checks that cat and stat see the new value right away.

RT=environments/prod/runtimes/orders-eu-1

# Counts the requests of kind $1 the daemon has logged (mounted with -d).
requests() {
	grep -c "opcode: $1 (" "$LOG"
}

test_kernel_keeps_what_did_not_change() {
	remount -d
	mkdir environments/prod
	# the first reads fill the kernel's caches (a listing's first read
	# leaves its atime to be asked once more)
	for _ in 1 2; do
		stat environments/prod/critical >/dev/null
		ls -l environments/prod >/dev/null
	done
	local lookups getattrs listings xattrs
	lookups=$(requests LOOKUP)
	# ls -l asks for extended attributes: ENOSYS once, then never again
	xattrs=$(($(requests GETXATTR) + $(requests LISTXATTR)))
	[ "$xattrs" -le 2 ] || fail "$xattrs xattr requests before the loop"
	getattrs=$(requests GETATTR)
	listings=$(($(requests READDIR) + $(requests READDIRPLUS)))
	for _ in 1 2 3 4 5; do
		stat environments/prod/critical >/dev/null
		ls -l environments/prod >/dev/null
	done
	run requests LOOKUP
	expect "$lookups"
	run requests GETATTR
	expect "$getattrs"
	run echo $(($(requests GETXATTR) + $(requests LISTXATTR)))
	expect "$xattrs"
	# the listing too: the daemon is asked to open it, not to read it
	run echo $(($(requests READDIR) + $(requests READDIRPLUS)))
	expect "$listings"
	# a change, and the listing is read again
	mkdir environments/prod/runtimes/chat
	ls -l environments/prod >/dev/null
	run echo $(($(requests READDIR) + $(requests READDIRPLUS)))
	[ "$OUT" -gt "$listings" ] || fail "the listing was not read again"
}

test_heartbeat_seen_at_once() {
	register
	ls -l "$RT" >/dev/null
	local hb_before dir_before
	hb_before=$(cat "$RT/last_heartbeat")
	dir_before=$(stat -c %y "$RT")
	sleep 1.1
	send "$(hb "$SECRET" orders-eu-1)"
	run cat "$RT/last_heartbeat"
	[ "$OUT" != "$hb_before" ] || fail "last_heartbeat stayed $OUT"
	run jq -r .last_heartbeat "$RT/runtime.json"
	expect "$(cat "$RT/last_heartbeat")"
	run stat -c %y "$RT"
	[ "$OUT" != "$dir_before" ] || fail "the directory's mtime stayed"
	run stat -c %s "$RT/runtime.json"
	expect "$(wc -c <"$RT/runtime.json")"
}

test_status_change_seen_at_once() {
	register
	run stat -c %s "$RT/status"
	expect 8
	echo stop >"$RT/ctl"
	run stat -c %s "$RT/status"
	expect 9
	run cat "$RT/status"
	expect STOPPING
	run jq -r .status "$RT/runtime.json"
	expect STOPPING
	run stat -c %s "$RT/runtime.json"
	expect "$(wc -c <"$RT/runtime.json")"
}

test_repoint_seen_at_once() {
	mkdir -p environments/prod/runtimes/chat
	cd environments/prod/runtimes/chat || return
	for i in 1 2 3 4 5 6 7 8 9; do
		spec "$i" >spec
	done
	mkdir endpoints/canary
	ls -l versions endpoints/DEFAULT endpoints/canary >/dev/null
	run stat -c %s endpoints/DEFAULT/version
	expect 2
	# a deploy moves DEFAULT: written to spec, seen in DEFAULT/version
	spec 10 >spec
	run stat -c %s endpoints/DEFAULT/version
	expect 3
	run cat endpoints/DEFAULT/version
	expect 10
	run ls -v versions
	expect "$(seq 10)"
	run stat -c %s endpoints/canary/version
	expect 2
	echo 10 >endpoints/canary/version
	run jq -r .latest_version runtime.json
	expect 10
	# a version removed is gone at once; the kernel had its name
	rm versions/1
	run stat -c %n versions/1
	expect "stat: cannot statx 'versions/1': No such file or directory"
}

test_offline_by_time_seen_at_once() {
	remount -o offline_after=2
	register
	run cat "$RT/status"
	expect RUNNING
	local since
	since=$(stat -c %y "$RT/status")
	sleep 2.2
	# stat before anything opens the file, which would ask again anyway
	run stat -c %y "$RT/status"
	[ "$OUT" != "$since" ] || fail "status kept its mtime $OUT"
	run cat "$RT/status"
	expect OFFLINE
	run jq -r .status "$RT/runtime.json"
	expect OFFLINE
	run stat -c %s "$RT/runtime.json"
	expect "$(wc -c <"$RT/runtime.json")"
}

test_registration_listed_at_once() {
	mkdir -p environments/prod
	touch environments/prod/secrets/orders-eu-1
	SECRET=$(secret_of environments/prod/secrets/orders-eu-1)
	ls -l environments/prod/runtimes environments/prod/secrets \
		projects >/dev/null
	send "$(hb "$SECRET" orders-eu-1)"
	run ls environments/prod/runtimes projects
	expect "environments/prod/runtimes:
orders-eu-1

projects:
shop"
	# the secret is bound now: no longer listed, and its name is gone
	run ls environments/prod/secrets
	expect ""
	run stat -c %n environments/prod/secrets/orders-eu-1
	expect "stat: cannot statx 'environments/prod/secrets/orders-eu-1': No such file or directory"
}

test_removal_seen_in_every_view() {
	mkdir -p environments/prod/runtimes/chat projects/shop/integrations/bot
	local view=projects/shop/integrations/bot/runtimes/prod
	ln -s ../../../../../../environments/prod/runtimes/chat "$view/chat"
	ls -l environments/prod/runtimes "$view" \
		projects/shop/runtimes/prod >/dev/null
	stat environments/prod/runtimes/chat/status >/dev/null
	# removed through one view: gone from the others at once
	rm "$view/chat"
	run stat -c %n environments/prod/runtimes/chat
	expect "stat: cannot statx 'environments/prod/runtimes/chat': No such file or directory"
	run stat -c %n projects/shop/runtimes/prod/chat
	expect "stat: cannot statx 'projects/shop/runtimes/prod/chat': No such file or directory"
	run ls environments/prod/runtimes projects/shop/runtimes/prod
	expect "environments/prod/runtimes:

projects/shop/runtimes/prod:"
	# and the other way round
	mkdir environments/prod/runtimes/chat
	ln -s ../../../../../../environments/prod/runtimes/chat "$view/chat"
	run readlink "$view/chat"
	expect "../../../../../../environments/prod/runtimes/chat"
	rmdir environments/prod/runtimes/chat
	run stat -c %n "$view/chat"
	expect "stat: cannot statx '$view/chat': No such file or directory"
}

test_snapshot_name_taken_again() {
	mkdir environments/prod
	mkdir snapshots/daily
	ls -lR snapshots/daily >/dev/null
	mkdir environments/test
	rmdir snapshots/daily
	run ls snapshots/daily/environments
	expect "ls: cannot access 'snapshots/daily/environments': No such file or directory"
	mkdir snapshots/daily
	run ls snapshots/daily/environments
	expect "prod
test"
}

# Another writer of the database (here the sqlite3 shell; with a shared
# database, another host's daemon) changes it behind the daemon's back:
# the store's change feed tells the model within a flush interval
# (500 ms), and the kernel is told that anything may have changed.
test_other_writer_seen_within_a_second() {
	mkdir environments/prod
	ls environments >/dev/null
	run cat environments/prod/critical
	expect "0"
	sqlite3 -cmd '.timeout 5000' "$DB" \
		"UPDATE env SET critical = 1, mtime_ns = mtime_ns + 1;
		 INSERT INTO env (name, created_ns, mtime_ns)
		 VALUES ('ext', 1700000000000000000, 1700000000000000000)"
	sleep 1
	run cat environments/prod/critical
	expect "1"
	run ls environments
	expect "ext
prod"
	run stat -c %s environments/prod/critical
	expect "2"
}
