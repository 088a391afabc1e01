#!/usr/bin/env bash
# audit-cost.sh: what the audit log costs in throughput, measured side by side:
# two dbfence processes in front of the same databases, one without audit and
# one with it, loaded alternately by pgbench -S and sysbench oltp_point_select.
set -euo pipefail

BENCH_NAME=audit-cost
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

BIN=$ROOT/bin/dbfence
PROTOCOLS="postgres mysql"
ROUNDS=16
SECONDS_PER_RUN=4
CLIENTS=8
AUDIT_MODE=buffered
FSYNC_INTERVAL=""
FSYNC_RECORDS=""
PG_MODE=simple
MY_PS_MODE=disable
WARMUP=2
KEEP=0
AUDIT_DIR=""
RATE=0

usage() {
  cat <<'EOF_USAGE'
Usage: bench/audit-cost.sh [options]

Starts two dbfence processes from bin/dbfence in front of the local databases
(MariaDB 127.0.0.1:3306, PostgreSQL 127.0.0.1:5432), both with no rules:

  without audit   MySQL 127.0.0.1:3327, PostgreSQL 127.0.0.1:5453, admin 127.0.0.1:9427
  with audit      MySQL 127.0.0.1:3337, PostgreSQL 127.0.0.1:5463, admin 127.0.0.1:9437
                  (audit mode buffered unless --audit-mode strict; fresh keys and
                  audit directory in a temporary directory)

then runs, per protocol, N rounds of the same load against each, alternating
which goes first, and prints per round the QPS, the proxy's CPU microseconds
per query and the whole machine's (every process and kernel thread: the
clients, the database, writeback) of both, and the medians of audit/no-audit.
The cost of audit is 1 - the QPS median. Both proxies run all the time, so
each sees the other's idle process only.

On a saturated machine QPS is what the clients get, but it wanders by several
per cent from run to run. With --rate the machine has the same work to do
either way, and what audit costs shows as machine CPU per query: its cost in
throughput, once the machine is saturated, is about 1 - machine_noaudit /
machine_audit ("cpu_cost").

Loads: pgbench -S -c CLIENTS -j 2 on database pgbench (scale 5, created if
missing); sysbench oltp_point_select with CLIENTS threads on sbtest (4 x 10,000
rows, account sbtest, prepared if missing).

Options:
  --protocols "P..."     postgres, mysql or both (default "postgres mysql")
  --rounds N             rounds per protocol (default 16; use an even number)
  --time T               seconds per run (default 4: many short rounds beat
                         few long ones on a machine whose speed wanders)
  --clients N            clients / threads (default 8)
  --audit-mode M         buffered (default) or strict
  --fsync-interval D     audit fsync_interval of the audited proxy (Go duration;
                         default: dbfence's default)
  --fsync-records N      audit fsync_records of the audited proxy (default:
                         dbfence's default; with a long --fsync-interval it
                         sets how often buffered mode fsyncs under load)
  --audit-dir DIR        where the audited proxy writes its log (default: in the
                         temporary directory; e.g. a tmpfs to leave the disk out)
  --rate QPS             offered load instead of as fast as possible (pgbench -R,
                         sysbench --rate): the machine is then not saturated,
                         so compare machine_cpu_us/q rather than QPS
  --pg-mode M            pgbench -M: simple (default), extended or prepared
  --mysql-ps-mode M      sysbench --db-ps-mode: disable (default) or auto
  --warmup S             untimed warm-up per proxy (default 2, 0 = none)
  --bin PATH             the dbfence binary (default bin/dbfence; `make build`)
  --keep                 keep the temporary directory (configs, logs, audit files)
  -h, --help             show this help

Runtime: about protocols x rounds x 2 x (T + 1) seconds, printed before
starting. Every run is bounded by `timeout`.
EOF_USAGE
}

while (($#)); do
  case "$1" in
    --protocols) PROTOCOLS=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --time) SECONDS_PER_RUN=${2:?}; shift ;;
    --clients) CLIENTS=${2:?}; shift ;;
    --audit-mode) AUDIT_MODE=${2:?}; shift ;;
    --fsync-interval) FSYNC_INTERVAL=${2:?}; shift ;;
    --fsync-records) FSYNC_RECORDS=${2:?}; shift ;;
    --audit-dir) AUDIT_DIR=${2:?}; shift ;;
    --rate) RATE=${2:?}; shift ;;
    --pg-mode) PG_MODE=${2:?}; shift ;;
    --mysql-ps-mode) MY_PS_MODE=${2:?}; shift ;;
    --warmup) WARMUP=${2:?}; shift ;;
    --bin) BIN=${2:?}; shift ;;
    --keep) KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
  shift
done
positive_int --rounds "$ROUNDS"
positive_int --time "$SECONDS_PER_RUN"
positive_int --clients "$CLIENTS"
[[ $RATE =~ ^[0-9]+$ ]] || die "--rate must be a number of queries per second"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "--warmup must be a number of seconds"
[[ $AUDIT_MODE == buffered || $AUDIT_MODE == strict ]] || die "--audit-mode must be buffered or strict"
[[ $PG_MODE =~ ^(simple|extended|prepared)$ ]] || die "--pg-mode must be simple, extended or prepared"
[[ $MY_PS_MODE =~ ^(disable|auto)$ ]] || die "--mysql-ps-mode must be disable or auto"
for p in $PROTOCOLS; do
  [[ $p == postgres || $p == mysql ]] || die "--protocols: '$p' is not postgres or mysql"
done
[[ -x $BIN ]] || die "$BIN not found (run make build, or pass --bin)"
START_LOAD=$(load1)
need_cmd pgbench "apt-get install -y postgresql-client"
need_cmd psql "apt-get install -y postgresql-client"
need_cmd sysbench
need_cmd mariadb "apt-get install -y mariadb-client"

for port in 3327 5453 9427 3337 5463 9437; do
  port_open 127.0.0.1 "$port" && die "127.0.0.1:$port is in use (another dbfence? stop it first)"
done

# --- setup -------------------------------------------------------------------
[[ " $PROTOCOLS " == *" postgres "* ]] && ensure_pgbench_tables 127.0.0.1 5432 postgres pgbench 5
[[ " $PROTOCOLS " == *" mysql "* ]] && ensure_sbtest_tables 127.0.0.1 3306 root "" sbtest sbtest-pass 4 10000

WORK=$(mktemp -d /tmp/dbfence-audit-cost.XXXXXX)
PIDS=()
OWN_AUDIT_DIR="" # an --audit-dir this script created or found empty: removed at the end
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((KEEP)); then
    log "kept $WORK${OWN_AUDIT_DIR:+ and $OWN_AUDIT_DIR}"
  else
    rm -rf "$WORK"
    [[ -n $OWN_AUDIT_DIR ]] && rm -rf "$OWN_AUDIT_DIR"
  fi
}
trap cleanup EXIT

"$BIN" audit keygen --out "$WORK/keys" >/dev/null || die "audit keygen failed"
if [[ -n $AUDIT_DIR ]]; then
  [[ ! -e $AUDIT_DIR || -z $(ls -A "$AUDIT_DIR") ]] || die "--audit-dir $AUDIT_DIR is not empty"
  mkdir -p "$AUDIT_DIR" || die "cannot create --audit-dir $AUDIT_DIR"
  OWN_AUDIT_DIR=$AUDIT_DIR
else
  AUDIT_DIR=$WORK/audit
fi
write_config() { # NAME MYSQL_PORT PG_PORT ADMIN_PORT WITH_AUDIT
  {
    printf 'listen:\n  mysql: 127.0.0.1:%s\n  postgres: 127.0.0.1:%s\n  admin: 127.0.0.1:%s\n' "$2" "$3" "$4"
    printf 'mysql:\n  backend: 127.0.0.1:3306\npostgres:\n  backend: 127.0.0.1:5432\nlog:\n  level: warn\n'
    if (($5)); then
      printf 'audit:\n  dir: %s\n  mode: %s\n' "$AUDIT_DIR" "$AUDIT_MODE"
      [[ -n $FSYNC_INTERVAL ]] && printf '  fsync_interval: %s\n' "$FSYNC_INTERVAL"
      [[ -n $FSYNC_RECORDS ]] && printf '  fsync_records: %s\n' "$FSYNC_RECORDS"
      printf '  hmac_key_file: %s/keys/audit-hmac.key\n  sm4_key_file: %s/keys/audit-sm4.key\n' "$WORK" "$WORK"
      printf '  sm2_private_key_file: %s/keys/audit-sm2.pem\n' "$WORK"
    fi
  } >"$WORK/$1.yaml"
}
write_config noaudit 3327 5453 9427 0
write_config audit 3337 5463 9437 1
declare -A PID PGPORT MYPORT
PGPORT[noaudit]=5453 MYPORT[noaudit]=3327 PGPORT[audit]=5463 MYPORT[audit]=3337
for target in noaudit audit; do
  "$BIN" serve --config "$WORK/$target.yaml" >"$WORK/$target.log" 2>&1 &
  PID[$target]=$!
  PIDS+=($!)
done
for target in noaudit audit; do
  for ((i = 0; i < 50; i++)); do
    port_open 127.0.0.1 "${PGPORT[$target]}" && port_open 127.0.0.1 "${MYPORT[$target]}" && break
    kill -0 "${PID[$target]}" 2>/dev/null || die "dbfence ($target) exited: $(tail -n 5 "$WORK/$target.log")"
    sleep 0.2
  done
  port_open 127.0.0.1 "${PGPORT[$target]}" || die "dbfence ($target) does not listen: $(tail -n 5 "$WORK/$target.log")"
done

# audit_fsyncs prints the audited proxy's dbfence_audit_fsyncs_total ("-"
# when its metrics cannot be read).
audit_fsyncs() {
  local v
  v=$(curl -s --max-time 2 http://127.0.0.1:9437/metrics 2>/dev/null | awk '$1 == "dbfence_audit_fsyncs_total" { print $2 }')
  echo "${v:--}"
}

# run PROTOCOL TARGET SECONDS: prints "QPS QUERIES CPU_TICKS MACHINE_TICKS".
run() {
  local protocol=$1 target=$2 secs=$3 out before after mbefore mafter rate=()
  before=$(cpu_ticks "${PID[$target]}") mbefore=$(machine_ticks)
  if [[ $protocol == postgres ]]; then
    ((RATE > 0)) && rate=(-R "$RATE")
    out=$(timeout $((secs + 30)) pgbench -h 127.0.0.1 -p "${PGPORT[$target]}" -U postgres -S -c "$CLIENTS" -j 2 \
      -T "$secs" -M "$PG_MODE" "${rate[@]}" -n pgbench 2>&1) || die "pgbench against $target failed:
$(tail -n 20 <<<"$out")"
    after=$(cpu_ticks "${PID[$target]}") mafter=$(machine_ticks)
    awk -v t=$((after - before)) -v m=$((mafter - mbefore)) '/^tps = / { qps = $3 }
      /number of transactions actually processed/ { split($NF, a, "/"); q = a[1] }
      END { if (q == "" || qps == "") exit 1; print qps, q, t, m }' <<<"$out" ||
      die "could not read pgbench's output:
$(tail -n 20 <<<"$out")"
  else
    ((RATE > 0)) && rate=(--rate="$RATE")
    out=$(timeout $((secs + 30)) sysbench oltp_point_select --tables=4 --table-size=10000 --mysql-db=sbtest \
      --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="${MYPORT[$target]}" --mysql-user=sbtest \
      --mysql-password=sbtest-pass --threads="$CLIENTS" --time="$secs" --report-interval=0 \
      --db-ps-mode="$MY_PS_MODE" "${rate[@]}" run 2>&1) || die "sysbench against $target failed:
$(tail -n 20 <<<"$out")"
    after=$(cpu_ticks "${PID[$target]}") mafter=$(machine_ticks)
    awk -v t=$((after - before)) -v m=$((mafter - mbefore)) '/^ *queries:/ { q = $2; qps = $3; sub(/^\(/, "", qps) }
      END { if (q == "") exit 1; print qps, q, t, m }' <<<"$out" || die "could not read sysbench's output:
$(tail -n 20 <<<"$out")"
  fi
}

n_protocols=$(wc -w <<<"$PROTOCOLS")
RATE_NOTE=""
((RATE > 0)) && RATE_NOTE=" at $RATE queries/s"
log "measuring $PROTOCOLS: $ROUNDS rounds x ${SECONDS_PER_RUN}s x 2 proxies, $CLIENTS clients$RATE_NOTE, audit $AUDIT_MODE (~$((n_protocols * (ROUNDS * 2 * (SECONDS_PER_RUN + 1) + 2 * WARMUP)))s)"
declare -A QPS QUERIES TICKS MTICKS FSYNC_RATES
for protocol in $PROTOCOLS; do
  if ((WARMUP > 0)); then
    run "$protocol" noaudit "$WARMUP" >/dev/null
    run "$protocol" audit "$WARMUP" >/dev/null
  fi
  for ((round = 1; round <= ROUNDS; round++)); do
    order="noaudit audit"
    ((round % 2 == 0)) && order="audit noaudit"
    for target in $order; do
      f0=$(audit_fsyncs)
      read -r qps queries ticks mticks < <(run "$protocol" "$target" "$SECONDS_PER_RUN")
      f1=$(audit_fsyncs)
      key="$protocol|$round|$target"
      if [[ $target == audit && $f0 != - && $f1 != - ]]; then
        FSYNC_RATES[$protocol]+="$(awk -v a="$f0" -v b="$f1" -v s="$SECONDS_PER_RUN" 'BEGIN { printf "%.0f", (b - a) / s }') "
      fi
      QPS[$key]=$qps QUERIES[$key]=$queries TICKS[$key]=$ticks MTICKS[$key]=$mticks
      log "$protocol round $round/$ROUNDS $target: $qps QPS"
    done
  done
done

# --- report ------------------------------------------------------------------
echo
echo "audit $AUDIT_MODE${FSYNC_INTERVAL:+ (fsync_interval $FSYNC_INTERVAL)}${FSYNC_RECORDS:+ (fsync_records $FSYNC_RECORDS)}; $CLIENTS clients$RATE_NOTE, ${SECONDS_PER_RUN}s per run; pgbench -S -M $PG_MODE, sysbench oltp_point_select --db-ps-mode=$MY_PS_MODE"
echo "cpu: the proxy's CPU µs per query; machine: all CPUs' busy µs per query"
printf '%-9s %5s %11s %11s %8s %9s %9s %9s %9s\n' protocol round noaudit_qps audit_qps a/n_qps cpu_noaud cpu_audit mach_noaud mach_audit
declare -A RATIOS MRATIOS CPU_N CPU_A M_N M_A
for protocol in $PROTOCOLS; do
  for ((round = 1; round <= ROUNDS; round++)); do
    n=${QPS[$protocol|$round|noaudit]} a=${QPS[$protocol|$round|audit]}
    r=$(ratio "$a" "$n")
    cn=$(us_per_query "${TICKS[$protocol|$round|noaudit]}" "${QUERIES[$protocol|$round|noaudit]}")
    ca=$(us_per_query "${TICKS[$protocol|$round|audit]}" "${QUERIES[$protocol|$round|audit]}")
    mn=$(us_per_query "${MTICKS[$protocol|$round|noaudit]}" "${QUERIES[$protocol|$round|noaudit]}")
    ma=$(us_per_query "${MTICKS[$protocol|$round|audit]}" "${QUERIES[$protocol|$round|audit]}")
    RATIOS[$protocol]+="$r " MRATIOS[$protocol]+="$(ratio "$mn" "$ma") "
    CPU_N[$protocol]+="$cn " CPU_A[$protocol]+="$ca " M_N[$protocol]+="$mn " M_A[$protocol]+="$ma "
    printf '%-9s %5s %11.1f %11.1f %8s %9s %9s %9s %9s\n' "$protocol" "$round" "$n" "$a" "$r" "$cn" "$ca" "$mn" "$ma"
  done
done
echo
load_note "$START_LOAD"
echo "Medians over $ROUNDS rounds (audit_cost = 1 - median QPS ratio; cpu_cost = 1 - median of machine_noaudit/machine_audit):"
printf '%-9s %10s %10s %9s %9s %10s %10s %9s\n' protocol a/n_qps audit_cost cpu_noaud cpu_audit mach_noaud mach_audit cpu_cost
for protocol in $PROTOCOLS; do
  # shellcheck disable=SC2086
  m=$(median ${RATIOS[$protocol]})
  # shellcheck disable=SC2086
  mm=$(median ${MRATIOS[$protocol]})
  cost=$(awk -v m="$m" 'BEGIN { if (m == "-") print "-"; else printf "%.1f%%", (1 - m) * 100 }')
  mcost=$(awk -v m="$mm" 'BEGIN { if (m == "-") print "-"; else printf "%.1f%%", (1 - m) * 100 }')
  # shellcheck disable=SC2086
  printf '%-9s %10s %10s %9s %9s %10s %10s %9s\n' "$protocol" "$m" "$cost" "$(median_us ${CPU_N[$protocol]})" \
    "$(median_us ${CPU_A[$protocol]})" "$(median_us ${M_N[$protocol]})" "$(median_us ${M_A[$protocol]})" "$mcost"
done
for protocol in $PROTOCOLS; do
  # shellcheck disable=SC2086
  [[ -n ${FSYNC_RATES[$protocol]:-} ]] && echo "$protocol: the audited proxy fsynced its log $(median_us ${FSYNC_RATES[$protocol]}) times a second (median of the runs)"
done
if ((RATE > 0)); then
  echo "At a fixed rate both proxies answer about the same QPS: read cpu_cost, not audit_cost."
fi
