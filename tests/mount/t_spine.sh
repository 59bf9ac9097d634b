# t_spine.sh - the tree of issue 2 driven as a person would: environments,
# projects, integrations, agent runtimes, views, errors, durability.

test_root_listing() {
	run ls
	expect "README
audit
environments
heartbeat
projects
snapshots"
	run ls -A
	expect ".last_error
README
audit
environments
heartbeat
projects
snapshots"
	run head -1 README
	expect "runtimefs - environments, runtimes, versions, endpoints and secrets as files"
}

test_newcomer_session() {
	run mkdir environments/prod
	expect_rc 0
	run mkdir environments/prod/runtimes/chat
	expect_rc 0
	run cat environments/prod/runtimes/chat/status
	expect "CREATING"
	run mkdir 'environments/bad name'
	expect_rc 1
	expect "mkdir: cannot create directory ‘environments/bad name’: Invalid argument"
	run cat .last_error
	expect_has "mkdir /environments/bad name: environment name 'bad name' has a character other than A-Z a-z 0-9 . _ - at position 4 (Invalid argument)"
}

test_environment_lifecycle() {
	run mkdir environments/prod environments/dev
	expect_rc 0
	run ls environments
	expect "dev
prod"
	run ls environments/prod
	expect "critical
runtimes
secrets"
	run mkdir environments/prod
	expect "mkdir: cannot create directory ‘environments/prod’: File exists"
	run rmdir environments/dev
	expect_rc 0
	run ls environments
	expect "prod"
	mkdir environments/prod/runtimes/chat
	run rmdir environments/prod
	expect "rmdir: failed to remove 'environments/prod': Directory not empty"
	run cat .last_error
	expect_has "environment 'prod' is not empty"
	run rmdir environments/prod/runtimes/chat
	expect_rc 0
	run rmdir environments/prod
	expect_rc 0
	run ls environments
	expect ""
}

test_name_rules() {
	local n63 n64 n256
	n63=$(printf 'a%.0s' $(seq 63))
	n64=$(printf 'a%.0s' $(seq 64))
	n256=$(printf 'a%.0s' $(seq 256))
	run mkdir "environments/$n63"
	expect_rc 0
	run mkdir "environments/$n64"
	expect "mkdir: cannot create directory ‘environments/$n64’: Invalid argument"
	run mkdir "environments/$n256"
	expect "mkdir: cannot create directory ‘environments/$n256’: File name too long"
	for bad in .hidden -dash 'a b' 'café' 'x:y'; do
		run mkdir "environments/$bad"
		expect "mkdir: cannot create directory ‘environments/$bad’: Invalid argument"
	done
	run mkdir projects/.p
	expect_rc 1
	run ls environments
	expect "$n63"
	run ls projects
	expect ""
}

test_critical_values() {
	clock_remount
	mkdir environments/prod
	run cat environments/prod/critical
	expect "0"
	sh 'echo 1 > environments/prod/critical'
	expect_rc 0
	run cat environments/prod/critical
	expect "1"
	local before
	before=$(stat -c %Y.%Z environments/prod/critical)
	sh 'echo 2 > environments/prod/critical'
	expect "bash: line 1: echo: write error: Invalid argument"
	expect_rc 1
	run cat .last_error
	expect_has "critical takes 0 or 1, not '2'"
	sh 'echo yes > environments/prod/critical'
	expect_rc 1
	run cat environments/prod/critical
	expect "1"
	# O_TRUNC, truncate and rewriting the same value change nothing
	sh ': > environments/prod/critical'
	expect_rc 0
	run truncate -s 0 environments/prod/critical
	expect_rc 0
	sh 'printf "  1 \n\n" > environments/prod/critical'
	expect_rc 0
	run cat environments/prod/critical
	expect "1"
	run stat -c %Y.%Z environments/prod/critical
	expect "$before"
	advance 2
	sh 'echo 0 > environments/prod/critical'
	run cat environments/prod/critical
	expect "0"
	run stat -c %Y.%Z environments/prod/critical
	[ "$OUT" != "$before" ] || fail "mtime did not change with the value"
}

test_agent_runtime_files() {
	mkdir -p environments/prod/runtimes/chat
	cd environments/prod/runtimes/chat || return
	run ls
	expect "ctl
endpoints
environment
id
integration
last_heartbeat
os
platform
project
registered
runtime.json
runtime_version
service_account
spec
status
type
versions"
	run cat type status environment project integration runtime_version platform os last_heartbeat
	expect "agent
CREATING
prod


Not reported
Not reported
Not reported
never"
	run grep -Ec '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' id
	expect "1"
	run grep -Ec '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' registered
	expect "1"
	run jq -r '[.id, .name, .type, .environment, .status, .last_heartbeat] | join(" ")' runtime.json
	expect "$(cat id) chat agent prod CREATING never"
	run jq -r .registered runtime.json
	expect "$(cat registered)"
	run ls -l id
	expect_has "-r--r--r-- 1 $(id -un) $(id -gn) 37 "
}

test_sizes_match_content() {
	mkdir -p environments/prod/runtimes/chat environments/dev/runtimes/a
	mkdir -p projects/shop/integrations/orders
	echo MI > projects/shop/integrations/orders/type
	ln -s ../../../../../../environments/prod/runtimes/chat \
		projects/shop/integrations/orders/runtimes/prod/chat
	local n=0 f
	while IFS= read -r f; do
		n=$((n + 1))
		[ "$(stat -c %s "$f")" = "$(wc -c < "$f")" ] ||
			fail "$f: stat says $(stat -c %s "$f"), read gives $(wc -c < "$f")"
		[ ! -s "$f" ] || [ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" = '\n' ] ||
			fail "$f does not end with a newline"
	done < <(find . -type f ! -name .last_error ! -name heartbeat)
	# 34, the display_name of the project and of the integration, and
	# MOUNT/audit
	[ $n = 37 ] || fail "found $n files, not 37"
}

test_read_only_files() {
	mkdir -p environments/prod/runtimes/chat
	sh 'echo x > environments/prod/runtimes/chat/status'
	expect "bash: line 1: environments/prod/runtimes/chat/status: Permission denied"
	run rm environments/prod/runtimes/chat/id
	expect "rm: cannot remove 'environments/prod/runtimes/chat/id': Operation not permitted"
	run rm README
	expect_rc 1
	run touch environments/prod/runtimes/newfile
	expect "touch: cannot touch 'environments/prod/runtimes/newfile': Operation not permitted"
	run mkdir environments/prod/other
	expect "mkdir: cannot create directory ‘environments/prod/other’: Operation not permitted"
	run mv environments/prod/critical environments/prod/x
	expect_rc 1
	run ls environments/prod
	expect "critical
runtimes
secrets"
	run cat environments/prod/runtimes/chat/status
	expect "CREATING"
}

test_projects_and_integrations() {
	run mkdir projects/shop
	expect_rc 0
	run ls projects/shop
	expect "display_name
integrations
runtimes"
	run cat projects/shop/display_name
	expect "shop"
	run mkdir projects/shop/integrations/orders
	expect_rc 0
	run cat projects/shop/integrations/orders/type
	expect "default"
	sh 'echo MI > projects/shop/integrations/orders/type'
	expect_rc 0
	run cat projects/shop/integrations/orders/type
	expect "MI"
	sh 'echo agent > projects/shop/integrations/orders/type'
	expect "bash: line 1: echo: write error: Invalid argument"
	run cat projects/shop/integrations/orders/type
	expect "MI"
	run rmdir projects/shop
	expect "rmdir: failed to remove 'projects/shop': Directory not empty"
	run rmdir projects/shop/integrations/orders
	expect_rc 0
	run rmdir projects/shop
	expect_rc 0
	run ls projects
	expect ""
}

test_views_and_links() {
	mkdir -p environments/prod/runtimes/chat environments/prod/runtimes/other
	mkdir -p projects/shop/integrations/orders
	run ls projects/shop/runtimes projects/shop/integrations/orders/runtimes
	expect "projects/shop/integrations/orders/runtimes:
prod

projects/shop/runtimes:
prod"
	run ls projects/shop/runtimes/prod
	expect ""
	# ln -s assigns an agent runtime to the integration
	run ln -s ../../../../../../environments/prod/runtimes/chat \
		projects/shop/integrations/orders/runtimes/prod/chat
	expect_rc 0
	run ln -s /wrong/place projects/shop/integrations/orders/runtimes/prod/other
	expect_rc 1
	run cat .last_error
	expect_has "must point at ../../../../../../environments/prod/runtimes/other"
	run readlink projects/shop/runtimes/prod/chat
	expect "../../../../environments/prod/runtimes/chat"
	run readlink projects/shop/integrations/orders/runtimes/prod/chat
	expect "../../../../../../environments/prod/runtimes/chat"
	run cat projects/shop/runtimes/prod/chat/status projects/shop/integrations/orders/runtimes/prod/chat/integration
	expect "CREATING
orders"
	run cat environments/prod/runtimes/chat/project
	expect "shop"
	run ls projects/shop/runtimes/prod
	expect "chat"
	# the project view is read-only
	run rm projects/shop/runtimes/prod/chat
	expect "rm: cannot remove 'projects/shop/runtimes/prod/chat': Read-only file system"
	run mkdir projects/shop/runtimes/prod/new
	expect "mkdir: cannot create directory ‘projects/shop/runtimes/prod/new’: Read-only file system"
	run touch projects/shop/runtimes/prod/new
	expect_has "Read-only file system"
	run ln -s x projects/shop/runtimes/prod/x
	expect_has "Read-only file system"
	# at integration level, rm deletes the runtime
	run rm projects/shop/integrations/orders/runtimes/prod/chat
	expect_rc 0
	run ls environments/prod/runtimes
	expect "other"
	run ls projects/shop/runtimes/prod
	expect ""
}

test_find_and_tar() {
	mkdir -p environments/prod/runtimes/chat projects/shop/integrations/orders
	run find . -name status
	expect "./environments/prod/runtimes/chat/status"
	run tar -cf "$WORK/tree.tar" --exclude=./.last_error .
	expect ""
	expect_rc 0
	mkdir "$WORK/x"
	tar -C "$WORK/x" -xf "$WORK/tree.tar"
	run cat "$WORK/x/environments/prod/runtimes/chat/status"
	expect "CREATING"
	run diff -r --no-dereference "$WORK/x" . -x .last_error
	expect ""
}

test_survives_remount() {
	mkdir -p environments/prod/runtimes/chat projects/shop/integrations/orders
	echo 1 > environments/prod/critical
	local id
	id=$(cat environments/prod/runtimes/chat/id)
	remount
	run cat environments/prod/critical environments/prod/runtimes/chat/id
	expect "1
$id"
	run ls projects/shop/integrations
	expect "orders"
}

test_survives_kill9() {
	mkdir -p environments/prod/runtimes/chat
	sh 'echo 1 > environments/prod/critical'
	mkdir projects/shop
	kill9_remount
	run ls environments/prod/runtimes projects
	expect "environments/prod/runtimes:
chat

projects:
shop"
	run cat environments/prod/critical
	expect "1"
}

# The form mount.fuse3 uses: runtimefs DB MOUNTPOINT -o OPTIONS.
test_mount_fuse3_argument_form() {
	mkdir environments/prod
	cd / && unmount_fs
	rtfs "$DB" "$MNT" -o rw,noatime,offline_after=5 2>>"$LOG"
	run mountpoint -q "$MNT"
	expect_rc 0
	run ls "$MNT/environments"
	expect "prod"
	run fusermount3 -u "$MNT"
	expect_rc 0
	# the database is the one the daemon made: WAL, at the current schema
	if on_pg; then
		run db_sql 'SELECT name FROM env'
		expect "prod"
	else
		run sqlite3 -cmd '.timeout 5000' "$DB" 'PRAGMA journal_mode' 'SELECT name FROM env'
		expect "wal
prod"
	fi
	run "$RUNTIMEFS" "$DB" "$MNT" --db "$DB"
	expect "runtimefs: give the database either with --db or as the first argument"
	expect_rc 1
	run "$RUNTIMEFS" --db "$DB"
	expect_has "runtimefs: no mountpoint given"
	run "$RUNTIMEFS" -V
	expect "runtimefs, libfuse $(fusermount3 -V | sed 's/.*version: *//')"
	expect_rc 0
	mount_fs
}

# Without --db the database is ./runtimefs.db, made on first start, even
# when the daemon goes to the background (and so changes directory).
test_default_database() {
	cd / && unmount_fs
	mkdir "$WORK/cwd"
	(cd "$WORK/cwd" && "$RUNTIMEFS" "$MNT") 2>>"$LOG"
	run mkdir "$MNT/environments/dev"
	expect_rc 0
	fusermount3 -u "$MNT"
	# the daemon may still be closing the database (a checkpoint)
	run sqlite3 -cmd '.timeout 5000' "$WORK/cwd/runtimefs.db" 'SELECT name FROM env'
	expect "dev"
	run stat -c %a "$WORK/cwd/runtimefs.db.key"
	expect "600"
	mount_fs
}

test_database_refused_when_newer() {
	cd / && unmount_fs
	if on_pg; then
		db_sql 'UPDATE schema_version SET version = 999'
	else
		sqlite3 "$DB" 'PRAGMA user_version = 999'
	fi
	run rtfs --db "$DB" "$MNT"
	expect_has "runtimefs: database schema version 999 is newer than this runtimefs understands"
	expect_rc 1
	run mountpoint -q "$MNT"
	expect_rc 32
}
