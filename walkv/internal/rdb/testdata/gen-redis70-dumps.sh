#!/usr/bin/env bash
# Regenerates redis70-dumps.txt: DUMP payloads written by a real
# redis-server 7.0 (default configuration), one per line as
# "<name> <hex payload> <TYPE> <value as redis-cli --raw prints it, on one line>".
# Usage: PORT=6399 ./gen-redis70-dumps.sh > redis70-dumps.txt (a redis-server
# listening on PORT, whose data this flushes).
set -euo pipefail
cli() { redis-cli -p "${PORT:-6399}" "$@"; }
cli flushall >/dev/null
cli set str-small hello >/dev/null
cli set str-empty "" >/dev/null
cli set str-int8 -7 >/dev/null
cli set str-int16 3000 >/dev/null
cli set str-int32 -2000000000 >/dev/null
cli set str-int64 9223372036854775807 >/dev/null
cli set str-notint 007 >/dev/null
cli set str-lzf "$(printf 'abcabcabc%.0s' {1..40})xyz" >/dev/null
cli set str-long "$(head -c 300 /dev/zero | tr '\0' 'q')" >/dev/null
cli rpush list-small a 1 b 300 -5 100000 -70000 5000000000 "" "x y" >/dev/null
cli rpush list-large $(seq 1 3000) >/dev/null
for i in $(seq 1 40); do cli rpush list-nodes "$(printf 'element-%04d-%0300d' "$i" 0)" >/dev/null; done
cli sadd set-intset 1 2 3 -70000 5000000000 >/dev/null
cli sadd set-intset16 1 -300 >/dev/null
cli sadd set-ht a b c 1 >/dev/null
cli sadd set-bigints $(seq 1 600) >/dev/null
cli hset hash-lp f1 v1 f2 12 f3 -7 f4 "" >/dev/null
cli hset hash-ht f1 "$(head -c 100 /dev/zero | tr '\0' 'h')" f2 v2 >/dev/null
cli zadd zset-lp 1.5 a -2 b 3 c inf d -inf e 0 f >/dev/null
cli zadd zset-sl 1.5 "$(head -c 100 /dev/zero | tr '\0' 'm')" -2.25 b 1e300 c >/dev/null
for k in $(cli --raw keys '*' | sort); do
	hex=$(cli --raw dump "$k" | head -c -1 | xxd -p | tr -d '\n')
	typ=$(cli --raw type "$k")
	case $typ in
	string) val=$(cli --raw get "$k" | tr '\n' ' ') ;;
	list) val=$(cli --raw lrange "$k" 0 -1 | tr '\n' ' ') ;;
	set) val=$(cli --raw smembers "$k" | sort | tr '\n' ' ') ;;
	hash) val=$(cli --raw hgetall "$k" | paste -d= - - | sort | tr '\n' ' ') ;;
	zset) val=$(cli --raw zrange "$k" 0 -1 withscores | paste -d= - - | tr '\n' ' ') ;;
	esac
	printf '%s %s %s %s\n' "$k" "$hex" "$typ" "$val"
done
