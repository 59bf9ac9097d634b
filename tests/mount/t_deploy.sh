# t_deploy.sh - deploys of issue 3 driven as a person would: specs,
# versions, DEFAULT and pinned endpoints, rollback, editors, start/stop,
# service accounts, deleting a runtime.

# An agent runtime `chat` in `prod`, with the working directory in it and
# $1 versions deployed.
chat_with() {
	mkdir -p environments/prod/runtimes/chat
	cd environments/prod/runtimes/chat || return
	for i in $(seq "$1"); do
		spec "$i" > spec
	done
}

test_three_deploys() {
	chat_with 0
	run cat status
	expect "CREATING"
	run cat spec
	expect ""
	spec 1 > spec
	run cat status
	expect "STARTING"
	spec 2 > spec
	sh "printf '%s' '$(spec 3)' > spec"
	expect_rc 0
	run ls versions
	expect "1
2
3"
	run ls endpoints
	expect "DEFAULT"
	run cat endpoints/*/version
	expect "3"
	run jq -r .imageUrl spec
	expect "registry.example/chat:3"
	run jq -r '[.version, .imageUrl, .autoscaling.maxReplicas, .createdAt[-1:]] | join(" ")' versions/2
	expect "2 registry.example/chat:2 3 Z"
	run jq -r .agentRuntimeId versions/1
	expect "$(cat id)"
	run jq -r 'keys_unsorted | join(",")' versions/1
	expect "agentRuntimeId,version,imageUrl,flavorId,command,args,environmentVariables,autoscaling,description,createdAt"
	run head -3 spec
	expect '{
  "imageUrl": "registry.example/chat:3",
  "flavorId": "g1-small",'
	# the same spec again deploys nothing
	spec 3 > spec
	run ls versions
	expect "1
2
3"
}

# runtime.json follows deploys: its latest_version, its size and its mtime.
test_runtime_json_follows_deploys() {
	clock_remount
	chat_with 0
	run jq -c '[.latest_version, .secret]' runtime.json
	expect '[null,""]'
	spec 1 > spec
	run jq .latest_version runtime.json
	expect "1"
	local before
	before=$(stat -c %Y runtime.json)
	advance 2
	spec 2 > spec
	run jq .latest_version runtime.json
	expect "2"
	run stat -c %Y runtime.json
	[ "$OUT" -gt "$before" ] || fail "runtime.json's mtime stayed at $before after a deploy"
	[ "$(stat -c %s runtime.json)" = "$(wc -c < runtime.json)" ] ||
		fail "runtime.json: stat and read disagree on its size"
}

test_versions_are_read_only() {
	chat_with 2
	local before
	before=$(cat versions/1)
	sh 'echo x > versions/1'
	expect "bash: line 1: versions/1: Permission denied"
	spec 3 > spec
	run cat versions/1
	expect "$before"
	run rm versions/2
	expect_rc 0
	run ls versions
	expect "1
3"
	run cat versions/2
	expect "cat: versions/2: No such file or directory"
}

test_canary_and_rollback() {
	chat_with 3
	run mkdir endpoints/canary
	expect_rc 0
	run cat endpoints/canary/version
	expect "3"
	sh 'echo 1 > endpoints/canary/version'
	expect_rc 0
	spec 4 > spec
	run grep . endpoints/DEFAULT/version endpoints/canary/version
	expect "endpoints/DEFAULT/version:4
endpoints/canary/version:1"
	# rollback: DEFAULT back to 2 until the next deploy
	sh 'echo 2 > endpoints/DEFAULT/version'
	expect_rc 0
	run cat endpoints/DEFAULT/version
	expect "2"
	run cat versions/4
	expect_rc 0
	spec 5 > spec
	run grep . endpoints/DEFAULT/version endpoints/canary/version
	expect "endpoints/DEFAULT/version:5
endpoints/canary/version:1"
	run ls endpoints/canary
	expect "created
id
status
updated
url
version"
	run cat endpoints/canary/status
	expect "READY"
	run cat endpoints/canary/url
	expect "https://runtimes.example/runtimes/$(cat id)/endpoints/canary"
	run grep -Ec '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' endpoints/canary/id
	expect "1"
	run grep -Ec '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' endpoints/canary/created endpoints/canary/updated
	expect "endpoints/canary/created:1
endpoints/canary/updated:1"
	run rmdir endpoints/canary
	expect_rc 0
	run ls endpoints
	expect "DEFAULT"
}

test_endpoint_refusals() {
	chat_with 2
	mkdir endpoints/canary
	echo 1 > endpoints/canary/version
	sh 'echo 9 > endpoints/canary/version'
	expect "bash: line 1: echo: write error: No such file or directory"
	run cat ../../../../.last_error
	expect_has "write /environments/prod/runtimes/chat/endpoints/canary/version: runtime 'chat' has no version 9 (No such file or directory)"
	sh 'echo two > endpoints/canary/version'
	expect "bash: line 1: echo: write error: Invalid argument"
	run cat ../../../../.last_error
	expect_has "a version is a number of at most 12 digits; got 'two' (Invalid argument)"
	run cat endpoints/canary/version
	expect "1"
	run rmdir endpoints/DEFAULT
	expect "rmdir: failed to remove 'endpoints/DEFAULT': Operation not permitted"
	run cat ../../../../.last_error
	expect_has "the DEFAULT endpoint cannot be deleted"
	run rm versions/1
	expect "rm: cannot remove 'versions/1': Device or resource busy"
	run cat ../../../../.last_error
	expect_has "version 1 is served by endpoint 'canary'"
	run rm versions/2
	expect "rm: cannot remove 'versions/2': Device or resource busy"
	run cat ../../../../.last_error
	expect_has "version 2 is the latest of runtime 'chat'"
	run mkdir endpoints/canary
	expect "mkdir: cannot create directory ‘endpoints/canary’: File exists"
	run mkdir 'endpoints/bad name'
	expect "mkdir: cannot create directory ‘endpoints/bad name’: Invalid argument"
	run ls versions
	expect "1
2"
	cd ../ || return
	mkdir fresh
	run mkdir fresh/endpoints/canary
	expect "mkdir: cannot create directory ‘fresh/endpoints/canary’: No such file or directory"
	run cat ../../../.last_error
	expect_has "runtime 'fresh' has no version yet: write its spec first"
}

# Writes spec 3 changed by the jq filter $1 with cat; it must be refused
# with $2 in .last_error.
refused_spec() {
	spec 3 | jq -c "$1" > /tmp/rtfs-refused.json
	sh 'cat /tmp/rtfs-refused.json > spec'
	expect "cat: write error: Invalid argument"
	run cat ../../../../.last_error
	expect_has "$2"
	rm -f /tmp/rtfs-refused.json
}

test_refused_spec_changes_nothing() {
	chat_with 2
	local before
	before=$(cat spec)
	sh "printf '{\"imageUrl\": 3}' > spec"
	expect "bash: line 1: printf: write error: Invalid argument"
	run cat ../../../../.last_error
	expect_has "write /environments/prod/runtimes/chat/spec: spec: field 'imageUrl' must be a string (Invalid argument)"
	refused_spec 'del(.description)' \
		"spec: field 'description' is missing"
	refused_spec '.autoscaling.maxReplicas = 11' \
		"spec: field 'autoscaling.maxReplicas' is 11; it must be 1 to 10"
	refused_spec '.autoscaling.minReplicas = 0' \
		"spec: field 'autoscaling.minReplicas' is 0; it must be 1 to 10"
	refused_spec '.autoscaling.cpuUtilization = "high"' \
		"spec: field 'autoscaling.cpuUtilization' must be an integer"
	refused_spec '.command = "python app.py"' \
		"spec: field 'command' must be an array of strings"
	refused_spec '.environmentVariables = {"LOG_LEVEL": 3}' \
		"spec: field 'environmentVariables.LOG_LEVEL' must be a string"
	refused_spec '.replicas = 2' "spec: unknown field 'replicas'"
	sh "echo '{\"imageUrl\": \"x\",}' > spec"
	expect "bash: line 1: echo: write error: Invalid argument"
	run cat ../../../../.last_error
	expect_has "write /environments/prod/runtimes/chat/spec: not JSON at byte 18: invalid object key (must be a string) (Invalid argument)"
	sh 'printf "not json\n" > spec'
	expect "bash: line 1: printf: write error: Invalid argument"
	# a document that never completes is refused at close
	run bash -c 'printf "{\"imageUrl\": " > spec'
	run cat ../../../../.last_error
	expect_has "the JSON document is incomplete (13 bytes written): nothing was applied (Invalid argument)"
	sh 'head -c 100000 /dev/zero | tr "\0" " " > spec'
	expect_has "tr: write error: File too large"
	sh 'printf "{\"a\0\": 1}" > spec'
	expect "bash: line 1: printf: write error: Invalid argument"
	run ls versions
	expect "1
2"
	run cat spec
	expect "$before"
}

# A spec no more bytes can make whole is refused in the write() that spoils
# it, whatever the byte, so that bash sees it; one that may still become
# whole waits for the next write() on the same open file.
test_spec_refused_in_the_write_that_spoils_it() {
	chat_with 1
	sh "printf '{not json' > spec"
	expect "bash: line 1: printf: write error: Invalid argument"
	run cat ../../../../.last_error
	expect_has "write /environments/prod/runtimes/chat/spec: not JSON at byte 2: invalid object key (must be a string) (Invalid argument)"
	sh "printf '{\"imageUrl\" 1' > spec"
	expect "bash: line 1: printf: write error: Invalid argument"
	run cat ../../../../.last_error
	expect_has "spec: not JSON at byte 13: object key and value must be separated by a colon (':') (Invalid argument)"
	sh "printf '{\"imageUrl\": \"x\", \"description\": \"a\\\\u0000' > spec"
	expect "bash: line 1: printf: write error: Invalid argument"
	run cat ../../../../.last_error
	expect_has "spec: \\u0000 at byte 41 in field 'description': a string cannot hold a NUL (Invalid argument)"
	sh "printf '{\"imageUrl\": \"registry.example/chat:\\xc0\\xb2\"' > spec"
	expect "bash: line 1: printf: write error: Invalid argument"
	run cat ../../../../.last_error
	expect_has "spec: invalid UTF-8 at byte 37 in field 'imageUrl' (Invalid argument)"
	spec 2 | sed 's/chat agent/chat \xe2\x82 agent/' > /tmp/rtfs-utf8.json
	run cp /tmp/rtfs-utf8.json spec
	expect "cp: error writing 'spec': Invalid argument"
	rm -f /tmp/rtfs-utf8.json
	run cat ../../../../.last_error
	expect_has "spec: invalid UTF-8 at byte 302 in field 'description' (Invalid argument)"
	run ls versions
	expect "1"
	# the first write may still become a spec: it waits for the second
	first='{"imageUrl": "registry.example/chat:2",' \
	rest=$(spec 2 | sed 's/^{"imageUrl": "registry.example\/chat:2",//') \
	sh 'exec 3>spec; printf "%s" "$first" >&3; ls versions; printf "%s" "$rest" >&3; exec 3>&-; ls versions'
	expect "1
1
2"
	expect_rc 0
	run jq -r .imageUrl spec
	expect "registry.example/chat:2"
}

# A spec that arrives in several write() calls is applied once whole.
test_spec_in_pieces() {
	chat_with 1
	spec 2 > /tmp/rtfs-pieces.json
	run dd if=/tmp/rtfs-pieces.json of=spec bs=16 status=none
	expect_rc 0
	rm -f /tmp/rtfs-pieces.json
	run ls versions
	expect "1
2"
	run jq -r .imageUrl spec
	expect "registry.example/chat:2"
}

test_image_auth_password_never_shown() {
	chat_with 1
	spec 2 | jq '.imageAuth = {"enabled": true, "username": "bot", "password": "hunter2"}' > /tmp/rtfs-auth.json
	run cp /tmp/rtfs-auth.json spec
	expect_rc 0
	rm -f /tmp/rtfs-auth.json
	run jq -c .imageAuth spec versions/2
	expect '{"enabled":true,"username":"bot"}
{"enabled":true,"username":"bot"}'
	run grep -rc hunter2 spec versions
	expect "spec:0
versions/1:0
versions/2:0"
	# editing the spec as shown keeps the password
	sed -i 's/chat agent/chat agent v3/' spec
	run ls versions
	expect "1
2
3"
}

test_editors_make_new_versions() {
	chat_with 1
	run sed -i 's/chat:1/chat:2/' spec
	expect_rc 0
	run vim -es -c '%s/chat:2/chat:3/' -c wq spec
	expect_rc 0
	spec 4 > /tmp/rtfs-new.json
	run cp /tmp/rtfs-new.json spec
	expect_rc 0
	spec 5 > /tmp/rtfs-new.json
	run mv /tmp/rtfs-new.json spec
	expect_rc 0
	# within the mount: write a file beside spec, then rename it over
	spec 6 > spec.new
	run ls -A
	expect_has "spec.new"
	run mv spec.new spec
	expect_rc 0
	run ls versions
	expect "1
2
3
4
5
6"
	run jq -r .imageUrl versions/2 versions/3 versions/4 versions/5 versions/6
	expect "registry.example/chat:2
registry.example/chat:3
registry.example/chat:4
registry.example/chat:5
registry.example/chat:6"
	# and on the other value files
	mkdir endpoints/canary
	run sed -i 's/6/2/' endpoints/canary/version
	expect_rc 0
	run vim -es -c '%s/2/3/' -c wq endpoints/canary/version
	expect_rc 0
	run cat endpoints/canary/version
	expect "3"
	echo 1 > /tmp/rtfs-crit
	run mv /tmp/rtfs-crit ../../critical
	expect_rc 0
	run cat ../../critical
	expect "1"
	# no stray files anywhere: the same names as a runtime never edited
	mkdir ../fresh
	run ls -A
	expect "$(ls -A ../fresh)"
	run ls -A endpoints/canary ../..
	expect "../..:
critical
runtimes
secrets

endpoints/canary:
created
id
status
updated
url
version"
}

test_editor_refused_spec() {
	chat_with 1
	run sed -i 's/"minReplicas": 1/"minReplicas": 0/' spec
	expect_rc 4
	expect_has "Invalid argument"
	run cat ../../../../.last_error
	expect_has "spec: field 'autoscaling.minReplicas' is 0; it must be 1 to 10"
	run ls versions
	expect "1"
	run ls -A
	expect_rc 0
	case $OUT in *sed*) fail "sed's temporary file is left: $OUT" ;; esac
}

test_scratch_files_are_bounded() {
	chat_with 1
	local i
	for i in $(seq 16); do
		touch "t$i.tmp"
	done
	run touch t17.tmp
	expect "touch: cannot touch 't17.tmp': No space left on device"
	run ls t16.tmp
	expect "t16.tmp"
	rm ./*.tmp
	sh 'head -c 300000 /dev/zero > big.tmp'
	expect "head: error writing 'standard output': File too large"
	rm -f big.tmp
	run touch environments/prod/runtimes/newfile
	run touch versions/9
	expect "touch: cannot touch 'versions/9': Operation not permitted"
	run mv spec elsewhere
	expect_rc 1
	run ls versions
	expect "1"
	run ls -A
	expect_rc 0
	case $OUT in *tmp*|*big*) fail "scratch files left: $OUT" ;; esac
}

# A name the tree does not know is refused, not kept in memory and lost
# at the next mount; editors' temporary names are taken (in memory only).
test_unknown_names_refused() {
	mkdir -p environments/prod/runtimes/chat
	sh 'echo "owner: team-a" > environments/prod/NOTES'
	expect "bash: line 1: environments/prod/NOTES: Operation not permitted"
	run cat .last_error
	expect_has "create /environments/prod/NOTES: 'NOTES' is not a name this tree knows"
	run touch environments/prod/runtimes/chat/notes.txt
	expect "touch: cannot touch 'environments/prod/runtimes/chat/notes.txt': Operation not permitted"
	run ls environments/prod environments/prod/runtimes/chat
	expect "environments/prod:
critical
runtimes
secrets

environments/prod/runtimes/chat:
artifacts
ctl
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
	# what editors and tools make: accepted, and gone at the next mount
	local n
	for n in .spec.swp .spec.swo 4913 spec~ sed0aZ9bq .spec.Ab12Cd '#spec#' \
			spec.tmp spec.new tmpk2_j8x0a; do
		touch "environments/prod/runtimes/chat/$n" ||
			fail "$n was refused"
		rm "environments/prod/runtimes/chat/$n"
	done
	touch environments/prod/.critical.swp
	remount
	run ls -A environments/prod
	expect "critical
runtimes
secrets"
}

test_stop_start() {
	chat_with 0
	sh 'echo start > ctl'
	expect "bash: line 1: echo: write error: Device or resource busy"
	run cat ../../../../.last_error
	expect_has "runtime 'chat' has no version yet: write its spec first"
	spec 1 > spec
	run cat status
	expect "STARTING"
	sh 'echo stop > ctl'
	expect_rc 0
	run cat status
	expect "STOPPED"
	sh 'echo start > ctl'
	expect_rc 0
	run cat status
	expect "STARTING"
	sh 'echo restart > ctl'
	expect "bash: line 1: echo: write error: Invalid argument"
	run cat ../../../../.last_error
	expect_has "unknown command 'restart'; ctl takes start, stop or reset-service-account"
	run stat -c %A ctl
	expect "--w-------"
}

test_service_account_reset() {
	chat_with 1
	run stat -c '%A %s' service_account
	expect "-rw------- 81"
	run grep -Ec '^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$' service_account
	expect "1"
	local before
	before=$(cat service_account)
	run cat service_account
	expect "$before"
	sh 'echo reset-service-account > ctl'
	expect_rc 0
	run cat service_account
	[ "$OUT" != "$before" ] || fail "reset-service-account kept the credentials"
	sh 'echo x > service_account'
	expect "bash: line 1: service_account: Permission denied"
}

test_delete_runtime() {
	chat_with 2
	mkdir endpoints/canary
	cd .. || return
	run rmdir chat
	expect "rmdir: failed to remove 'chat': Directory not empty"
	run cat ../../../.last_error
	expect_has "runtime 'chat' still has 1 endpoint besides DEFAULT ('canary')"
	rmdir chat/endpoints/canary
	run rmdir chat
	expect_rc 0
	run ls
	expect ""
	mkdir chat
	run ls chat/versions chat/endpoints
	expect "chat/endpoints:

chat/versions:"
}

test_survives_remount() {
	chat_with 3
	mkdir endpoints/canary
	echo 1 > endpoints/canary/version
	echo 2 > endpoints/DEFAULT/version
	local sa
	sa=$(cat service_account)
	remount -o endpoint_base=https://agents.test/
	cd environments/prod/runtimes/chat || return
	run grep . endpoints/DEFAULT/version endpoints/canary/version
	expect "endpoints/DEFAULT/version:2
endpoints/canary/version:1"
	run ls versions
	expect "1
2
3"
	run cat service_account
	expect "$sa"
	run cat endpoints/DEFAULT/url
	expect "https://agents.test/runtimes/$(cat id)/endpoints/DEFAULT"
}

# vim's backups (skipped under /tmp by default, so asked for here): a copy
# to spec~ (backupcopy=yes), or spec renamed to spec~ and written anew
# (backupcopy=no).
test_vim_backups() {
	chat_with 1
	run vim -es -c 'set backupskip= backupcopy=yes' -c '%s/chat:1/chat:2/' -c wq spec
	expect_rc 0
	run vim -es -c 'set backupskip= backupcopy=no' -c '%s/chat:2/chat:3/' -c wq spec
	expect_rc 0
	run vim -es -c 'set backupskip= backupcopy=no' -c '%s/"minReplicas": 1/"minReplicas": 99/' -c wq spec
	expect_rc 1
	run ls versions
	expect "1
2
3"
	run jq -r .imageUrl spec
	expect "registry.example/chat:3"
	run ls -A
	case $OUT in *'~'*|*swp*) fail "vim left files: $OUT" ;; esac
}

# A value file cannot go: rm is accepted (mv from elsewhere needs it), the
# file hides for a moment and comes back unchanged.
test_rm_value_file_changes_nothing() {
	clock_remount
	chat_with 1
	local before
	before=$(cat spec)
	run rm spec
	expect_rc 0
	run ls
	case $OUT in *spec*) fail "spec is listed while hidden" ;; esac
	advance 3
	run cat spec
	expect "$before"
	run ls versions
	expect "1"
}

# service_account (0600) opens for its owner only, even with allow_other
# and no default_permissions.
test_service_account_is_the_owners() {
	chat_with 0
	remount -o allow_other
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		cat environments/prod/runtimes/chat/status
	expect "CREATING"
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		cat environments/prod/runtimes/chat/service_account
	expect "cat: environments/prod/runtimes/chat/service_account: Permission denied"
}

# Scratch files go with the directory they are in.
test_scratch_files_go_with_their_directory() {
	chat_with 1
	mkdir endpoints/canary
	touch endpoints/canary/a.tmp endpoints/canary/b.tmp
	rmdir endpoints/canary
	cd .. || return
	touch chat/c.tmp
	rmdir chat
	mkdir chat chat2
	[ ! -e chat/c.tmp ] || fail "chat/c.tmp outlived its runtime"
	local i
	for i in $(seq 16); do
		touch "chat2/t$i.tmp" || fail "scratch slot $i is still taken"
	done
}

# Scratch files of a runtime deleted another way than by its directory
# (through its integration's link) go with it: their slots come back and
# a runtime made again under that name does not show them.
test_scratch_files_go_with_a_runtime_deleted_elsewhere() {
	local i
	mkdir -p environments/prod/runtimes/chat projects/shop/integrations/bot
	ln -s ../../../../../../environments/prod/runtimes/chat \
		projects/shop/integrations/bot/runtimes/prod/chat
	for i in $(seq 16); do
		touch "environments/prod/runtimes/chat/t$i.tmp"
	done
	rm projects/shop/integrations/bot/runtimes/prod/chat
	mkdir environments/prod/runtimes/other
	run touch environments/prod/runtimes/other/x.tmp
	expect_rc 0
	mkdir environments/prod/runtimes/chat
	run ls environments/prod/runtimes/chat
	expect_rc 0
	case $OUT in *tmp*) fail "the old runtime's files show: $OUT" ;; esac
}

# A snapshot keeps the versions, pins and credentials of its moment, and
# refuses every change to them.
test_snapshot_keeps_deploys() {
	chat_with 2
	mkdir endpoints/canary
	echo 1 > endpoints/canary/version
	local sa
	sa=$(cat service_account)
	cd ../../../.. || return
	mkdir snapshots/before
	cd environments/prod/runtimes/chat || return
	spec 3 > spec
	echo 3 > endpoints/canary/version
	echo reset-service-account > ctl
	local snap=../../../../snapshots/before/environments/prod/runtimes/chat
	run ls "$snap/versions"
	expect "1
2"
	run grep . "$snap/endpoints/DEFAULT/version" "$snap/endpoints/canary/version"
	expect "$snap/endpoints/DEFAULT/version:2
$snap/endpoints/canary/version:1"
	run jq -r .imageUrl "$snap/spec" "$snap/versions/1"
	expect "registry.example/chat:2
registry.example/chat:1"
	run cat "$snap/service_account"
	expect "$sa"
	sh "spec_text=\$(cat spec); printf '%s' \"\$spec_text\" > $snap/spec"
	expect_has "Read-only file system"
	sh "echo 2 > $snap/endpoints/canary/version"
	expect_has "Read-only file system"
	run mkdir "$snap/endpoints/staging"
	expect_has "Read-only file system"
	run rm "$snap/versions/1"
	expect_has "Read-only file system"
	run rm "$snap/spec"
	expect_has "Read-only file system"
	run touch "$snap/tmpfile"
	expect_has "Read-only file system"
	run sed -i 's/chat:2/chat:9/' "$snap/spec"
	expect_rc 4
	run ls "$snap/versions"
	expect "1
2"
}

# A temporary file too large for a value is refused as such when renamed
# over one (EFBIG), not as if it were not there.
test_rename_of_a_large_scratch_file() {
	chat_with 1
	head -c 70000 /dev/zero | tr '\0' ' ' >big.tmp
	run mv big.tmp spec
	expect "mv: cannot move 'big.tmp' to 'spec': File too large"
	run ls versions
	expect 1
	run cat ../../../../.last_error
	expect_has "a value is at most 65536 bytes (File too large)"
}
