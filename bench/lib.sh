# lib.sh - what bench/run.sh, bench/https.sh and bench/ab.sh share;
# sourced.  The first two set WORK (their work directory, holding
# daemon.log and section.md), OUT (results.md) and TAG (the section's
# name: 10k, 100k, https).

# Stops the benchmark, with the end of the daemon's log.
fail() {
	echo "bench [$TAG]: FAILED: $*" >&2
	if [ -s "$WORK/daemon.log" ]; then
		echo "bench: the daemon's log ends with:" >&2
		tail -n 20 "$WORK/daemon.log" >&2
	fi
	exit 1
}

# Waits up to 30 s for daemon PID to mount MOUNTPOINT: 0, or 1 when it
# died or never did.
wait_mount() {
	local pid=$1 mnt=$2
	for _ in $(seq 600); do
		mountpoint -q "$mnt" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# median min max count of the numbers on stdin, printed with `d` decimals
stats() {
	sort -g | awk -v d="${1:-4}" '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		f = "%." d "f %." d "f %." d "f %d\n"
		printf f, m, v[1], v[NR], NR }'
}

# Puts WORK/section.md between its markers in OUT, replacing an older one
# of the same TAG and keeping the others.
merge() {
	local begin="<!-- bench:$TAG -->" end="<!-- /bench:$TAG -->"
	[ -f "$OUT" ] && grep -q '^# runtimefs benchmark' "$OUT" ||
		printf '# runtimefs benchmark\n\nWritten by `make bench` (bench/run.sh); see README.md, "Benchmark".\n' > "$OUT"
	awk -v b="$begin" -v e="$end" -v f="$WORK/section.md" '
		function put() { print b; while ((getline l < f) > 0) print l; print e; done = 1 }
		$0 == b { skip = 1; put(); next }
		$0 == e { skip = 0; next }
		!skip { print }
		END { if (!done) { print ""; put() } }' "$OUT" > "$WORK/out.md"
	cp "$WORK/out.md" "$OUT"
}
