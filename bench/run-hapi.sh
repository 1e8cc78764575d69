#!/usr/bin/env bash
# Measures HAPI FHIR's JPA server (8.8, R4, PostgreSQL 15) on this machine with Kiroku's own bench clients: builds
# bench/hapi (a standalone Maven project) if needed, starts its jar on a data directory, waits for /fhir/metadata,
# then loads data (--ingest: bench/IngestBench.java) or runs bench/SearchBench.java (--search), and stops the server.
#
#   bench/run-hapi.sh --ingest [--data-dir DIR] [--keep-data] [--port N] [IngestBench options]
#   bench/run-hapi.sh --search --data-dir DIR [--port N] [SearchBench options, e.g. --seconds 20 --phases read]
#
# See bench/README.md ("HAPI JPA on the same machine").
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
bench_name=run-hapi
# shellcheck source=server-process.sh
. "$SCRIPT_DIR/server-process.sh"   # server_pids, tree_ticks, stop_server, ...
HAPI_DIR="$SCRIPT_DIR/hapi"
JAR="$HAPI_DIR/target/hapi-bench-server.jar"

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<'EOF'
Script options:
  --ingest               load data: IngestBench --no-auth --no-jdbc with, unless given, --patients 150 --clients 8
                         (the same 150 Synthea bundles under fresh identities as run-ingest.sh, plus 10 warm-up ones)
  --search               run SearchBench --no-auth against the data in --data-dir
  --data-dir DIR         the server's data directory (its PostgreSQL cluster is DIR/postgres). --ingest: created if
                         missing (existing data are kept and added to); without it a fresh temporary directory is
                         used and removed at the end unless --keep-data. --search: required, never removed.
  --keep-data            --ingest without --data-dir: keep the temporary data directory (its path is printed)
  --port N               HTTP port (default: the first free port from 18380)
  --cache-millis N       HAPI's search-result cache, JpaStorageSettings.setReuseCachedSearchResultsForMillis
                         (default: HAPI's and jpaserver-starter's default, 60000; 0 switches it off)
  --no-access-log        without jpaserver-starter's per-request LoggingInterceptor (on by default, as in the starter)
  --rebuild              rebuild the jar even if it looks current
  -h, --help             this message
All other options go to IngestBench / SearchBench (`java bench/IngestBench.java --help`, `java bench/SearchBench.java
--help`); --base and --no-auth are set by this script.
Environment: HAPI_BENCH_SERVER_JAVA_OPTS (server JVM options, default -Xmx1g as Kiroku's),
             KIROKU_BENCH_JAVA_OPTS (bench JVM options, default -Xmx3g for IngestBench, -Xmx512m for SearchBench).
EOF
}

die() { echo "run-hapi: $*" >&2; exit 2; }

mode=""
datadir=""
keep_data=0
port=""
cache_millis=""
access_log=1
rebuild=0
bench_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --ingest) [ -z "$mode" ] || die "give one of --ingest and --search"; mode=ingest; shift ;;
        --search) [ -z "$mode" ] || die "give one of --ingest and --search"; mode=search; shift ;;
        --data-dir) [ $# -ge 2 ] || die "--data-dir needs a value"; datadir=$2; shift 2 ;;
        --data-dir=*) datadir=${1#*=}; shift ;;
        --keep-data) keep_data=1; shift ;;
        --port) [ $# -ge 2 ] || die "--port needs a value"; port=$2; shift 2 ;;
        --port=*) port=${1#*=}; shift ;;
        --cache-millis) [ $# -ge 2 ] || die "--cache-millis needs a value"; cache_millis=$2; shift 2 ;;
        --cache-millis=*) cache_millis=${1#*=}; shift ;;
        --no-access-log) access_log=0; shift ;;
        --rebuild) rebuild=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --base|--base=*|--no-auth|--client-id|--client-id=*|--client-secret|--client-secret=*)
            die "$1 is set by this script (see --help)" ;;
        --) shift; bench_args+=("$@"); break ;;
        *) bench_args+=("$1"); shift ;;
    esac
done
[ -n "$mode" ] || { usage >&2; die "give --ingest or --search"; }
if [ -n "$port" ] && ! [[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]]; then
    die "--port must be a port number, got '$port'"
fi
if [ -n "$cache_millis" ] && ! [[ "$cache_millis" =~ ^[0-9]+$ ]]; then
    die "--cache-millis must be a number of milliseconds, got '$cache_millis'"
fi
if [ "$mode" = search ]; then
    [ -n "$datadir" ] || die "--search needs --data-dir (a directory loaded with --ingest)"
    [ -d "$datadir/postgres" ] || die "--data-dir: $datadir has no postgres/ directory; load it with --ingest first"
    [ "$keep_data" = 0 ] || die "--keep-data is for --ingest without --data-dir"
fi
[ -z "$datadir" ] || [ "$keep_data" = 0 ] || die "--keep-data is for --ingest without --data-dir (a given directory is always kept)"

cd "$REPO"

# --- the server jar ---------------------------------------------------------------------------------------------
if [ "$rebuild" = 1 ] || [ ! -f "$JAR" ] || [ -n "$(find "$HAPI_DIR/pom.xml" "$HAPI_DIR/src" -newer "$JAR" -print -quit)" ]; then
    echo "run-hapi: building $JAR (mvn -q -f bench/hapi/pom.xml package -DskipTests) ..."
    mvn -B -q -f "$HAPI_DIR/pom.xml" package -DskipTests
fi
[ -f "$JAR" ] || die "jar not found after the build: $JAR"

# --- port, data directory ---------------------------------------------------------------------------------------
if [ -z "$port" ]; then
    for p in $(seq 18380 18479); do
        if ! port_in_use "$p"; then port=$p; break; fi
    done
    [ -n "$port" ] || die "no free port in 18380-18479"
elif port_in_use "$port"; then
    die "port $port is already in use"
fi

own_datadir=0
if [ -z "$datadir" ]; then
    datadir=$(mktemp -d "${TMPDIR:-/tmp}/hapi-bench.XXXXXX")
    own_datadir=1
else
    mkdir -p "$datadir"
    datadir=$(cd "$datadir" && pwd)
fi

server_log=$(mktemp "${TMPDIR:-/tmp}/hapi-bench-server.XXXXXX")
server_pid=""
bench_pid=""

cleanup() {
    stop_processes "$bench_pid"
    stop_server
    if [ "$own_datadir" = 1 ]; then
        if [ "$keep_data" = 1 ]; then
            echo "run-hapi: kept data directory $datadir"
        else
            rm -rf "$datadir"
        fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- start the server -------------------------------------------------------------------------------------------
server_args=(--data-dir "$datadir" --port "$port")
[ -n "$cache_millis" ] && server_args+=(--reuse-cached-search-results-millis "$cache_millis")
[ "$access_log" = 0 ] && server_args+=(--no-access-log)
echo "run-hapi: starting $(basename "$JAR") ${server_args[*]} (log: $server_log)"
t_launch=$(now_ns)
# shellcheck disable=SC2086
java ${HAPI_BENCH_SERVER_JAVA_OPTS:--Xmx1g} -jar "$JAR" "${server_args[@]}" </dev/null >"$server_log" 2>&1 &
server_pid=$!

base="http://127.0.0.1:$port"
wait_until_up "$base/fhir/metadata" 180 0.5
echo "run-hapi: $(grep -m1 '^embedded PostgreSQL' "$server_log" || echo 'embedded PostgreSQL: (no line in the log)')"
echo "run-hapi: $(grep -m1 '^HAPI bench server ready' "$server_log" || echo 'server ready')"
echo "run-hapi: /fhir/metadata answered after $startup; JVM VmRSS $(mib "$rss_start");" \
     "server processes PSS $(mib "$pss_start") ($n_start processes)"
echo

# --- run the bench ----------------------------------------------------------------------------------------------
if [ "$mode" = ingest ]; then
    # defaults of this script: 150 patients, 8 clients; the bench's own options can override them (last one wins)
    # shellcheck disable=SC2086
    run_bench java ${KIROKU_BENCH_JAVA_OPTS:--Xmx3g} "$SCRIPT_DIR/IngestBench.java" --base "$base" --no-auth --no-jdbc \
        --phase-name hapi-http --patients 150 --clients 8 ${bench_args[@]+"${bench_args[@]}"}
else
    # shellcheck disable=SC2086
    run_bench java ${KIROKU_BENCH_JAVA_OPTS:--Xmx512m} "$SCRIPT_DIR/SearchBench.java" --base "$base" --no-auth \
        ${bench_args[@]+"${bench_args[@]}"}
fi

sample_after_run

stop_server

echo
echo "## Server (HAPI FHIR JPA)"
echo
echo "- jar: $JAR"
echo "- $(grep -m1 '^HAPI bench server ready' "$server_log" || echo 'version: see the server log')"
echo "- $(grep -m1 '^embedded PostgreSQL' "$server_log" || echo 'PostgreSQL: see the server log')"
echo "- data directory: $datadir"
echo "- server JVM options: ${HAPI_BENCH_SERVER_JAVA_OPTS:--Xmx1g}"
echo "- start-up (launch to /fhir/metadata 200): $startup"
memory_lines
if [ "$server_alive" = 1 ]; then
    echo "- server CPU during the bench: $(cpu_line)"
    echo "- machine CPU during the bench: $(machine_line)"
fi
echo "- WARN/ERROR lines in the server log: ${errors_in_log:-0}"
end_report
