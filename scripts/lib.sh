# lib.sh: what the walkv benchmark scripts share; source it after setting
# SCRIPT (the name for messages). It defines:
#   die MSG...            print "SCRIPT: MSG" and exit 1
#   repo                  the repository root
#   work                  the scratch directory (BENCH_DIR, or a new temporary
#                         one, removed at exit)
#   pids                  background servers, killed at exit
#   wait_ping PORT        wait up to 10 s for a server to answer PING
#   build_walkv           build cmd/walkv into $work/walkv
#   median VALUES...      the median of numbers

die() { echo "$SCRIPT: $*" >&2; exit 1; }

for tool in go redis-server redis-benchmark redis-cli; do
	command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install redis-server redis-tools)"
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${BENCH_DIR:-$(mktemp -d -t "$SCRIPT.XXXXXX")}
mkdir -p "$work"
pids=()

cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ -z ${BENCH_DIR:-} ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT

wait_ping() {
	for _ in $(seq 100); do
		if [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; then return 0; fi
		sleep 0.1
	done
	die "server on port $1 did not start"
}

build_walkv() {
	echo "building walkv..." >&2
	(cd "$repo" && go build -o "$work/walkv" ./cmd/walkv)
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
