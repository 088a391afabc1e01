#!/usr/bin/env bash
# stream-memory.sh: relay a large result through dbfence and report the
# proxy's peak memory, to show results stream in constant memory.
set -euo pipefail

ROWS=10000000
PORT=3397
ADMIN=9497
usage() {
  cat <<'EOF2'
Usage: bench/stream-memory.sh [--rows N] [--port P]

Starts bin/dbfence (run `make build` first) against MariaDB on 127.0.0.1:3306,
streams `SELECT seq, REPEAT('x',100) FROM seq_1_to_N` through it with the
mariadb client (--quick, output discarded), and prints the proxy's resident
memory at start, its peak (VmHWM) and the elapsed time; then the same query
directly, for reference. Default N = 10,000,000 (about 1.1 GB relayed).
EOF2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
[ -x bin/dbfence ] || { echo "bin/dbfence missing: run 'make build'" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
cat >"$tmp/c.yaml" <<EOF2
listen: {mysql: "127.0.0.1:$PORT", admin: "127.0.0.1:$ADMIN"}
log: {level: warn}
EOF2
bin/dbfence serve --config "$tmp/c.yaml" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 50); do mariadb -h127.0.0.1 -P"$PORT" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
rss() { awk '/^VmRSS/ {print $2}' /proc/"$pid"/status; }
hwm() { awk '/^VmHWM/ {print $2}' /proc/"$pid"/status; }
start_rss=$(rss)
q="SELECT seq, REPEAT('x', 100) FROM seq_1_to_$ROWS"
t0=$(date +%s.%N)
mariadb -h127.0.0.1 -P"$PORT" -uroot --quick --batch mysql -e "$q" >/dev/null
t1=$(date +%s.%N)
proxied=$(echo "$t1 - $t0" | bc)
peak=$(hwm)
cpu_ticks=$(awk '{print $14+$15}' /proc/"$pid"/stat)
t0=$(date +%s.%N)
mariadb -h127.0.0.1 -P3306 -uroot --quick --batch mysql -e "$q" >/dev/null
t1=$(date +%s.%N)
direct=$(echo "$t1 - $t0" | bc)
printf 'rows relayed           %d\n' "$ROWS"
printf 'proxy RSS before       %d KiB\n' "$start_rss"
printf 'proxy peak RSS (HWM)   %d KiB\n' "$peak"
printf 'elapsed via proxy      %.2f s\n' "$proxied"
printf 'elapsed direct         %.2f s\n' "$direct"
printf 'proxy CPU              %.2f s\n' "$(echo "$cpu_ticks / $(getconf CLK_TCK)" | bc -l)"
