#!/usr/bin/env bash
# compare.sh SCALE - `make bench PG=1`'s last step: the figures the SQLite
# and the PostgreSQL runs of bench/run.sh left in
# BENCH_DIR/figures-SCALE-BACKEND.txt, side by side, as a section of
# bench/results.md, with issue 13's goals: reads (the warm rows, which the
# kernel's cache serves) within 1.2× of SQLite, repoints and
# registrations at 50% of SQLite's rate or more, heartbeats unchanged.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scale=$1
BENCH_DIR=${BENCH_DIR:-/var/tmp/runtimefs-bench}
OUT=${OUT:-$here/results.md}
TAG=$scale-side-by-side
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
. "$here/lib.sh"

lite=$BENCH_DIR/figures-$scale-sqlite.txt
pg=$BENCH_DIR/figures-$scale-postgresql.txt
for f in "$lite" "$pg"; do
	[ -s "$f" ] || fail "no figures in $f: run make bench PG=1"
done

{
	echo "## $scale runtimes: PostgreSQL beside SQLite"
	echo
	echo "SQLite run: $(head -1 "$lite")"
	echo
	echo "PostgreSQL run: $(head -1 "$pg")"
	echo
	echo "Medians from the two sections above; a time's ratio is PostgreSQL / SQLite (goal for"
	echo "the warm reads: 1.2× or less), a rate's share is PostgreSQL's % of SQLite's (goal:"
	echo "50% or more for repoints and registrations, about 100% for heartbeats)."
	echo
	echo "| what | SQLite | PostgreSQL | PostgreSQL / SQLite | goal |"
	echo "|---|---|---|---|---|"
	awk -F'\t' '
		function goal(kind, name, v) {
			if (kind == "row")
				return name ~ /\(warm\)$/ ? (v <= 1.2 ? "met (≤ 1.2×)" : "missed (≤ 1.2×)") : ""
			if (name ~ /repoints|registrations/)
				return v >= 0.5 ? "met (≥ 50%)" : "missed (≥ 50%)"
			return v >= 0.9 ? "met (unchanged)" : "missed (unchanged)"
		}
		FNR == 1 { next }
		NR == FNR { lite[$1 "\t" $2] = $3; next }
		{
			k = $1 "\t" $2
			if (!(k in lite) || lite[k] + 0 == 0)
				next
			v = $3 / lite[k]
			name = $2; gsub(/\|/, "\\|", name)
			if ($1 == "row")
				printf "| %s | %.4f s | %.4f s | %.2f× | %s |\n", name, lite[k], $3, v, goal($1, $2, v)
			else
				printf "| %s | %.0f | %.0f | %.0f%% | %s |\n", name, lite[k], $3, 100 * v, goal($1, $2, v)
		}' "$lite" "$pg"
} > "$WORK/section.md"
merge
cat "$WORK/section.md"
