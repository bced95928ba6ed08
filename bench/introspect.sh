#!/usr/bin/env bash
# Load test of POST /oauth/introspect on the release binary, with GET /healthz as the
# "handler that does no work" ceiling and examples/baseline.rs (one indexed lookup joined to
# memberships, nothing else checked) as the one-query reference. It also measures
# introspection while a writer empties every verification cache CHURN_PER_S times a second,
# and, on SQLite, with the cache turned off. See bench/README.md.
#
#   bench/introspect.sh [sqlite|postgres|all]     (default: all)
#
# Environment (defaults in brackets):
#   USERS [1000] GRANTS_PER_USER [100] PROJECTS [10]   size of the seeded token pool
#   WORKING_SET [all]   how many of the seeded tokens wrk cycles through, spread evenly over
#             the pool (every k-th token), so a bigger table can be loaded with the same
#             set of tokens in use
#   CONNECTIONS [64] THREADS [2] DURATION [20s] WARMUP [3s]   wrk settings
#   ENDPOINTS ["introspect churn uncached healthz baseline"]   which runs to make (uncached:
#             SQLite only)
#   CHURN_PER_S [10]   writes a second during the churn run
#   CHURN_SQL ["UPDATE projects SET name = name WHERE id = (SELECT min(id) FROM projects)"]
#             the write: by default a change the log records as "anything may have changed"
#   PG_URL [postgres://postgres@127.0.0.1:5432]   server to create a throwaway database on
#   SKIP_BUILD [0]   1: use the binary as it is (BIN [target/release/portcullis])
#   KEEP [0]         1: keep the work directory (database, tokens, logs)
#   RESULTS [bench/results]   where each run's wrk output and summary are written
#   Extra server settings pass through: PORTCULLIS_WORKERS, PORTCULLIS_DB_POOL_SIZE.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
WHICH=${1:-all}
USERS=${USERS:-1000}
GRANTS_PER_USER=${GRANTS_PER_USER:-100}
PROJECTS=${PROJECTS:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
ENDPOINTS=${ENDPOINTS:-introspect churn uncached healthz baseline}
CHURN_PER_S=${CHURN_PER_S:-10}
CHURN_SQL=${CHURN_SQL:-UPDATE projects SET name = name WHERE id = (SELECT min(id) FROM projects)}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
BIN=${BIN:-$ROOT/target/release/portcullis}
BASELINE_BIN=$ROOT/target/release/examples/baseline
LUA=$ROOT/bench/introspect.lua
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=${RESULTS:-$ROOT/bench/results}/$STAMP

case $WHICH in sqlite|postgres|all) ;; *) echo "usage: $0 [sqlite|postgres|all]" >&2; exit 2 ;; esac
for tool in wrk curl python3 base64; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y wrk curl)" >&2; exit 1; }
done
if [[ $WHICH != postgres ]]; then
  command -v sqlite3 >/dev/null || { echo "missing sqlite3 (apt-get install -y sqlite3)" >&2; exit 1; }
fi
if [[ $WHICH != sqlite ]]; then
  command -v psql >/dev/null || { echo "missing psql (apt-get install -y postgresql-client)" >&2; exit 1; }
fi

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  echo "== cargo build --release" >&2
  cargo build --release --quiet --bin portcullis --example baseline
fi
[[ -x $BIN ]] || { echo "no $BIN: run cargo build --release" >&2; exit 1; }

WORK=$(mktemp -d /tmp/portcullis-bench.XXXXXX)
mkdir -p "$RESULTS"
SERVER_PID=""
PG_DB=""

stop_server() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

# Runs a command in the background and waits for it, so that a signal interrupts the wait
# (bash defers traps while a foreground command runs) and cleanup can stop it.
CHILD_PID=""
run_bg() {
  "$@" &
  CHILD_PID=$!
  wait "$CHILD_PID"
  local rc=$?
  CHILD_PID=""
  return "$rc"
}

# Writes CHURN_SQL to the database CHURN_PER_S times a second. The default (a project's name set
# to itself) is recorded by the credential change log as "anything may have changed", which
# empties every server's verification cache each time: the worst case for the cache.
CHURN_PID=""
start_churn() { # LABEL URL
  local db=$1 url=$2 pause
  pause=$(awk -v r="$CHURN_PER_S" 'BEGIN { printf "%.4f", 1 / r }')
  (
    while :; do
      sql "$db" "$url" "$CHURN_SQL" >/dev/null
      sleep "$pause"
    done
  ) &
  CHURN_PID=$!
}
stop_churn() {
  if [[ -n $CHURN_PID ]]; then
    kill "$CHURN_PID" 2>/dev/null || true
    wait "$CHURN_PID" 2>/dev/null || true
    CHURN_PID=""
  fi
}
# Runs one SQL statement on the database under test: LABEL URL SQL.
sql() {
  case $1 in
    sqlite) sqlite3 -cmd ".timeout 5000" "${2#sqlite://}" "$3" ;;
    *) psql -X -q -t -A -d "$2" -c "$3" ;;
  esac
}
log_head() { sql "$1" "$2" "SELECT coalesce(max(id), 0) FROM credential_changes"; }

cleanup() {
  if [[ -n $CHILD_PID ]]; then kill "$CHILD_PID" 2>/dev/null || true; fi
  stop_churn
  stop_server
  if [[ -n $PG_DB ]]; then
    psql -X -q -d "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 \
      || echo "warning: could not drop database $PG_DB" >&2
    PG_DB=""
  fi
  if [[ ${KEEP:-0} == 1 ]]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Server CPU time (user+system) in clock ticks, from /proc.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Share of the machine's CPU that was idle over one second: the figures mean little when
# something else (a build, a test run) shares the 2 cores.
idle_pct() {
  local a b
  a=$(awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat); sleep 1
  b=$(awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2]) }'
}

wait_for_quiet() {
  local idle tries=${QUIET_TRIES:-60}
  for ((n = 0; n < tries; n++)); do
    idle=$(idle_pct)
    ((idle >= ${QUIET_IDLE:-90})) && return 0
    ((n == 0)) && echo "   machine busy (${idle}% idle), waiting for it to quiet down..." >&2
    sleep 4
  done
  echo "   warning: machine still busy (${idle}% idle): figures below are disturbed" >&2
  BUSY=1
}

start_server() { # LOGFILE COMMAND... -> sets SERVER_PID, BASE
  local log=$1; shift
  "$@" >"$log.out" 2>"$log.err" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    if BASE=$(grep -o -m1 'listening on http://[0-9.:]*' "$log.out" 2>/dev/null); then
      BASE=${BASE#listening on }
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log.err" >&2; echo "server exited" >&2; exit 1; }
    sleep 0.1
  done
  echo "server did not start" >&2; exit 1
}

introspect_once() { # TOKEN -> body
  curl -sS --fail-with-body -u "$BACKEND" --data-urlencode "token=$1" "$BASE/oauth/introspect"
}

verify_real_path() { # TOKENS_FILE
  local tokens=$1 total body line
  total=$(wc -l <"$tokens")
  for line in 1 $((total / 2)) "$total"; do
    body=$(introspect_once "$(sed -n "${line}p" "$tokens")")
    [[ $body == '{"active":true,'* ]] || { echo "token on line $line is not active: $body" >&2; exit 1; }
  done
  echo "   line $total: $body" >&2
  # Same shape, unknown secret; and a real token with one character changed in the prefix.
  body=$(introspect_once "project:bench:p0|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
  [[ $body == '{"active":false}' ]] || { echo "unknown token answered $body" >&2; exit 1; }
  body=$(introspect_once "$(sed -n 1p "$tokens" | sed 's/^project:bench:p0/project:bench:p1/')")
  [[ $body == '{"active":false}' ]] || { echo "altered token answered $body" >&2; exit 1; }
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' -u "${BACKEND%%:*}:wrong" --data-urlencode "token=x" \
    "$BASE/oauth/introspect")
  [[ $status == 401 ]] || { echo "wrong backend secret answered $status, expected 401" >&2; exit 1; }
  echo "   verified: 3 seeded tokens active, unknown and altered tokens {\"active\":false}, bad secret 401" >&2
}

SUMMARY=$RESULTS/summary.tsv
printf 'endpoint\tdatabase\treq_per_s\tp50\tp99\tnon200\tinactive\tsocket_errors\tserver_cpu_pct\tbarrier_reads_per_s\n' >"$SUMMARY"

# The freshness barrier's reads of the PostgreSQL change counter so far (0 on SQLite, and
# where the server has no /metrics on its main listener).
barrier_rounds() {
  curl -s "$BASE/metrics" 2>/dev/null | awk '$1 == "portcullis_verification_barrier_rounds_total" {print $2; found = 1} END {if (!found) print 0}'
}

run_wrk() { # NAME DB_LABEL wrk-script-args...
  local name=$1 db=$2; shift 2
  local out=$RESULTS/$name-$db.txt
  echo "== $name on $db: warm-up $WARMUP, then $DURATION, $THREADS threads, $CONNECTIONS connections" >&2
  wait_for_quiet
  run_bg wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$LUA" "$BASE" -- "$@" >/dev/null
  local before after hz t0 t1
  hz=$(getconf CLK_TCK)
  local rounds_before rounds_after
  rounds_before=$(barrier_rounds)
  before=$(cpu_ticks "$SERVER_PID"); t0=$(date +%s.%N)
  run_bg wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$LUA" "$BASE" -- "$@" >"$out"
  cat "$out" >&2
  after=$(cpu_ticks "$SERVER_PID"); t1=$(date +%s.%N)
  rounds_after=$(barrier_rounds)
  local cpu reads
  cpu=$(awk -v a="$after" -v b="$before" -v hz="$hz" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.0f", 100 * (a - b) / hz / (t1 - t0) }')
  echo "   server process CPU: ${cpu}% (200% = both cores)" >&2
  reads=$(awk -v a="$rounds_after" -v b="$rounds_before" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.0f", (a - b) / (t1 - t0) }')
  local rps p50 p99 non200 inactive sockerr
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  non200=$(grep -o 'non200=[0-9]*' "$out" | cut -d= -f2)
  inactive=$(grep -o 'inactive=[0-9]*' "$out" | cut -d= -f2)
  sockerr=$(grep -o 'socket_errors=[0-9]*' "$out" | cut -d= -f2)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$db" "$rps" "$p50" "$p99" "$non200" "$inactive" \
    "$sockerr" "$cpu" "$reads" >>"$SUMMARY"
  if [[ $non200 != 0 || $inactive != 0 || $sockerr != 0 ]]; then
    echo "!! $name on $db: $non200 non-200, $inactive inactive answers, $sockerr socket errors" >&2
    FAILED=1
  fi
}

# The tokens wrk uses: all seeded ones, or WORKING_SET of them taken evenly across the pool.
working_set() { # TOKENS_FILE -> prints the file to use
  local all=$1 total step
  total=$(wc -l <"$all")
  if [[ -z ${WORKING_SET:-} || $WORKING_SET -ge $total ]]; then echo "$all"; return; fi
  step=$((total / WORKING_SET))
  awk -v step="$step" -v n="$WORKING_SET" '(NR - 1) % step == 0 && ++k <= n' "$all" >"$all.used"
  echo "   working set: $(wc -l <"$all.used") of $total tokens (every ${step}th)" >&2
  echo "$all.used"
}

bench_database() { # LABEL URL
  local db=$1 url=$2
  local tokens=$WORK/tokens-$db.txt
  echo "== seeding $db: $USERS users x $GRANTS_PER_USER grants" >&2
  python3 "$ROOT/bench/seed.py" --portcullis "$BIN" --database-url "$url" --users "$USERS" \
    --grants-per-user "$GRANTS_PER_USER" --projects "$PROJECTS" --tokens "$tokens" --backend "$WORK/backend-$db"
  BACKEND=$(tr -d '\n' <"$WORK/backend-$db")
  tokens=$(working_set "$tokens")
  local auth
  auth=$(printf '%s' "$BACKEND" | base64 -w0)
  start_server "$WORK/server-$db" env PORTCULLIS_LOG=warn "$BIN" --database-url "$url" serve --bind 127.0.0.1:0
  echo "== server $BASE ($db)" >&2
  verify_real_path "$tokens"
  [[ " $ENDPOINTS " == *" introspect "* ]] && run_wrk introspect "$db" "$tokens" "$THREADS" "$auth"
  if [[ " $ENDPOINTS " == *" churn "* ]]; then
    local first
    first=$(log_head "$db" "$url")
    start_churn "$db" "$url"
    run_wrk introspect-churn "$db" "$tokens" "$THREADS" "$auth"
    stop_churn
    echo "   churn: $(($(log_head "$db" "$url") - first)) change-log rows during warm-up and run" >&2
  fi
  [[ " $ENDPOINTS " == *" healthz "* ]] && run_wrk healthz "$db" - "$THREADS"
  if grep -qiE 'error|panic' "$WORK/server-$db.err"; then
    echo "!! server log ($db) has errors:" >&2; grep -iE 'error|panic' "$WORK/server-$db.err" | sort | uniq -c | head >&2
  fi
  cp "$WORK/server-$db.err" "$RESULTS/server-$db.log"
  stop_server
  if [[ $db == sqlite && " $ENDPOINTS " == *" uncached "* ]]; then
    start_server "$WORK/server-uncached" env PORTCULLIS_LOG=warn PORTCULLIS_VERIFY_CACHE_ENTRIES=0 \
      "$BIN" --database-url "$url" serve --bind 127.0.0.1:0
    echo "== server $BASE (sqlite, verification cache off)" >&2
    run_wrk introspect-uncached "$db" "$tokens" "$THREADS" "$auth"
    stop_server
  fi
  if [[ " $ENDPOINTS " == *" baseline "* ]]; then
    [[ -x $BASELINE_BIN ]] || { echo "no $BASELINE_BIN: cargo build --release --example baseline" >&2; exit 1; }
    start_server "$WORK/baseline" "$BASELINE_BIN" "$url" 127.0.0.1:0
    echo "== baseline $BASE (one lookup joined to memberships, nothing else checked)" >&2
    run_wrk baseline "$db" "$tokens" "$THREADS" "$auth"
    stop_server
  fi
}

FAILED=0
BUSY=0
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet -- src 2>/dev/null || echo ' (src modified)')"
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "pool: $((USERS * GRANTS_PER_USER)) grants ($USERS users x $GRANTS_PER_USER), working set ${WORKING_SET:-all}, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
  echo "PGSSLMODE: ${PGSSLMODE:-unset (the server adds sslmode=disable to a loopback URL that names none)}"
  echo "server: PORTCULLIS_LOG=warn PORTCULLIS_WORKERS=${PORTCULLIS_WORKERS:-default} PORTCULLIS_DB_POOL_SIZE=${PORTCULLIS_DB_POOL_SIZE:-default}"
} >"$RESULTS/env.txt"

if [[ $WHICH == sqlite || $WHICH == all ]]; then
  bench_database sqlite "sqlite://$WORK/bench.sqlite"
fi
if [[ $WHICH == postgres || $WHICH == all ]]; then
  PG_DB="bench_$(date +%s)_$RANDOM"
  psql -X -q -d "$PG_URL/postgres" -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
  bench_database postgres "$PG_URL/$PG_DB"
fi

echo
cat "$RESULTS/env.txt"
column -t -s $'\t' "$SUMMARY"
((BUSY)) && echo "warning: the machine was busy with other work during at least one run"
echo "(raw output in $RESULTS)"
exit "$FAILED"
