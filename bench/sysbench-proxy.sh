#!/usr/bin/env bash
# sysbench-proxy.sh: MySQL/MariaDB throughput through a proxy vs direct,
# measured side by side (interleaved rounds), reported as median ratios.
set -euo pipefail

BENCH_NAME=sysbench-proxy
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIRECT=127.0.0.1:3306
PROXY=127.0.0.1:3307
ROUNDS=3
SECONDS_PER_RUN=10
THREADS=8
TABLES=4
TABLE_SIZE=10000
PS_MODES="auto disable"
WORKLOADS=oltp_point_select
WARMUP=2
PROXY_PID=""
USER_NAME=sbtest
USER_PASS=sbtest-pass
PROXY_USER=""
PROXY_PASS=""
ROOT_USER=root
ROOT_PASS=""

usage() {
  cat <<'EOF_USAGE'
Usage: bench/sysbench-proxy.sh [options] [PROXY_HOST:PORT]

Runs sysbench against MariaDB directly and through a proxy, alternately, for
N rounds of T seconds each, for --db-ps-mode=auto (server-side prepared
statements) and --db-ps-mode=disable (text protocol: every query goes through
the proxy's SQL parser), and prints the QPS of every run and the median ratio
proxy/direct per workload and ps-mode.

Before measuring it creates (as MariaDB root) the account sbtest/sbtest-pass
and database sbtest, and prepares 4 tables x 10,000 rows if they are not
already exactly there.

Arguments:
  PROXY_HOST:PORT         proxy address (default 127.0.0.1:3307)

Options:
  --proxy HOST:PORT       same as the argument
  --direct HOST:PORT      the database itself (default 127.0.0.1:3306)
  --rounds N              rounds per workload and ps-mode (default 3)
  --time T                seconds per run (default 10)
  --threads N             sysbench threads (default 8)
  --read-only             also run oltp_read_only (default: oltp_point_select only)
  --ps-modes "M..."       ps-modes to run (default "auto disable")
  --warmup S              untimed warm-up per target before measuring (default 2, 0 = none)
  --proxy-pid PID         report the proxy's CPU microseconds per query
                          (utime+stime deltas from /proc/PID/stat)
  --proxy-user U          account used through the proxy (default sbtest)
  --proxy-password P      its password (default sbtest-pass)
  --root-user U           MariaDB admin account for setup (default root)
  --root-password P       its password (default empty)
  -h, --help              show this help

Runtime: about workloads x ps-modes x rounds x 2 x (T + 1) seconds, printed
before starting. Every sysbench run is bounded by `timeout`.

Example (ratio ~1.0: the "proxy" is the database itself):
  bench/sysbench-proxy.sh --rounds 2 --time 3 127.0.0.1:3306
EOF_USAGE
}

while (($#)); do
  case "$1" in
    --proxy) PROXY=${2:?--proxy needs HOST:PORT}; shift ;;
    --direct) DIRECT=${2:?--direct needs HOST:PORT}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --time) SECONDS_PER_RUN=${2:?}; shift ;;
    --threads) THREADS=${2:?}; shift ;;
    --read-only) WORKLOADS="oltp_point_select oltp_read_only" ;;
    --ps-modes) PS_MODES=${2:?}; shift ;;
    --warmup) WARMUP=${2:?}; shift ;;
    --proxy-pid) PROXY_PID=${2:?}; shift ;;
    --proxy-user) PROXY_USER=${2:?}; shift ;;
    --proxy-password) PROXY_PASS=${2-}; shift ;;
    --root-user) ROOT_USER=${2:?}; shift ;;
    --root-password) ROOT_PASS=${2-}; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option '$1' (try --help)" ;;
    *) PROXY=$1 ;;
  esac
  shift
done
PROXY_USER=${PROXY_USER:-$USER_NAME}
PROXY_PASS=${PROXY_PASS:-$USER_PASS}

positive_int --rounds "$ROUNDS"
positive_int --time "$SECONDS_PER_RUN"
positive_int --threads "$THREADS"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "--warmup must be a number of seconds"
for m in $PS_MODES; do
  [[ $m == auto || $m == disable ]] || die "--ps-modes: '$m' is not auto or disable"
done
if [[ -n $PROXY_PID && ! -r /proc/$PROXY_PID/stat ]]; then
  die "--proxy-pid $PROXY_PID: no such process"
fi
# Load from other work, before this script adds its own.
START_LOAD=$(load1)
need_cmd sysbench
need_cmd mariadb "apt-get install -y mariadb-client"

read -r DIRECT_HOST DIRECT_PORT < <(split_addr "$DIRECT")
read -r PROXY_HOST PROXY_PORT < <(split_addr "$PROXY")

# --- setup: account, database, tables -------------------------------------
ensure_sbtest_tables "$DIRECT_HOST" "$DIRECT_PORT" "$ROOT_USER" "$ROOT_PASS" "$USER_NAME" "$USER_PASS" "$TABLES" "$TABLE_SIZE"
sb_common=(--tables="$TABLES" --table-size="$TABLE_SIZE" --mysql-db=sbtest --db-driver=mysql)

port_open "$PROXY_HOST" "$PROXY_PORT" ||
  die "nothing listens on the proxy address $PROXY (start dbfence there, or pass another address; --help)"
mariadb --no-defaults --protocol=TCP -h"$PROXY_HOST" -P"$PROXY_PORT" -u"$PROXY_USER" --password="$PROXY_PASS" \
  -e 'SELECT COUNT(*) FROM sbtest.sbtest1' >/dev/null 2>&1 ||
  die "the proxy at $PROXY does not let $PROXY_USER read sbtest.sbtest1 (check its rules and credentials)"

# --- measuring ---------------------------------------------------------------
n_workloads=$(wc -w <<<"$WORKLOADS")
n_modes=$(wc -w <<<"$PS_MODES")
estimate=$((n_workloads * n_modes * ROUNDS * 2 * (SECONDS_PER_RUN + 1) + 2 * WARMUP))
log "measuring: $WORKLOADS; ps-modes $PS_MODES; $ROUNDS rounds x ${SECONDS_PER_RUN}s; $THREADS threads; direct $DIRECT vs proxy $PROXY (~${estimate}s)"

# run_sysbench TARGET WORKLOAD MODE SECONDS: prints "QPS QUERIES CPU_TICKS".
run_sysbench() {
  local target=$1 workload=$2 mode=$3 secs=$4 host port user pass out before after ticks=""
  if [[ $target == direct ]]; then
    host=$DIRECT_HOST port=$DIRECT_PORT user=$USER_NAME pass=$USER_PASS
  else
    host=$PROXY_HOST port=$PROXY_PORT user=$PROXY_USER pass=$PROXY_PASS
  fi
  [[ $target == proxy && -n $PROXY_PID ]] && before=$(cpu_ticks "$PROXY_PID")
  out=$(timeout $((secs + 30)) sysbench "$workload" "${sb_common[@]}" --mysql-host="$host" --mysql-port="$port" \
    --mysql-user="$user" --mysql-password="$pass" --threads="$THREADS" --time="$secs" --report-interval=0 \
    --db-ps-mode="$mode" run 2>&1) || die "sysbench $workload against $target ($host:$port) failed:
$(tail -n 20 <<<"$out")"
  if [[ $target == proxy && -n $PROXY_PID ]]; then
    after=$(cpu_ticks "$PROXY_PID")
    [[ -n $after && -n $before ]] && ticks=$((after - before))
  fi
  # "    queries:                             123456 (12345.67 per sec.)"
  awk -v ticks="$ticks" '/^ *queries:/ { q = $2; qps = $3; sub(/^\(/, "", qps) } END {
    if (q == "") exit 1; print qps, q, (ticks == "" ? "-" : ticks) }' <<<"$out" ||
    die "could not read the QPS from sysbench's output:
$(tail -n 20 <<<"$out")"
}

if ((WARMUP > 0)); then
  log "warm-up: ${WARMUP}s direct, ${WARMUP}s proxy"
  run_sysbench direct oltp_point_select auto "$WARMUP" >/dev/null
  run_sysbench proxy oltp_point_select auto "$WARMUP" >/dev/null
fi

declare -A QPS QUERIES TICKS
for workload in $WORKLOADS; do
  for mode in $PS_MODES; do
    for ((round = 1; round <= ROUNDS; round++)); do
      # Alternate the order so neither side always runs on a warmer machine.
      order="direct proxy"
      ((round % 2 == 0)) && order="proxy direct"
      for target in $order; do
        read -r qps queries ticks < <(run_sysbench "$target" "$workload" "$mode" "$SECONDS_PER_RUN")
        key="$workload|$mode|$round|$target"
        QPS[$key]=$qps QUERIES[$key]=$queries TICKS[$key]=$ticks
        log "$workload ps-mode=$mode round $round/$ROUNDS $target: $qps QPS"
      done
    done
  done
done

# --- report ------------------------------------------------------------------
echo
echo "sysbench $THREADS threads, ${SECONDS_PER_RUN}s per run, $TABLES tables x $TABLE_SIZE rows; direct $DIRECT, proxy $PROXY"
printf '%-18s %-8s %5s %12s %12s %12s %14s\n' workload ps-mode round direct_qps proxy_qps proxy/direct proxy_cpu_us/q
declare -A RATIOS CPUS
for workload in $WORKLOADS; do
  for mode in $PS_MODES; do
    for ((round = 1; round <= ROUNDS; round++)); do
      d=${QPS[$workload|$mode|$round|direct]} p=${QPS[$workload|$mode|$round|proxy]}
      r=$(ratio "$p" "$d")
      cpu=$(us_per_query "${TICKS[$workload|$mode|$round|proxy]/-/}" "${QUERIES[$workload|$mode|$round|proxy]}")
      RATIOS[$workload|$mode]+="$r " CPUS[$workload|$mode]+="$cpu "
      printf '%-18s %-8s %5s %12s %12s %12s %14s\n' "$workload" "$mode" "$round" "$d" "$p" "$r" "$cpu"
    done
  done
done
echo
load_note "$START_LOAD"
echo "Medians over $ROUNDS rounds:"
printf '%-18s %-8s %14s %16s\n' workload ps-mode proxy/direct proxy_cpu_us/q
for workload in $WORKLOADS; do
  for mode in $PS_MODES; do
    # shellcheck disable=SC2086
    printf '%-18s %-8s %14s %16s\n' "$workload" "$mode" "$(median ${RATIOS[$workload|$mode]})" "$(median_us ${CPUS[$workload|$mode]})"
  done
done
