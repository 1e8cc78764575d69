#!/usr/bin/env bash
# Runs the Kiroku ingest benchmark against a fresh server: builds the jar if needed, starts
# `java -jar target/kiroku.jar serve` on a throw-away data directory, measures start-up time and RSS,
# runs bench/IngestBench.java, stops the server and removes the data directory.
#
#   bench/run-ingest.sh [--validation full|profiled] [--port N] [--jar PATH] [--rebuild] [--keep-data] [--ledgers-off]
#                       [IngestBench options, e.g. --patients 2000 --clients 1,8 --warmup 10]
#
# See bench/README.md.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
bench_name=run-ingest
# shellcheck source=server-process.sh
. "$SCRIPT_DIR/server-process.sh"   # server_pids, tree_ticks, stop_server, ...

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<'EOF'
Script options:
  --validation full|profiled  pass --kiroku.validation=<v> to serve (default: the server's default)
  --port N                    port for serve (default: the first free port from 18080)
  --jar PATH                  use this jar instead of building/using target/kiroku.jar
  --rebuild                   run `mvn -B -q -DskipTests package` even if target/kiroku.jar looks current
  --keep-data                 do not delete the server's temporary data directory
  --ledgers-off               switch the ledger queue triggers off before timing (psql through run/db.properties):
                              the "ledgers off" reference for the ledger cost; never a production setting
  -h, --help                  this message
All other options go to IngestBench (run `java bench/IngestBench.java --help`); --base, --data-dir,
--client-id and --client-secret are set by this script.
Environment: KIROKU_BENCH_SERVER_JAVA_OPTS (JVM options for the server, default -Xmx1g as ./kiroku),
             KIROKU_BENCH_JAVA_OPTS (JVM options for IngestBench, default -Xmx3g).
EOF
}

die() { echo "run-ingest: $*" >&2; exit 2; }

validation=""
port=""
jar=""
rebuild=0
keep_data=0
ledgers_off=0
bench_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --validation) [ $# -ge 2 ] || die "--validation needs a value"; validation=$2; shift 2 ;;
        --validation=*) validation=${1#*=}; shift ;;
        --port) [ $# -ge 2 ] || die "--port needs a value"; port=$2; shift 2 ;;
        --port=*) port=${1#*=}; shift ;;
        --jar) [ $# -ge 2 ] || die "--jar needs a value"; jar=$2; shift 2 ;;
        --jar=*) jar=${1#*=}; shift ;;
        --rebuild) rebuild=1; shift ;;
        --keep-data) keep_data=1; shift ;;
        --ledgers-off) ledgers_off=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --base|--base=*|--data-dir|--data-dir=*|--client-id|--client-id=*|--client-secret|--client-secret=*)
            die "$1 is set by this script (see --help)" ;;
        --) shift; bench_args+=("$@"); break ;;
        *) bench_args+=("$1"); shift ;;
    esac
done
case "$validation" in
    ""|full|profiled) ;;
    *) die "--validation must be full or profiled, got '$validation'" ;;
esac
if [ -n "$port" ] && ! [[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]]; then
    die "--port must be a port number, got '$port'"
fi

cd "$REPO"

# --- the server jar -----------------------------------------------------------------------------------------
if [ -z "$jar" ]; then
    # the same build and launch layout as ./kiroku (an extracted copy of target/kiroku.jar)
    if [ "$rebuild" = 1 ]; then
        echo "run-ingest: building (mvn -B -q -DskipTests package) ..."
        mvn -B -q -DskipTests package
    fi
    "$REPO/kiroku" --version >/dev/null
    jar="$REPO/target/kiroku-app/kiroku.jar"
fi
[ -f "$jar" ] || die "jar not found: $jar"

# --- the PostgreSQL JDBC driver (for the raw JDBC reference) ----------------------------------------------------
pgjar=$(find "$HOME/.m2" -name 'postgresql-42.7.14.jar' -print -quit 2>/dev/null || true)
if [ -z "$pgjar" ]; then
    echo "run-ingest: fetching org.postgresql:postgresql:42.7.14 into ~/.m2 ..."
    mvn -B -q dependency:get -Dartifact=org.postgresql:postgresql:42.7.14
    pgjar=$(find "$HOME/.m2" -name 'postgresql-42.7.14.jar' -print -quit 2>/dev/null || true)
fi
[ -n "$pgjar" ] || die "postgresql-42.7.14.jar not found in ~/.m2"

# --- port, credentials, data directory --------------------------------------------------------------------------
if [ -z "$port" ]; then
    for p in $(seq 18080 18179); do
        if ! port_in_use "$p"; then port=$p; break; fi
    done
    [ -n "$port" ] || die "no free port in 18080-18179"
elif port_in_use "$port"; then
    die "port $port is already in use"
fi

secret=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom 2>/dev/null | head -c 40 || true)
[ "${#secret}" -eq 40 ] || die "could not generate a client secret"
client_id=bench

datadir=$(mktemp -d "${TMPDIR:-/tmp}/kiroku-bench.XXXXXX")
server_log=$(mktemp "${TMPDIR:-/tmp}/kiroku-bench-server.XXXXXX")
server_pid=""
bench_pid=""

cleanup() {
    stop_processes "$bench_pid"
    stop_server
    if [ "$keep_data" = 1 ]; then
        echo "run-ingest: kept data directory $datadir"
    else
        rm -rf "$datadir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- start the server -------------------------------------------------------------------------------------------
serve_args=(serve --data-dir "$datadir" --port "$port")
[ -n "$validation" ] && serve_args+=("--kiroku.validation=$validation")

echo "run-ingest: starting $(basename "$jar") ${serve_args[*]} (log: $server_log)"
t_launch=$(now_ns)
# shellcheck disable=SC2086
KIROKU_BOOTSTRAP_CLIENT_ID=$client_id KIROKU_BOOTSTRAP_CLIENT_SECRET=$secret \
    java ${KIROKU_BENCH_SERVER_JAVA_OPTS:--Xmx1g} -jar "$jar" "${serve_args[@]}" </dev/null >"$server_log" 2>&1 &
server_pid=$!

health="http://127.0.0.1:$port/actuator/health"
wait_until_up "$health" 120 0.1

echo "run-ingest: server healthy on port $port after $startup; JVM VmRSS $(mib "$rss_start");" \
     "server processes PSS $(mib "$pss_start") ($n_start processes)"
# The server builds its profile validator and search extractor in the background after start-up (~15-20 s of CPU);
# let that finish so that
# it does not compete with the timed phases on a 2-core machine.
t_wait=$(now_ns)
until grep -q "Background warm-up finished" "$server_log" 2>/dev/null; do
    if [ $(( $(now_ns) - t_wait )) -ge 180000000000 ]; then
        echo "run-ingest: the background warm-up did not finish within 180 s; timing anyway" >&2
        break
    fi
    sleep 0.5
done
echo "run-ingest: background warm-up finished after $(secs $(( $(now_ns) - t_launch )))"
if [ "$ledgers_off" = 1 ]; then
    dbprops="$datadir/run/db.properties"
    dburl=$(sed -n 's/^url=//p' "$dbprops" | sed 's/\\//g')   # java.util.Properties escapes ':' as '\:'
    dburl=${dburl#jdbc:postgresql://}
    # as the tables' owner: the application's role may not switch triggers off
    PGPASSWORD=$(sed -n 's/^owner.password=//p' "$dbprops" | sed 's/\\//g') psql -q -v ON_ERROR_STOP=1 \
        "postgresql://$(sed -n 's/^owner.user=//p' "$dbprops")@${dburl%%\?*}" \
        -c "ALTER TABLE resource_version DISABLE TRIGGER resource_version_ledger" \
        -c "ALTER TABLE audit_log DISABLE TRIGGER audit_log_ledger" \
        || die "could not switch the ledger triggers off"
    echo "run-ingest: ledgers OFF (queue triggers disabled) for this run"
fi
echo

# --- run the benchmark ------------------------------------------------------------------------------------------
# shellcheck disable=SC2086
run_bench env KIROKU_BENCH_CLIENT_ID="$client_id" KIROKU_BENCH_CLIENT_SECRET="$secret" \
    java ${KIROKU_BENCH_JAVA_OPTS:--Xmx3g} -cp "$pgjar" "$SCRIPT_DIR/IngestBench.java" \
    --base "http://127.0.0.1:$port" --data-dir "$datadir" ${bench_args[@]+"${bench_args[@]}"}

sample_after_run

stop_server

echo
echo "## Server"
echo
echo "- jar: $jar"
echo "- validation: ${validation:-server default}"
echo "- server JVM options: ${KIROKU_BENCH_SERVER_JAVA_OPTS:--Xmx1g}"
echo "- start-up (launch to /actuator/health 200): $startup"
memory_lines
end_report
