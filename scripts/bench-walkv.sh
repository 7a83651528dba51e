#!/usr/bin/env bash
# bench-walkv.sh: compare walkv with redis-server under the same appendfsync
# policy, using redis-benchmark, side by side in one run, and print a
# markdown table.
#
# It installs nothing. It needs go, redis-server, redis-benchmark and
# redis-cli on PATH (Debian: apt-get install redis-server redis-tools).
#
# Usage: scripts/bench-walkv.sh
#
# Environment (defaults in brackets):
#   MODES        appendfsync policies to run ["always everysec"]
#   CLIENTS      client counts ["1 50"]
#   TESTS        redis-benchmark tests ["set get"]
#   REQUESTS     requests per run with many clients [100000]
#   REQUESTS_1   requests per run with one client [10000]
#   ROUNDS       runs per cell; the median is reported [3]
#   KEYSPACE     redis-benchmark -r [100000]
#   DATASIZE     redis-benchmark -d, value size in bytes [3]
#   WALKV_PORT   [6391]     REDIS_PORT [6392]
#   BENCH_DIR    where both servers keep their data [a new temp dir]
#
# Each cell runs the two servers alternately (the order flips every round)
# so that background noise hits both alike. Both servers listen on
# 127.0.0.1 and keep their data in BENCH_DIR (the same filesystem).
set -euo pipefail

MODES=${MODES:-"always everysec"}
CLIENTS=${CLIENTS:-"1 50"}
TESTS=${TESTS:-"set get"}
REQUESTS=${REQUESTS:-100000}
REQUESTS_1=${REQUESTS_1:-10000}
ROUNDS=${ROUNDS:-3}
KEYSPACE=${KEYSPACE:-100000}
DATASIZE=${DATASIZE:-3}
WALKV_PORT=${WALKV_PORT:-6391}
REDIS_PORT=${REDIS_PORT:-6392}

SCRIPT=bench-walkv
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

# start_servers MODE: start redis-server and walkv with appendfsync MODE on
# empty data directories.
start_servers() {
	local mode=$1
	rm -rf "$work/redis-$mode" "$work/walkv-$mode"
	mkdir -p "$work/redis-$mode"
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly yes \
		--appendfsync "$mode" --dir "$work/redis-$mode" --logfile "$work/redis-$mode.log" &
	pids+=($!)
	"$work/walkv" --addr "127.0.0.1:$WALKV_PORT" --dir "$work/walkv-$mode" --appendfsync "$mode" \
		>"$work/walkv-$mode.log" 2>&1 &
	pids+=($!)
	wait_ping "$REDIS_PORT"
	wait_ping "$WALKV_PORT"
}

stop_servers() {
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
	redis-cli -h 127.0.0.1 -p "$WALKV_PORT" shutdown >/dev/null 2>&1 || true
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	pids=()
}

# rps PORT TEST CLIENTS N: requests per second of one redis-benchmark run.
rps() {
	redis-benchmark -h 127.0.0.1 -p "$1" -t "$2" -c "$3" -n "$4" -r "$KEYSPACE" -d "$DATASIZE" --csv 2>/dev/null |
		awk -F'","' 'NR == 2 { print $2 }'
}

build_walkv

rows=()
for mode in $MODES; do
	start_servers "$mode"
	for test in $TESTS; do
		for c in $CLIENTS; do
			n=$REQUESTS
			if [[ $c == 1 ]]; then n=$REQUESTS_1; fi
			r=() w=()
			for round in $(seq "$ROUNDS"); do
				if ((round % 2)); then
					r+=("$(rps "$REDIS_PORT" "$test" "$c" "$n")")
					w+=("$(rps "$WALKV_PORT" "$test" "$c" "$n")")
				else
					w+=("$(rps "$WALKV_PORT" "$test" "$c" "$n")")
					r+=("$(rps "$REDIS_PORT" "$test" "$c" "$n")")
				fi
			done
			rm=$(median "${r[@]}") wm=$(median "${w[@]}")
			ratio=$(awk -v a="$wm" -v b="$rm" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
			echo "$mode ${test^^} c=$c redis ${r[*]} walkv ${w[*]}" >&2
			rows+=("| $mode | ${test^^} | $c | $rm | $wm | ${ratio}x |")
		done
	done
	stop_servers
done

echo
echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(uname -sr), data on $(df -T "$work" | awk 'NR == 2 { print $2 }')"
echo "Versions: $(redis-server --version | awk '{ print $3 }' | tr -d 'v='), walkv from $(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown), $(go version | awk '{ print $3 }')"
echo "redis-benchmark -t TEST -c CLIENTS -n $REQUESTS (1 client: $REQUESTS_1) -r $KEYSPACE -d $DATASIZE; median of $ROUNDS runs, requests/s"
echo
echo "| appendfsync | test | clients | redis-server | walkv | walkv / redis |"
echo "|---|---|---|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
