# t_audit.sh - MOUNT/audit of issue 14 as an operator reads it: the uid
# of another user's refused write (setpriv), an admin-group member's
# accepted one and who may read the log, lines that survive kill -9 and
# a remount, no secret in any form (material, decoded bytes, hex, the
# other base64 alphabet) whatever was done with it, retention by
# -o audit_keep on the test clock, the log as a snapshot holds it, and
# the lines of a heartbeat's changes, through the mount and over ICP's
# API.
#
# Every read of the log is under timeout; refusals are written by the
# daemon's flusher (every 500 ms), so they are polled for.

ICP_TOKEN=${ICP_TOKEN:-build/tests/icp-token}
case $ICP_TOKEN in /*) ;; *) ICP_TOKEN=$REPO/$ICP_TOKEN ;; esac

# au_nobody 'COMMAND': COMMAND in bash as uid and gid 65534, with no
# other groups; au_member 'COMMAND': as uid 65534 in group 1001, the
# admins' group of the tests that give -o admin_gid=1001.  Output in
# $OUT, exit code in $RC.
au_nobody() {
	OUT=$(timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups \
		bash -c "$1" 2>&1)
	RC=$?
}

au_member() {
	OUT=$(timeout 20 setpriv --reuid=65534 --regid=1001 --groups=1001 \
		bash -c "$1" 2>&1)
	RC=$?
}

# au_format: what is wrong with the lines of an audit log on stdin, one
# problem a line; nothing when each line is one compact JSON object
# ended by a newline with the keys seq (an integer, increasing), time
# (RFC 3339 UTC with microseconds), uid, gid, pid (numbers, or all null
# with comm null), comm, op, path (relative), result, then changes (a
# non-empty array, result "ok") or error (a non-empty string, result an
# errno's name).  Time may go back: a refusal is written by the flusher
# after changes that came later.
au_format() {
	jq -R -s -r '
		def at($i; $r; $m): "line \($i + 1): \($m): \($r)";
		(if . != "" and (endswith("\n") | not)
		 then "the last line has no newline" else empty end),
		((if endswith("\n") then .[:-1] else . end
		  | if . == "" then [] else split("\n") end) as $l
		 | ($l | map(fromjson? // null)) as $o
		 | range(0; $l | length) as $i
		 | $l[$i] as $r | $o[$i] as $e
		 | (if $i > 0 then $o[$i - 1] else null end) as $p
		 | if ($e | type) != "object" then at($i; $r; "not a JSON object")
		   elif ($e | tojson) != $r then at($i; $r; "not compact JSON")
		   elif ($e | keys_unsorted) != ["seq", "time", "uid", "gid",
		       "pid", "comm", "op", "path", "result",
		       (if $e.result == "ok" then "changes" else "error" end)]
		   then at($i; $r; "the keys are not seq, time, uid, gid, pid, comm, op, path, result, then changes (ok) or error")
		   elif ($e.seq | type) != "number" or ($e.seq | floor) != $e.seq
		   then at($i; $r; "seq is not an integer")
		   elif ($e.time | type) != "string"
		     or (($e.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$")) | not)
		   then at($i; $r; "time is not RFC 3339 UTC with microseconds")
		   elif ([$e.uid, $e.gid, $e.pid] | map(type) | unique) as $t
		     | ($t != ["number"] and ($t != ["null"] or $e.comm != null)
		        and ([($e.uid | type), ($e.gid | type), ($e.pid | type),
		              ($e.comm | type)] != ["number", "null", "null", "null"]))
		   then at($i; $r; "uid, gid and pid are not numbers (nor all null, comm too, nor a release'"'"'s uid alone)")
		   elif $e.pid != null and ($e.comm | type) != "string"
		   then at($i; $r; "comm is not a string")
		   elif ($e.op | type) != "string" or $e.op == ""
		   then at($i; $r; "no op")
		   elif ($e.path | type) != "string" or ($e.path | startswith("/"))
		   then at($i; $r; "path is not relative to the mount")
		   elif $e.result == "ok"
		     and (($e.changes | type) != "array" or ($e.changes | length) == 0
		       or any($e.changes[]; (type) != "object"
		         or (keys_unsorted[:2]) != ["kind", "path"]))
		   then at($i; $r; "changes is not a non-empty array of {kind, path, ...}")
		   elif $e.result != "ok"
		     and ((($e.result | type) != "string")
		       or ($e.result | test("^E[A-Z0-9]+$") | not)
		       or ($e.error | type) != "string" or $e.error == "")
		   then at($i; $r; "a refusal without an errno name and a reason")
		   elif ($p | type) == "object" and ($p.seq | type) == "number"
		     and $e.seq <= $p.seq
		   then at($i; $r; "seq does not increase from \($p.seq)")
		   else empty end)'
}

# au_read [FILE]: reads MOUNT/audit (or FILE below the mount) as the
# daemon's user into $WORK/au; fails and returns 1 when the read fails
# or a line is malformed.
au_read() {
	local f=${1:-audit} problems

	if ! timeout 10 cat "$MNT/$f" >"$WORK/au" 2>"$WORK/au.err"; then
		fail "cat $f: $(head -3 "$WORK/au.err")"
		return 1
	fi
	problems=$(au_format <"$WORK/au")
	[ -z "$problems" ] && return 0
	fail "$f: malformed lines: $(head -5 <<<"$problems")"
	return 1
}

# au_lines FILTER: the lines of the last au_read that jq's FILTER
# passes, as FILTER leaves them, compact, one a line, in $OUT.
au_lines() {
	OUT=$(jq -c -n "inputs | $1" <"$WORK/au" 2>&1)
}

# au_wait SECONDS FILTER: polls MOUNT/audit every 0.1 s until jq's
# FILTER over the array of its lines is true; then au_read has read it.
# Else fails, with what the last read got, and returns 1.
au_wait() {
	local secs=$1 i

	for ((i = 0; i <= secs * 10; i++)); do
		[ $i = 0 ] || sleep 0.1
		timeout 10 cat "$MNT/audit" >"$WORK/au" 2>/dev/null || continue
		if jq -e -n "[inputs] | $2" <"$WORK/au" >/dev/null 2>&1; then
			au_read
			return
		fi
	done
	fail "MOUNT/audit did not come to pass '$2' within $secs s; it holds:"
	sed 's/^/      | /' "$WORK/au" >&2
	return 1
}

# au_strerror NAME: the message of errno NAME (EACCES: Permission denied).
au_strerror() {
	python3 -c 'import errno, os, sys; print(os.strerror(getattr(errno, sys.argv[1])))' "$1"
}

# A refused write by another user: its uid, gid, pid and command, the
# operation, the path, the errno the shell saw and the reason
# .last_error gives; the value stays.  The log is the daemon user's and
# group's, 0440, and listed.
test_audit_refused_write_of_another_user() {
	chmod 755 "$WORK"
	remount -o allow_other
	mkdir -p environments/prod
	run stat -c '%a %u %g %F' audit
	expect "440 $(id -u) $(id -g) regular file"
	run ls
	expect_has "audit"
	# its pid, then what the shell says, then what .last_error says
	au_nobody 'echo $$; echo 1 > environments/prod/critical; cat .last_error'
	local pid msg reason
	pid=$(sed -n 1p <<<"$OUT")
	msg=$(sed -n 2p <<<"$OUT")
	reason=$(sed -n 3p <<<"$OUT")
	[[ $pid =~ ^[0-9]+$ ]] || { fail "no pid from bash: $OUT"; return; }
	[ "$msg" = "bash: line 1: environments/prod/critical: $(au_strerror EACCES)" ] ||
		fail "the shell did not see EACCES: $OUT"
	# "TIME open /environments/prod/critical: REASON (Permission denied)"
	case $reason in
	*" open /environments/prod/critical: "*" ($(au_strerror EACCES))")
		reason=${reason#* open /environments/prod/critical: }
		reason=${reason% (*)} ;;
	*) fail ".last_error of uid 65534 is not the refused open: $reason"; return ;;
	esac
	[ -n "$reason" ] || fail ".last_error gives no reason"
	au_wait 20 'any(.[]; .uid == 65534)' || return
	au_lines 'select(.uid == 65534) | del(.seq, .time)'
	expect "$(jq -c -n --argjson pid "$pid" --arg why "$reason" \
		'{uid: 65534, gid: 65534, pid: $pid, comm: "bash", op: "open",
		  path: "environments/prod/critical", result: "EACCES",
		  error: $why}')"
	run cat environments/prod/critical
	expect "0"
	# nothing else of that user's, and no change of critical
	au_lines 'select(.uid == 65534 or .result == "ok" and any(.changes[]; .kind == "environment.critical")) | .seq'
	[ "$(wc -l <<<"$OUT")" = 1 ] || fail "more than the one line of uid 65534's refused write: $(cat "$WORK/au")"
}

# An admin-group member's accepted write, with the change's values
# before and after; the member may read the log, someone else may not
# (and that refusal is in it too).
test_audit_admin_member_write_and_readers() {
	chmod 755 "$WORK"
	remount -o allow_other,admin_gid=1001
	mkdir -p environments/prod
	run stat -c '%a %u %g' audit
	expect "440 $(id -u) 1001"
	au_member 'echo $$; echo 1 > environments/prod/critical'
	expect_rc 0
	local pid=$OUT
	[[ $pid =~ ^[0-9]+$ ]] || { fail "the member's write failed: $OUT"; return; }
	run cat environments/prod/critical
	expect "1"
	# a change's line is written with the change: there at once
	au_read || return
	au_lines 'select(.uid == 65534) | del(.seq, .time)'
	expect "{\"uid\":65534,\"gid\":1001,\"pid\":$pid,\"comm\":\"bash\",\"op\":\"write\",\"path\":\"environments/prod/critical\",\"result\":\"ok\",\"changes\":[{\"kind\":\"environment.critical\",\"path\":\"environments/prod\",\"from\":\"0\",\"to\":\"1\"}]}"
	# the member reads what the owner reads
	au_member 'cat audit'
	expect_rc 0
	[ "$OUT" = "$(cat "$WORK/au")" ] ||
		fail "the member read another log: $OUT"
	# someone not in the group may not, nor by another way in
	au_nobody 'cat audit'
	expect "cat: audit: $(au_strerror EACCES)"
	expect_rc 1
	au_nobody 'head -c 1 audit'
	expect "head: cannot open 'audit' for reading: $(au_strerror EACCES)"
	au_nobody 'test -r audit || echo unreadable'
	expect "unreadable"
	au_wait 20 '[.[] | select(.uid == 65534 and .gid == 65534)] | length == 2' || return
	au_lines 'select(.gid == 65534) | del(.seq, .time, .pid, .error)'
	expect '{"uid":65534,"gid":65534,"comm":"cat","op":"open","path":"audit","result":"EACCES"}
{"uid":65534,"gid":65534,"comm":"head","op":"open","path":"audit","result":"EACCES"}'
}

# A change's line is in the change's transaction: a kill -9 right after
# it loses neither; a refusal, once written, survives too; a clean
# remount keeps the log as it was and writes a refusal that still
# waited.
test_audit_durable() {
	mkdir -p environments/prod
	echo 1 >environments/prod/critical
	run bash -c 'echo 2 > environments/prod/critical'
	expect_rc 1
	au_wait 20 'any(.[]; .result == "EINVAL")' || return
	cp "$WORK/au" "$WORK/au.before"
	kill9_remount || return
	au_read || return
	run cmp "$WORK/au.before" "$WORK/au"
	expect ""
	# the change's line with the change, however soon the kill comes
	echo 0 >environments/prod/critical
	kill9_remount || return
	run cat environments/prod/critical
	expect "0"
	au_read || return
	au_lines 'select(.result == "ok") | .changes[] | select(.kind == "environment.critical") | "\(.from) \(.to)"'
	expect '"0 1"
"1 0"'
	run cmp -n "$(stat -c %s "$WORK/au.before")" "$WORK/au.before" "$WORK/au"
	expect ""
	# a refusal just before a clean unmount is not lost
	run bash -c 'echo 3 > environments/prod/critical'
	expect_rc 1
	remount || return
	au_read || return
	au_lines 'select(.result == "EINVAL") | .error'
	expect "\"critical takes 0 or 1, not '2'\"
\"critical takes 0 or 1, not '3'\""
	cp "$WORK/au" "$WORK/au.before"
	remount || return
	au_read || return
	run cmp "$WORK/au.before" "$WORK/au"
	expect ""
	run wc -l "$WORK/au"
	expect "5 $WORK/au"
}

# au_leaks FILE MATERIAL...: for each MATERIAL (the base64 after a key
# id's or client id's '.', either alphabet) that FILE holds in any form,
# a line saying which: its text or any 16 characters of it, in either
# base64 alphabet, with or without padding, '/' escaped or not; its
# decoded bytes or any 8 of them; their hex in either case.  Nothing when
# FILE holds none.
au_leaks() {
	python3 - "$@" <<-'EOF'
		import base64, sys
		data = open(sys.argv[1], 'rb').read()
		low = data.lower()
		for m in sys.argv[2:]:
		    try:
		        raw = base64.b64decode(m.translate(str.maketrans('-_', '+/'))
		                               + '=' * (-len(m) % 4), validate=True)
		    except Exception as e:
		        print(f'{m}: not base64: {e}')
		        continue
		    if len(raw) != 32:
		        print(f'{m}: {len(raw)} bytes, not 32')
		        continue
		    texts = {m.rstrip('='),
		             base64.b64encode(raw).decode().rstrip('='),
		             base64.urlsafe_b64encode(raw).decode().rstrip('=')}
		    forms = []
		    for t in texts:
		        forms.append(('text', t.replace('/', '\\/').encode(), data))
		        forms += [('text', t[i:i + 16].encode(), data)
		                  for i in range(len(t) - 15)]
		    forms += [('bytes', raw[i:i + 8], data) for i in range(len(raw) - 7)]
		    hx = raw.hex()
		    forms += [('hex', hx[i:i + 16].encode(), low)
		              for i in range(0, len(hx) - 15, 2)]
		    for what, f, hay in forms:
		        if f in hay:
		            print(f'{m}: its {what} {f!r} is there')
		            break
	EOF
}

# No secret in the log, whatever was done with it: created, read,
# bound by a registration, sent in heartbeats refused for every reason,
# revoked; service accounts made and reset.  Their key ids may be there
# (and are: the scan finds what is there).
test_audit_never_a_secret() {
	local rt=environments/prod/runtimes s sa1 sa2 sa3 k
	mkdir -p environments/prod
	touch environments/prod/secrets/s
	s=$(secret_of environments/prod/secrets/s)
	[[ $s == *.* ]] || { fail "no secret in the snippet of s"; return; }
	register
	run cat "$rt/orders-eu-1/secret"
	expect_rc 0
	mkdir "$rt/chat"
	spec 1 >"$rt/chat/spec"
	sa1=$(cat "$rt/chat/service_account")
	echo reset-service-account >"$rt/chat/ctl"
	sa2=$(cat "$rt/chat/service_account")
	sa3=$(cat "$rt/orders-eu-1/service_account")
	[[ $sa1 == *.* && $sa2 == *.* && $sa3 == *.* && $sa1 != "$sa2" ]] ||
		{ fail "service accounts: '$sa1' '$sa2' '$sa3'"; return; }
	# heartbeats that carry the material: a replica's, accepted; and
	# refused ones: no JSON, a key id of no secret, a field of the
	# wrong type, another environment, bytes after a value, a revoked
	# secret
	send "$(hb "$SECRET" orders-eu-4)"
	expect_has '"acknowledged":true'
	send "{\"secret\": $s}"
	send "$(hb "deadbeef.${s#*.}" orders-eu-2)"
	send "{\"secret\": \"$s\", \"runtime\": 5}"
	send "$(hb "$s" orders-eu-3 dev)"
	send "{\"secret\": \"$s\", \"runtime\": \"x\" ${s#*.}}"
	rm environments/prod/secrets/s
	send "$(hb "$s" orders-eu-5)"
	expect_has '"acknowledged":false'
	au_wait 20 '[.[] | select(.result != "ok" and .path == "heartbeat")] | length >= 6' || return
	au_lines 'select(.result == "ok") | .changes[] | .kind'
	for k in '"secret.created"' '"runtime.registered"' '"runtime.service_account_reset"' '"secret.revoked"'; do
		grep -qx -- "$k" <<<"$OUT" || fail "no $k in the log: $(cat "$WORK/au")"
	done
	run au_leaks "$WORK/au" "${s#*.}" "${SECRET#*.}" "${sa1#*.}" "${sa2#*.}" "${sa3#*.}"
	expect ""
	# the key ids are there, so the scan read the log
	run grep -c -F -e "\"key_id\":\"${s%%.*}\"" -e "\"key_id\":\"${SECRET%%.*}\"" "$WORK/au"
	expect "3"
	# and it finds material where it is (its decoded bytes too)
	printf 'x%sx\n' "${sa2#*.}" >"$WORK/with-text"
	printf '%s' "${s#*.}" | base64 -d >"$WORK/with-bytes"
	run au_leaks "$WORK/with-text" "${sa2#*.}"
	expect_has "is there"
	run au_leaks "$WORK/with-bytes" "${s#*.}"
	expect_has "its bytes"
}

# -o audit_keep=1: lines older than a day go when the flusher looks
# (once a minute of the daemon's clock), the newest staying; the line of
# a change after them stays, its seq going on; the file's size is that
# of the lines kept.
test_audit_pruned_by_audit_keep() {
	local t
	clock_remount audit_keep=1 || return
	mkdir -p environments/prod
	echo 1 >environments/prod/critical
	au_read || return
	run wc -l "$WORK/au"
	expect "2 $WORK/au"
	cp "$WORK/au" "$WORK/au.first"
	# half a day and more than a minute: nothing goes
	advance $((43200 + 120))
	sleep 2
	au_read || return
	run cmp "$WORK/au.first" "$WORK/au"
	expect ""
	# two days on: the older line goes, the newest stays
	advance $((129600 + 120))
	au_wait 20 'map(.seq) == [2]' || return
	# a change: its line, stamped with the daemon's clock
	echo 0 >environments/prod/critical
	t=$(date -u -d "@$(cat "$WORK/clock")" +%Y-%m-%dT%H:%M:%S.000000Z)
	au_read || return
	au_lines '[.seq, .time, (.changes[] | "\(.kind) \(.from) \(.to)")]'
	expect "[2,\"$(jq -r .time "$WORK/au.first" | tail -1)\",\"environment.critical 0 1\"]
[3,\"$t\",\"environment.critical 1 0\"]"
	# a minute of the clock later the line before it goes too
	advance 120
	au_wait 20 'map(.seq) == [3]' || return
	run stat -c %s audit
	expect "$(wc -c <"$WORK/au")"
	# and stays gone across a remount (same clock)
	remount -o "test_clock=$WORK/clock,audit_keep=1" || return
	au_read || return
	au_lines '.seq'
	expect "3"
}

# A snapshot holds the log as it was; the live log goes on.
test_audit_in_snapshots() {
	mkdir -p environments/prod
	echo 1 >environments/prod/critical
	au_read || return
	cp "$WORK/au" "$WORK/au.before"
	mkdir snapshots/s
	run ls snapshots/s
	expect "audit
environments
projects"
	run stat -c '%a %u %g' snapshots/s/audit
	expect "440 $(id -u) $(id -g)"
	au_read snapshots/s/audit || return
	run cmp "$WORK/au.before" "$WORK/au"
	expect ""
	echo 0 >environments/prod/critical
	au_read || return
	au_lines 'select(.result == "ok") | [.op, .path, .changes[].kind]'
	expect '["mkdir","environments/prod","environment.created"]
["write","environments/prod/critical","environment.critical"]
["mkdir","snapshots/s","snapshot.created"]
["write","environments/prod/critical","environment.critical"]'
	au_read snapshots/s/audit || return
	run cmp "$WORK/au.before" "$WORK/au"
	expect ""
	# and after a remount
	remount || return
	au_read snapshots/s/audit || return
	run cmp "$WORK/au.before" "$WORK/au"
	expect ""
}

# au_mi RUNTIME_ID NAME: the full heartbeat of a Micro Integrator
# (tests/fixtures/mi-full-heartbeat.json) as runtime NAME in prod, shop,
# orders.  au_post BODY: POSTs it to /icp/heartbeat with the token MI
# makes from $SECRET; $OUT is "STATUS BODY".
au_mi() {
	jq -c --arg id "$1" --arg n "$2" \
		'.runtimeId = $id | .runtime = $n | .environment = "prod" |
		 .project = "shop" | .component = "orders"' \
		"$REPO/tests/fixtures/mi-full-heartbeat.json"
}

au_post() {
	local code

	code=$(curl -sS -m 30 --cacert "$CERT" -H 'Content-Type: application/json' \
		-H "$("$ICP_TOKEN" -m -H "$SECRET")" --data-binary "$1" \
		-o "$WORK/reply" -w '%{http_code}' \
		"https://localhost:$PORT/icp/heartbeat" 2>"$WORK/curl.err")
	RC=$?
	OUT="$code $(cat "$WORK/reply" 2>/dev/null)$(cat "$WORK/curl.err")"
	rm -f "$WORK/reply"
}

# A heartbeat's changes are audited: through MOUNT/heartbeat as the
# writer's (op write, path heartbeat), over ICP's API as the runtime's
# (uid null, op heartbeat, the runtime's path).  One that only moves the
# time is not, nor an OFFLINE by time; the first heartbeat after it is.
test_audit_heartbeat_changes() {
	local id=00000000-0000-4000-8000-000000000002 s1 n
	PORT=$(free_port)
	CERT=$(cert_file)
	clock_remount "icp_listen=127.0.0.1:$PORT$(tls_args)" || return
	register
	s1=$SECRET
	au_read || return
	au_lines 'select(.path == "heartbeat") | del(.seq, .time, .pid)'
	expect '{"uid":0,"gid":0,"comm":"bash","op":"write","path":"heartbeat","result":"ok","changes":[{"kind":"project.created","path":"projects/shop"},{"kind":"integration.created","path":"projects/shop/integrations/orders","type":"MI"},{"kind":"runtime.registered","path":"environments/prod/runtimes/orders-eu-1","type":"MI","project":"shop","integration":"orders","status":"RUNNING"}]}'
	touch environments/prod/secrets/orders-eu-2
	SECRET=$(secret_of environments/prod/secrets/orders-eu-2)
	au_post "$(au_mi $id orders-eu-2)"
	expect_has '201 {"acknowledged":true'
	au_read || return
	au_lines 'select(.op == "heartbeat") | del(.seq, .time)'
	expect '{"uid":null,"gid":null,"pid":null,"comm":null,"op":"heartbeat","path":"environments/prod/runtimes/orders-eu-2","result":"ok","changes":[{"kind":"runtime.registered","path":"environments/prod/runtimes/orders-eu-2","type":"MI","project":"shop","integration":"orders","status":"RUNNING"}]}'
	# heartbeats that only move the time: no line
	n=$(wc -l <"$WORK/au")
	advance 5
	au_post "$(au_mi $id orders-eu-2)"
	expect_has '201 {"acknowledged":true'
	send "$(hb "$s1" orders-eu-1)"
	expect_has '"acknowledged":true'
	# OFFLINE by time: in events (once the flusher has seen it), not
	# in audit
	advance 31
	run timeout 30 bash -c 'for i in $(seq 200); do
		[ "$(timeout 10 tail -n 20 events | grep -c "\"from\":\"RUNNING\",\"to\":\"OFFLINE\"")" = 2 ] && exit
		sleep 0.1
	done; exit 1'
	expect_rc 0
	au_read || return
	run wc -l <"$WORK/au"
	expect "$n"
	# back: a line each
	au_post "$(au_mi $id orders-eu-2)"
	expect_has '201 {"acknowledged":true'
	send "$(hb "$s1" orders-eu-1)"
	expect_has '"acknowledged":true'
	au_read || return
	au_lines "select(.seq > $n) | [.uid, .op, .path, .changes]"
	expect '[null,"heartbeat","environments/prod/runtimes/orders-eu-2",[{"kind":"runtime.status","path":"environments/prod/runtimes/orders-eu-2","from":"OFFLINE","to":"RUNNING"}]]
[0,"write","heartbeat",[{"kind":"runtime.status","path":"environments/prod/runtimes/orders-eu-1","from":"OFFLINE","to":"RUNNING"}]]'
}

# Found by the tests above, each failed before its fix:
# a heartbeat that ends an OFFLINE the flusher has not written yet lists
# only its own change, OFFLINE -> RUNNING: the RUNNING -> OFFLINE it
# writes first is time's (MOUNT/events has both).
test_audit_heartbeat_after_offline_lists_its_own_change() {
	clock_remount
	register
	advance 31
	send "$(hb "$SECRET" orders-eu-1)"      # within the flusher's 500 ms
	expect_has '"acknowledged":true'
	au_wait 10 '.[-1].op == "write" and .[-1].path == "heartbeat"' ||
		return
	run bash -c "timeout 10 tail -n 1 audit | jq -c '[.changes[] | \"\(.kind) \(.from)->\(.to)\"]'"
	expect '["runtime.status OFFLINE->RUNNING"]'
	run bash -c "timeout 10 dd if=events iflag=nonblock status=none | jq -r 'select(.kind == \"runtime.status\") | \"\(.from)->\(.to)\"'"
	expect "RUNNING->OFFLINE
OFFLINE->RUNNING"
}

# An unfinished request dropped at close is the opener's refusal: its
# uid, and null for what the release (which comes from the kernel) does
# not know, never root's gid and pid 0.
test_audit_refusal_at_close_is_the_openers() {
	chmod 755 "$WORK"
	remount -o allow_other,admin_gid=1001
	au_member 'exec 3<>heartbeat; printf "{\"x\":" >&3; exec 3>&-'
	au_wait 10 'any(.[]; .op == "close")' || return
	au_lines 'select(.op == "close") | [.uid, .gid, .pid, .comm, .result]'
	expect '[65534,null,null,null,"EINVAL"]'
}

# A secret pasted into the wrong file: the refusal quotes what was
# written back in .last_error, and the audit log holds '...' instead.
test_audit_never_quotes_a_secret() {
	mkdir environments/prod
	touch environments/prod/secrets/s
	local cred
	cred=$(secret_of environments/prod/secrets/s)
	sh "echo '$cred' > environments/prod/critical"
	expect_has "Invalid argument"
	run cat .last_error
	expect_has "${cred:0:20}"
	au_wait 10 'any(.[]; .result == "EINVAL")' || return
	au_lines 'select(.result == "EINVAL") | .error'
	expect "\"critical takes 0 or 1, not '...'\""
	run grep -c -F "${cred#*.}" audit
	expect "0"
	run grep -c -F "${cred:9:12}" audit
	expect "0"
}
