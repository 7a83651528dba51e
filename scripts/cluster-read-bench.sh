#!/bin/sh
# cluster-read-bench.sh: GET throughput and latency of a local 3-node walkv
# cluster in each read mode, with redis-benchmark, 1 and 50 clients.
#
#   go build -o /tmp/walkv ./cmd/walkv && scripts/cluster-read-bench.sh /tmp/walkv [N]
#
# Prints a CSV line per mode, node and client count: mode, node, clients,
# then redis-benchmark's "test","rps","avg_latency_ms","min_latency_ms",
# "p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms". N is the
# number of requests per run (default 20000; ten times as many pipelined).
set -eu
bin=$1
n=${2:-20000}
base=$(mktemp -d)
trap 'kill $(cat "$base"/*.pid 2>/dev/null) 2>/dev/null; rm -rf "$base"' EXIT
peers="n0=127.0.0.1:17100=127.0.0.1:17000,n1=127.0.0.1:17101=127.0.0.1:17001,n2=127.0.0.1:17102=127.0.0.1:17002"

start() { # mode flags...
	for i in 0 1 2; do
		b=""
		[ $i = 0 ] && b=--bootstrap
		"$bin" --addr 127.0.0.1:1700$i --raft-addr 127.0.0.1:1710$i --node-id n$i --dir "$base/$1/$i" \
			--peers "$peers" $b $2 >"$base/$1.$i.out" 2>"$base/$1.$i.err" &
		echo $! >"$base/$i.pid"
	done
	for _ in $(seq 100); do
		l=$(redis-cli -p 17000 CLUSTER STATUS LOCAL 2>/dev/null | sed -n 's/.*leader:n\([0-9]\).*/\1/p')
		if [ -n "$l" ] && redis-cli -p 1700$l SET key:__rand_int__ v 2>/dev/null | grep -q OK; then
			leader=1700$l
			follower=1700$(((l + 1) % 3))
			return
		fi
		sleep 0.1
	done
	echo "no leader" >&2
	exit 1
}

stop() {
	kill $(cat "$base"/*.pid)
	wait 2>/dev/null || true
	rm -f "$base"/*.pid
}

for mode in linearizable lease stale; do
	flags=""
	[ $mode = lease ] && flags=--lease-reads
	[ $mode = stale ] && flags=--stale-reads
	start $mode "$flags"
	redis-cli -p $leader CLUSTER STATUS
	for c in 1 50; do
		printf '%s,leader,%s,' $mode $c
		redis-benchmark -p $leader -t get -c $c -n "$n" --csv | tail -1
	done
	printf '%s,leader,50 -P 16,' $mode
	redis-benchmark -p $leader -t get -c 50 -P 16 -n $((n * 10)) --csv | tail -1
	if [ $mode = stale ]; then
		for c in 1 50; do
			printf '%s,follower,%s,' $mode $c
			redis-benchmark -p $follower -t get -c $c -n "$n" --csv | tail -1
		done
	fi
	stop
done
