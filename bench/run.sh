#!/usr/bin/env bash
# run.sh - `make bench`: the same tree on runtimefs and on tmpfs, measured
# side by side in one run, written to a section of bench/results.md.
#
#   bash bench/run.sh                       10 × 1,000 agent runtimes
#   ENVS=2 PER_ENV=250 RUNS=3 bash bench/run.sh
#   BIG=1 bash bench/run.sh                 1 × 100,000 MI runtimes: load,
#                                           listing, peak RSS, database size
#   HTTPS=1 bash bench/run.sh               ICP heartbeats/s over HTTPS
#                                           against a fixed reply, and RSS
#                                           with 100k registered (https.sh)
#   PG=1 bash bench/run.sh                  the suite on SQLite, then on a
#                                           private PostgreSQL 15 on the
#                                           same disk (tests/pg.sh, fsync
#                                           on), then the two side by side
#   AB=OLD_BINARY bash bench/run.sh         repoints and heartbeats of an
#                                           older build beside this one,
#                                           interleaved (bench/ab.sh)
#
# BACKEND says which one this run measures: sqlite (the default), or
# postgresql, where the database is RUNTIMEFS_TEST_LOCATOR's (tests/pg.sh
# sets it) and the tree is built through the mount every time (a server's
# data cannot be copied in like a file), on the disk measured, with the
# tmpfs side from the SQLite tree's tar when one is cached.  Each run also
# leaves its figures in BENCH_DIR/figures-SCALE-BACKEND.txt, from which
# PG=1 writes the side-by-side section (bench/compare.sh).
#
# The default tree: ENVS environments of PER_ENV agent runtimes, each made
# with mkdir, three specs written (versions 1, 2, 3; DEFAULT on 3), a
# canary endpoint pinned to version 2, and registered RUNNING by a first
# heartbeat with its service account (bench/load populate).  The BIG tree:
# BIG_ENVS environments of BIG_PER_ENV integration (MI) runtimes, each
# registered the ICP way by a first heartbeat with a secret of its own
# (bench/load register); no versions or endpoints.
#
# A populated database is kept in BENCH_DIR/cache/ under its parameters and
# the hash of bench/load.c, and each run works on a copy of it, so the tree
# is built once.  It is built through the mount with the database on tmpfs
# (every write of the daemon fsyncs; that is measured below, not here), then
# copied to BENCH_DIR, which is on the disk the benchmark measures.  tmpfs
# gets the same tree as `tar c` read it from the mount right after it was
# built (cache/.../tree.tar), since copying 10k runtimes out of today's
# daemon takes minutes.  Remove BENCH_DIR/cache to build anew.
#
# Every figure is the median of RUNS runs, with the min and the max; a row
# stops repeating on runtimefs when one more run would take it past
# ROW_BUDGET seconds (it makes one at least), and says how many runs it
# made.  The daemon runs with
# offline_after=OFFLINE_AFTER (a day), so that no status changes while the
# two sides are compared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# HTTPS=1: ICP's heartbeats over HTTPS against a fixed reply (bench/https.sh)
[ "${HTTPS:-0}" != 1 ] || exec bash "$here/https.sh"
RUNTIMEFS=${RUNTIMEFS:-$repo/build/runtimefs}
# AB=OLD: the writes of an older build beside this one's (bench/ab.sh)
[ -z "${AB:-}" ] || exec bash "$here/ab.sh" "$AB" "$RUNTIMEFS" \
	"${ROUNDS:-8}" "${AB_DIR:-/var/tmp}"
LOAD=${LOAD:-$repo/build/bench/load}
BIG=${BIG:-0}
ENVS=${ENVS:-10}
PER_ENV=${PER_ENV:-1000}
BIG_ENVS=${BIG_ENVS:-1}
BIG_PER_ENV=${BIG_PER_ENV:-100000}
RUNS=${RUNS:-5}
READERS=${READERS:-100}          # tail -f of MOUNT/events during two rows
ROW_BUDGET=${ROW_BUDGET:-300}
SECONDS_EACH=${SECONDS_EACH:-3}
LOAD_THREADS=${LOAD_THREADS:-2}
OFFLINE_AFTER=${OFFLINE_AFTER:-86400}
REGISTER=${REGISTER:-500}
BENCH_DIR=${BENCH_DIR:-/var/tmp/runtimefs-bench}
OUT=${OUT:-$here/results.md}

if [ "$BIG" = 1 ]; then
	kind=register envs=$BIG_ENVS per_env=$BIG_PER_ENV
else
	kind=populate envs=$ENVS per_env=$PER_ENV
fi
total=$((envs * per_env))
scale=$(awk -v n="$total" 'BEGIN { print (n >= 1000 ? n / 1000 "k" : n) }')
TAG=$scale
# PG=1: both backends, then side by side
if [ "${PG:-0}" = 1 ] && [ -z "${BACKEND:-}" ]; then
	BACKEND=sqlite bash "$0"
	PG_DURABLE=1 BACKEND=postgresql bash "$repo/tests/pg.sh" bash "$0"
	exec bash "$here/compare.sh" "$scale"
fi
BACKEND=${BACKEND:-sqlite}
. "$here/lib.sh"
KEY_OPT=()
if [ "$BACKEND" = postgresql ]; then
	[ -n "${RUNTIMEFS_TEST_LOCATOR:-}" ] ||
		fail "BACKEND=postgresql needs RUNTIMEFS_TEST_LOCATOR (run it under tests/pg.sh, or PG=1)"
	TAG=$scale-postgresql
	where=" on PostgreSQL"
elif [ "$BACKEND" = sqlite ]; then
	where=
else
	fail "BACKEND is sqlite or postgresql, not '$BACKEND'"
fi
for f in "$RUNTIMEFS" "$LOAD"; do
	[ -x "$f" ] || { echo "bench: $f is missing: run make" >&2; exit 1; }
done

say() { echo "bench [$TAG]: $*" >&2; }

mkdir -p "$BENCH_DIR/cache"
WORK=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
MNT=$WORK/mnt
TMP=$WORK/tmpfs
DB=$WORK/state.db
if [ "$BACKEND" = postgresql ]; then
	DB=$RUNTIMEFS_TEST_LOCATOR
	KEY_OPT=(-o "key_file=$WORK/pg.key")
fi
mkdir "$MNT" "$TMP"

daemon=
rss_peak_kb=0
start() {   # [DB] [MOUNTPOINT]: mounts, or says why not and exits
	local db=${1:-$DB} mnt=${2:-$MNT}
	"$RUNTIMEFS" --db "$db" -o "offline_after=$OFFLINE_AFTER" \
		"${KEY_OPT[@]}" -f "$mnt" \
		</dev/null >/dev/null 2>>"$WORK/daemon.log" &
	daemon=$!
	wait_mount "$daemon" "$mnt" || fail "the daemon did not mount $mnt"
}
# The daemon's peak RSS so far (kB), kept over its restarts.
rss_note() {
	local kb
	[ -n "$daemon" ] || return 0
	kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$daemon/status" 2>/dev/null) || kb=0
	[ "${kb:-0}" -le "$rss_peak_kb" ] || rss_peak_kb=$kb
}
stop() {    # [MOUNTPOINT]
	local mnt=${1:-$MNT}
	rss_note
	fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null || true
	[ -z "$daemon" ] || wait "$daemon" || true
	daemon=
}
# Stops the benchmark when the daemon is gone or its mount is dead.
alive() {
	local mnt=${1:-$MNT}
	if [ -z "$daemon" ] || ! kill -0 "$daemon" 2>/dev/null ||
	   ! stat "$mnt/environments" >/dev/null 2>&1; then
		fail "the daemon died (or its mount $mnt broke)"
	fi
}
cleanup() {
	local m
	trap - EXIT INT TERM HUP
	# a dead daemon's mount is no mountpoint to mountpoint(1) (ENOTCONN)
	for m in "$MNT" "${SHM_MNT:-}"; do
		[ -n "$m" ] && awk -v m="$m" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts &&
			{ fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" || true; }
	done
	if [ -n "$daemon" ]; then
		kill "$daemon" 2>/dev/null || true
		wait "$daemon" 2>/dev/null || true
	fi
	mountpoint -q "$TMP" 2>/dev/null && { umount "$TMP" 2>/dev/null || umount -l "$TMP"; }
	[ -z "${SHM_DIR:-}" ] || rm -rf "$SHM_DIR"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Times `$@` once, in seconds, whatever it exits with (grep finding
# nothing is not a failure of the filesystem; a dead daemon is caught by
# alive).
once() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

# Runs a command up to RUNS times on one side (ROW_BUDGET permitting) and
# prints "median min max runs"; `cold` remounts (runtimefs) or drops the
# page cache (tmpfs) before each run.  It runs in this shell (its caller
# redirects it to a file, never into $(...)), so that a daemon it restarts
# stays this shell's child.
measure() {
	local side=$1 mode=$2 dir t spent=0 i
	shift 2
	dir=$([ "$side" = fuse ] && echo "$MNT" || echo "$TMP")
	: > "$WORK/times.txt"
	for i in $(seq "$RUNS"); do
		# stop when one more run, as long as the others, would pass
		# the budget
		if [ "$i" -gt 1 ] && [ "$side" = fuse ] && [ "$(echo \
		   "$spent + $spent / ($i - 1) > $ROW_BUDGET" | bc -l)" = 1 ]; then
			break
		fi
		if [ "$mode" = cold ]; then
			if [ "$side" = fuse ]; then stop; start; fi
			sync; echo 3 > /proc/sys/vm/drop_caches
		fi
		t=$(cd "$dir" && once "$@")
		[ "$side" = fuse ] && alive
		spent=$(echo "$spent + $t" | bc -l)
		echo "$t" >> "$WORK/times.txt"
		say "  $side run $i/$RUNS: $(printf '%.3f' "$t") s"
	done
	stats < "$WORK/times.txt"
}

rows=() figs=()
row() {   # name, warm|cold, then the command: measured on both sides
	local name=$1 mode=$2 f t ratio
	shift 2
	say "$name ($mode)"
	measure fuse "$mode" "$@" > "$WORK/fuse.txt"
	measure tmpfs "$mode" "$@" > "$WORK/tmpfs.txt"
	read -ra f < "$WORK/fuse.txt"
	read -ra t < "$WORK/tmpfs.txt"
	ratio=$(echo "${f[0]} / ${t[0]}" | bc -l)
	# a | in a cell, even in backquotes, ends it unless escaped
	rows+=("$(printf '| %s | %.4f (%.4f–%.4f) | %d | %.4f (%.4f–%.4f) | %.1f× |' \
		"${name//|/\\|} ($mode)" "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}" \
		"${t[0]}" "${t[1]}" "${t[2]}" "$ratio")")
	echo "${rows[-1]}"
	figs+=("$(printf 'row\t%s (%s)\t%s' "$name" "$mode" "${f[0]}")")
}

# Throughput: `load ARGS` RUNS times; prints "median min max runs".
rate() {
	local i
	for i in $(seq "$RUNS"); do
		"$LOAD" "$@" || fail "load $1 failed"
		alive
	done | stats 0
}

# Registrations/s: RUNS times, REGISTER new MI runtimes in an environment
# of their own (g1.., beside the tree), each registered the ICP way
# (load register); prints "median min max runs".
rate_register() {
	local i
	for i in $(seq "$RUNS"); do
		LOAD_ENV_PREFIX=g$i "$LOAD" register "$MNT" 1 "$REGISTER" \
			"$LOAD_THREADS" "$WORK/registered.txt" ||
			fail "load register failed"
		alive
	done | stats 0
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
db_bytes() {
	if [ "$BACKEND" = postgresql ]; then
		psql -X -A -t -q "$DB" -c 'SELECT pg_database_size(current_database())'
		return
	fi
	stat -c %s "$DB" "$DB-wal" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

# -- the tree: from the cache, or built now -------------------------------

# the tree depends on load.c and on this build step (its version: t2)
key="$kind-${envs}x$per_env-t2-$(sha1sum "$here/load.c" | cut -c1-10)"
CACHE=$BENCH_DIR/cache/$key
if [ "$BACKEND" = postgresql ]; then
	say "building the tree through the mount: $envs × $per_env runtimes ($kind, $LOAD_THREADS threads)"
	start
	t0=$(date +%s.%N)
	built_rate=$("$LOAD" "$kind" "$MNT" "$envs" "$per_env" \
		"$LOAD_THREADS" "$WORK/fleet.txt") || fail "load $kind failed"
	built_s=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc -l)")
	alive
	TREE_TAR=$CACHE/tree.tar
	if [ "$BIG" != 1 ] && [ ! -f "$TREE_TAR" ]; then
		say "archiving the tree from the mount, for tmpfs"
		TREE_TAR=$WORK/tree.tar
		tar -cf "$TREE_TAR" -C "$MNT" environments projects ||
			fail "tar c of the mount failed"
	fi
	stop
	built_rss_kb=$rss_peak_kb
	rss_peak_kb=0
	FLEET=$WORK/fleet.txt
	built_on="database on disk"
else
	if [ -f "$CACHE/fleet.txt" ]; then
		say "using the tree cached in $CACHE"
	else
		SHM_DIR=$(mktemp -d /dev/shm/runtimefs-bench.XXXXXX)
		SHM_MNT=$SHM_DIR/mnt
		mkdir "$SHM_MNT"
		say "building the tree: $envs × $per_env runtimes ($kind, $LOAD_THREADS threads)"
		start "$SHM_DIR/state.db" "$SHM_MNT"
		t0=$(date +%s.%N)
		built_rate=$("$LOAD" "$kind" "$SHM_MNT" "$envs" "$per_env" \
			"$LOAD_THREADS" "$SHM_DIR/fleet.txt") || fail "load $kind failed"
		built_s=$(echo "$(date +%s.%N) - $t0" | bc -l)
		alive "$SHM_MNT"
		if [ "$BIG" != 1 ]; then
			say "archiving the tree from the mount, for tmpfs"
			tar -cf "$SHM_DIR/tree.tar" -C "$SHM_MNT" environments projects ||
				fail "tar c of the mount failed"
			alive "$SHM_MNT"
		fi
		stop "$SHM_MNT"
		printf '%.1f %s %s\n' "$built_s" "$built_rate" "$rss_peak_kb" > "$SHM_DIR/built.txt"
		rss_peak_kb=0
		rm -rf "$CACHE.tmp"
		mkdir "$CACHE.tmp"
		cp "$SHM_DIR"/state.db* "$SHM_DIR/fleet.txt" "$SHM_DIR/built.txt" "$CACHE.tmp/"
		[ "$BIG" = 1 ] || cp "$SHM_DIR/tree.tar" "$CACHE.tmp/"
		mv "$CACHE.tmp" "$CACHE"
		rm -rf "$SHM_DIR"
		SHM_DIR=
		say "built in $(printf '%.0f' "$built_s") s ($built_rate runtimes/s); cached in $CACHE"
	fi
	read -r built_s built_rate built_rss_kb < "$CACHE/built.txt"
	cp "$CACHE"/state.db* "$WORK/"
	FLEET=$CACHE/fleet.txt
	TREE_TAR=$CACHE/tree.tar
	built_on="database on tmpfs"
fi

cpu=$(lscpu | awk -F': *' '/^Model name/ { m = $2 } /^CPU family/ { f = $2 }
	/^Model:/ { n = $2 } /^BogoMIPS/ { b = $2 } /^Thread\(s\) per core/ { t = $2 }
	END { printf "%s, family %s model %s, BogoMIPS %s, %s thread(s) per core", m, f, n, b, t }')
grep -qw hypervisor /proc/cpuinfo && cpu="$cpu; virtual machine"
commit=$(git -C "$(dirname "$(dirname "$RUNTIMEFS")")" describe --always --dirty 2>/dev/null || echo unknown)
machine="$(date -u +%Y-%m-%dT%H:%M:%SZ); daemon at commit $commit. Machine: $(nproc) CPUs (lscpu: $cpu), $(free -g | awk '/Mem:/ { print $2 }') GiB memory, kernel $(uname -r), libfuse $(fusermount3 -V 2>&1 | sed 's/.*version: *//'), SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1); database on $(df -T "$WORK" | awk 'NR == 2 { print $2 }')."
if [ "$BACKEND" = postgresql ]; then
	machine="$machine Database: $(psql -X -A -t -q "$DB" -c 'SHOW server_version' | cut -d' ' -f1) (tests/pg.sh, fsync on, synchronous_commit on) on $(df -T "${RUNTIMEFS_TEST_PG_DIR:-/tmp}" | awk 'NR == 2 { print $2 }'), over a Unix socket."
fi

start
alive

if [ "$BIG" = 1 ]; then
	# -- 100k: one big directory ---------------------------------------
	say "tmpfs: $per_env empty directories with the same names"
	mount -t tmpfs -o size=1g tmpfs "$TMP"
	mkdir -p "$TMP/environments/e00/runtimes"
	awk '$1 == "e00" { print $2 }' "$FLEET" | (cd "$TMP/environments/e00/runtimes" && xargs mkdir)
	list="ls environments/e00/runtimes | wc -l"
	n=$(ls "$MNT/environments/e00/runtimes" | wc -l)
	[ "$n" = "$per_env" ] || fail "environments/e00/runtimes lists $n runtimes, not $per_env"
	row "\`$list\`" cold sh -c "$list"
	row "\`$list\`" warm sh -c "$list"
	row "\`ls -f environments/e00/runtimes | wc -l\` (unsorted)" warm \
		sh -c "ls -f environments/e00/runtimes | wc -l"
	db=$(db_bytes)
	stop
	{
		echo "## $scale runtimes$where"
		echo
		echo "$machine"
		echo "Tree: $envs environment(s) × $per_env integration (MI) runtimes, each"
		echo "registered by a first heartbeat with a secret of its own (\`bench/load register\`;"
		echo "no versions, no endpoints); built in $built_s s ($built_rate runtimes/s, $built_on)."
		echo "Each figure: median of up to $RUNS runs (min–max), seconds; the ratio is runtimefs / tmpfs,"
		echo "where tmpfs holds $per_env empty directories of the same names."
		echo
		echo "| what | runtimefs | runs | tmpfs | ratio |"
		echo "|---|---|---|---|---|"
		printf '%s\n' "${rows[@]}"
		echo
		echo "| resources at $scale runtimes | |"
		echo "|---|---|"
		echo "| daemon peak RSS while building the tree | $(mib $((built_rss_kb * 1024))) MiB |"
		echo "| daemon peak RSS while listing (from mount) | $(mib $((rss_peak_kb * 1024))) MiB |"
		echo "| database (db + -wal) | $(mib "$db") MiB |"
	} > "$WORK/section.md"
else
	# -- 10k: the whole suite ------------------------------------------
	say "waking every runtime with one heartbeat"
	"$LOAD" wake "$MNT" "$LOAD_THREADS" "$FLEET" >/dev/null || fail "load wake failed"
	alive
	mkdir "$MNT/snapshots/bench" || fail "mkdir snapshots/bench failed"
	say "tmpfs: the tree as tar read it from the mount when it was built"
	mount -t tmpfs -o size=8g tmpfs "$TMP"
	tar -xf "$TREE_TAR" -C "$TMP" || fail "tar x to tmpfs failed"
	mkdir "$TMP/snapshots"
	ln -s .. "$TMP/snapshots/bench"     # the same tar command on both sides
	nfiles=$(find "$TMP" -type f | wc -l)
	ndirs=$(find "$TMP" -type d | wc -l)

	row "\`ls -lR environments\`" warm ls -lR environments
	row "\`ls -lR environments\`" cold ls -lR environments
	row "\`cat\` of every \`status\`" warm \
		sh -c 'cat environments/*/runtimes/*/status'
	row "\`find environments -name status | xargs cat\`" warm \
		sh -c 'find environments -name status | xargs cat'
	row "\`grep -r RUNNING environments\`" warm grep -r RUNNING environments
	row "\`tar c\` of a snapshot" warm \
		tar -cf - -C snapshots/bench environments projects

	say "heartbeats/s, one open file"
	hb1=$(rate heartbeats "$MNT" "$SECONDS_EACH" 1 "$FLEET")
	say "heartbeats/s, 4 writers"
	hb4=$(rate heartbeats "$MNT" "$SECONDS_EACH" 4 "$FLEET")
	say "durable endpoint repoints/s"
	rp=$(rate repoints "$MNT" "$SECONDS_EACH" "$FLEET")
	# MOUNT/events with 100 readers following it: what they cost the
	# writers (issue 14)
	say "the same with $READERS \`tail -f events\` following"
	readers=()
	for ((i = 0; i < READERS; i++)); do
		tail -f "$MNT/events" >/dev/null 2>&1 &
		readers+=($!)
	done
	hb4r=$(rate heartbeats "$MNT" "$SECONDS_EACH" 4 "$FLEET")
	rpr=$(rate repoints "$MNT" "$SECONDS_EACH" "$FLEET")
	kill "${readers[@]}" 2>/dev/null || true
	wait "${readers[@]}" 2>/dev/null || true
	say "registrations/s, $REGISTER MI runtimes a run"
	rg=$(rate_register)
	db=$(db_bytes)
	stop
	{
		echo "## $scale runtimes$where"
		echo
		echo "$machine"
		echo "Tree: $envs environments × $per_env agent runtimes, each made with mkdir, 3 specs written"
		echo "(versions 1–3, DEFAULT on 3), a canary endpoint pinned to version 2, and registered"
		echo "RUNNING by a first heartbeat with its service account (\`bench/load populate\`); plus"
		echo "one snapshot for \`tar\`: $nfiles files and $ndirs directories; built in $built_s s"
		echo "($built_rate runtimes/s, $built_on). tmpfs holds the same tree, as \`tar c\`"
		echo "read it from the mount when it was built."
		echo "Each figure: median of up to $RUNS runs (min–max), seconds, and how many runs"
		echo "runtimefs took within ${ROW_BUDGET} s a row; the ratio is runtimefs / tmpfs."
		echo
		echo "| what | runtimefs | runs | tmpfs | ratio |"
		echo "|---|---|---|---|---|"
		printf '%s\n' "${rows[@]}"
		echo
		echo "| throughput ($SECONDS_EACH s a run) | median (min–max) | runs |"
		echo "|---|---|---|"
		read -r m lo hi n <<<"$hb1"; echo "| heartbeats/s, one open file | $m ($lo–$hi) | $n |"
		read -r m lo hi n <<<"$hb4"; echo "| heartbeats/s, 4 writers | $m ($lo–$hi) | $n |"
		read -r m lo hi n <<<"$rp"; echo "| durable endpoint repoints/s | $m ($lo–$hi) | $n |"
		read -r m lo hi n <<<"$hb4r"; echo "| heartbeats/s, 4 writers, $READERS \`tail -f events\` | $m ($lo–$hi) | $n |"
		read -r m lo hi n <<<"$rpr"; echo "| durable endpoint repoints/s, $READERS \`tail -f events\` | $m ($lo–$hi) | $n |"
		read -r m lo hi n <<<"$rg"; echo "| registrations/s ($REGISTER new MI runtimes, $LOAD_THREADS threads) | $m ($lo–$hi) | $n |"
		echo
		echo "| resources at $scale runtimes | |"
		echo "|---|---|"
		echo "| daemon peak RSS while building the tree | $(mib $((built_rss_kb * 1024))) MiB |"
		echo "| daemon peak RSS while measuring (from mount) | $(mib $((rss_peak_kb * 1024))) MiB |"
		echo "| database (db + -wal) after the run | $(mib "$db") MiB |"
	} > "$WORK/section.md"
fi

if [ "$BIG" != 1 ]; then
	figs+=("$(printf 'rate\theartbeats/s, one open file\t%s' "${hb1%% *}")")
	figs+=("$(printf 'rate\theartbeats/s, 4 writers\t%s' "${hb4%% *}")")
	figs+=("$(printf 'rate\tdurable endpoint repoints/s\t%s' "${rp%% *}")")
	figs+=("$(printf 'rate\theartbeats/s, 4 writers, %s readers of events\t%s' "$READERS" "${hb4r%% *}")")
	figs+=("$(printf 'rate\tdurable endpoint repoints/s, %s readers of events\t%s' "$READERS" "${rpr%% *}")")
	figs+=("$(printf 'rate\tregistrations/s\t%s' "${rg%% *}")")
fi
printf '%s\n' "$machine" "${figs[@]}" > "$BENCH_DIR/figures-$scale-$BACKEND.txt"
merge
cat "$WORK/section.md"
say "done; results in $OUT"
