#!/usr/bin/env bash
# ab.sh OLD NEW [ROUNDS] [DIR] - two builds of the daemon side by side on
# the writes, interleaved: each builds its own tree once (ENVS × PER_ENV
# agent runtimes through its mount, in DIR/ab-old and DIR/ab-new; a
# database of one schema version is not the other's), then ROUNDS times
# each in turn is mounted on its tree and measured for SECONDS_EACH s
# (`load repoints`, one writer) and SECONDS_EACH s (`load heartbeats`, 4
# writers).  Each run's line gives the rate and the daemon's CPU time per
# operation (utime + stime of the daemon over the run / operations); the
# last lines give each build's medians and NEW / OLD.  Runs of one build
# on a shared virtual machine spread by far more than 10%, run to run:
# interleaving and medians are what make a 10% difference readable, and
# CPU time per operation is the steadier figure.
#
#   bash bench/ab.sh /tmp/old/build/runtimefs build/runtimefs 8 /dev/shm
#
# DIR defaults to /var/tmp (the disk: every commit's fsync counts, as in
# make bench); /dev/shm measures what the daemon itself costs.  With
# PG=1 (`make bench AB=... PG=1`) the two trees are schemas ab_old and
# ab_new of a private durable PostgreSQL (tests/pg.sh, PG_DURABLE=1, as
# make bench PG=1), each build with its key file in its DIR/ab-*.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${PG:-0}" = 1 ] && [ -z "${RUNTIMEFS_TEST_LOCATOR:-}" ]; then
	PG_DURABLE=1 exec bash "$here/../tests/pg.sh" bash "$0" "$@"
fi
OLD=$1 NEW=$2 ROUNDS=${3:-8} DIR=${4:-/var/tmp}
ENVS=${ENVS:-2} PER_ENV=${PER_ENV:-1000} SECONDS_EACH=${SECONDS_EACH:-3}
LOAD=${LOAD:-$here/../build/bench/load}
for f in "$OLD" "$NEW" "$LOAD"; do
	[ -x "$f" ] || { echo "ab.sh: $f: not built" >&2; exit 1; }
done
. "$here/lib.sh"      # wait_mount
TCK=$(getconf CLK_TCK)
OUTF=$(mktemp)
pid=

cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
tree() { echo "$DIR/ab-$1"; }
bin() { [ "$1" = old ] && echo "$OLD" || echo "$NEW"; }

# the database of a build's tree: its file, or its schema
db() {
	if [ -n "${RUNTIMEFS_TEST_LOCATOR:-}" ]; then
		echo "$RUNTIMEFS_TEST_LOCATOR options=-csearch_path=ab_$1"
	else
		echo "$(tree "$1")/state.db"
	fi
}

mount_one() {   # old|new
	local t
	t=$(tree "$1")
	"$(bin "$1")" --db "$(db "$1")" -o key_file="$t/key" \
		-o offline_after=86400 -f "$t/mnt" \
		</dev/null >/dev/null 2>>"$t/daemon.log" &
	pid=$!
	wait_mount "$pid" "$t/mnt" && return
	echo "ab.sh: $(bin "$1") did not mount; $t/daemon.log says:" >&2
	tail -5 "$t/daemon.log" >&2
	exit 1
}

unmount_one() {
	fusermount3 -u "$(tree "$1")/mnt"
	wait "$pid" || true
	pid=
}

cleanup() {
	for w in old new; do
		fusermount3 -uz "$(tree $w)/mnt" 2>/dev/null || true
	done
	rm -f "$OUTF"
}
trap cleanup EXIT

for w in old new; do
	t=$(tree $w)
	fusermount3 -uz "$t/mnt" 2>/dev/null || true
	rm -rf "$t"
	mkdir -p "$t/mnt"
	mount_one $w
	"$LOAD" populate "$t/mnt" "$ENVS" "$PER_ENV" 2 "$t/fleet.txt" \
		>/dev/null 2>&1
	unmount_one $w
done
sync

for r in $(seq "$ROUNDS"); do
	for w in old new; do
		t=$(tree $w)
		mount_one $w
		c0=$(cpu "$pid")
		rp=$("$LOAD" repoints "$t/mnt" "$SECONDS_EACH" "$t/fleet.txt" \
			2>/dev/null)
		c1=$(cpu "$pid")
		hb=$("$LOAD" heartbeats "$t/mnt" "$SECONDS_EACH" 4 \
			"$t/fleet.txt" 2>/dev/null)
		c2=$(cpu "$pid")
		unmount_one $w
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$r" "$rp" \
			$(( (c1 - c0) * 1000000 / TCK / (rp * SECONDS_EACH) )) \
			"$hb" \
			$(( (c2 - c1) * 1000000 / TCK / (hb * SECONDS_EACH) )) |
			tee -a "$OUTF" | awk -F'\t' '{ printf "%s %s: repoints/s %s (%s µs CPU each), heartbeats/s %s (%s µs CPU each)\n", $1, $2, $3, $4, $5, $6 }'
	done
done

awk -F'\t' '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ n[$1]++; for (c = 3; c <= 6; c++) v[$1, c, n[$1]] = $c }
	END {
		split("repoints/s,µs CPU a repoint,heartbeats/s,µs CPU a heartbeat", name, ",")
		printf "| median of %d runs | old | new | new / old |\n|---|---|---|---|\n", n["old"]
		for (c = 3; c <= 6; c++) {
			for (w = 0; w < 2; w++) {
				k = w ? "new" : "old"
				for (i = 1; i <= n[k]; i++) a[i] = v[k, c, i]
				m[k] = median(a, n[k])
			}
			printf "| %s | %g | %g | %.2f |\n", name[c - 2], m["old"], m["new"], m["new"] / m["old"]
		}
	}' "$OUTF"
