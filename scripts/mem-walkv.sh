#!/usr/bin/env bash
# mem-walkv.sh: memory of walkv against redis-server, side by side in one
# run, and print markdown tables.
#
#  1. RSS per key: for each type, both servers start empty (appendonly yes,
#     appendfsync everysec), the same N keys are loaded into each through
#     redis-cli --pipe, and (RSS after load - RSS empty) / N is reported with
#     the ratio walkv / redis. RSS is VmRSS of /proc/PID/status, read once
#     it has settled (two readings 1 s apart within 1%, at most 30 s).
#  2. Snapshots: with SNAP_KEYS strings of 256 B loaded, redis-benchmark SET
#     runs on the same keys at full speed twice per server: once with no
#     snapshot, once while BGSAVE runs back to back for the whole run. The
#     script samples the memory of the server's process tree (the sum of Pss
#     from /proc/PID/smaps_rollup, so that redis's forked child counts only
#     for the pages it does not share) every 0.1 s, and reports the peak of
#     each phase, their ratio, and the benchmark's p99 latency per phase.
#
# It installs nothing. It needs go, redis-server, redis-benchmark and
# redis-cli on PATH (Debian: apt-get install redis-server redis-tools).
#
# Usage: scripts/mem-walkv.sh
#
# Environment (defaults in brackets):
#   N            keys per type [1000000]
#   TYPES        which loads ["str16 str256 hash list set zset"]
#   SNAP_KEYS    keys for the snapshot part (0: skip it) [1000000]
#   SNAP_REQS    SET requests per phase [2000000]
#   WALKV_PORT   [6393]     REDIS_PORT [6394]
#   BENCH_DIR    where both servers keep their data [a new temp dir]
set -euo pipefail

N=${N:-1000000}
TYPES=${TYPES:-"str16 str256 hash list set zset"}
SNAP_KEYS=${SNAP_KEYS:-1000000}
SNAP_REQS=${SNAP_REQS:-2000000}
WALKV_PORT=${WALKV_PORT:-6393}
REDIS_PORT=${REDIS_PORT:-6394}

SCRIPT=mem-walkv
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

# gen TYPE COUNT: the RESP commands that create COUNT keys of TYPE. Small
# collections have 5 elements; members are strings, not integers (Redis
# would keep integer sets as compact intsets).
gen() {
	awk -v t="$1" -v n="$2" 'BEGIN {
		v16 = sprintf("%016d", 0); v256 = sprintf("%0256d", 0)
		for (i = 0; i < n; i++) {
			k = sprintf("key:%012d", i) # the names redis-benchmark -r uses
			if (t == "str16" || t == "str256") {
				v = (t == "str16") ? v16 : v256
				printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
				continue
			}
			if (t == "hash") { printf "*12\r\n$4\r\nHSET\r\n" }
			if (t == "list") { printf "*7\r\n$5\r\nRPUSH\r\n" }
			if (t == "set") { printf "*7\r\n$4\r\nSADD\r\n" }
			if (t == "zset") { printf "*12\r\n$4\r\nZADD\r\n" }
			printf "$%d\r\n%s\r\n", length(k), k
			for (j = 1; j <= 5; j++) {
				m = sprintf("member:%d", j)
				if (t == "hash") { f = sprintf("field:%d", j); printf "$%d\r\n%s\r\n", length(f), f }
				if (t == "zset") { printf "$1\r\n%d\r\n", j }
				printf "$%d\r\n%s\r\n", length(m), m
			}
		}
	}'
}

# start NAME PORT: start redis-server or walkv on an empty data directory,
# appendfsync everysec; sets spid to its pid.
start() {
	local d="$work/data-$1"
	rm -rf "$d" && mkdir -p "$d"
	if [[ $1 == redis ]]; then
		redis-server --port "$2" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec \
			--dir "$d" --logfile "$work/redis.log" >/dev/null 2>&1 &
	else
		"$work/walkv" --addr "127.0.0.1:$2" --dir "$d" --appendfsync everysec >"$work/walkv.log" 2>&1 &
	fi
	spid=$!
	pids+=("$spid")
	wait_ping "$2"
}

# stop PID PORT
stop() {
	redis-cli -h 127.0.0.1 -p "$2" shutdown nosave >/dev/null 2>&1 || true
	wait "$1" 2>/dev/null || true
}

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; } # kB

# settled PID: RSS once two readings 1 s apart differ by at most 1%.
settled() {
	local a b
	a=$(rss "$1")
	for _ in $(seq 30); do
		sleep 1
		b=$(rss "$1")
		if awk -v a="$a" -v b="$b" 'BEGIN { exit !(b <= a * 1.01 && a <= b * 1.01) }'; then break; fi
		a=$b
	done
	echo "$b"
}

# pss_tree PID: Pss of PID and its children, kB.
pss_tree() {
	local total=0 p v
	for p in "$1" $(pgrep -P "$1" || true); do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

# perkey NAME PORT TYPE: bytes per key of TYPE in a fresh server.
perkey() {
	local pid r0 r1 n
	start "$1" "$2"
	pid=$spid
	r0=$(settled "$pid")
	gen "$3" "$N" | redis-cli -h 127.0.0.1 -p "$2" --pipe >/dev/null
	n=$(redis-cli -h 127.0.0.1 -p "$2" dbsize)
	[[ $n == "$N" ]] || die "$1 holds $n keys after loading $N"
	r1=$(settled "$pid")
	stop "$pid" "$2"
	awk -v a="$r0" -v b="$r1" -v n="$N" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }'
}

build_walkv

rows=()
for t in $TYPES; do
	perkey redis "$REDIS_PORT" "$t" >"$work/r"
	perkey walkv "$WALKV_PORT" "$t" >"$work/w"
	r=$(cat "$work/r") w=$(cat "$work/w")
	ratio=$(awk -v a="$w" -v b="$r" 'BEGIN { printf "%.2f", a / b }')
	echo "$t: redis $r B/key, walkv $w B/key, ${ratio}x" >&2
	rows+=("| $t | $r | $w | ${ratio}x |")
done

# p99 PORT: the p99 latency (ms) of a full-speed SET run over the loaded keys.
p99() {
	redis-benchmark -h 127.0.0.1 -p "$1" -t set -c 50 -n "$SNAP_REQS" -r "$SNAP_KEYS" -d 256 --csv 2>/dev/null |
		awk -F'","' 'NR == 2 { print $7 }'
}

# sampled PID CMD...: run CMD while sampling PID's memory; prints
# "peak_kB p99_ms".
sampled() {
	local pid=$1 peak=0 v out
	shift
	out=$work/phase.out
	"$@" >"$out" &
	local job=$!
	while kill -0 "$job" 2>/dev/null; do
		v=$(pss_tree "$pid")
		((v > peak)) && peak=$v
		sleep 0.1
	done
	wait "$job"
	echo "$peak $(cat "$out")"
}

# snapping PORT: BGSAVE back to back until the file $work/stop exists; the
# number of snapshots completed goes to $work/snaps.
snapping() {
	local n=0
	while [[ ! -e $work/stop ]]; do
		# Refused while one runs (or, in redis, while an AOF rewrite runs).
		if [[ $(redis-cli -h 127.0.0.1 -p "$1" bgsave 2>&1) == *started* ]]; then n=$((n + 1)); fi
		while [[ $(redis-cli -h 127.0.0.1 -p "$1" info persistence | tr -d '\r' |
			awk -F: '/^rdb_bgsave_in_progress:/ { print $2 }') == 1 ]]; do sleep 0.05; done
		sleep 0.05
	done
	echo "$n" >"$work/snaps"
}

# snapphase PORT: p99 of a SET run during back-to-back snapshots.
snapphase() {
	rm -f "$work/stop"
	snapping "$1" &
	local s=$!
	p99 "$1"
	touch "$work/stop"
	wait "$s"
}

snaprows=()
if ((SNAP_KEYS > 0)); then
	for name in redis walkv; do
		port=$REDIS_PORT
		[[ $name == walkv ]] && port=$WALKV_PORT
		start "$name" "$port"
		pid=$spid
		gen str256 "$SNAP_KEYS" | redis-cli -h 127.0.0.1 -p "$port" --pipe >/dev/null
		settled "$pid" >/dev/null
		read -r steady p99steady < <(sampled "$pid" p99 "$port")
		read -r peak p99snap < <(sampled "$pid" snapphase "$port")
		snaps=$(cat "$work/snaps")
		stop "$pid" "$port"
		mr=$(awk -v a="$peak" -v b="$steady" 'BEGIN { printf "%.2f", a / b }')
		lr=$(awk -v a="$p99snap" -v b="$p99steady" 'BEGIN { printf "%.2f", a / b }')
		echo "$name: peak $steady kB without, $peak kB with $snaps snapshots; p99 $p99steady ms without, $p99snap ms with" >&2
		snaprows+=("| $name | $((steady / 1024)) | $((peak / 1024)) | ${mr}x | $p99steady | $p99snap | ${lr}x | $snaps |")
	done
fi

echo
echo "Machine: $(nproc) CPUs, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg); $(redis-server --version | awk '{ print $3 }' | tr -d 'v='), walkv from $(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown), $(go version | awk '{ print $3 }')"
echo "RSS per key: $N keys per type, loaded with redis-cli --pipe, appendonly yes / appendfsync everysec"
echo
echo "| type | redis-server B/key | walkv B/key | walkv / redis |"
echo "|---|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
if ((SNAP_KEYS > 0)); then
	echo
	echo "Snapshots: $SNAP_KEYS strings of 256 B; redis-benchmark -t set -c 50 -n $SNAP_REQS -r $SNAP_KEYS -d 256 per phase"
	echo
	echo "| server | peak MiB, no snapshot | peak MiB, snapshots | ratio | p99 ms, no snapshot | p99 ms, snapshots | ratio | snapshots |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${snaprows[@]}"
fi
