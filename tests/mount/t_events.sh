# t_events.sh - MOUNT/events of issue 14 as an operator and a script
# would use it: `tail -f`, `tail -F` and `cat` following it while things
# change, readers that open late and still see the recent window, a
# hundred readers at once, a reader that never reads, the window's size
# (-o events_keep=N) with st_size that only grows, the file found by name
# but not listed, its permissions, and two hosts on one database seeing
# each other's lines (PostgreSQL only).
#
# Every read that could block is under timeout, and every reader started
# in the background is stopped before its test ends (a reader left
# blocked in the daemon would keep the mount from going).

# The kinds the interface names.  Where a test counts lines, lines of
# other kinds are left out, so that a kind added later breaks nothing.
EV_KINDS='environment.created environment.deleted environment.critical
project.created project.deleted integration.created integration.deleted
runtime.created runtime.registered runtime.deleted runtime.status
version.deployed version.deleted endpoint.created endpoint.pinned
endpoint.deleted secret.created secret.revoked snapshot.created
snapshot.deleted'

EV_RT=environments/prod/runtimes

# ev_norm [FROM]: the events on stdin whose seq is above FROM (none
# left out when not given) and whose kind the interface names, one a
# line as "KIND PATH FIELDS", FIELDS being the rest of the object (the
# kind's own fields) as compact JSON in the daemon's order, with their
# types: {"from":1,"to":2}, {"from":"RUNNING","to":"OFFLINE"}, {}.  A
# line that is not a JSON object (an unfinished one, say) is left out:
# ev_check reports those.
ev_norm() {
	jq -R -r --argjson from "${1:--1}" --arg kinds "$EV_KINDS" '
		fromjson? | select(type == "object")
		| select((.seq | type) == "number" and .seq > $from)
		| select(.kind | IN($kinds | splits("\\s+")))
		| "\(.kind) \(.path) \(del(.seq, .time, .kind, .path) | tojson)"'
}

# ev_format: what is wrong with the lines of events on stdin, one
# problem a line; nothing when each line is one compact JSON object
# ended by a newline, beginning with seq (an integer), time (RFC 3339
# UTC with microseconds), kind and path (relative), with seq increasing.
# Time may go back from one line to the next: a status that changed by
# time carries the moment it happened, before the line was written.
ev_format() {
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
		   elif ($e | keys_unsorted[:4]) != ["seq", "time", "kind", "path"]
		   then at($i; $r; "does not begin with seq, time, kind, path")
		   elif ($e.seq | type) != "number" or ($e.seq | floor) != $e.seq
		   then at($i; $r; "seq is not an integer")
		   elif ($e.time | type) != "string"
		     or (($e.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$")) | not)
		   then at($i; $r; "time is not RFC 3339 UTC with microseconds")
		   elif ($e.kind | type) != "string" or ($e.kind == "")
		   then at($i; $r; "no kind")
		   elif ($e.path | type) != "string" or $e.path == ""
		     or ($e.path | startswith("/"))
		   then at($i; $r; "no path relative to the mount")
		   elif ($p | type) == "object" and ($p.seq | type) == "number"
		     and $e.seq <= $p.seq
		   then at($i; $r; "seq does not increase from \($p.seq)")
		   else empty end)'
}

# ev_check FILE WHAT: FILE (what WHAT read of events) is well formed.
ev_check() {
	local problems

	problems=$(ev_format <"$1")
	[ -z "$problems" ] ||
		fail "$2: malformed lines: $(head -5 <<<"$problems")"
}

# ev_snap NAME: what a reader with O_NONBLOCK gets from the start of
# events, into $WORK/NAME (a read at the end must return 0, not block
# and not fail with EAGAIN).  Fails and returns 1 if that read fails.
ev_snap() {
	local rc

	timeout 5 dd if="$MNT/events" iflag=nonblock status=none \
		>"$WORK/$1" 2>"$WORK/$1.err"
	rc=$?
	[ $rc = 0 ] && return 0
	fail "reading events with O_NONBLOCK: exit code $rc ($(head -3 "$WORK/$1.err"))"
	return 1
}

# ev_last_seq: the seq of the last event now in events (-1 if none).
ev_last_seq() {
	local s

	ev_snap last >/dev/null || { echo -1; return; }
	s=$(tail -n 1 "$WORK/last" | jq -R 'fromjson? | .seq' 2>/dev/null)
	[[ $s =~ ^[0-9]+$ ]] && echo "$s" || echo -1
}

# ev_wait SECONDS FILE LINE: true once FILE holds an event that ev_norm
# shows as LINE, polling every 0.1 s; false after SECONDS.
ev_wait() {
	local i

	for ((i = 0; i < $1 * 10; i++)); do
		[ -e "$2" ] && ev_norm <"$2" | grep -qxF -- "$3" && return 0
		sleep 0.1
	done
	[ -e "$2" ] && ev_norm <"$2" | grep -qxF -- "$3"
}

# ev_wait_all SECONDS TEXT FILE...: true once every FILE contains TEXT;
# else false after SECONDS, with the files that do not in $MISSING.
ev_wait_all() {
	local secs=$1 text=$2 i f

	shift 2
	for ((i = 0; i <= secs * 10; i++)); do
		[ $i = 0 ] || sleep 0.1
		MISSING=$(for f in "$@"; do [ -e "$f" ] || echo "$f"; done
			grep -L -F -- "$text" "$@" 2>/dev/null)
		[ -z "$MISSING" ] && return 0
	done
	return 1
}

# until_true SECONDS CMD...: true once CMD is, polling every 0.1 s.
until_true() {
	local secs=$1 i

	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# ev_alive PID: the process is there and not a zombie.
ev_alive() {
	local s

	{ read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
	s=${s##*) }
	[ "${s:0:1}" != Z ]
}

# ev_stop PID...: stops readers (each a `timeout ... READER` of this
# shell): SIGTERM, which must end them within 5 s even while they are
# blocked in a read of events; then they are reaped.  One still there
# is a failure; it gets SIGKILL, and is not waited for (a process stuck
# in the daemon would hang the test; unmounting ends it).
ev_stop() {
	local p alive i

	kill -TERM "$@" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		alive=()
		for p in "$@"; do
			ev_alive "$p" && alive+=("$p")
		done
		[ ${#alive[@]} = 0 ] && break
		sleep 0.1
	done
	if [ ${#alive[@]} != 0 ]; then
		fail "${#alive[@]} reader(s) still there 5 s after SIGTERM (pids ${alive[*]}): a signal must interrupt a read of events"
		kill -KILL "${alive[@]}" 2>/dev/null
	fi
	for p in "$@"; do
		ev_alive "$p" || wait "$p" 2>/dev/null
	done
}

# ev_sorted_steps SIZES: the lines on stdin cut into steps of SIZES
# lines (the lines beyond them make one more step), each step sorted,
# steps separated by "--" lines.
ev_sorted_steps() {
	local n i line step first=1

	for n in $1 rest; do
		step=()
		if [ "$n" = rest ]; then
			while IFS= read -r line; do
				step+=("$line")
			done
			[ ${#step[@]} = 0 ] && break
		else
			for ((i = 0; i < n; i++)); do
				IFS= read -r line || break
				step+=("$line")
			done
		fi
		[ $first = 1 ] || echo --
		first=0
		[ ${#step[@]} = 0 ] || printf '%s\n' "${step[@]}" | LC_ALL=C sort
	done
}

# ev_steps FILE FROM STEPS: the events in FILE after seq FROM, of the
# paths STEPS names, are the lines of STEPS, each once, step after step,
# in any order within a step (one change is one transaction, and may
# make several events).  STEPS is ev_norm's lines, steps separated by
# "--" lines.
ev_steps() {
	local file=$1 from=$2 steps=$3 sizes got want

	sizes=$(awk '$0 == "--" { print n; n = 0; next } { n++ } END { print n }' <<<"$steps")
	got=$(ev_norm "$from" <"$file" |
		awk 'NR == FNR { if ($0 != "--") p[$2]; next } $2 in p' \
			<(printf '%s\n' "$steps") -)
	want=$(grep -vx -- -- <<<"$steps" | ev_sorted_steps "$sizes")
	OUT=$(ev_sorted_steps "$sizes" <<<"$got")
	[ -n "$got" ] || OUT=
	if [ "$OUT" != "$want" ]; then
		fail "the events after seq $from are not the changes, each once, in order; expected (steps sorted within):"
		printf '%s\n' "$want" | sed 's/^/      | /' >&2
		echo "    got, in the order of the file:" >&2
		printf '%s\n' "$got" | sed 's/^/      | /' >&2
	fi
}

# ev_size_is_exact WHAT: stat's size of events is the number of bytes a
# reader from offset 0 gets.  That holds while no line has been dropped:
# st_size is the length of the whole stream since the database was made,
# a read from the start begins at the oldest line kept, so in general
# st_size = (bytes read from the start) + (offset of the oldest line
# kept), which is 0 until the window (10,000 lines unless told) drops one.
ev_size_is_exact() {
	local size bytes

	ev_snap size || return
	size=$(stat -c %s "$MNT/events")
	bytes=$(wc -c <"$WORK/size")
	[ "$size" = "$bytes" ] ||
		fail "$1: stat says events holds $size bytes, a read from the start gets $bytes"
}

# ev_window SECONDS NAME EXPECTED: polls a read from the start of events
# (into $WORK/NAME) until ev_norm shows EXPECTED, for the flusher (every
# 500 ms) to drop what is beyond the window; else fails, with what the
# last read got, and returns 1.
ev_window() {
	local secs=$1 i got

	for ((i = 0; i <= secs * 10; i++)); do
		[ $i = 0 ] || sleep 0.1
		ev_snap "$2" || return 1
		got=$(ev_norm <"$WORK/$2")
		[ "$got" = "$3" ] && return 0
	done
	fail "a read from the start of events did not give these lines within $secs s:"
	printf '%s\n' "$3" | sed 's/^/      | /' >&2
	echo "    got:" >&2
	printf '%s\n' "$got" | sed 's/^/      | /' >&2
	return 1
}

# ev_tail_c WHAT FILE: `tail -c N events`, N the size of FILE (what a read
# from the start got), gives FILE byte for byte: the newest N bytes of
# the stream, found by a seek from st_size, are the lines a reader from
# the start gets.  Only for a stream larger than st_blksize: coreutils'
# tail -c reads a file no larger to its end (it may be one of /proc's,
# whose st_size means nothing), and a read at the end of events waits.
ev_tail_c() {
	local rc

	timeout 5 tail -c "$(wc -c <"$2")" events >"$WORK/tail_c" 2>&1
	rc=$?
	[ $rc = 0 ] || fail "$1: tail -c: exit code $rc: $(head -c 300 "$WORK/tail_c")"
	cmp -s "$WORK/tail_c" "$2" ||
		fail "$1: tail -c $(wc -c <"$2") events is not what a read from the start gets: $(head -c 300 "$WORK/tail_c")"
}

# 1. tail -f, started before the changes, shows each as it comes, in
# order, each once, with its fields: an agent runtime made by mkdir, its
# first deploy (which makes DEFAULT and starts it), a deploy that moves
# DEFAULT, a new endpoint and its pin, a secret made and revoked, a
# runtime deleted, a registration by heartbeat (which makes its project
# and integration), an OFFLINE by time (carrying the moment it happened),
# the heartbeat that brings it back, nothing for a heartbeat that only
# moves time, and a runtime's bound secret revoked.
test_tail_f_follows_changes() {
	clock_remount
	run mkdir environments/prod
	expect_rc 0
	local from key temp_key reg_time off_time
	from=$(ev_last_seq)
	[ "$from" != -1 ] || fail "no event after a mkdir"
	timeout 90 tail -f events >"$WORK/tail.out" 2>"$WORK/tail.err" &
	local tail=$!
	# it begins with the last lines there are
	until_true 5 grep -q "^{\"seq\":$from," "$WORK/tail.out" ||
		fail "tail -f did not show the last event (seq $from) within 5 s: $(cat "$WORK/tail.out" "$WORK/tail.err")"

	run mkdir $EV_RT/chat
	expect_rc 0
	spec 1 >$EV_RT/chat/spec || fail "the first deploy failed"
	run mkdir $EV_RT/chat2
	expect_rc 0
	spec 2 >$EV_RT/chat/spec || fail "deploying version 2 failed"
	run mkdir $EV_RT/chat/endpoints/canary
	expect_rc 0
	sh "echo 1 > $EV_RT/chat/endpoints/canary/version"
	expect_rc 0
	run touch environments/prod/secrets/temp
	expect_rc 0
	temp_key=$(secret_of environments/prod/secrets/temp)
	temp_key=${temp_key%%.*}
	run rm environments/prod/secrets/temp
	expect_rc 0
	run rmdir $EV_RT/chat2
	expect_rc 0
	register
	expect_has '"acknowledged":true'
	key=${SECRET%%.*}
	local registered="runtime.registered $EV_RT/orders-eu-1 {\"type\":\"MI\",\"project\":\"shop\",\"integration\":\"orders\",\"status\":\"RUNNING\"}"
	ev_wait 5 "$WORK/tail.out" "$registered" ||
		fail "tail -f did not show the registration within 5 s"

	# past offline_after (30 s) on the daemon's clock: the daemon says
	# so by itself within about a second, tail within a second more
	advance 31
	ev_wait 6 "$WORK/tail.out" "runtime.status $EV_RT/orders-eu-1 {\"from\":\"RUNNING\",\"to\":\"OFFLINE\"}" ||
		fail "tail -f did not show RUNNING -> OFFLINE within 6 s of the clock passing offline_after"
	# time for a second OFFLINE line to show, which must not come
	sleep 2
	send "$(hb "$SECRET" orders-eu-1)"
	expect_has '"acknowledged":true'
	# a heartbeat that only moves time is no event
	advance 5
	send "$(hb "$SECRET" orders-eu-1)"
	expect_has '"acknowledged":true'
	# the runtime's own secret revoked: it goes OFFLINE at once
	run rm $EV_RT/orders-eu-1/secret
	expect_rc 0
	# a last change, after which all the above has shown
	run mkdir environments/marker
	expect_rc 0
	ev_wait 5 "$WORK/tail.out" "environment.created environments/marker {}" ||
		fail "tail -f did not show the last change within 5 s"
	ev_stop "$tail"

	ev_steps "$WORK/tail.out" "$from" "runtime.created $EV_RT/chat {\"type\":\"agent\"}
--
version.deployed $EV_RT/chat/versions/1 {\"version\":1}
endpoint.created $EV_RT/chat/endpoints/DEFAULT {\"version\":1}
runtime.status $EV_RT/chat {\"from\":\"CREATING\",\"to\":\"STARTING\"}
--
runtime.created $EV_RT/chat2 {\"type\":\"agent\"}
--
version.deployed $EV_RT/chat/versions/2 {\"version\":2}
endpoint.pinned $EV_RT/chat/endpoints/DEFAULT {\"from\":1,\"to\":2}
--
endpoint.created $EV_RT/chat/endpoints/canary {\"version\":2}
--
endpoint.pinned $EV_RT/chat/endpoints/canary {\"from\":2,\"to\":1}
--
secret.created environments/prod/secrets/temp {\"key_id\":\"$temp_key\"}
--
secret.revoked environments/prod/secrets/temp {\"key_id\":\"$temp_key\"}
--
runtime.deleted $EV_RT/chat2 {}
--
secret.created environments/prod/secrets/orders-eu-1 {\"key_id\":\"$key\"}
--
project.created projects/shop {}
integration.created projects/shop/integrations/orders {\"type\":\"MI\"}
$registered
--
runtime.status $EV_RT/orders-eu-1 {\"from\":\"RUNNING\",\"to\":\"OFFLINE\"}
--
runtime.status $EV_RT/orders-eu-1 {\"from\":\"OFFLINE\",\"to\":\"RUNNING\"}
--
runtime.status $EV_RT/orders-eu-1 {\"from\":\"RUNNING\",\"to\":\"OFFLINE\"}
secret.revoked $EV_RT/orders-eu-1/secret {\"key_id\":\"$key\"}
--
environment.created environments/marker {}"
	ev_check "$WORK/tail.out" "tail -f"
	# the OFFLINE by time carries the moment it happened, offline_after
	# (30 s) after the registration's heartbeat, not the moment the
	# flusher saw it (the clock had moved on to 31 s by then)
	reg_time=$(jq -R -r 'fromjson? | select(.kind == "runtime.registered") | .time' "$WORK/tail.out")
	off_time=$(jq -R -r 'fromjson? | select(.kind == "runtime.status" and .to == "OFFLINE") | .time' "$WORK/tail.out" | head -1)
	if [ -n "$reg_time" ] && [ -n "$off_time" ]; then
		[ "${off_time%.*}" = "$(date -u -d "@$(($(date -d "$reg_time" +%s) + 30))" +%Y-%m-%dT%H:%M:%S)" ] ||
			fail "the OFFLINE by time says $off_time, not 30 s after the registration's $reg_time"
	fi
	# tail says "file truncated" when the size it polls goes back
	run cat "$WORK/tail.err"
	expect ""
	# what tail showed is what the file holds, from that line on
	ev_snap all
	local from_there='index($0, "{\"seq\":" from ",") == 1 { on = 1 } on'
	run awk -v from="$from" "$from_there" "$WORK/all"
	expect "$(awk -v from="$from" "$from_there" "$WORK/tail.out")"
	ev_size_is_exact "after the changes"
}

# 2. cat does not return at the end of events: it waits, and prints the
# next line when it comes; a signal ends it.
test_cat_blocks_at_the_end() {
	run mkdir environments/prod
	expect_rc 0
	timeout 20 cat events >"$WORK/cat.out" 2>"$WORK/cat.err" &
	local cat=$!
	ev_wait 5 "$WORK/cat.out" "environment.created environments/prod {}" ||
		fail "cat did not print the existing line within 5 s: $(cat "$WORK/cat.out" "$WORK/cat.err")"
	sleep 1
	ev_alive "$cat" ||
		fail "cat returned at the end of events instead of waiting: $(cat "$WORK/cat.err")"
	run mkdir environments/dev
	expect_rc 0
	ev_wait 5 "$WORK/cat.out" "environment.created environments/dev {}" ||
		fail "the waiting cat did not print the next event within 5 s"
	sleep 0.5
	ev_alive "$cat" || fail "cat returned after the next event instead of waiting for more"
	ev_stop "$cat"
	run ev_norm <"$WORK/cat.out"
	expect "environment.created environments/prod {}
environment.created environments/dev {}"
	ev_check "$WORK/cat.out" "cat"
	run cat "$WORK/cat.err"
	expect ""
}

# An OFFLINE by time is an event when it happens, not when somebody asks:
# a cat waiting at the end gets it while nothing else touches the mount.
test_offline_by_time_wakes_a_waiting_reader() {
	clock_remount
	register
	expect_has '"acknowledged":true'
	timeout 30 cat events >"$WORK/cat.out" 2>"$WORK/cat.err" &
	local cat=$!
	ev_wait 5 "$WORK/cat.out" "runtime.registered $EV_RT/orders-eu-1 {\"type\":\"MI\",\"project\":\"shop\",\"integration\":\"orders\",\"status\":\"RUNNING\"}" ||
		fail "cat did not print the registration within 5 s: $(cat "$WORK/cat.out" "$WORK/cat.err")"
	advance 31
	ev_wait 5 "$WORK/cat.out" "runtime.status $EV_RT/orders-eu-1 {\"from\":\"RUNNING\",\"to\":\"OFFLINE\"}" ||
		fail "a cat waiting at the end did not get RUNNING -> OFFLINE within 5 s of the clock passing offline_after"
	ev_alive "$cat" || fail "cat returned instead of waiting: $(cat "$WORK/cat.err")"
	ev_stop "$cat"
	run cat environments/prod/runtimes/orders-eu-1/status
	expect "OFFLINE"
}

# 3. A reader that opens events late, after a remount, gets the changes
# from the start; the history goes on from there.
test_late_reader_sees_the_history() {
	run mkdir environments/prod
	expect_rc 0
	sh 'echo 1 > environments/prod/critical'
	expect_rc 0
	run mkdir -p projects/shop/integrations/orders
	expect_rc 0
	run touch environments/prod/secrets/k1
	expect_rc 0
	local key
	key=$(secret_of environments/prod/secrets/k1)
	key=${key%%.*}
	run mkdir snapshots/s1
	expect_rc 0
	run rmdir snapshots/s1
	expect_rc 0
	run rmdir projects/shop/integrations/orders
	expect_rc 0
	sh 'echo 0 > environments/prod/critical'
	expect_rc 0
	remount
	local history="environment.created environments/prod {}
environment.critical environments/prod {\"from\":\"0\",\"to\":\"1\"}
project.created projects/shop {}
integration.created projects/shop/integrations/orders {\"type\":\"default\"}
secret.created environments/prod/secrets/k1 {\"key_id\":\"$key\"}
snapshot.created snapshots/s1 {}
snapshot.deleted snapshots/s1 {}
integration.deleted projects/shop/integrations/orders {}
environment.critical environments/prod {\"from\":\"1\",\"to\":\"0\"}"
	ev_snap late
	run ev_norm <"$WORK/late"
	expect "$history"
	ev_check "$WORK/late" "a read after the remount"
	ev_size_is_exact "after the remount"
	# tail without -f shows the last lines and returns
	run timeout 5 tail -n 2 events
	expect "$(tail -n 2 "$WORK/late")"
	# the history goes on after the remount, with seq increasing
	run mkdir environments/dev
	expect_rc 0
	ev_snap later
	run ev_norm <"$WORK/later"
	expect "$history
environment.created environments/dev {}"
	ev_check "$WORK/later" "a read after a change after the remount"
	run head -n "$(wc -l <"$WORK/late")" "$WORK/later"
	expect "$(cat "$WORK/late")"
}

# 4. A hundred tail -f at once each get a change; the daemon answers
# while they follow and after they are gone.
test_hundred_tail_f_readers() {
	run mkdir environments/prod
	expect_rc 0
	local pids=() i bad=0
	for i in $(seq 100); do
		timeout 90 tail -f events >"$WORK/tail.$i" 2>"$WORK/tail.$i.err" &
		pids+=($!)
	done
	ev_wait_all 20 '"path":"environments/prod"' "$WORK"/tail.{1..100} ||
		fail "$(wc -l <<<"$MISSING") of 100 tail -f did not show the existing line within 20 s"
	run timeout 10 mkdir environments/dev
	expect_rc 0
	ev_wait_all 20 '"path":"environments/dev"' "$WORK"/tail.{1..100} ||
		fail "$(wc -l <<<"$MISSING") of 100 tail -f did not show the change within 20 s"
	run timeout 10 ls environments
	expect "dev
prod"
	ev_stop "${pids[@]}"
	for i in $(seq 100); do
		[ "$(ev_norm <"$WORK/tail.$i")" = "environment.created environments/prod {}
environment.created environments/dev {}" ] || bad=$((bad + 1))
	done
	[ $bad = 0 ] || fail "$bad of 100 tail -f showed other than the two events, e.g.: $(cat "$WORK/tail.1")"
	run timeout 10 mkdir environments/after
	expect_rc 0
	ev_snap after
	run ev_norm <"$WORK/after"
	expect "environment.created environments/prod {}
environment.created environments/dev {}
environment.created environments/after {}"
}

# 4b. The same with a hundred cat, each waiting in a read at the end of
# events: a change goes through and reaches all of them.
test_hundred_waiting_cat_readers() {
	run mkdir environments/prod
	expect_rc 0
	local pids=() i bad=0
	for i in $(seq 100); do
		timeout 90 cat events >"$WORK/cat.$i" 2>"$WORK/cat.$i.err" &
		pids+=($!)
	done
	ev_wait_all 20 '"path":"environments/prod"' "$WORK"/cat.{1..100} ||
		fail "$(wc -l <<<"$MISSING") of 100 cat did not print the existing line within 20 s"
	sleep 0.5
	run timeout 10 mkdir environments/dev
	expect_rc 0
	run timeout 10 cat environments/prod/critical
	expect "0"
	ev_wait_all 20 '"path":"environments/dev"' "$WORK"/cat.{1..100} ||
		fail "$(wc -l <<<"$MISSING") of 100 waiting cat did not print the change within 20 s"
	for i in $(seq 100); do
		[ "$(ev_norm <"$WORK/cat.$i")" = "environment.created environments/prod {}
environment.created environments/dev {}" ] || bad=$((bad + 1))
		ev_alive "${pids[i - 1]}" || bad=$((bad + 1))
	done
	[ $bad = 0 ] || fail "$bad: cat that printed other than the two events or returned, e.g.: $(cat "$WORK/cat.1" "$WORK/cat.1.err")"
	ev_stop "${pids[@]}"
	run timeout 10 mkdir environments/after
	expect_rc 0
	run timeout 10 ls environments
	expect "after
dev
prod"
}

# 5. A reader that opens events and does not read does not hold up
# writers, nor the readers that do read; when it reads at last it gets
# everything from the start.
test_reader_that_never_reads_blocks_nothing() {
	run mkdir environments/prod
	expect_rc 0
	timeout 60 bash -c 'exec 9<events || exit 1
		touch "$1/opened"
		until [ -e "$1/go" ]; do sleep 0.1; done
		timeout 5 dd iflag=nonblock status=none <&9 >"$1/idle.out"
		echo $? >"$1/idle.rc"' _ "$WORK" &
	local idle=$!
	until_true 5 test -e "$WORK/opened" || fail "could not open events"
	timeout 60 cat events >"$WORK/cat.out" 2>"$WORK/cat.err" &
	local cat=$!
	ev_wait 5 "$WORK/cat.out" "environment.created environments/prod {}" ||
		fail "cat did not print the existing line within 5 s"
	run timeout 20 bash -c 'for i in $(seq 50); do mkdir environments/prod/runtimes/a$i || exit; done'
	expect_rc 0
	local want
	want="environment.created environments/prod {}
$(for i in $(seq 50); do echo "runtime.created $EV_RT/a$i {\"type\":\"agent\"}"; done)"
	ev_snap all
	run ev_norm <"$WORK/all"
	expect "$want"
	ev_check "$WORK/all" "a read after 50 changes"
	# the reader that reads got them all
	ev_wait 10 "$WORK/cat.out" "runtime.created $EV_RT/a50 {\"type\":\"agent\"}" ||
		fail "the waiting cat did not get the 50th change within 10 s"
	run ev_norm <"$WORK/cat.out"
	expect "$want"
	# the one that did not read gets them from the start
	touch "$WORK/go"
	until_true 10 test -s "$WORK/idle.rc" ||
		fail "the reader that had not read could not read within 10 s"
	run cat "$WORK/idle.rc"
	expect "0"
	run cat "$WORK/idle.out"
	expect "$(cat "$WORK/all")"
	ev_stop "$cat" "$idle"
}

# 6. -o events_keep=N keeps the last N events, across remounts.  The
# flusher drops the older ones (with N=5, once there are 6).  st_size is
# the length of the whole stream since the database was made, and only
# grows: with S(k) the size after the k-th line (seq k, on a new
# database), a read from the start gets lines OLDEST..LAST, which are
# S(LAST) - S(OLDEST - 1) bytes, st_size being S(LAST); the newest bytes
# are found by a seek from st_size (tail -c); mtime is the last line's
# time.
test_window_keeps_the_last_n() {
	remount -o events_keep=5 || return
	local i n size blk sizes=(0) want
	blk=$(stat -c %o events)
	# lines until the stream is larger than st_blksize: only then does
	# tail -c seek from st_size (coreutils reads a smaller file to its
	# end, as /proc's, and a read at the end of events waits)
	for ((n = 1; n <= 200; n++)); do
		run mkdir environments/e$n
		expect_rc 0
		size=$(stat -c %s events)
		[[ $size =~ ^[0-9]+$ ]] && [ "$size" -gt "${sizes[n - 1]}" ] ||
			{ fail "st_size went from ${sizes[n - 1]} to '$size' with line $n"; return; }
		sizes[n]=$size
		[ "$size" -le "$blk" ] || [ $n -lt 8 ] || break
	done
	want=$(for ((i = n - 4; i <= n; i++)); do echo "environment.created environments/e$i {}"; done)
	ev_window 5 five "$want" || return
	ev_check "$WORK/five" "the window of 5"
	run jq -r .seq "$WORK/five"
	expect "$(seq $((n - 4)) $n)"
	# each line kept is the piece of the stream its seq stands for
	run awk '{ print length($0) + 1 }' "$WORK/five"
	expect "$(for ((i = n - 4; i <= n; i++)); do echo $((sizes[i] - sizes[i - 1])); done)"
	run stat -c %s events
	expect "${sizes[n]}"
	run wc -c <"$WORK/five"
	expect $((sizes[n] - sizes[n - 5]))
	ev_tail_c "the window of 5" "$WORK/five"
	# mtime: the time of the last event
	run stat -c %Y events
	expect "$(date -d "$(tail -n 1 "$WORK/five" | jq -r .time)" +%s)"
	# one more: the oldest goes, st_size grows by the new line
	run mkdir environments/e$((n + 1))
	expect_rc 0
	size=$(stat -c %s events)
	[[ $size =~ ^[0-9]+$ ]] && [ "$size" -gt "${sizes[n]}" ] ||
		fail "st_size went from ${sizes[n]} to '$size' with one more line"
	sizes[n + 1]=$size
	want=$(for ((i = n - 3; i <= n + 1; i++)); do echo "environment.created environments/e$i {}"; done)
	ev_window 5 next "$want" || return
	ev_check "$WORK/next" "the window after one more"
	run wc -c <"$WORK/next"
	expect $((sizes[n + 1] - sizes[n - 4]))
	[ "$(tail -n 1 "$WORK/next" | wc -c)" = $((sizes[n + 1] - sizes[n])) ] ||
		fail "the new line is not the $((sizes[n + 1] - sizes[n])) bytes st_size grew by"
	ev_tail_c "after one more" "$WORK/next"
	# across a remount: the same window, the same size
	remount -o events_keep=5 || return
	ev_snap remounted
	run cat "$WORK/remounted"
	expect "$(cat "$WORK/next")"
	run stat -c %s events
	expect "${sizes[n + 1]}"
	ev_tail_c "after the remount" "$WORK/remounted"
	run stat -c %Y events
	expect "$(date -d "$(tail -n 1 "$WORK/next" | jq -r .time)" +%s)"
}

# 7. events is read-only to everyone, root included, and readable by all.
test_events_is_read_only() {
	run mkdir environments/prod
	expect_rc 0
	run stat -c '%a %A %F' events
	expect "444 -r--r--r-- regular file"
	ev_snap before
	run ev_norm <"$WORK/before"
	expect "environment.created environments/prod {}"
	local what
	for what in 'echo x > events' 'printf x >> events' 'rm -f events'; do
		sh "$what"
		[ "$RC" != 0 ] || fail "$what: succeeded"
		case $OUT in
		*"Permission denied"* | *"Operation not permitted"*) ;;
		*) fail "$what: expected Permission denied or Operation not permitted, got: $OUT" ;;
		esac
	done
	# nor renamed away
	sh 'mv events gone'
	[ "$RC" != 0 ] || fail "mv events gone: succeeded"
	run stat -c '%n %a %F' events
	expect "events 444 regular file"
	run stat gone
	expect_rc 1
	ev_snap after
	run cat "$WORK/after"
	expect "$(cat "$WORK/before")"
	# anyone may read it
	remount -o allow_other
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		timeout 5 dd if=events iflag=nonblock status=none
	expect "$(cat "$WORK/before")"
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		bash -c 'echo x > events'
	[ "$RC" != 0 ] || fail "another user's write to events succeeded"
	ev_snap after2
	run cat "$WORK/after2"
	expect "$(cat "$WORK/before")"
}

# 8. events is not listed (tar, cp -a, grep -r of the mount never come to
# wait on it), and is there by name: ls -l, stat, test -e, a read.
# Snapshots have none.
test_events_is_not_listed() {
	run mkdir environments/prod
	expect_rc 0
	ev_snap by_name || return
	run ev_norm <"$WORK/by_name"
	expect "environment.created environments/prod {}"
	run ls -a
	expect_rc 0
	grep -qx events <<<"$OUT" && fail "ls -a lists events: $OUT"
	grep -qx environments <<<"$OUT" || fail "ls -a does not list environments: $OUT"
	run find . -maxdepth 1 -name events
	expect ""
	# by name
	run ls -l events
	expect_rc 0
	expect_has "-r--r--r-- "
	run stat -c '%n %F %s' events
	expect "events regular file $(wc -c <"$WORK/by_name")"
	run test -e events
	expect_rc 0
	run test -e snapshots/../events
	expect_rc 0
	# a whole-mount walk returns, without events
	# (MOUNT/audit, a file like any other, holds the change too)
	run timeout 30 grep -r -l --exclude=audit \
		'"kind":"environment.created"' .
	expect_rc 1
	expect ""
	run timeout 30 bash -c 'tar -cf - . | tar -tf -'
	expect_rc 0
	grep -q 'events' <<<"$OUT" && fail "tar of the mount has events: $OUT"
	grep -qx './environments/prod/' <<<"$OUT" || fail "tar of the mount has not environments/prod: $OUT"
	run timeout 30 cp -a . "$WORK/copy"
	expect_rc 0
	run test -e "$WORK/copy/events"
	expect_rc 1
	# snapshots have none
	run mkdir snapshots/s1
	expect_rc 0
	run ls -a snapshots/s1
	grep -qx events <<<"$OUT" && fail "a snapshot lists events: $OUT"
	run stat snapshots/s1/events
	expect_rc 1
	expect_has "No such file or directory"
}

# 9. tail -F (follow by name, reopening) follows as tail -f does, while
# the window (events_keep=5) drops lines behind it: each change once, in
# order, and never "file truncated" (st_size only grows) nor "replaced"
# or "inaccessible" (events stays one file).
test_tail_F_follows() {
	remount -o events_keep=5 || return
	run mkdir environments/prod
	expect_rc 0
	timeout 90 tail -F events >"$WORK/tail.out" 2>"$WORK/tail.err" &
	local tail=$! i want
	ev_wait 5 "$WORK/tail.out" "environment.created environments/prod {}" ||
		fail "tail -F did not show the existing line within 5 s: $(cat "$WORK/tail.out" "$WORK/tail.err")"
	want="environment.created environments/prod {}"
	for i in $(seq 9); do
		run mkdir environments/e$i
		expect_rc 0
		want+=$'\n'"environment.created environments/e$i {}"
		# each seen before the next, so that the window (5) never drops
		# a line it has not read yet
		ev_wait 5 "$WORK/tail.out" "environment.created environments/e$i {}" ||
			{ fail "tail -F did not show change $i within 5 s"; break; }
	done
	# one more, after a pause long enough for the flusher to have
	# dropped lines and tail to have polled a few times
	sleep 2
	run mkdir environments/last
	expect_rc 0
	want+=$'\n'"environment.created environments/last {}"
	ev_wait 5 "$WORK/tail.out" "environment.created environments/last {}" ||
		fail "tail -F did not show the last change within 5 s"
	ev_stop "$tail"
	run ev_norm <"$WORK/tail.out"
	expect "$want"
	ev_check "$WORK/tail.out" "tail -F"
	run cat "$WORK/tail.err"
	expect ""
	# the window did drop lines while tail -F followed
	ev_window 5 window "$(tail -n 5 <<<"$want")"
}

# 10. Two hosts on one database (PostgreSQL): a line one host writes
# wakes a cat waiting at the end of events on the other's mount within
# 2 s, both ways; a tail -f on each mount shows the one stream, each line
# once, seq and time alike; a status by time that both hosts' flushers
# see (one clock) is written once.
test_two_mounts_see_each_others_events() {
	on_pg || { pg_only "two daemons on one database"; return; }
	clock_remount || return
	run mkdir environments/prod
	expect_rc 0
	local h2=$WORK/h2 H2 pids=() i from who t0 took
	mkdir -p "$h2"
	mount_db "$DB" "$h2" "$WORK/h2.log" -o "test_clock=$WORK/clock" ||
		{ fail "the second daemon did not mount: $(tail -3 "$WORK/h2.log")"; return; }
	H2=$STARTED
	from=$(ev_last_seq)
	timeout 90 cat events >"$WORK/c1.out" 2>"$WORK/c1.err" &
	pids+=($!)
	timeout 90 cat "$h2/events" >"$WORK/c2.out" 2>"$WORK/c2.err" &
	pids+=($!)
	timeout 90 tail -f events >"$WORK/t1.out" 2>"$WORK/t1.err" &
	pids+=($!)
	timeout 90 tail -f "$h2/events" >"$WORK/t2.out" 2>"$WORK/t2.err" &
	pids+=($!)
	for who in c1 c2 t1 t2; do
		ev_wait 5 "$WORK/$who.out" "environment.created environments/prod {}" ||
			fail "$who did not show the existing line within 5 s: $(cat "$WORK/$who.out" "$WORK/$who.err")"
	done
	# ev_seen_within WHAT FILE LINE: FILE shows LINE within 2 s
	ev_seen_within() {
		t0=${EPOCHREALTIME/./}
		if ! ev_wait 2 "$2" "$3"; then
			fail "$1: not seen within 2 s: $3"
			return 1
		fi
		took=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
		echo "    $1: seen after $took ms"
	}
	for i in 1 2 3; do
		run mkdir environments/a$i
		expect_rc 0
		ev_seen_within "host 1's mkdir $i, by a cat waiting on host 2" \
			"$WORK/c2.out" "environment.created environments/a$i {}"
		run mkdir "$h2/environments/b$i"
		expect_rc 0
		ev_seen_within "host 2's mkdir $i, by a cat waiting on host 1" \
			"$WORK/c1.out" "environment.created environments/b$i {}"
	done
	# a registration through host 2, then its OFFLINE by time, which
	# both flushers see: one line
	run touch environments/prod/secrets/orders-eu-1
	expect_rc 0
	SECRET=$(secret_of environments/prod/secrets/orders-eu-1)
	send "$(hb "$SECRET" orders-eu-1)" "$h2"
	expect_has '"acknowledged":true'
	local key=${SECRET%%.*}
	advance 31
	ev_wait 6 "$WORK/c1.out" "runtime.status $EV_RT/orders-eu-1 {\"from\":\"RUNNING\",\"to\":\"OFFLINE\"}" ||
		fail "host 1 did not show RUNNING -> OFFLINE within 6 s of the clock passing offline_after"
	# time for both flushers to have looked, and a second line to show
	sleep 3
	run mkdir "$h2/environments/marker"
	expect_rc 0
	for who in c1 c2 t1 t2; do
		ev_wait 5 "$WORK/$who.out" "environment.created environments/marker {}" ||
			fail "$who did not show the marker within 5 s"
	done
	ev_stop "${pids[@]}"
	ev_steps "$WORK/t1.out" "$from" "environment.created environments/a1 {}
--
environment.created environments/b1 {}
--
environment.created environments/a2 {}
--
environment.created environments/b2 {}
--
environment.created environments/a3 {}
--
environment.created environments/b3 {}
--
secret.created environments/prod/secrets/orders-eu-1 {\"key_id\":\"$key\"}
--
project.created projects/shop {}
integration.created projects/shop/integrations/orders {\"type\":\"MI\"}
runtime.registered $EV_RT/orders-eu-1 {\"type\":\"MI\",\"project\":\"shop\",\"integration\":\"orders\",\"status\":\"RUNNING\"}
--
runtime.status $EV_RT/orders-eu-1 {\"from\":\"RUNNING\",\"to\":\"OFFLINE\"}
--
environment.created environments/marker {}"
	# the one stream, line for line, seq and time included, on both
	# mounts and to both kinds of reader
	local from_there='index($0, "{\"seq\":" from ",") == 1 { on = 1 } on'
	awk -v from="$from" "$from_there" "$WORK/t1.out" >"$WORK/stream"
	for who in c1 c2 t1 t2; do
		ev_check "$WORK/$who.out" "$who"
		run awk -v from="$from" "$from_there" "$WORK/$who.out"
		[ "$OUT" = "$(cat "$WORK/stream")" ] ||
			fail "$who did not show the stream t1 showed: $(head -c 600 <<<"$OUT")"
		run cat "$WORK/$who.err"
		expect ""
	done
	ev_snap all1
	run timeout 5 dd if="$h2/events" iflag=nonblock status=none
	expect "$(cat "$WORK/all1")"
	run stat -c %s "$h2/events"
	expect "$(stat -c %s events)"
	fusermount3 -u "$h2"
	wait "$H2" || fail "the second daemon exited with $? (log: $(tail -5 "$WORK/h2.log"))"
}

# less +F (less following a file, as tail -f does) shows a line that
# comes while it follows: run in a terminal of script(1)'s, its screen
# kept in a typescript; killed at the end, as a user's Ctrl-C would.
test_less_follows() {
	run mkdir environments/a
	expect_rc 0
	(sleep 2; mkdir environments/b) &
	local maker=$!
	# (in a shell of its own, which keeps the "Killed" note to itself)
	bash -c 'TERM=xterm timeout -s KILL 8 script -qfc "less +F events" \
		"$1" >/dev/null 2>&1 < <(sleep 10)' - "$WORK/typescript" \
		2>/dev/null
	wait "$maker"
	grep -a -q 'environments/a' "$WORK/typescript" ||
		fail "less +F did not show the line there when it started"
	grep -a -q 'environments/b' "$WORK/typescript" ||
		fail "less +F did not show the line that came while it followed"
}
