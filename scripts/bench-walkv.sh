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
#   PIPELINE     redis-benchmark -P, requests per pipeline [1]
#   BASELINE     path of a second walkv binary (say, built from main) to run
#                beside this tree's in the same rounds; adds two columns [none]
#   WALKV_PORT   [6391]     REDIS_PORT [6392]     BASELINE_PORT [6393]
#   BENCH_DIR    where both servers keep their data [a new temp dir]
#
# Each cell runs the servers alternately (the order rotates every round)
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
PIPELINE=${PIPELINE:-1}
BASELINE=${BASELINE:-}
WALKV_PORT=${WALKV_PORT:-6391}
REDIS_PORT=${REDIS_PORT:-6392}
BASELINE_PORT=${BASELINE_PORT:-6393}

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
	if [[ -n $BASELINE ]]; then
		rm -rf "$work/base-$mode"
		"$BASELINE" --addr "127.0.0.1:$BASELINE_PORT" --dir "$work/base-$mode" --appendfsync "$mode" \
			>"$work/base-$mode.log" 2>&1 &
		pids+=($!)
		wait_ping "$BASELINE_PORT"
	fi
	wait_ping "$REDIS_PORT"
	wait_ping "$WALKV_PORT"
}

stop_servers() {
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
	redis-cli -h 127.0.0.1 -p "$WALKV_PORT" shutdown >/dev/null 2>&1 || true
	if [[ -n $BASELINE ]]; then redis-cli -h 127.0.0.1 -p "$BASELINE_PORT" shutdown >/dev/null 2>&1 || true; fi
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	pids=()
}

# rps PORT TEST CLIENTS N: requests per second of one redis-benchmark run.
rps() {
	redis-benchmark -h 127.0.0.1 -p "$1" -t "$2" -c "$3" -n "$4" -r "$KEYSPACE" -d "$DATASIZE" -P "$PIPELINE" --csv 2>/dev/null |
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
			r=() w=() b=()
			servers=(r w)
			if [[ -n $BASELINE ]]; then servers+=(b); fi
			for round in $(seq "$ROUNDS"); do
				k=${#servers[@]}
				for i in $(seq 0 $((k - 1))); do
					case ${servers[$(((i + round) % k))]} in
					r) r+=("$(rps "$REDIS_PORT" "$test" "$c" "$n")") ;;
					w) w+=("$(rps "$WALKV_PORT" "$test" "$c" "$n")") ;;
					b) b+=("$(rps "$BASELINE_PORT" "$test" "$c" "$n")") ;;
					esac
				done
			done
			rm=$(median "${r[@]}") wm=$(median "${w[@]}")
			ratio=$(awk -v a="$wm" -v b="$rm" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
			echo "$mode ${test^^} c=$c redis ${r[*]} walkv ${w[*]} baseline ${b[*]}" >&2
			row="| $mode | ${test^^} | $c | $rm | $wm | ${ratio}x |"
			if [[ -n $BASELINE ]]; then
				bm=$(median "${b[@]}")
				row+=" $bm | $(awk -v a="$wm" -v b="$bm" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')x |"
			fi
			rows+=("$row")
		done
	done
	stop_servers
done

echo
echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(uname -sr), data on $(df -T "$work" | awk 'NR == 2 { print $2 }')"
echo "Versions: $(redis-server --version | awk '{ print $3 }' | tr -d 'v='), walkv from $(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown), $(go version | awk '{ print $3 }')"
echo "redis-benchmark -t TEST -c CLIENTS -n $REQUESTS (1 client: $REQUESTS_1) -r $KEYSPACE -d $DATASIZE -P $PIPELINE; median of $ROUNDS runs, requests/s"
echo
if [[ -n $BASELINE ]]; then
	echo "| appendfsync | test | clients | redis-server | walkv | walkv / redis | baseline walkv | walkv / baseline |"
	echo "|---|---|---|---:|---:|---:|---:|---:|"
else
	echo "| appendfsync | test | clients | redis-server | walkv | walkv / redis |"
	echo "|---|---|---|---:|---:|---:|"
fi
printf '%s\n' "${rows[@]}"
