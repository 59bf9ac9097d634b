#!/usr/bin/env bash
# https.sh - `make bench HTTPS=1` (bench/run.sh hands over to it): ICP's
# heartbeats per second over HTTPS keep-alive, runtimefs against the same
# listener answering a fixed reply, side by side in one run; fsyncs during
# the heartbeats; the daemon's peak RSS with REGISTER runtimes registered
# over HTTPS.  Writes a section of bench/results.md.
#
#   bash bench/https.sh                     (or make bench HTTPS=1)
#   RUNS=3 SECONDS_EACH=3 REGISTER=10000 bash bench/https.sh
#   PERF=/tmp/hbperf bash bench/https.sh    also perf record -g of the daemon
#                                           during deltas and full heartbeats:
#                                           /tmp/hbperf/delta.data, full.data
#
# The client is wrk (Debian's), over TLS with keep-alive, no pipelining:
# CONNS connections, each on a wrk thread of its own, each one runtime
# (its own runtimeId; one secret for all, as replicas share one) POSTing
# its body again and again (bench/heartbeat.lua).  Three kinds of body:
#   delta   tests/fixtures/mi-delta-heartbeat.json with the runtime's
#           runtimeId and the hash of its last full heartbeat: liveness only
#   full    tests/fixtures/mi-full-heartbeat.json, the one that registered
#           the runtime: a full heartbeat that changes nothing
# Each is measured against runtimefs (POST /icp/deltaHeartbeat,
# /icp/heartbeat) and against bench/fixed_reply, which is fs/https.c with
# a handler answering every POST with a delta's reply, 201, on the same
# certificate.  The rows are interleaved (fixed, runtimefs, fixed, ...)
# RUNS times, SECONDS_EACH seconds a run; each figure is the median, with
# the min and the max.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RUNTIMEFS=${RUNTIMEFS:-$repo/build/runtimefs}
FIXED_REPLY=${FIXED_REPLY:-$repo/build/bench/fixed_reply}
ICP_TOKEN=${ICP_TOKEN:-$repo/build/tests/icp-token}
RUNS=${RUNS:-5}
SECONDS_EACH=${SECONDS_EACH:-5}
CONNS=${CONNS:-1 4}
REGISTER=${REGISTER:-100000}
REGISTER_CONNS=${REGISTER_CONNS:-4}
OFFLINE_AFTER=${OFFLINE_AFTER:-86400}
BENCH_DIR=${BENCH_DIR:-/var/tmp/runtimefs-bench}
OUT=${OUT:-$here/results.md}
FULL=$repo/tests/fixtures/mi-full-heartbeat.json
DELTA=$repo/tests/fixtures/mi-delta-heartbeat.json

for f in "$RUNTIMEFS" "$FIXED_REPLY" "$ICP_TOKEN"; do
	[ -x "$f" ] || { echo "bench: $f is missing: run make" >&2; exit 1; }
done
for t in wrk strace jq curl; do
	command -v "$t" >/dev/null || { echo "bench: $t is missing: run make deps" >&2; exit 1; }
done

say() { echo "bench [https]: $*" >&2; }

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/https.XXXXXX")
MNT=$WORK/mnt
DB=$WORK/state.db
mkdir "$MNT"
daemon= fixed= mnt_up=
TAG=https
. "$here/lib.sh"

cleanup() {
	trap - EXIT INT TERM HUP
	if [ -n "$mnt_up" ] && awk -v m="$MNT" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT" || true
	fi
	for p in $daemon $fixed; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start DB PORT: the daemon with its listener, mounted on $MNT
start() {
	"$RUNTIMEFS" --db "$1" -o "offline_after=$OFFLINE_AFTER,icp_listen=127.0.0.1:$2" \
		-f "$MNT" </dev/null >/dev/null 2>>"$WORK/daemon.log" &
	daemon=$!
	mnt_up=1
	for _ in $(seq 600); do
		mountpoint -q "$MNT" && return
		kill -0 "$daemon" 2>/dev/null || break
		sleep 0.05
	done
	fail "the daemon did not mount $MNT"
}
stop() {
	fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null || true
	wait "$daemon" || true
	daemon= mnt_up=
}
alive() {
	kill -0 "$daemon" 2>/dev/null || fail "the daemon died"
	[ -z "$fixed" ] || kill -0 "$fixed" 2>/dev/null || fail "fixed_reply died"
}
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# A secret in environment dev, and the header its runtimes send (MI's
# token, reused as MI reuses it, valid for a day).
setup_secret() {
	mkdir -p "$MNT/environments/dev"
	touch "$MNT/environments/dev/secrets/bench"
	SECRET=$(sed -n 's/^secret = "\(.*\)"$/\1/p' "$MNT/environments/dev/secrets/bench" | head -1)
	[ -n "$SECRET" ] || fail "no secret in environments/dev/secrets/bench"
	AUTH=$("$ICP_TOKEN" -m "$SECRET" 86400)
	AUTH="Bearer $AUTH"
}

# post PORT PATH FILE: the reply's "STATUS BODY"
post() {
	local code
	code=$(curl -sS --cacert "$DB.tls.crt" -H "Authorization: $AUTH" \
		-H 'Content-Type: application/json' --data-binary "@$3" \
		-o "$WORK/reply" -w '%{http_code}' "https://localhost:$1$2") ||
		fail "curl to port $1 $2 failed"
	echo "$code $(cat "$WORK/reply")"
}

# id N: the runtimeId of connection (or registered runtime) N
id() { printf '00000000-0000-4000-8000-%012d' "$1"; }

# -- the servers ------------------------------------------------------------
PORT=$(free_port)
start "$DB" "$PORT"
FPORT=$(free_port)
"$FIXED_REPLY" "127.0.0.1:$FPORT" "$DB.tls.crt" "$DB.tls.key" 2>>"$WORK/fixed.log" &
fixed=$!
for _ in $(seq 100); do
	curl -s -o /dev/null --cacert "$DB.tls.crt" "https://localhost:$FPORT/" && break
	sleep 0.05
done
alive
setup_secret

# each connection's bodies, and its runtime registered by its full one
maxc=$(printf '%s\n' $CONNS | sort -n | tail -1)
hash=$(jq -r .runtimeHash "$FULL")
for ((i = 0; i < maxc; i++)); do
	jq -c --arg id "$(id "$i")" --arg n "$(printf 'c%02d' "$i")" \
		'.runtimeId = $id | .runtime = $n' "$FULL" > "$WORK/full$i.json"
	jq -c --arg id "$(id "$i")" --arg h "$hash" \
		'.runtimeId = $id | .runtimeHash = $h' "$DELTA" > "$WORK/delta$i.json"
	r=$(post "$PORT" /icp/heartbeat "$WORK/full$i.json")
	case $r in '201 {"acknowledged":true,"fullHeartbeatRequired":false,'*) ;;
		*) fail "registering connection $i's runtime: $r" ;; esac
	r=$(post "$PORT" /icp/deltaHeartbeat "$WORK/delta$i.json")
	case $r in '201 {"acknowledged":true,"fullHeartbeatRequired":false,'*) ;;
		*) fail "connection $i's delta: $r" ;; esac
done
[ "$(cat "$MNT/environments/dev/runtimes/c00/status")" = RUNNING ] ||
	fail "runtime c00 is not RUNNING"
say "delta reply: $(post "$PORT" /icp/deltaHeartbeat "$WORK/delta0.json")"
say "fixed reply: $(post "$FPORT" /icp/deltaHeartbeat "$WORK/delta0.json")"
reply_bytes=$(stat -c %s "$WORK/reply")

# CPU time (user + system) of process PID so far, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

# wrk_rate PORT PATH KIND CONNS SECONDS [PID]: "requests/s µs" with the
# CPU µs process PID (the server) spent a request; fails on any error
wrk_rate() {
	local out c0 c1 n
	c0=$(cpu_ticks "${6:-$daemon}")
	out=$(wrk -t "$4" -c "$4" -d "${5}s" --latency -s "$here/heartbeat.lua" \
		"https://127.0.0.1:$1$2" -- bodies "$WORK/$3" "$AUTH" 2>&1) ||
		fail "wrk failed: $out"
	c1=$(cpu_ticks "${6:-$daemon}")
	if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
		fail "wrk saw errors on port $1 $2: $out"
	fi
	n=$(awk '/ requests in / { print $1 }' <<<"$out")
	awk -v n="$n" -v d="$((c1 - c0))" -v t="$TCK" '/^Requests\/sec:/ {
		printf "%.0f %.1f\n", $2, d * 1e6 / t / n }' <<<"$out"
}

# -- heartbeats/s, interleaved ---------------------------------------------
kinds="delta full"
for ((run = 1; run <= RUNS; run++)); do
	for c in $CONNS; do
		for k in $kinds; do
			path=/icp/deltaHeartbeat
			[ "$k" = full ] && path=/icp/heartbeat
			read -r f fu < <(wrk_rate "$FPORT" "$path" "$k" "$c" "$SECONDS_EACH" "$fixed")
			alive
			read -r r ru < <(wrk_rate "$PORT" "$path" "$k" "$c" "$SECONDS_EACH")
			alive
			echo "$f" >> "$WORK/fixed-$k-$c"
			echo "$r" >> "$WORK/rfs-$k-$c"
			echo "$fu" >> "$WORK/fixedcpu-$k-$c"
			echo "$ru" >> "$WORK/rfscpu-$k-$c"
			say "run $run/$RUNS, $k, $c connection(s): fixed $f/s ($fu µs CPU each), runtimefs $r/s ($ru µs)"
		done
	done
done
# still answered as they should be after all that
for ((i = 0; i < maxc; i++)); do
	r=$(post "$PORT" /icp/deltaHeartbeat "$WORK/delta$i.json")
	case $r in '201 {"acknowledged":true,"fullHeartbeatRequired":false,'*) ;;
		*) fail "connection $i's delta after the runs: $r" ;; esac
done
hb_hwm=$(hwm_kb "$daemon")

# -- fsyncs during heartbeats ------------------------------------------------
# strace slows the daemon a lot; these runs count calls, not speed.
# fsync_run KIND PATH: "requests fsyncs" over one run with maxc connections
fsync_run() {
	local out n calls
	strace -c -f -e trace=fsync,fdatasync,sync_file_range -o "$WORK/strace.$1" \
		-p "$daemon" 2>/dev/null &
	local st=$!
	sleep 1
	out=$(wrk -t "$maxc" -c "$maxc" -d "${SECONDS_EACH}s" -s "$here/heartbeat.lua" \
		"https://127.0.0.1:$PORT$2" -- bodies "$WORK/$1" "$AUTH" 2>&1) || fail "wrk failed: $out"
	sleep 1
	kill -INT "$st"
	wait "$st" || true
	n=$(awk '/requests in/ { print $1 }' <<<"$out")
	calls=$(awk '$NF ~ /^(fsync|fdatasync|sync_file_range)$/ { s += $4 } END { print s + 0 }' "$WORK/strace.$1")
	echo "$n $calls"
}
say "fsyncs during $SECONDS_EACH s of deltas from $maxc connections (strace)"
read -r fs_delta_n fs_delta_calls <<<"$(fsync_run delta /icp/deltaHeartbeat)"
alive
say "  $fs_delta_n deltas, $fs_delta_calls fsync/fdatasync calls"
say "fsyncs during $SECONDS_EACH s of full heartbeats that change nothing (strace)"
read -r fs_full_n fs_full_calls <<<"$(fsync_run full /icp/heartbeat)"
alive
say "  $fs_full_n full heartbeats, $fs_full_calls fsync/fdatasync calls"

# -- PERF=DIR: where the daemon's time goes ------------------------------------
if [ -n "${PERF:-}" ]; then
	command -v perf >/dev/null || fail "PERF needs perf (apt-get install linux-perf)"
	mkdir -p "$PERF"
	for k in $kinds; do
		path=/icp/deltaHeartbeat
		[ "$k" = full ] && path=/icp/heartbeat
		say "perf record of the daemon during $SECONDS_EACH s of $k heartbeats from $maxc connections: $PERF/$k.data"
		perf record --call-graph dwarf,16384 -F 999 -o "$PERF/$k.data" -p "$daemon" \
			-- sleep "$((SECONDS_EACH + 1))" >/dev/null 2>&1 &
		pp=$!
		sleep 0.5
		wrk_rate "$PORT" "$path" "$k" "$maxc" "$SECONDS_EACH" >/dev/null
		wait "$pp" || fail "perf record failed"
		alive
	done
fi
stop

# -- REGISTER runtimes over HTTPS -------------------------------------------
say "registering $REGISTER runtimes over HTTPS ($REGISTER_CONNS connections), a new database"
DB2=$WORK/big.db
PORT=$(free_port)
start "$DB2" "$PORT"
DB=$DB2
setup_secret
jq -c '.runtimeId = "@ID@" | .runtime = "@NAME@"' "$FULL" > "$WORK/template.json"
idle_rss=$(rss_kb "$daemon")
t0=$(date +%s.%N)
wrk -t "$REGISTER_CONNS" -c "$REGISTER_CONNS" -d 3600s -s "$here/heartbeat.lua" \
	"https://127.0.0.1:$PORT/icp/heartbeat" -- register "$WORK/template.json" "$AUTH" \
	"$REGISTER" "$WORK/done." "$REGISTER_CONNS" > "$WORK/register.out" 2>&1 &
wrkpid=$!
while :; do
	n=$(ls "$WORK" | grep -c '^done\.' || true)
	[ "$n" -ge "$REGISTER_CONNS" ] && break
	kill -0 "$wrkpid" 2>/dev/null || fail "wrk ended before registering: $(cat "$WORK/register.out")"
	alive
	sleep 0.2
done
t1=$(date +%s.%N)
kill -INT "$wrkpid" 2>/dev/null || true
wait "$wrkpid" || true
reg_s=$(echo "$t1 - $t0" | bc -l)
bad=$(cat "$WORK"/done.* | awk '{ s += $2 } END { print s + 0 }')
[ "$bad" = 0 ] || fail "$bad registrations were not answered 201 acknowledged"
listed=$(ls "$MNT/environments/dev/runtimes" | wc -l)
[ "$listed" = "$REGISTER" ] || fail "environments/dev/runtimes lists $listed runtimes, not $REGISTER"
reg_hwm=$(hwm_kb "$daemon")
reg_rss=$(rss_kb "$daemon")
db2=$(stat -c %s "$DB2" "$DB2-wal" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
say "registered $REGISTER in $(printf '%.1f' "$reg_s") s; VmHWM $(mib "$reg_hwm") MiB"
stop

# -- the section --------------------------------------------------------------
cpu=$(lscpu | awk -F': *' '/^Model name/ { m = $2 } /^CPU family/ { f = $2 }
	/^Model:/ { n = $2 } /^BogoMIPS/ { b = $2 }
	END { printf "%s, family %s model %s, BogoMIPS %s", m, f, n, b }')
grep -qw hypervisor /proc/cpuinfo && cpu="$cpu; virtual machine"
commit=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
wrkv=$(wrk --version 2>&1 | awk 'NR == 1 { print $2 }' || true)
mhdv=$(dpkg-query -W -f='${Version}' libmicrohttpd12 2>/dev/null || echo '?')
gtv=$(dpkg-query -W -f='${Version}' libgnutls30 2>/dev/null || echo '?')
load=$(cut -d' ' -f1-3 /proc/loadavg)

row() {   # KIND CONNS: | kind | conns | fixed | runtimefs | ratio | CPU |
	local f r fu ru
	read -r f fl fh fn < <(stats 0 < "$WORK/fixed-$1-$2")
	read -r r rl rh rn < <(stats 0 < "$WORK/rfs-$1-$2")
	read -r fu _ < <(stats 1 < "$WORK/fixedcpu-$1-$2")
	read -r ru _ < <(stats 1 < "$WORK/rfscpu-$1-$2")
	printf '| %s | %s | %s (%s–%s) | %s (%s–%s) | %.0f%% | %s | %s |\n' "$1" "$2" \
		"$f" "$fl" "$fh" "$r" "$rl" "$rh" "$(echo "100 * $r / $f" | bc -l)" \
		"$fu" "$ru"
}
{
	echo "## ICP heartbeats over HTTPS"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ); daemon at commit $commit. Machine: $(nproc) CPUs"
	echo "(lscpu: $cpu), $(free -g | awk '/Mem:/ { print $2 }') GiB memory, kernel $(uname -r),"
	echo "libmicrohttpd $mhdv, GnuTLS $gtv, wrk $wrkv (OpenSSL); database on"
	echo "$(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 }'). The client, both servers and other sessions' work"
	echo "share the $(nproc) CPUs (load average at the end: $load), so figures are noisy."
	echo
	echo "wrk over TLS 1.3, keep-alive, no pipelining, one connection per wrk"
	echo "thread, each connection one MI runtime (its own runtimeId, one secret"
	echo "for all, MI's token reused) POSTing its body again and again."
	echo "**fixed** is bench/fixed_reply: the daemon's own listener (fs/https.c,"
	echo "same libmicrohttpd flags and options, thread pool, TLS priorities, certificate) with"
	echo "a handler that answers every POST with a delta's reply ($reply_bytes bytes,"
	echo "201) at once. **delta**: ICP's DeltaHeartbeat with the hash of the"
	echo "runtime's last full heartbeat (the runtime registered first by that full"
	echo "heartbeat). **full**: the full heartbeat that registered it"
	echo "(tests/fixtures/mi-full-heartbeat.json, 2 artifacts), changing nothing."
	echo "Each figure: requests/s, median of $RUNS runs of $SECONDS_EACH s (min–max),"
	echo "the rows interleaved (fixed, runtimefs, fixed, ...); the ratio is runtimefs / fixed"
	echo "with the same body and connections. CPU: the server's user + system time"
	echo "(/proc/PID/stat) over a run divided by its requests, µs, median: less moved"
	echo "by other work than the rates."
	echo
	echo "| heartbeat | connections | fixed reply /s | runtimefs /s | runtimefs / fixed | fixed CPU µs/request | runtimefs CPU µs/request |"
	echo "|---|---|---|---|---|---|---|"
	for k in $kinds; do
		for c in $CONNS; do
			row "$k" "$c"
		done
	done
	echo
	echo "| fsyncs (strace -c -f on the daemon, $SECONDS_EACH s, $maxc connections) | heartbeats | fsync + fdatasync calls |"
	echo "|---|---|---|"
	echo "| delta | $fs_delta_n | $fs_delta_calls |"
	echo "| full, changing nothing | $fs_full_n | $fs_full_calls |"
	echo
	echo "| resources | |"
	echo "|---|---|"
	echo "| daemon peak RSS after the runs above ($maxc runtimes) | $(mib "$hb_hwm") MiB |"
	echo "| $REGISTER runtimes registered over HTTPS (new database, one secret, $REGISTER_CONNS connections, full heartbeats) | $(printf '%.1f' "$reg_s") s, $(echo "$REGISTER / $reg_s" | bc) runtimes/s |"
	echo "| daemon RSS before registering | $(mib "$idle_rss") MiB |"
	echo "| daemon peak RSS (VmHWM) with $REGISTER registered | $(mib "$reg_hwm") MiB (VmRSS $(mib "$reg_rss") MiB) |"
	echo "| database (db + -wal) with $REGISTER registered | $(awk -v b="$db2" 'BEGIN { printf "%.1f", b / 1048576 }') MiB |"
} > "$WORK/section.md"

merge
cat "$WORK/section.md"
say "done; results in $OUT"
