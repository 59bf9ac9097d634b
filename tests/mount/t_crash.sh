# t_crash.sh - kill -9 of the daemon at random moments while writers
# change the tree, and of a restore's daemon while it commits; and the
# database on a full filesystem.  What was acknowledged must be there
# afterwards, exactly (heartbeat times aside, which are batched by design:
# README, "Throughput"), the database must pass PRAGMA integrity_check,
# and a restore is whole or not at all.
#
# The moments come from $RANDOM seeded with CRASH_SEED (printed; set it to
# repeat a run); CRASH_ROUNDS (10) rounds each.

CRASH_ROUNDS=${CRASH_ROUNDS:-10}
CRASH_WRITERS=3
# how late the flusher may write a heartbeat time beyond its 500 ms
CRASH_HB_SLACK_US=250000

# Seeds $RANDOM and says with what.
crash_seed() {
	CRASH_SEED=${CRASH_SEED:-$(( $(date +%s%N) % 1000000 ))}
	RANDOM=$CRASH_SEED
	echo "    $1: seed $CRASH_SEED (CRASH_SEED=$CRASH_SEED to repeat)"
}

# A writer's log lines: ack WHAT ARGS after a success, nak MESSAGE after
# a failure (on one line); they use the writer's $r, $t0 and $log.  Times
# are in microseconds.
ack() {
	echo "$r ${EPOCHREALTIME/./} $t0 $*" >> "$log"
}

nak() {
	echo "$r ${EPOCHREALTIME/./} $t0 fail ${*//$'\n'/ }" >> "$log"
}

# crash_writer K R: writer K's operations in round R, through the mount,
# until one fails.  Each line of $WORK/acks/R.K is written once the call
# it names returned success: "ROUND ACK_US SENT_US WHAT ARGS"; a pin is
# written once more before it is tried ("try-pin"), a failure as "fail".
crash_writer() {
	local k=$1 r=$2 i=0 n t0 tag key err reply v name regs=() b
	local log=$WORK/acks/$2.$1 rt=environments/prod/runtimes/w$1

	t0=${EPOCHREALTIME/./}
	{ exec 3<>heartbeat; } 2>"$WORK/err.$k" || { nak "$(cat "$WORK/err.$k")"; return; }
	n=$(ls "$rt/versions" 2>&1) || { nak "$n"; return; }
	n=$(sort -n <<<"$n" | tail -1)
	while :; do
		i=$((i + 1))
		tag=$k.$r.$i
		t0=${EPOCHREALTIME/./}
		err=$(mkdir "environments/e$tag" 2>&1) || { nak "$err"; return; }
		ack env "e$tag"
		t0=${EPOCHREALTIME/./}
		err=$(touch "environments/prod/secrets/s$tag" 2>&1) || { nak "$err"; return; }
		ack secret "s$tag"
		key=$(secret_of "environments/prod/secrets/s$tag" 2>&1)
		[[ $key =~ ^[0-9a-f]{8}\. ]] || { nak "read s$tag: $key"; return; }
		ack secret-key "s$tag" "$key"
		t0=${EPOCHREALTIME/./}
		err=$( { spec "$tag" > "$rt/spec"; } 2>&1) || { nak "$err"; return; }
		n=$((n + 1))
		ack deploy "w$k" "$n" "$tag"
		v=$((i % 2 ? 1 : n))
		t0=${EPOCHREALTIME/./}
		echo "$r $t0 $t0 try-pin w$k $v" >> "$log"
		err=$( { echo "$v" > "$rt/endpoints/canary/version"; } 2>&1) || { nak "$err"; return; }
		ack pin "w$k" "$v"
		if [ $((i % 2)) = 0 ]; then
			name=m$tag
			t0=${EPOCHREALTIME/./}
			err=$(touch "environments/prod/secrets/r$tag" 2>&1) || { nak "$err"; return; }
			key=$(secret_of "environments/prod/secrets/r$tag" 2>&1)
			[[ $key =~ ^[0-9a-f]{8}\. ]] || { nak "read r$tag: $key"; return; }
			t0=${EPOCHREALTIME/./}
			err=$( { printf '%s' "$(hb "$key" "$name")" >&3; } 2>&1) || { nak "$err"; return; }
			ack register "$name" "$key"
			reply=$(cat <&3 2>&1)
			[[ $reply =~ \"acknowledged\":true,.*\"runtimeId\":\"([0-9a-f-]{36})\" ]] ||
				{ nak "reply: $reply"; return; }
			ack runtime-id "$name" "${BASH_REMATCH[1]}"
			regs=("$name $key" "${regs[@]:0:1}")
		fi
		for b in "${regs[@]}"; do
			t0=${EPOCHREALTIME/./}
			err=$( { printf '%s' "$(hb "${b#* }" "${b%% *}")" >&3; } 2>&1) || { nak "$err"; return; }
			ack heartbeat "${b%% *}"
		done
		if [ "$k" = 1 ] && [ $((i % 3)) = 0 ]; then
			t0=${EPOCHREALTIME/./}
			err=$(mkdir "snapshots/n$r.$i" 2>&1) || { nak "$err"; return; }
			ack snapshot "n$r.$i"
		fi
	done
}

# Lines of $1 (one name a line) missing from $2, at most 5, on one line.
missing() {
	comm -23 <(sort -u <<<"$1") <(sort -u <<<"$2") | grep . | head -5 | tr '\n' ' '
}

# Checks, through the mount, every change the writers' logs say was
# acknowledged in rounds up to now; $WORK/kills holds "ROUND KILL_US".
crash_check() {
	local r tack tsend what a b c f v want have line
	local -A kill_us deploy_tag pin_last pin_later reg_key reg_id hb_min
	local -A key_of snap_sent
	local got=() lost=()
	local envs='' secrets='' snaps='' errors=
	local slack=$((500000 + CRASH_HB_SLACK_US))

	CRASH_HB_HELD=0
	while read -r r tack; do kill_us[$r]=$tack; done < "$WORK/kills"
	sort -n -k2 "$WORK"/acks/* > "$WORK/acks.all"
	while read -r r tack tsend what a b c; do
		case $what in
		env) envs+="$a"$'\n' ;;
		secret) secrets+="$a"$'\n' ;;
		secret-key) key_of[$a]=$b ;;
		deploy) deploy_tag[$a/$b]=$c ;;
		try-pin) pin_later[$a]+=" $b" ;;
		pin) pin_last[$a]=$b pin_later[$a]= ;;
		register)
			reg_key[$a]=$b
			hb_min[$a]=$tsend ;;
		runtime-id) reg_id[$a]=$b ;;
		heartbeat)
			# durable once the flusher ran after it, 500 ms at most
			[ $((tack + slack)) -ge "${kill_us[$r]:-0}" ] || {
				hb_min[$a]=$tsend
				CRASH_HB_HELD=$((CRASH_HB_HELD + 1))
			} ;;
		snapshot)
			snaps+="$a"$'\n'
			snap_sent[$a]=$tsend ;;
		fail)
			case "$a $b $c" in
			*"not connected"*|*"connection abort"*) ;;
			*) errors+="$a $b $c; " ;;
			esac ;;
		esac
	done < "$WORK/acks.all"
	[ -z "$errors" ] || fail "a writer failed while the daemon ran: $errors"

	have=$(ls environments)
	[ -z "$(missing "$envs" "$have")" ] ||
		fail "LOST: acknowledged environments missing: $(missing "$envs" "$have")"
	have=$(ls environments/prod/secrets)
	[ -z "$(missing "$secrets" "$have")" ] ||
		fail "LOST: acknowledged secrets missing: $(missing "$secrets" "$have")"
	# each secret's key as it was read after its creation
	want='' have=''
	for a in "${!key_of[@]}"; do want+="$a ${key_of[$a]}"$'\n'; done
	have=$(grep -H '^secret = ' environments/prod/secrets/s* 2>/dev/null |
		sed 's|^environments/prod/secrets/\([^:]*\):secret = "\(.*\)"|\1 \2|' | sort -u)
	[ -z "$(missing "$want" "$have")" ] ||
		fail "LOST: secrets whose key changed or went: $(missing "$want" "$have")"
	# versions with the number each deploy was acknowledged as, and
	# DEFAULT on the latest
	want='' have=''
	for a in "${!deploy_tag[@]}"; do want+="$a ${deploy_tag[$a]}"$'\n'; done
	have=$(grep -H '"imageUrl"' environments/prod/runtimes/w*/versions/* |
		sed 's|^environments/prod/runtimes/\([^/]*\)/versions/\([0-9]*\):.*chat:\([^"]*\)".*|\1/\2 \3|')
	[ -z "$(missing "$want" "$have")" ] ||
		fail "LOST: deployed versions missing or different (runtime/version tag): $(missing "$want" "$have")"
	for f in environments/prod/runtimes/w*; do
		v=$(cat "$f/endpoints/DEFAULT/version")
		[ "$v" = "$(ls "$f/versions" | sort -n | tail -1)" ] ||
			fail "$f: DEFAULT is on $v, not on the latest version"
	done
	# a pin is the last acknowledged one, or one tried after it
	for a in "${!pin_last[@]}"; do
		v=$(cat "environments/prod/runtimes/$a/endpoints/canary/version")
		case " ${pin_last[$a]} ${pin_later[$a]} " in
		*" $v "*) ;;
		*) fail "LOST: $a's canary is on $v; acknowledged last: ${pin_last[$a]}, tried after it:${pin_later[$a]:- none}" ;;
		esac
	done
	# registered runtimes, their ids, their secrets bound, and their last
	# heartbeat no older than the last one the flusher had time to write
	lost=()
	for a in "${!reg_key[@]}"; do
		f=environments/prod/runtimes/$a
		mapfile -t got < <(cat "$f/id" "$f/secret" "$f/last_heartbeat" 2>&1)
		v=$(TZ=UTC printf '%(%Y-%m-%dT%H:%M:%SZ)T' "${hb_min[$a]:0:-6}")
		if [ "${got[0]}" != "${reg_id[$a]:-${got[0]}}" ] ||
		   [ "${got[1]}" != "${reg_key[$a]%%.*}" ]; then
			lost+=("$a: id and secret are ${got[*]:0:2}; acknowledged: ${reg_id[$a]:-?} ${reg_key[$a]%%.*}.")
		elif [[ ${got[2]} < $v ]]; then
			lost+=("$a: last_heartbeat ${got[2]}, older than $v, acknowledged over 500 ms before the kill.")
		elif grep '^secret = ' "$f/secret.toml" | grep -q -v -F "\"${reg_key[$a]}\""; then
			lost+=("$a: secret.toml does not hold the secret it registered with.")
		fi
	done
	[ ${#lost[@]} = 0 ] ||
		fail "LOST: ${#lost[@]} registered runtime(s) not as acknowledged: ${lost[*]:0:3}"
	# snapshots: listed, readable, and holding what was acknowledged
	# before they were asked for
	have=$(ls snapshots)
	[ -z "$(missing "$snaps" "$have")" ] ||
		fail "LOST: acknowledged snapshots missing: $(missing "$snaps" "$have")"
	for a in "${!snap_sent[@]}"; do
		want=$(awk -v t="${snap_sent[$a]}" '$4 == "env" && $2 < t { print $5 }' "$WORK/acks.all")
		have=$(ls "snapshots/$a/environments" 2>&1)
		[ -z "$(missing "$want" "$have")" ] ||
			fail "LOST: snapshot $a lacks environments acknowledged before it: $(missing "$want" "$have")"
	done
	a=$(printf '%s' "$snaps" | tail -1)
	[ -z "$a" ] || jq -e .imageUrl "snapshots/$a/environments/prod/runtimes/w1/spec" \
		>/dev/null || fail "snapshot $a: w1's spec is not readable"
	CRASH_CHECKED=$(awk '$4 !~ /^(fail|try-pin)$/ { n[$4]++ }
		END { for (k in n) printf "%d %s, ", n[k], k }' "$WORK/acks.all")
}

# Whether any of the processes given is still running.
any_alive() {
	local p

	for p; do
		kill -0 "$p" 2>/dev/null && return 0
	done
	return 1
}

test_kill9_during_writes() {
	local r k delay pids=() t t0

	crash_seed "kill -9 during writes"
	mkdir -p "$WORK/acks" environments/prod
	: > "$WORK/kills"
	t0=${EPOCHREALTIME/./}
	for k in $(seq "$CRASH_WRITERS"); do
		mkdir "environments/prod/runtimes/w$k"
		spec "$k.0.0" > "environments/prod/runtimes/w$k/spec"
		mkdir "environments/prod/runtimes/w$k/endpoints/canary"
		echo "0 ${EPOCHREALTIME/./} $t0 deploy w$k 1 $k.0.0" >> "$WORK/acks/0.0"
		echo "0 ${EPOCHREALTIME/./} $t0 pin w$k 1" >> "$WORK/acks/0.0"
	done
	for r in $(seq "$CRASH_ROUNDS"); do
		pids=()
		for k in $(seq "$CRASH_WRITERS"); do
			crash_writer "$k" "$r" 2>/dev/null &
			pids+=("$!")
		done
		# (not in $(...): a subshell draws from a generator of its own)
		printf -v delay '0.%03d' $((RANDOM % 1000))
		sleep "$delay"
		echo "$r ${EPOCHREALTIME/./}" >> "$WORK/kills"
		kill9_unmount || return
		for t in $(seq 100); do
			any_alive "${pids[@]}" || break
			sleep 0.1
		done
		! any_alive "${pids[@]}" || { fail "round $r: writers still running 10 s after the kill"; return; }
		wait "${pids[@]}"
		db_check "$DB" "round $r, kill -9 after $delay s" || return
		mount_fs || return
		cd "$MNT" || return
		crash_check
		[ "$TEST_FAILED" = 0 ] || { echo "    round $r (kill -9 after $delay s) failed" >&2; return; }
	done
	echo "    $CRASH_ROUNDS rounds; found after the kills: ${CRASH_CHECKED%, }; $CRASH_HB_HELD heartbeat times were acknowledged over $(((500000 + CRASH_HB_SLACK_US) / 1000)) ms before a kill"
}

# A tree for a restore to commit: two environments, a project with two
# integrations, MI runtimes registered with environment and integration
# secrets, agent runtimes with three versions and a canary, unbound
# secrets; backed up with tar from a snapshot into $WORK/b.tar.
crash_backup() {
	local i a

	mkdir -p environments/prod environments/dev \
		projects/shop/integrations/orders projects/shop/integrations/billing
	echo 1 > environments/prod/critical
	for i in 1 2 3 4; do
		touch "environments/prod/secrets/mi$i"
		send "$(hb "$(secret_of "environments/prod/secrets/mi$i")" "mi$i")"
		touch "projects/shop/integrations/billing/secrets/prod/bi$i"
		send "$(hb "$(secret_of "projects/shop/integrations/billing/secrets/prod/bi$i")" "bi$i" prod shop billing)"
		touch "environments/dev/secrets/spare$i"
	done
	for i in $(seq 8); do
		a=environments/prod/runtimes/a$i
		mkdir "$a"
		spec "$i.1" > "$a/spec"
		spec "$i.2" > "$a/spec"
		spec "$i.3" > "$a/spec"
		mkdir "$a/endpoints/canary"
		echo 1 > "$a/endpoints/canary/version"
	done
	ln -s ../../../../../../environments/prod/runtimes/a1 \
		projects/shop/integrations/billing/runtimes/prod/a1
	echo stop > environments/prod/runtimes/a2/ctl
	mkdir snapshots/b
	tar -C snapshots/b -cf "$WORK/b.tar" .
	tree_listing snapshots/b > "$WORK/b.listing"
}

# restore_into DB: restores $WORK/b.tar into DB with -o restore at
# $WORK/new, and unmounts; the daemon, committing, is $D2.
restore_into() {
	mkdir -p "$WORK/new"
	mount_db "$1" "$WORK/new" "$WORK/new.log" -o restore || {
		fail "the restore mount did not start: $(tail -2 "$WORK/new.log")"
		return 1
	}
	D2=$STARTED
	tar -C "$WORK/new" -xf "$WORK/b.tar" || fail "tar into the restore mount failed"
	fusermount3 -u "$WORK/new"
}

# What a database shows mounted as usual: "whole" when it lists as the
# backup does, "empty" when it has no environment and no project,
# otherwise the difference.
restored_state() {
	local out

	mount_db "$1" "$WORK/new" "$WORK/new.log" || {
		echo "does not mount: $(tail -2 "$WORK/new.log")"
		return
	}
	out=$(diff "$WORK/b.listing" <(tree_listing "$WORK/new"))
	if [ -z "$out" ]; then
		echo whole
	elif ! find "$WORK/new/environments" "$WORK/new/projects" -mindepth 1 | grep -q .; then
		echo empty
	else
		echo "partial: $(head -c 300 <<<"$out")"
	fi
	fusermount3 -u "$WORK/new"
	wait "$STARTED"
}

test_kill9_during_restore_commit() {
	local r t0 took delay state whole=0 empty=0

	crash_seed "kill -9 during a restore's commit"
	crash_backup
	# once without a kill, to time the commit
	restore_into "$(second_db c)" || return
	t0=${EPOCHREALTIME/./}
	wait "$D2" || fail "the restore was refused: $(tail -1 "$WORK/new.log")"
	took=$(( ${EPOCHREALTIME/./} - t0 ))
	[ "$(restored_state "$(second_db c)")" = whole ] || fail "the restore without a kill is not whole"
	echo "    the commit took $((took / 1000)) ms"
	for r in $(seq "$CRASH_ROUNDS"); do
		drop_db "$(second_db r)"
		rm -f "$WORK"/r.db*
		restore_into "$(second_db r)" || return
		# from the unmount to 150% of the commit's time, in steps of 0.1%
		delay=$((took * (RANDOM % 1500) / 1000))
		sleep "$(printf '%d.%06d' $((delay / 1000000)) $((delay % 1000000)))"
		kill -9 "$D2" 2>/dev/null
		wait "$D2" 2>/dev/null
		db_check "$(second_db r)" "round $r, kill -9 $delay us after the unmount" || return
		state=$(restored_state "$(second_db r)")
		case $state in
		whole) whole=$((whole + 1)) ;;
		empty)
			empty=$((empty + 1))
			# and a second restore into it goes through
			restore_into "$(second_db r)" || return
			wait "$D2" || fail "round $r: the second restore was refused: $(tail -1 "$WORK/new.log")"
			[ "$(restored_state "$(second_db r)")" = whole ] ||
				fail "round $r: the second restore is not whole"
			;;
		*) fail "NEITHER WHOLE NOR EMPTY: round $r, kill -9 $delay us after the unmount: $state" ;;
		esac
		[ "$TEST_FAILED" = 0 ] || return
	done
	echo "    $CRASH_ROUNDS rounds: $whole whole, $empty empty and restored again"
}

# last_error_is TEXT: .last_error, its time aside, is TEXT.
last_error_is() {
	run cut -d' ' -f2- .last_error
	expect "$1"
}

# The database on a 4 MiB tmpfs, filled: every change fails with ENOSPC,
# says so in .last_error and changes nothing, reads go on; once there is
# room again, changes work, and nothing acknowledged was lost, not even a
# heartbeat time taken while the disk was full.
test_database_on_a_full_tmpfs() {
	local small=$WORK/small before snaps last

	sqlite_only "the database file on a full tmpfs; PostgreSQL's disk" \
		"is the server's" && return
	cd / && unmount_fs
	mkdir "$small" || return
	mount -t tmpfs -o size=4m,mode=0700 tmpfs "$small" ||
		{ fail "cannot mount a tmpfs"; return; }
	# run.sh unmounts the daemon after the test; then the tmpfs goes
	trap 'cd /; unmount_fs; umount "$WORK/small" 2>/dev/null' EXIT
	DB=$small/state.db
	mount_fs || return
	cd "$MNT" || return
	mkdir -p environments/prod/runtimes/chat projects/shop
	spec 1 > environments/prod/runtimes/chat/spec
	spec 2 > environments/prod/runtimes/chat/spec
	mkdir environments/prod/runtimes/chat/endpoints/canary
	echo 1 > environments/prod/runtimes/chat/endpoints/canary/version
	register
	touch environments/prod/secrets/spare environments/prod/secrets/doomed
	SPARE=$(secret_of environments/prod/secrets/spare)
	mkdir snapshots/before
	# unmounted cleanly, the WAL is gone: the next change must grow it
	remount
	before=$(tree_listing .)
	snaps=$(ls -A "$DB.snapshots")
	cat /dev/zero > "$small/filler" 2>/dev/null
	run stat -f -c '%a blocks free' "$small"
	expect "0 blocks free"

	run mkdir environments/dev
	expect "mkdir: cannot create directory ‘environments/dev’: No space left on device"
	last_error_is "mkdir /environments/dev: commit: disk full (No space left on device)"
	run touch environments/prod/secrets/s2
	expect "touch: cannot touch 'environments/prod/secrets/s2': No space left on device"
	last_error_is "create /environments/prod/secrets/s2: commit: disk full (No space left on device)"
	spec 3 > "$WORK/spec3"
	sh "cat '$WORK/spec3' > environments/prod/runtimes/chat/spec"
	expect "cat: write error: No space left on device"
	last_error_is "write /environments/prod/runtimes/chat/spec: commit: disk full (No space left on device)"
	sh 'echo 2 > environments/prod/runtimes/chat/endpoints/canary/version'
	expect "bash: line 1: echo: write error: No space left on device"
	last_error_is "write /environments/prod/runtimes/chat/endpoints/canary/version: commit: disk full (No space left on device)"
	sh 'echo 1 > environments/prod/critical'
	expect "bash: line 1: echo: write error: No space left on device"
	last_error_is "write /environments/prod/critical: commit: disk full (No space left on device)"
	run rm environments/prod/secrets/doomed
	expect "rm: cannot remove 'environments/prod/secrets/doomed': No space left on device"
	last_error_is "unlink /environments/prod/secrets/doomed: commit: disk full (No space left on device)"
	run mkdir snapshots/full
	expect "mkdir: cannot create directory ‘snapshots/full’: No space left on device"
	last_error_is "mkdir /snapshots/full: snapshot: disk full (No space left on device)"
	# a registration is a change; a heartbeat that only moves time is not
	send "$(hb "$SPARE" mi2)"
	expect 'bash: line 1: printf: write error: No space left on device
{"acknowledged":false,"error":"No space left on device","reason":"commit: disk full"}'
	last_error_is "write /heartbeat: commit: disk full (No space left on device)"
	sleep 1.1
	send "$(hb "$SECRET" orders-eu-1)"
	expect_has '"acknowledged":true'
	last=$(cat environments/prod/runtimes/orders-eu-1/last_heartbeat)
	# nothing changed, and the daemon still serves
	run diff <(echo "$before") <(tree_listing .)
	expect ""
	run ls snapshots
	expect "before"
	run ls -A "$DB.snapshots"
	expect "$snaps"
	run cat environments/prod/runtimes/chat/endpoints/canary/version
	expect "1"

	rm "$small/filler"
	mkdir environments/dev
	touch environments/prod/secrets/s2
	cp "$WORK/spec3" environments/prod/runtimes/chat/spec
	echo 2 > environments/prod/runtimes/chat/endpoints/canary/version
	send "$(hb "$SPARE" mi2)"
	expect_has '"acknowledged":true'
	mkdir snapshots/after
	before=$(tree_listing .)
	# the heartbeat time kept in memory while the disk was full was
	# written since
	sleep 0.6
	kill9_unmount
	db_check "$DB" "after the disk was full" || return
	mount_fs || return
	cd "$MNT" || return
	run diff <(echo "$before") <(tree_listing .)
	expect ""
	run ls environments/prod/runtimes/chat/versions snapshots
	expect "environments/prod/runtimes/chat/versions:
1
2
3

snapshots:
after
before"
	run cat environments/prod/runtimes/orders-eu-1/last_heartbeat
	expect "$last"
}

# An unmount while the database's filesystem is full cannot write the
# heartbeat times waiting in memory: it says so in the log and exits 1,
# rather than lose acknowledged times in silence.
test_unmount_on_a_full_disk_says_what_is_lost() {
	local small=$WORK/small last rc

	sqlite_only "the database file on a full tmpfs; PostgreSQL's disk" \
		"is the server's" && return
	cd / && unmount_fs
	mkdir "$small" || return
	mount -t tmpfs -o size=4m,mode=0700 tmpfs "$small" ||
		{ fail "cannot mount a tmpfs"; return; }
	trap 'cd /; unmount_fs; umount "$WORK/small" 2>/dev/null' EXIT
	DB=$small/state.db
	mount_fs || return
	cd "$MNT" || return
	register
	cat /dev/zero > "$small/filler" 2>/dev/null
	sleep 1.1
	send "$(hb "$SECRET" orders-eu-1)"
	expect_has '"acknowledged":true'
	last=$(cat environments/prod/runtimes/orders-eu-1/last_heartbeat)
	sleep 0.6
	cd / || return
	fusermount3 -u "$MNT"
	wait "$DAEMON"
	rc=$?
	DAEMON=
	rm "$small/filler"
	mount_fs || return
	cd "$MNT" || return
	run cat environments/prod/runtimes/orders-eu-1/last_heartbeat
	# an acknowledged time that could not be written is not lost in
	# silence: the unmount fails and says so
	if [ "$OUT" != "$last" ]; then
		[ "$rc" = 1 ] || fail "the unmount lost $last and exited $rc"
		grep -q "heartbeat times could not be written at unmount, and are lost" "$LOG" ||
			fail "the log does not say what was lost: $(tail -3 "$LOG")"
	fi
}
