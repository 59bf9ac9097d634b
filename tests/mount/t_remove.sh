# t_remove.sh - recursive removal is all or nothing (issue 10): rm -r,
# rm -rf, find -delete, shutil.rmtree and rsync --delete of an object
# directory remove the object whole or change nothing, while entries of
# collections keep their own meaning.

# An agent runtime with versions 1 to 3 and a canary on 2, as the issue
# has it, in environment $1 (dev).
agent_with_canary() {
	local rt=environments/${1:-dev}/runtimes/${2:-agent} i
	mkdir -p "$rt"
	for i in 1 2 3; do
		spec "$i" >"$rt/spec"
	done
	mkdir "$rt/endpoints/canary"
	echo 2 >"$rt/endpoints/canary/version"
}

# Everything below $1, with each file's bytes, to compare before/after.
tree_of() {
	find "$@" | sort | while read -r f; do
		if [ -f "$f" ] && [ -r "$f" ]; then
			case $f in
			*/status|*/last_heartbeat|*/runtime.json) echo "$f" ;;
			*) echo "$f $(md5sum <"$f" | cut -c1-8)" ;;
			esac
		else
			echo "$f"
		fi
	done
}

test_rm_rf_environment_removes_it_whole() {
	agent_with_canary dev
	touch environments/dev/secrets/s1
	run rm -rf environments/dev
	expect ""
	expect_rc 0
	run ls environments
	expect ""
	remount
	run ls environments
	expect ""
	# and the name is free for a new one
	mkdir environments/dev
	run ls environments/dev
	expect "critical
runtimes
secrets"
}

test_rm_rf_of_a_running_runtime_changes_nothing() {
	register
	local rt=environments/prod/runtimes/orders-eu-1 before
	before=$(tree_of environments projects)
	run rm -rf "$rt"
	expect "rm: cannot remove '$rt': Device or resource busy"
	expect_rc 1
	run cat .last_error
	expect_has "rmdir /$rt: runtime 'orders-eu-1' is RUNNING; stop it first (echo stop > ctl): nothing was removed (Device or resource busy)"
	run tree_of environments projects
	expect "$before"
	# its secret still works: it heartbeats on
	send "$(hb "$SECRET" orders-eu-1)"
	expect_has '"acknowledged":true'
	run cat "$rt/status"
	expect RUNNING
}

test_rm_rf_environment_with_a_running_runtime_changes_nothing() {
	agent_with_canary prod chat
	touch environments/prod/secrets/spare
	register
	local before
	before=$(tree_of environments projects)
	run rm -rf environments/prod
	expect "rm: cannot remove 'environments/prod': Device or resource busy"
	run tree_of environments projects
	expect "$before"
	run ls environments/prod/runtimes/chat/versions
	expect "1
2
3"
}

test_rm_r_of_an_endpoint_removes_it() {
	agent_with_canary dev
	local rt=environments/dev/runtimes/agent
	mkdir "$rt/endpoints/stage"
	run rm -r "$rt/endpoints/stage"
	expect ""
	expect_rc 0
	run ls "$rt/endpoints"
	expect "DEFAULT
canary"
	# DEFAULT goes only with its runtime
	run rm -rf "$rt/endpoints/DEFAULT"
	expect "rm: cannot remove '$rt/endpoints/DEFAULT': Operation not permitted"
	run ls "$rt/endpoints/DEFAULT"
	expect "created
id
status
updated
url
version"
}

test_rm_rf_project_with_runtimes_removes_it_whole() {
	local i
	mkdir -p environments/prod projects/crm/integrations/leads
	touch projects/crm/integrations/leads/secrets/prod/key
	for i in 1 2; do
		mkdir environments/prod/runtimes/r$i
		ln -s ../../../../../../environments/prod/runtimes/r$i \
			projects/crm/integrations/leads/runtimes/prod/r$i
	done
	mkdir environments/prod/runtimes/other
	run rm -rf projects/crm
	expect ""
	expect_rc 0
	run ls projects environments/prod/runtimes environments/prod/secrets
	expect "environments/prod/runtimes:
other

environments/prod/secrets:

projects:"
}

test_rm_rf_project_with_a_running_runtime_changes_nothing() {
	register
	mkdir environments/prod/runtimes/idle
	ln -s ../../../../../../environments/prod/runtimes/idle \
		projects/shop/integrations/orders/runtimes/prod/idle 2>/dev/null ||
		true
	local before
	before=$(tree_of environments projects)
	run rm -rf projects/shop
	expect "rm: cannot remove 'projects/shop': Device or resource busy"
	run tree_of environments projects
	expect "$before"
}

test_find_delete_and_rmtree_and_rsync_delete() {
	agent_with_canary dev a
	agent_with_canary dev b
	agent_with_canary dev c
	touch environments/dev/secrets/s
	run find environments/dev/runtimes/a -delete
	expect ""
	expect_rc 0
	run /usr/bin/python3 -c 'import shutil; shutil.rmtree("environments/dev/runtimes/b")'
	expect ""
	expect_rc 0
	run ls environments/dev/runtimes
	expect "c"
	# rsync --delete of runtimes/ against an empty list removes c whole
	mkdir -p "$WORK/empty"
	run rsync -r --delete "$WORK/empty/" environments/dev/runtimes/
	expect_rc 0
	run ls environments/dev/runtimes environments/dev/secrets
	expect "environments/dev/runtimes:

environments/dev/secrets:
s"
}

# A collection's entries keep their meaning: rm of versions deletes what
# nothing serves, whatever tool removes them.
test_collections_keep_their_meaning() {
	agent_with_canary dev
	local rt=environments/dev/runtimes/agent
	run rm "$rt/versions/1"
	expect_rc 0
	sh "rm $rt/versions/*"
	expect "rm: cannot remove '$rt/versions/2': Device or resource busy
rm: cannot remove '$rt/versions/3': Device or resource busy"
	run ls "$rt/versions"
	expect "2
3"
	touch environments/dev/secrets/a environments/dev/secrets/b
	run rm -r environments/dev/secrets
	expect "rm: cannot remove 'environments/dev/secrets': Operation not permitted"
	run ls environments/dev/secrets
	expect ""
}

# A walk that stops before the object's own removal changes nothing, and
# says so.
test_interrupted_walk_changes_nothing() {
	agent_with_canary dev
	touch environments/dev/secrets/s
	local before
	before=$(tree_of environments)
	run find environments/dev -name 1 -delete
	expect_rc 0
	# the next call of another walk ends it
	run ls environments/dev/runtimes/agent/versions
	expect "1
2
3"
	run tree_of environments
	expect "$before"
	run find environments/dev -name s -delete
	run ls environments/dev/secrets
	expect "s"
	run cat .last_error
	expect_has "the 1 removal made inside it on the way down is dropped, and nothing was removed"
}

# The kernel thought what the walk removed was gone; after a refusal it
# is all there again, and a new object of a removed name is whole.
test_names_come_back_after_a_refused_walk() {
	register
	run rm -rf environments/prod
	expect_rc 1
	run cat environments/prod/runtimes/orders-eu-1/status
	expect RUNNING
	run ls environments/prod/runtimes/orders-eu-1/versions
	expect ""
	run stat -c %s environments/prod/critical
	expect 2
}

# A snapshot is an object too: rm -rf drops it, with no error for what
# is read-only inside it.
test_rm_rf_of_a_snapshot() {
	agent_with_canary dev
	mkdir snapshots/s1
	run rm -rf snapshots/s1
	expect ""
	expect_rc 0
	run ls snapshots
	expect ""
	# and one object inside a snapshot is read-only as a whole
	mkdir snapshots/s2
	run rm -rf snapshots/s2/environments/dev
	expect "rm: cannot remove 'snapshots/s2/environments/dev': Read-only file system"
	run ls snapshots/s2/environments/dev/runtimes/agent/versions
	expect "1
2
3"
}
