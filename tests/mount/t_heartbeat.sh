# t_heartbeat.sh - issue 4 as a runtime and an admin would drive it: make
# a secret, paste it into a heartbeat from bash, watch the runtime at all
# three scopes, stop it, let it go OFFLINE, revoke it, and check who may
# do what and that the database holds no key material.

test_secret_snippet() {
	mkdir environments/prod
	run touch environments/prod/secrets/orders-eu-1
	expect_rc 0
	run ls -l environments/prod/secrets
	expect_has "-rw------- 1 $(id -un) $(id -gn) 534 "
	local s
	s=$(secret_of environments/prod/secrets/orders-eu-1)
	run grep -Ec '^[0-9a-f]{8}\.[A-Za-z0-9+/]{43}=$' <<<"$s"
	expect "1"
	run cat environments/prod/secrets/orders-eu-1
	expect "# Ballerina integration (default profile): add to Config.toml
[wso2.icp.runtime.bridge]
environment = \"prod\"
project = \"<project name>\"
integration = \"<integration name>\"
runtime = \"<unique runtime name>\"
secret = \"$s\"

# WSO2 Micro Integrator: add to conf/deployment.toml
[icp_config]
enabled = true
environment = \"prod\"
project = \"<project name>\"
integration = \"<integration name>\"
runtime = \"<unique runtime name>\"
secret = \"$s\""
	# : > makes one too; touching an existing one changes nothing
	sh ': > environments/prod/secrets/second'
	expect_rc 0
	run touch environments/prod/secrets/orders-eu-1
	expect_rc 0
	run secret_of environments/prod/secrets/orders-eu-1
	expect "$s"
	run ls environments/prod/secrets
	expect "orders-eu-1
second"
	sh 'echo x > environments/prod/secrets/second'
	expect "bash: line 1: echo: write error: Operation not permitted"
	run touch 'environments/prod/secrets/bad name'
	expect "touch: cannot touch 'environments/prod/secrets/bad name': Invalid argument"
	run rm environments/prod/secrets/second
	expect_rc 0
	run ls environments/prod/secrets
	expect "orders-eu-1"
	run rmdir environments/prod
	expect "rmdir: failed to remove 'environments/prod': Directory not empty"
}

test_register_by_heartbeat() {
	register
	local id
	id=$(cat environments/prod/runtimes/orders-eu-1/id)
	expect "{\"acknowledged\":true,\"fullHeartbeatRequired\":true,\"commands\":[],\"supportedHeartbeatFields\":[\"tryItHost\",\"openApiDefinitions\",\"workflowMetadata\"],\"runtimeId\":\"$id\"}"
	cd environments/prod/runtimes/orders-eu-1 || return
	run cat type status project integration environment runtime_version platform os secret
	expect "MI
RUNNING
shop
orders
prod
4.4.0
WSO2 Micro Integrator 4.4.0
Linux 6.1.0
${SECRET%%.*}"
	run ls
	expect_has "runtime_version
secret
secret.toml
service_account"
	# the bound secret's key material, for backups: the owner's only
	run stat -c %a secret.toml
	expect "600"
	run grep -c "^secret = \"$SECRET\"$" secret.toml
	expect "2"
	run grep -c '^runtime = "orders-eu-1"$' secret.toml
	expect "2"
	cd ../../../.. || return
	# bound: the secret leaves secrets/
	run ls environments/prod/secrets
	expect ""
	# the project and the integration came with it, as MI
	run cat projects/shop/integrations/orders/type
	expect "MI"
	# the three scopes
	run ls environments/prod/runtimes projects/shop/runtimes/prod projects/shop/integrations/orders/runtimes/prod
	expect "environments/prod/runtimes:
orders-eu-1

projects/shop/integrations/orders/runtimes/prod:
orders-eu-1

projects/shop/runtimes/prod:
orders-eu-1"
	run readlink projects/shop/runtimes/prod/orders-eu-1
	expect "../../../../environments/prod/runtimes/orders-eu-1"
	run cat projects/shop/runtimes/prod/orders-eu-1/status projects/shop/integrations/orders/runtimes/prod/orders-eu-1/secret
	expect "RUNNING
${SECRET%%.*}"
	run jq -r '.status + " " + .last_heartbeat + " " + .secret' environments/prod/runtimes/orders-eu-1/runtime.json
	expect "RUNNING $(cat environments/prod/runtimes/orders-eu-1/last_heartbeat) ${SECRET%%.*}"
	# the project scope is read-only
	run rm projects/shop/runtimes/prod/orders-eu-1
	expect "rm: cannot remove 'projects/shop/runtimes/prod/orders-eu-1': Read-only file system"
	run touch projects/shop/runtimes/prod/new
	expect "touch: cannot touch 'projects/shop/runtimes/prod/new': Read-only file system"
	# a later heartbeat is acknowledged the same way, also when it spans
	# lines (bash's printf writes them one by one)
	send "$(hb "$SECRET" orders-eu-1 | jq .)"
	expect "{\"acknowledged\":true,\"fullHeartbeatRequired\":true,\"commands\":[],\"supportedHeartbeatFields\":[\"tryItHost\",\"openApiDefinitions\",\"workflowMetadata\"],\"runtimeId\":\"$id\"}"
}

test_integration_secret() {
	mkdir -p environments/prod projects/shop/integrations/orders
	echo MI > projects/shop/integrations/orders/type
	run touch projects/shop/integrations/orders/secrets/prod/eu-1
	expect_rc 0
	run grep -A2 '^environment' projects/shop/integrations/orders/secrets/prod/eu-1
	expect 'environment = "prod"
project = "shop"
integration = "orders"
--
environment = "prod"
project = "shop"
integration = "orders"'
	run ls environments/prod/secrets projects/shop/integrations/orders/secrets/prod
	expect "environments/prod/secrets:
eu-1

projects/shop/integrations/orders/secrets/prod:
eu-1"
	local s
	s=$(secret_of environments/prod/secrets/eu-1)
	# it registers runtimes of its integration, whatever a heartbeat
	# names (ICP goes on with the integration a key is bound to)
	send "$(hb "$s" eu-1 prod shop billing)"
	expect_has '"acknowledged":true'
	run ls projects/shop/integrations/orders/runtimes/prod projects/shop/integrations/orders/secrets/prod
	expect "projects/shop/integrations/orders/runtimes/prod:
eu-1

projects/shop/integrations/orders/secrets/prod:"
}

test_refused_heartbeats() {
	register
	send '{"runtime": }'
	expect 'bash: line 1: printf: write error: Invalid argument
{"acknowledged":false,"error":"Invalid argument","reason":"not JSON at byte 13: unallowed token at this point in JSON text"}'
	run cat .last_error
	expect_has "write /heartbeat: not JSON at byte 13: unallowed token at this point in JSON text (Invalid argument)"
	send '{"a": 1} {"b": 2}'
	expect_has "something follows the JSON object"
	# an object left open is dropped when the file is closed
	send '{"runtime": "orders-eu-1",'
	expect ""
	run cat .last_error
	expect_has "close /heartbeat: an unfinished request of 26 bytes was dropped (Invalid argument)"
	send '{"secret": "x", "runtime": "a"}'
	expect_has "missing field 'runtimeType'"
	send "$(hb 0123abcd.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= orders-eu-1)"
	expect_has 'printf: write error: Permission denied'
	expect_has "secret 0123abcd is unknown, revoked or does not match"
	send "$(hb "$SECRET" orders-eu-1 dev)"
	expect_has 'Permission denied'
	touch environments/prod/secrets/another
	mkdir environments/prod/runtimes/agent-1
	send "$(hb "$(secret_of environments/prod/secrets/another)" agent-1)"
	expect_has 'printf: write error: File exists'
	expect_has "runtime 'agent-1' already exists in environment 'prod'"
	# NUL bytes and a flood are refused, and the daemon lives on
	sh 'printf "{}\0{}" > heartbeat'
	expect_has "Invalid argument"
	sh 'head -c 70000 /dev/zero | tr "\0" " " | dd of=heartbeat bs=70000 2>/dev/null'
	expect_rc 1
	run ls environments/prod/runtimes environments/prod/secrets
	expect "environments/prod/runtimes:
agent-1
orders-eu-1

environments/prod/secrets:
another"
}

# A heartbeat no more bytes can make an object is refused at once, with
# its reply; so is one with a string that is not UTF-8 or holds \u0000.
test_heartbeat_refused_at_once() {
	register
	send '{not json'
	expect 'bash: line 1: printf: write error: Invalid argument
{"acknowledged":false,"error":"Invalid argument","reason":"not JSON at byte 2: invalid object key (must be a string)"}'
	run cat .last_error
	expect_has "write /heartbeat: not JSON at byte 2: invalid object key (must be a string) (Invalid argument)"
	send "$(hb "$SECRET" orders-eu-1 | sed 's/"osName": "Linux"/"osName": "Lin\xc0\xb5x"/')"
	expect_has 'bash: line 1: printf: write error: Invalid argument'
	expect_has "invalid UTF-8 at byte"
	expect_has "in field 'nodeInfo.osName'"
	send "$(hb "$SECRET" orders-eu-1 | sed 's/"4.4.0"/"4.4\\u00000"/')"
	expect_has "in field 'version': a string cannot hold a NUL"
	run cat environments/prod/runtimes/orders-eu-1/os environments/prod/runtimes/orders-eu-1/runtime_version
	expect "Linux 6.1.0
4.4.0"
}

test_stop_command() {
	register
	local id
	id=$(cat environments/prod/runtimes/orders-eu-1/id)
	# an MI runtime's status follows ctl; MI takes no command from a
	# heartbeat reply (ICP calls its management API instead)
	echo stop > environments/prod/runtimes/orders-eu-1/ctl
	send "$(hb "$SECRET" orders-eu-1)"
	expect "{\"acknowledged\":true,\"fullHeartbeatRequired\":true,\"commands\":[],\"supportedHeartbeatFields\":[\"tryItHost\",\"openApiDefinitions\",\"workflowMetadata\"],\"runtimeId\":\"$id\"}"
	run cat environments/prod/runtimes/orders-eu-1/status
	expect "STOPPING"
	echo start > environments/prod/runtimes/orders-eu-1/ctl
	run cat environments/prod/runtimes/orders-eu-1/status
	expect "STARTING"
	send "$(hb "$SECRET" orders-eu-1)"
	expect "{\"acknowledged\":true,\"fullHeartbeatRequired\":true,\"commands\":[],\"supportedHeartbeatFields\":[\"tryItHost\",\"openApiDefinitions\",\"workflowMetadata\"],\"runtimeId\":\"$id\"}"
	run cat environments/prod/runtimes/orders-eu-1/status
	expect "RUNNING"
	send "$(hb "$SECRET" orders-eu-1)"
	expect "{\"acknowledged\":true,\"fullHeartbeatRequired\":true,\"commands\":[],\"supportedHeartbeatFields\":[\"tryItHost\",\"openApiDefinitions\",\"workflowMetadata\"],\"runtimeId\":\"$id\"}"
}

test_offline_after() {
	clock_remount offline_after=1
	register
	run cat environments/prod/runtimes/orders-eu-1/status
	expect "RUNNING"
	advance 2
	run cat environments/prod/runtimes/orders-eu-1/status
	expect "OFFLINE"
	send "$(hb "$SECRET" orders-eu-1)"
	run cat environments/prod/runtimes/orders-eu-1/status
	expect "RUNNING"
	# the runtime directory's mtime is its last heartbeat; sizes are exact
	run stat -c %Y environments/prod/runtimes/orders-eu-1
	expect "$(date -d "$(cat environments/prod/runtimes/orders-eu-1/last_heartbeat)" +%s)"
	run stat -c %s environments/prod/runtimes/orders-eu-1/status
	expect "8"
	advance 2
	run stat -c %s environments/prod/runtimes/orders-eu-1/status
	expect "8"
}

test_revocation() {
	register
	run rm environments/prod/runtimes/orders-eu-1/secret
	expect_rc 0
	run cat environments/prod/runtimes/orders-eu-1/status
	expect "OFFLINE"
	run ls environments/prod/runtimes/orders-eu-1/secret
	expect "ls: cannot access 'environments/prod/runtimes/orders-eu-1/secret': No such file or directory"
	send "$(hb "$SECRET" orders-eu-1)"
	expect "bash: line 1: printf: write error: Permission denied
{\"acknowledged\":false,\"error\":\"Permission denied\",\"reason\":\"heartbeat: secret ${SECRET%%.*} is unknown, revoked or does not match\"}"
	run cat environments/prod/runtimes/orders-eu-1/status
	expect "OFFLINE"
	# an unbound secret is revoked with rm of its file
	touch environments/prod/secrets/spare
	local spare
	spare=$(secret_of environments/prod/secrets/spare)
	rm environments/prod/secrets/spare
	send "$(hb "$spare" orders-eu-2)"
	expect_has "secret ${spare%%.*} is unknown, revoked or does not match"
	# an OFFLINE runtime can be deleted
	run rmdir environments/prod/runtimes/orders-eu-1
	expect_rc 0
	run ls environments/prod/runtimes
	expect ""
}

test_times_survive_remount() {
	clock_remount
	register
	advance 2
	send "$(hb "$SECRET" orders-eu-1)"
	local last
	last=$(cat environments/prod/runtimes/orders-eu-1/last_heartbeat)
	remount
	run cat environments/prod/runtimes/orders-eu-1/last_heartbeat
	expect "$last"
}

test_second_user() {
	chmod 755 "$WORK"
	remount -o allow_other,default_permissions,heartbeat_gid=65534
	register
	touch environments/prod/secrets/for-nobody
	local s
	s=$(secret_of environments/prod/secrets/for-nobody)
	nobody() {
		OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
			bash -c "$1" 2>&1)
		RC=$?
	}
	nobody 'cat environments/prod/runtimes/orders-eu-1/status'
	expect "RUNNING"
	nobody 'ls environments/prod/secrets'
	expect "for-nobody"
	nobody 'cat environments/prod/secrets/for-nobody'
	expect "cat: environments/prod/secrets/for-nobody: Permission denied"
	nobody 'touch environments/prod/secrets/mine'
	expect "touch: cannot touch 'environments/prod/secrets/mine': Permission denied"
	nobody 'rm -f environments/prod/secrets/for-nobody'
	expect "rm: cannot remove 'environments/prod/secrets/for-nobody': Permission denied"
	nobody 'rm -f environments/prod/runtimes/orders-eu-1/secret'
	expect_rc 1
	nobody 'echo 1 > environments/prod/critical'
	expect "bash: line 1: environments/prod/critical: Permission denied"
	nobody 'mkdir environments/dev'
	expect "mkdir: cannot create directory ‘environments/dev’: Permission denied"
	run ls -l heartbeat
	expect_has "-rw-rw---- 1 $(id -un) nogroup 0 "
	# a runtime in the heartbeat group may heartbeat, with a secret
	json=$(hb "$s" eu-2) nobody 'exec 3<>heartbeat; printf "%s" "$json" >&3; cat <&3'
	expect_has '"acknowledged":true'
	run cat environments/prod/runtimes/eu-2/status environments/prod/critical
	expect "RUNNING
0"
}

test_admin_group() {
	remount -o admin_gid=65534
	mkdir environments/prod
	touch environments/prod/secrets/s
	run stat -c '%A %G' environments environments/prod/critical environments/prod/secrets/s environments/prod/runtimes heartbeat README
	expect "drwxrwxr-x nogroup
-rw-rw-r-- nogroup
-rw-rw---- nogroup
drwxrwxr-x nogroup
-rw-rw---- nogroup
-r--r--r-- nogroup"
}

# Without default_permissions the kernel checks nothing: the daemon itself
# keeps credentials to the owner and the admins' group.
test_admin_group_without_default_permissions() {
	remount -o allow_other,admin_gid=65534
	mkdir -p environments/prod/runtimes/chat
	touch environments/prod/secrets/s
	run setpriv --reuid=1000 --regid=65534 --clear-groups cat environments/prod/secrets/s
	expect_has '[wso2.icp.runtime.bridge]'
	run setpriv --reuid=1000 --regid=1000 --groups=65534 cat environments/prod/runtimes/chat/service_account
	expect_rc 0
	run setpriv --reuid=1000 --regid=1000 --clear-groups cat environments/prod/secrets/s
	expect "cat: environments/prod/secrets/s: Permission denied"
	run setpriv --reuid=1000 --regid=1000 --clear-groups cat environments/prod/runtimes/chat/service_account
	expect "cat: environments/prod/runtimes/chat/service_account: Permission denied"
	run setpriv --reuid=1000 --regid=1000 --clear-groups cat environments/prod/runtimes/chat/status
	expect "CREATING"
}

test_no_key_material_in_database() {
	register
	touch environments/prod/secrets/unbound
	local other
	other=$(secret_of environments/prod/secrets/unbound)
	send "$(hb "$SECRET" orders-eu-1)"
	remount
	# every byte of the database: its files, or a dump of its schema
	if on_pg; then
		pg_dump -n "$PG_SCHEMA" "$DB" >"$WORK/dump" ||
			fail "pg_dump of $DB failed"
		set -- "$WORK/dump"
	else
		set -- "$DB" "$DB-wal" "$DB-shm"
	fi
	for f in "$@"; do
		[ -e "$f" ] || continue
		grep -qF "${SECRET#*.}" "$f" && fail "the bound secret is in $f"
		grep -qF "${other#*.}" "$f" && fail "the unbound secret is in $f"
	done
	run stat -c %a "$KEY"
	expect "600"
	# and the secret still works with the key file
	send "$(hb "$SECRET" orders-eu-1)"
	expect_has '"acknowledged":true'
}

# The key file is not replaced when it is lost, nor taken when it is
# another: the daemon refuses to start, naming it, and starts again with
# the key back, where the old secret still registers.
test_lost_or_other_key_file_refused() {
	register
	cd / && unmount_fs
	mv "$KEY" "$WORK/key.aside"
	run rtfs -t 5 --db "$DB" -f "$MNT"
	expect "runtimefs: key file $KEY is missing, and $DB holds secrets sealed with it: put that key file back (a new one would open none of them)"
	expect_rc 1
	run ls "$KEY"
	expect_rc 2
	head -c 32 /dev/urandom > "$KEY"
	chmod 600 "$KEY"
	run rtfs -t 5 --db "$DB" -f "$MNT"
	expect "runtimefs: key file $KEY does not open the secrets sealed in $DB: it is not the key that sealed them; put that key file back"
	expect_rc 1
	run mountpoint -q "$MNT"
	expect_rc 32
	mv "$WORK/key.aside" "$KEY"
	mount_fs
	cd "$MNT" || return
	send "$(hb "$SECRET" orders-eu-1)"
	expect_has '"acknowledged":true'
}

test_snapshot_of_secrets() {
	register
	touch environments/prod/secrets/spare
	mkdir snapshots/before
	run ls snapshots/before
	expect "audit
environments
projects"
	run cat snapshots/before/environments/prod/runtimes/orders-eu-1/secret
	expect "${SECRET%%.*}"
	run ls snapshots/before/environments/prod/secrets
	expect "spare"
	run touch snapshots/before/environments/prod/secrets/new
	expect "touch: cannot touch 'snapshots/before/environments/prod/secrets/new': Read-only file system"
	run rm snapshots/before/environments/prod/runtimes/orders-eu-1/secret
	expect "rm: cannot remove 'snapshots/before/environments/prod/runtimes/orders-eu-1/secret': Read-only file system"
	run rm snapshots/before/environments/prod/secrets/spare
	expect_rc 1
	# the live tree goes on
	run rm environments/prod/runtimes/orders-eu-1/secret
	expect_rc 0
	run cat snapshots/before/environments/prod/runtimes/orders-eu-1/status environments/prod/runtimes/orders-eu-1/status
	expect "RUNNING
OFFLINE"
}

test_agent_runtime_heartbeat() {
	mkdir -p environments/prod/runtimes/chat
	cd environments/prod/runtimes/chat || return
	printf '{"imageUrl": "registry.example/chat:1", "flavorId": "g1-small", "command": ["python"], "args": ["app.py"], "environmentVariables": {}, "autoscaling": {"minReplicas": 1, "maxReplicas": 3, "cpuUtilization": 70, "memoryUtilization": 80}, "description": "chat"}' > spec
	run cat status
	expect "STARTING"
	local cred id
	cred=$(cat service_account)
	id=$(cat id)
	cd ../../../.. || return
	send '{"serviceAccount": "'"$cred"'", "runtime": "chat", "environment": "prod", "version": "1.0"}'
	expect_has "\"commands\":[{\"commandId\":\""
	expect_has "\"runtimeId\":\"$id\",\"targetArtifact\":{\"name\":\"chat\"},\"action\":\"START\",\"issuedAt\":["
	expect_has "\"status\":\"PENDING\"}]"
	run cat environments/prod/runtimes/chat/status environments/prod/runtimes/chat/runtime_version
	expect "RUNNING
1.0"
	send '{"serviceAccount": "'"$cred"'", "runtime": "chat", "environment": "prod"}'
	expect "{\"acknowledged\":true,\"fullHeartbeatRequired\":false,\"commands\":[],\"supportedHeartbeatFields\":[\"tryItHost\",\"openApiDefinitions\",\"workflowMetadata\"],\"runtimeId\":\"$id\"}"
	# a reset account stops working at once
	echo reset-service-account > environments/prod/runtimes/chat/ctl
	send '{"serviceAccount": "'"$cred"'", "runtime": "chat", "environment": "prod"}'
	expect_has "printf: write error: Permission denied"
	send '{"serviceAccount": "'"$(cat environments/prod/runtimes/chat/service_account)"'", "runtime": "chat", "environment": "prod"}'
	expect_has '"acknowledged":true'
}

test_times_at_most_a_second_behind() {
	clock_remount
	register
	advance 2
	send "$(hb "$SECRET" orders-eu-1)"
	local last
	last=$(cat environments/prod/runtimes/orders-eu-1/last_heartbeat)
	# the flusher writes batched times within 500 ms; kill -9 after that
	sleep 0.8
	kill9_remount
	run cat environments/prod/runtimes/orders-eu-1/last_heartbeat
	expect "$last"
}

# advisory_waits: how many connections wait for an advisory lock (the
# store's write lock) now.
advisory_waits() {
	psql -X -q -t -A "$DB" -c "SELECT count(*) FROM pg_stat_activity
		WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
}

# On PostgreSQL the flusher writes the times waiting in memory on a
# connection of its own, with the model's lock let go: while its
# transaction waits for the store's write lock, heartbeats are taken and
# reads answered, and the times are written once the lock is free.
# orders-eu-1 registered (its heartbeat time then in $BEFORE), the
# store's write lock held for 4 s ($HOLDER), the clock 2 s on, a heartbeat
# sent: returns once the flusher's transaction waits for the lock.
flusher_waits() {
	local waiting=0
	clock_remount
	register
	BEFORE=$(stored_heartbeat)
	db_hold_lock 4 "$WORK/locked" || return
	advance 2
	send "$(hb "$SECRET" orders-eu-1)"
	expect_has '"acknowledged":true'
	for _ in $(seq 150); do
		waiting=$(advisory_waits)
		[ "$waiting" = 1 ] && return 0
		sleep 0.02
	done
	fail "the flusher never waited for the lock ($waiting waits)"
}

# Whether orders-eu-1's heartbeat time in the database is NS.
heartbeat_stored_is() {
	[ "$(stored_heartbeat)" = "$1" ]
}

# Waits up to 3 s for orders-eu-1's heartbeat time in the database to be
# NS, then checks that it is.
stored_heartbeat_is() {
	within 3 heartbeat_stored_is "$1"
	run stored_heartbeat
	expect "$1"
}

test_heartbeats_go_on_while_times_are_written() {
	on_pg || { pg_only "the heartbeat flusher's connection of its own"; return; }
	local rt=environments/prod/runtimes/orders-eu-1 now
	flusher_waits || return
	advance 2
	now=$(date -u -d "@$(cat "$WORK/clock")" +%Y-%m-%dT%H:%M:%SZ)
	send "$(hb "$SECRET" orders-eu-1)"
	expect_has '"acknowledged":true'
	run cat "$rt/last_heartbeat" "$rt/status"
	expect "$now
RUNNING"
	# neither waited for the flusher: it still waits, the lock still held
	kill -0 "$HOLDER" 2>/dev/null ||
		{ fail "the heartbeat and the read waited for the lock"; return; }
	run advisory_waits
	expect "1"
	wait "$HOLDER"
	# both times written once the lock is free: within two intervals
	stored_heartbeat_is $((BEFORE + 4000000000))
	run grep -c "writing heartbeat times" "$LOG"
	expect "0"
}

# A batch the flusher's connection loses on the way (its backend ended
# while it waited for the lock) is not lost: its times go back to wait in
# memory, reads still show them, and they are written once PostgreSQL
# takes them, on a connection made again.
test_a_lost_batch_of_heartbeat_times_waits_and_is_written() {
	on_pg || { pg_only "the heartbeat flusher's connection of its own"; return; }
	local rt=environments/prod/runtimes/orders-eu-1 now
	flusher_waits || return
	now=$(date -u -d "@$(cat "$WORK/clock")" +%Y-%m-%dT%H:%M:%SZ)
	# the flusher's backend goes while its batch waits
	run psql -X -q -t -A "$DB" -c "SELECT pg_terminate_backend(pid)
		FROM pg_stat_activity WHERE wait_event_type = 'Lock'
		AND wait_event = 'advisory'"
	expect "t"
	within 2 grep -q "writing heartbeat times" "$LOG"
	run grep -c "writing heartbeat times: .*(they wait in memory)" "$LOG"
	expect "1"
	run cat "$rt/last_heartbeat" "$rt/status"
	expect "$now
RUNNING"
	run stored_heartbeat
	expect "$BEFORE"
	wait "$HOLDER"
	stored_heartbeat_is $((BEFORE + 2000000000))
	run grep -c "heartbeat times written again after" "$LOG"
	expect "1"
	run cat "$rt/last_heartbeat"
	expect "$now"
}

# A full heartbeat of tests/fixtures/ through the mount, with secret $1,
# in prod: bi_hb for the BI runtime (named bi-1), mi_hb for the MI one.
bi_hb() {
	local body
	body=$(<"$REPO/tests/fixtures/bi-full-heartbeat.json")
	body=${body/'"environment":"dev"'/'"environment":"prod"'}
	printf '{"secret": "%s", "runtime": "bi-1", %s' "$1" "${body#\{}"
}

mi_hb() {
	local body
	body=$(<"$REPO/tests/fixtures/mi-full-heartbeat.json")
	body=${body/'"environment":"dev"'/'"environment":"prod"'}
	printf '{"secret": "%s", %s' "$1" "${body#\{}"
}

# A reply with its commands' ids and times masked.
masked() {
	sed -E 's/"commandId":"[0-9a-f-]{36}"/"commandId":"ID"/g;
		s/"issuedAt":\[[0-9]+,[0-9.e-]+\]/"issuedAt":T/g' <<<"$OUT"
}

# What a BI runtime reports becomes files: artifacts/KIND/NAME/ with
# artifact.json, a ctl on listeners; the next full heartbeat's set
# replaces it; reported.json holds the rest.
test_artifacts_tree() {
	mkdir environments/prod
	touch environments/prod/secrets/bi
	local s d=environments/prod/runtimes/bi-1
	s=$(secret_of environments/prod/secrets/bi)
	send "$(bi_hb "$s")"
	expect_has '"acknowledged":true,"fullHeartbeatRequired":false'
	run ls $d
	expect "artifacts
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
reported.json
runtime.json
runtime_version
secret
secret.toml
service_account
spec
status
type
versions"
	run ls $d/artifacts $d/artifacts/listeners $d/artifacts/services \
		$d/artifacts/main
	expect "$d/artifacts:
listeners
main
services

$d/artifacts/listeners:
adminListener
httpListener

$d/artifacts/main:
order_api

$d/artifacts/services:
OrderService"
	run ls -l $d/artifacts/listeners/httpListener $d/artifacts/services/OrderService
	expect_has "--w------- 1 $(id -un) $(id -gn)   0 "
	run ls $d/artifacts/listeners/httpListener $d/artifacts/services/OrderService
	expect "$d/artifacts/listeners/httpListener:
artifact.json
ctl

$d/artifacts/services/OrderService:
artifact.json"
	run cat $d/artifacts/listeners/httpListener/artifact.json
	expect '{
  "name": "httpListener",
  "protocol": "HTTP",
  "package": "wso2/order_api:1.0.0",
  "state": "enabled"
}'
	run jq -c '[.nodeInfo.platformVersion, .logLevels, .runtimeId, has("artifacts")]' $d/reported.json
	expect '["2201.13.2",{"root":"INFO","wso2/order_api":"DEBUG"},"5b0f7a8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b",false]'
	# the names a heartbeat gave, as sent, beside the names made of them
	run cat projects/order-management/display_name \
		projects/order-management/integrations/order-api/display_name
	expect "Order Management
Order API"
	mkdir projects/lab
	run cat projects/lab/display_name
	expect "lab"
	# fewer: the rest goes
	send "$(bi_hb "$s" | sed 's/,{"name":"adminListener"[^}]*}//')"
	run ls $d/artifacts/listeners
	expect "httpListener"
	run cat $d/artifacts/listeners/adminListener/artifact.json
	expect "cat: $d/artifacts/listeners/adminListener/artifact.json: No such file or directory"
	# a listener stopped: ICP's command in the next reply, once
	echo stop > $d/artifacts/listeners/httpListener/ctl
	send "$(bi_hb "$s")"
	OUT=$(masked)
	expect '{"acknowledged":true,"fullHeartbeatRequired":false,"commands":[{"commandId":"ID","runtimeId":"5b0f7a8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b","targetArtifact":{"name":"httpListener"},"action":"STOP","issuedAt":T,"status":"PENDING"}],"supportedHeartbeatFields":["tryItHost","openApiDefinitions","workflowMetadata"],"runtimeId":"5b0f7a8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b"}'
	send "$(bi_hb "$s")"
	expect_has '"commands":[]'
	# the runtime's stop: one per listener
	echo stop > $d/ctl
	send "$(bi_hb "$s")"
	OUT=$(masked)
	expect_has '"commands":[{"commandId":"ID","runtimeId":"5b0f7a8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b","targetArtifact":{"name":"adminListener"},"action":"STOP","issuedAt":T,"status":"PENDING"},{"commandId":"ID","runtimeId":"5b0f7a8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b","targetArtifact":{"name":"httpListener"},"action":"STOP","issuedAt":T,"status":"PENDING"}]'
	sh "echo pause > $d/artifacts/listeners/httpListener/ctl"
	expect "bash: line 1: echo: write error: Invalid argument"
	# in a snapshot, as it was
	mkdir snapshots/s
	run ls snapshots/s/$d/artifacts/listeners
	expect "adminListener
httpListener"
	sh "echo stop > snapshots/s/$d/artifacts/listeners/httpListener/ctl"
	expect_has "Read-only file system"
}

# ICP acts on an MI runtime's artifacts through MI's management API:
# their ctl says so.
test_mi_artifact_ctl_refused() {
	mkdir environments/prod
	touch environments/prod/secrets/mi
	local s d=environments/prod/runtimes/mi-node-1
	s=$(secret_of environments/prod/secrets/mi)
	send "$(mi_hb "$s")"
	expect_has '"acknowledged":true'
	run ls $d/artifacts $d/artifacts/apis/PaymentAPI
	expect "$d/artifacts:
apis
proxy-services

$d/artifacts/apis/PaymentAPI:
artifact.json
ctl"
	sh "echo stop > $d/artifacts/apis/PaymentAPI/ctl"
	expect "bash: line 1: echo: write error: Operation not supported"
	expect_rc 1
	run cat .last_error
	expect_has "write /$d/artifacts/apis/PaymentAPI/ctl: ICP controls an MI runtime's apis through the runtime's management API, which runtimefs does not call: use MI's management API or the mi CLI on runtime 'mi-node-1' (Operation not supported)"
	run jq -r '.runtimeHostname + ":" + .runtimePort' $d/reported.json
	expect "mi-node-1.internal:9164"
}
