#!/usr/bin/env bash
# run.sh - `make bench`: the same tree on runtimefs and on tmpfs, measured
# side by side in one run, written to bench/results.md.
#
#   ENVS=10 PER_ENV=1000 RUNS=5 bash bench/run.sh
#
# The tree: ENVS environments of PER_ENV agent runtimes, each with three
# versions, a DEFAULT and a canary endpoint, and one heartbeat (bench/load
# populate).  tmpfs gets a copy (cp -a) of environments/ and projects/.
# Every figure is the median of RUNS runs, with the min and the max.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RUNTIMEFS=${RUNTIMEFS:-$repo/build/runtimefs}
LOAD=${LOAD:-$repo/build/bench/load}
ENVS=${ENVS:-10}
PER_ENV=${PER_ENV:-1000}
RUNS=${RUNS:-5}
SECONDS_EACH=${SECONDS_EACH:-3}
OUT=${OUT:-$here/results.md}

WORK=$(mktemp -d /var/tmp/rtfs-bench.XXXXXX)
MNT=$WORK/mnt
TMP=$WORK/tmpfs
DB=$WORK/state.db
mkdir "$MNT" "$TMP"
mount -t tmpfs -o size=4g tmpfs "$TMP"

daemon=
start() {
	"$RUNTIMEFS" --db "$DB" -f "$MNT" </dev/null >/dev/null 2>>"$WORK/daemon.log" &
	daemon=$!
	for _ in $(seq 200); do mountpoint -q "$MNT" && return; sleep 0.05; done
	echo "bench: the daemon did not mount" >&2
	exit 1
}
stop() {
	fusermount3 -u "$MNT" 2>/dev/null || true
	[ -z "$daemon" ] || wait "$daemon" || true
	daemon=
}
cleanup() {
	stop
	umount "$TMP" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# Times `$@` once, in seconds, whatever it exits with (grep finding
# nothing is not a failure of the filesystem).
once() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

# median min max of the numbers on stdin, printed with `fmt` decimals
stats() {
	sort -g | awk -v d="${1:-4}" '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		f = "%." d "f %." d "f %." d "f\n"
		printf f, m, v[1], v[NR] }'
}

# Runs a command RUNS times on one side; `cold` remounts (runtimefs) or
# drops the page cache (tmpfs) before each run.  It runs in this shell (its
# caller redirects it to a file, never into $(...)), so that a daemon it
# restarts stays this shell's child.
measure() {
	local side=$1 mode=$2
	shift 2
	for _ in $(seq "$RUNS"); do
		if [ "$mode" = cold ]; then
			if [ "$side" = fuse ]; then stop; start; fi
			sync; echo 3 > /proc/sys/vm/drop_caches
		fi
		(cd "$([ "$side" = fuse ] && echo "$MNT" || echo "$TMP")" && once "$@")
	done > "$WORK/times.txt"
	stats < "$WORK/times.txt"
}

rows=()
row() {   # name, then the command: measured on both sides, warm or cold
	local name=$1 mode=$2 f t ratio
	shift 2
	measure fuse "$mode" "$@" > "$WORK/fuse.txt"
	measure tmpfs "$mode" "$@" > "$WORK/tmpfs.txt"
	read -ra f < "$WORK/fuse.txt"
	read -ra t < "$WORK/tmpfs.txt"
	ratio=$(echo "${f[0]} / ${t[0]}" | bc -l)
	rows+=("$(printf '| %s | %.4f (%.4f–%.4f) | %.4f (%.4f–%.4f) | %.2f× |' \
		"$name" "${f[0]}" "${f[1]}" "${f[2]}" "${t[0]}" "${t[1]}" "${t[2]}" "$ratio")")
	echo "${rows[-1]}"
}

start
echo "bench: populating $ENVS × $PER_ENV runtimes..."
t0=$(date +%s)
"$LOAD" populate "$MNT" "$ENVS" "$PER_ENV"
populate_s=$(( $(date +%s) - t0 ))
cp -a "$MNT/environments" "$MNT/projects" "$TMP/"
nfiles=$(find "$TMP" -type f | wc -l)

for mode in warm cold; do
	row "\`ls -lR environments\` ($mode)" $mode ls -lR environments
done
row "\`cat\` of every \`status\`" warm \
	sh -c 'cat environments/*/runtimes/*/status'
row "\`find -name status | xargs cat\`" warm \
	sh -c 'find . -name status | xargs cat'
row "\`grep -r RUNNING\`" warm grep -r RUNNING environments
row "\`tar c\` of the tree" warm tar -cf - environments projects

hb1=$(for _ in $(seq "$RUNS"); do "$LOAD" heartbeats "$MNT" "$SECONDS_EACH" 1; done | stats 0)
hb4=$(for _ in $(seq "$RUNS"); do "$LOAD" heartbeats "$MNT" "$SECONDS_EACH" 4; done | stats 0)
rp=$(for _ in $(seq "$RUNS"); do "$LOAD" repoints "$MNT" "$SECONDS_EACH"; done | stats 0)
rss_kb=$(awk '/VmHWM/ { print $2 }' "/proc/$daemon/status")
db_bytes=$(du -cb "$DB"* | tail -1 | cut -f1)
cpu=$(lscpu | sed -n 's/^Model name: *//p')

{
	echo "# runtimefs benchmark"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) cores ($cpu),"
	echo "$(free -g | awk '/Mem:/ { print $2 }') GiB memory, kernel $(uname -r), database on $(df -T "$WORK" | awk 'NR == 2 { print $2 }')."
	echo "Tree: $ENVS environments × $PER_ENV agent runtimes (3 versions, 2 endpoints, one heartbeat each), $nfiles files; populated in ${populate_s} s."
	echo "Each figure: median of $RUNS runs (min–max), seconds; the ratio is runtimefs / tmpfs."
	echo
	echo "| what | runtimefs | tmpfs | ratio |"
	echo "|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "| throughput | median (min–max) |"
	echo "|---|---|"
	read -r m lo hi <<<"$hb1"; echo "| heartbeats/s, one open file | $m ($lo–$hi) |"
	read -r m lo hi <<<"$hb4"; echo "| heartbeats/s, 4 writers | $m ($lo–$hi) |"
	read -r m lo hi <<<"$rp"; echo "| durable endpoint repoints/s | $m ($lo–$hi) |"
	echo
	echo "Daemon peak RSS: $((rss_kb / 1024)) MiB; database and its files: $((db_bytes / 1024 / 1024)) MiB."
} > "$OUT"
cat "$OUT"
