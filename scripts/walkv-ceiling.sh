#!/usr/bin/env bash
# walkv-ceiling.sh: how far can any fsync strategy lift walkv above Redis
# on this machine? Runs redis-benchmark SET against four servers in the
# same rounds (order rotated each round): redis-server and walkv, each with
# appendfsync always and with appendfsync no. walkv with no fsync at all is
# the ceiling of what walkv under always could reach by hiding the fsync
# completely; "walkv no / redis always" bounds the "always" ratio of
# scripts/bench-walkv.sh from above.
#
# It installs nothing. It needs go, redis-server, redis-benchmark and
# redis-cli on PATH (Debian: apt-get install redis-server redis-tools).
#
# Usage: scripts/walkv-ceiling.sh
#
# Environment (defaults in brackets):
#   ROUNDS    rounds; medians are reported [9]
#   REQUESTS  requests per run [100000]
#   CLIENTS   redis-benchmark -c [50]
#   PORT      first of four consecutive ports [7001]
#   BENCH_DIR where the servers keep their data [a new temp dir, removed]
set -euo pipefail

ROUNDS=${ROUNDS:-9}
REQUESTS=${REQUESTS:-100000}
CLIENTS=${CLIENTS:-50}
PORT=${PORT:-7001}

SCRIPT=walkv-ceiling
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
build_walkv

names=("redis always" "redis no" "walkv always" "walkv no")
ports=($PORT $((PORT + 1)) $((PORT + 2)) $((PORT + 3)))
for i in 0 1; do
	mode=${names[$i]#redis }
	mkdir -p "$work/r$i"
	redis-server --port "${ports[$i]}" --bind 127.0.0.1 --save '' --appendonly yes \
		--appendfsync "$mode" --dir "$work/r$i" --logfile "$work/r$i.log" &
	pids+=($!)
done
for i in 2 3; do
	mode=${names[$i]#walkv }
	"$work/walkv" --addr "127.0.0.1:${ports[$i]}" --dir "$work/w$i" --appendfsync "$mode" >"$work/w$i.log" 2>&1 &
	pids+=($!)
done
for p in "${ports[@]}"; do wait_ping "$p"; done

rps() {
	redis-benchmark -h 127.0.0.1 -p "$1" -t set -c "$CLIENTS" -n "$REQUESTS" -r 100000 -d 3 --csv 2>/dev/null |
		awk -F'","' 'NR == 2 { print $2 }'
}

declare -a v0 v1 v2 v3
for round in $(seq "$ROUNDS"); do
	line="round $round:"
	for k in 0 1 2 3; do
		i=$(((k + round) % 4))
		r=$(rps "${ports[$i]}")
		eval "v$i+=($r)"
		line+=" ${names[$i]// /-}=$r"
	done
	echo "$line" >&2
done

m0=$(median "${v0[@]}") m1=$(median "${v1[@]}") m2=$(median "${v2[@]}") m3=$(median "${v3[@]}")
echo
echo "SET, $CLIENTS clients, $REQUESTS requests per run, median of $ROUNDS rounds:"
echo
echo "| server | appendfsync | SET ops/s | / redis always |"
echo "|---|---|---:|---:|"
for i in 0 1 2 3; do
	m=$(eval echo "\$m$i")
	awk -v s="${names[$i]% *}" -v p="${names[$i]#* }" -v m="$m" -v b="$m0" \
		'BEGIN { printf "| %s | %s | %.0f | %.2fx |\n", s, p, m, m / b }'
done
