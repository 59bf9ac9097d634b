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
	# a change of other names leaves it in the kernel
	mkdir environments/prod/runtimes/chat
	ls -l environments/prod >/dev/null
	run echo $(($(requests READDIR) + $(requests READDIRPLUS)))
	expect "$listings"
	# a change of its own names, and it is read again
	ls environments >/dev/null
	listings=$(($(requests READDIR) + $(requests READDIRPLUS)))
	mkdir environments/stage
	run ls environments
	expect "prod
stage"
	run echo $(($(requests READDIR) + $(requests READDIRPLUS)))
	[ "$OUT" -gt "$listings" ] || fail "the listing was not read again"
}

# Each kind of change, made after the kernel was given every listing and
# every attribute: what it shows through its caches right away must be
# what a mount with nothing cached shows.  A change a cache missed (a
# listing, a size, a time, a name that went) fails here by name.
test_every_change_seen_exactly() {
	local rt=environments/prod/runtimes/chat view=projects/shop/integrations/bot/runtimes/prod
	local changes=(
		"mkdir environments/stage"
		"mkdir environments/stage/runtimes/r2"
		"rmdir environments/stage/runtimes/r2"
		"rmdir environments/stage"
		"spec 2 >$rt/spec"
		"mkdir $rt/endpoints/canary"
		"echo 1 >$rt/endpoints/canary/version"
		"echo 2 >$rt/endpoints/DEFAULT/version"
		"spec 3 >$rt/spec"
		"rmdir $rt/endpoints/canary"
		"rm $rt/versions/1"
		"echo stop >$rt/ctl"
		"echo reset-service-account >$rt/ctl"
		"echo 1 >environments/prod/critical"
		"touch environments/prod/secrets/spare"
		"rm environments/prod/secrets/spare"
		"touch projects/shop/integrations/orders/secrets/prod/scoped"
		"rm projects/shop/integrations/orders/secrets/prod/scoped"
		"mkdir projects/shop/integrations/bot"
		"ln -s ../../../../../../environments/prod/runtimes/chat $view/chat"
		"echo MI >projects/shop/integrations/bot/type"
		"send \"\$(hb \"\$SECRET\" orders-eu-1 prod shop bot)\""
		"send \"\$(hb \"\$SECRET\" orders-eu-1 prod other orders)\""
		"send \"\$(hb_with \"\$SECRET\" orders-eu-1 '{\"apis\": [{\"name\": \"Pay\"}, {\"name\": \"Re fund\"}], \"tasks\": [{\"name\": \"t\"}]}')\""
		"send \"\$(hb_with \"\$SECRET\" orders-eu-1 '{\"apis\": [{\"name\": \"Pay\", \"state\": \"disabled\"}]}')\""
		"rm environments/prod/runtimes/orders-eu-1/secret"
		"mkdir snapshots/daily"
		"rmdir snapshots/daily"
		"mkdir projects/empty"
		"rmdir projects/empty"
		"rm $view/chat"
	)
	local c cached fresh

	mkdir -p "$rt" projects/shop/integrations
	spec 1 >"$rt/spec"
	register
	mkdir snapshots/before
	remount -o offline_after=86400
	for c in "${changes[@]}"; do
		cached_tree >/dev/null
		sh "cd '$MNT' && . '$REPO/tests/mount/lib.sh' && SECRET='$SECRET' && $c" 
		[ "$RC" = 0 ] || { fail "$c: $OUT"; continue; }
		cached=$(cached_tree)
		remount -o offline_after=86400
		fresh=$(cached_tree)
		[ "$cached" = "$fresh" ] ||
			fail "after '$c' the kernel showed what was no longer true:
$(diff <(echo "$cached") <(echo "$fresh") | head -10)"
	done
}

# A change tells the kernel about what it touched and nothing else: with
# every name of two runtimes held, each change below forgets exactly the
# attributes of the files that show it and the listings of its names.
test_change_tells_only_what_it_touched() {
	local rt=environments/prod/runtimes/chat
	local view=projects/shop/integrations/bot/runtimes/prod
	export RUNTIMEFS_COUNT_READS=1
	remount
	unset RUNTIMEFS_COUNT_READS
	mkdir -p "$rt" environments/prod/runtimes/mail projects/shop/integrations/bot
	spec 1 >"$rt/spec"
	spec 2 >"$rt/spec"
	spec 1 >environments/prod/runtimes/mail/spec
	mkdir "$rt/endpoints/canary"
	ln -s ../../../../../../environments/prod/runtimes/mail "$view/mail"
	ls -lR environments projects >/dev/null
	: >"$LOG"
	# a pin: the endpoint's directory, version, status and updated
	echo 1 >"$rt/endpoints/canary/version"
	cat "$rt/endpoints/canary/version" >/dev/null
	run grep -a -o "told .*" "$LOG"
	expect "told runtime 0x40: 4 attrs, 0 listings, 0 pruned"
	# a deploy: the runtime's directory and its files that show its
	# versions or its time of change, versions/ (listed again),
	# endpoints/, and DEFAULT's directory and files
	: >"$LOG"
	spec 3 >"$rt/spec"
	cat "$rt/spec" >/dev/null
	run grep -a -o "told .*" "$LOG"
	expect "told runtime 0x60: 11 attrs, 1 listings, 0 pruned"
	# a new endpoint: the listing of endpoints/
	: >"$LOG"
	mkdir "$rt/endpoints/blue"
	run grep -a -o "told .*" "$LOG"
	expect "told runtime 0x800: 0 attrs, 1 listings, 0 pruned"
	# a new runtime: the listing of its environment's runtimes
	: >"$LOG"
	mkdir environments/prod/runtimes/new
	ls environments/prod/runtimes >/dev/null
	run grep -a -o "told .*" "$LOG"
	expect "told runtime 0x100: 0 attrs, 0 listings, 0 pruned
told env 0x8: 0 attrs, 1 listings, 0 pruned"
	# removed through a view: every name the kernel holds of it goes
	# (the directory, 12 attribute files, spec, ctl, service_account,
	# versions/ and its 1, endpoints/ and DEFAULT/ with its 6 files; an
	# agent runtime has no artifacts/),
	# the listings that showed it, and its link in the other view; the
	# link rm removed is counted too while the kernel's FORGET of it has
	# not come yet (under load, it comes after the notifier's turn), so
	# the view's line says 1 or 2 names: read as one
	: >"$LOG"
	rm "$view/mail"
	ls environments/prod/runtimes >/dev/null
	sh "grep -a -o 'told .*' '$LOG' | sed 's/^\(told view 0: 0 attrs, 2 listings,\) 2 pruned\$/\1 1 pruned/'"
	expect "told runtime 0x200: 0 attrs, 0 listings, 26 pruned
told env 0x8: 0 attrs, 1 listings, 0 pruned
told view 0: 0 attrs, 2 listings, 1 pruned"
	# the other view's link is gone from the kernel's names too
	run ls projects/shop/runtimes/prod
	expect ""
}

test_heartbeat_seen_at_once() {
	clock_remount
	register
	ls -l "$RT" >/dev/null
	local hb_before dir_before
	hb_before=$(cat "$RT/last_heartbeat")
	dir_before=$(stat -c %y "$RT")
	advance 2
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

# A listing read before a removal and filed by the kernel after a later
# open dropped the cache (its reader was put aside between the reply and
# the filing: the test build holds the reply back instead) is not what
# the next readers see: not one that opened before it was filed and
# reads after, not the ls after that.  A removal through a view does not
# lock the directory being listed, so the two may cross; this is how a
# removed runtime stayed listed under the ls -lR loops of t_hang.sh.
test_listing_filed_late_is_not_kept() {
	local RUNTIMEFS=$RUNTIMEFS_FAULTS first second
	local view=projects/P/integrations/I/runtimes/x

	mkdir -p environments/x/runtimes/a environments/x/runtimes/b \
		projects/P/integrations/I
	ln -s ../../../../../../environments/x/runtimes/b "$view/b"
	export RUNTIMEFS_SLOW_LISTING=/environments/x/runtimes:1000
	remount
	unset RUNTIMEFS_SLOW_LISTING
	mkfifo "$WORK/go"
	# the first lists a and b and is held back 1 s
	ls environments/x/runtimes >"$WORK/first" & first=$!
	sleep 0.2
	rm "$view/b"
	# the second opens after the removal, before the first is filed,
	# and reads after
	python3 -c 'import os, sys
fd = os.open("environments/x/runtimes", os.O_RDONLY | os.O_DIRECTORY)
sys.stdin.readline()
print("\n".join(sorted(os.listdir(fd))))' <"$WORK/go" >"$WORK/second" &
	second=$!
	exec 3>"$WORK/go"
	wait "$first"
	echo >&3
	exec 3>&-
	wait "$second"
	run cat "$WORK/first" "$WORK/second"
	expect "a
b
a"
	run ls environments/x/runtimes
	expect "a"
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

# An inode is the object it names: a request on a file the kernel holds
# resolves it in memory, not by a walk from the root, and reads its rows
# from what the model keeps while nothing changed.  With
# RUNTIMEFS_COUNT_READS the daemon logs the reading statements each
# request cost; cache_timeout=0 makes the kernel ask every time.
test_held_inodes_cost_no_statement() {
	export RUNTIMEFS_COUNT_READS=1
	remount -o cache_timeout=0
	unset RUNTIMEFS_COUNT_READS
	mkdir -p environments/prod/runtimes/chat
	spec 1 >environments/prod/runtimes/chat/spec
	mkdir environments/prod/runtimes/chat/endpoints/canary
	local rt=environments/prod/runtimes/chat
	stat "$rt/status" "$rt/endpoints/canary/version" >/dev/null
	# every request: lookups of each name (cache_timeout=0), getattr,
	# open, read of a runtime's file: none reads anything
	: >"$LOG"
	stat "$rt/status" >/dev/null
	cat "$rt/status" >/dev/null
	run reads getattr
	expect_has " 0"
	[ "${OUT% *}" -ge 2 ] || fail "too few getattrs counted: $OUT"
	run reads
	expect_has " 0"
	[ "${OUT% *}" -ge 8 ] || fail "too few requests counted: $OUT"
	# an endpoint's files too, its row kept since it was read
	: >"$LOG"
	stat "$rt/endpoints/canary/version" >/dev/null
	cat "$rt/endpoints/canary/version" >/dev/null
	run reads
	expect_has " 0"
	[ "${OUT% *}" -ge 4 ] || fail "too few requests counted: $OUT"
	# a change, and the runtime is read again, once; not the
	# environment, whose row the change did not write
	echo stop >"$rt/ctl"
	: >"$LOG"
	stat "$rt/status" >/dev/null
	stat "$rt/status" >/dev/null
	run reads
	[ "${OUT#* }" = 1 ] || fail "reads after a change of the runtime:" \
		"$OUT (requests, statements); want 1 statement"
	# a change of the environment: it is read again too, once
	echo 1 >environments/prod/critical
	: >"$LOG"
	stat "$rt/status" >/dev/null
	stat "$rt/status" >/dev/null
	run reads
	[ "${OUT#* }" = 2 ] || fail "reads after a change of the" \
		"environment: $OUT (requests, statements); want 2 statements"
}

# A secret's row is kept as a runtime's is: once made, reading its
# snippet again and again reads nothing (it read the row at every
# request, four times in a registration).
test_held_secret_costs_no_statement() {
	export RUNTIMEFS_COUNT_READS=1
	remount -o cache_timeout=0
	unset RUNTIMEFS_COUNT_READS
	mkdir -p environments/prod
	touch environments/prod/secrets/s
	cat environments/prod/secrets/s >/dev/null
	: >"$LOG"
	stat environments/prod/secrets/s >/dev/null
	cat environments/prod/secrets/s >"$WORK/snippet"
	run reads
	expect_has " 0"
	[ "${OUT% *}" -ge 4 ] || fail "too few requests counted: $OUT"
	# the whole snippet: for Ballerina and for MI, one credential
	run grep -c "^secret = \"[0-9a-f]\{8\}\.[A-Za-z0-9+/=]*\"$" "$WORK/snippet"
	expect "2"
	# revoked, it is gone at once, not kept
	rm environments/prod/secrets/s
	run cat environments/prod/secrets/s
	expect "cat: environments/prod/secrets/s: No such file or directory"
	expect_rc 1
}

# reads [OP]: the number of requests (of OP) the daemon logged and the
# reading statements they cost together.
reads() {
	grep -a -o "runtimefs: ${1:-[a-z]*} read [0-9]*" "$LOG" |
		awk '{ n++; s += $4 } END { print n + 0, s + 0 }'
}

# Another writer of the database (here the sqlite3 shell, or psql with
# the store's write lock on PostgreSQL; with a shared database, another
# host's daemon) changes it behind the daemon's back:
# the store's change feed tells the model within a flush interval
# (500 ms), and the kernel is told that anything may have changed.
test_other_writer_seen_within_a_second() {
	mkdir environments/prod
	ls environments >/dev/null
	run cat environments/prod/critical
	expect "0"
	db_sql "UPDATE env SET critical = 1, mtime_ns = mtime_ns + 1;
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
