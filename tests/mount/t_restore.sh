# t_restore.sh - backups made with tar, cp -a and rsync -a of a snapshot,
# restored with the same tools into a second, empty mount (-o restore),
# compared file by file; and restores that must fail and leave the target
# empty.

secret_of() {
	sed -n 's/^secret = "\(.*\)"$/\1/p' "$1" | head -1
}

# hb SECRET RUNTIME [ENV [PROJECT [COMPONENT]]]: an MI runtime's heartbeat.
hb() {
	printf '{"secret": "%s", "runtime": "%s", "runtimeType": "MI", "environment": "%s", "project": "%s", "component": "%s", "version": "4.4.0", "status": "RUNNING", "nodeInfo": {"platformName": "WSO2 Micro Integrator", "platformVersion": "4.4.0", "osName": "Linux", "osVersion": "6.1.0"}}' \
		"$1" "$2" "${3:-prod}" "${4:-shop}" "${5:-orders}"
}

# send JSON [MOUNT]: one heartbeat from bash; the reply lands in $OUT.
send() {
	json=$1 sh "exec 3<>'${2:-.}/heartbeat'; printf '%s' \"\$json\" >&3; cat <&3"
}

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
# link, live files (status, last_heartbeat, runtime.json) aside.
listing() {
	(cd "$1" && find environments projects -type d | sort &&
	find environments projects \( -type f -o -type l \) ! -name status ! -name last_heartbeat \
		! -name runtime.json | sort | while read -r f; do
		if [ -L "$f" ]; then
			echo "$f -> $(readlink "$f")"
		else
			echo "$f $(sha256sum < "$f" | cut -c1-16) $(stat -c %a "$f")"
		fi
	done)
}

# The second mount, on its own database: mount2 [OPTS...] / unmount2.
mount2() {
	mkdir -p "$WORK/new"
	"$RUNTIMEFS" --db "$WORK/new.db" -f "$@" "$WORK/new" 2>>"$WORK/new.log" &
	D2=$!
	for _ in $(seq 100); do
		mountpoint -q "$WORK/new" && return 0
		kill -0 "$D2" 2>/dev/null || break
		sleep 0.05
	done
	wait "$D2"
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
	expect_has "entries committed to $WORK/new.db"
	mount2
	run diff <(listing snapshots/b) <(listing "$WORK/new")
	expect ""
	run ls "$WORK/new/environments/prod/runtimes/chat/versions"
	expect "1
3"
	run cat "$WORK/new/environments/prod/runtimes/chat/endpoints/canary/version" \
		"$WORK/new/environments/prod/runtimes/chat/status" \
		"$WORK/new/environments/prod/runtimes/orders-eu-1/id"
	expect "1
STOPPED
$ID1"
	# old secrets and the old service account still work
	send "$(hb "$S1" orders-eu-1)" "$WORK/new"
	expect "{\"acknowledged\":true,\"runtimeId\":\"$ID1\",\"commands\":[]}"
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
