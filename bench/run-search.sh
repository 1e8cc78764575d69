#!/usr/bin/env bash
# Runs the Kiroku search benchmark: starts `java -jar <jar> serve` on a data directory that already holds data,
# waits for the server's background warm-up, runs bench/SearchBench.java, stops the server.
# Without --data-dir it first runs bench/run-ingest.sh --keep-data --no-jdbc to make one (removed again at the end
# unless --keep-data).
#
#   bench/run-search.sh [--data-dir DIR] [--jar PATH] [--port N] [--patients N] [--keep-data] [--as-person]
#                       [SearchBench options, e.g. --clients 8 --seconds 20 --dry-run]
#
# See bench/README.md ("Search benchmark").
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
bench_name=run-search
# shellcheck source=server-process.sh
. "$SCRIPT_DIR/server-process.sh"   # server_pids, tree_ticks, stop_server, ...

usage() {
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<'EOF'
Script options:
  --data-dir DIR         a Kiroku data directory with data (e.g. kept by run-ingest.sh --keep-data); it is never
                         deleted. Without it: run-ingest.sh --keep-data --no-jdbc makes one first.
  --jar PATH             server jar (default: target/kiroku-app/kiroku.jar via ./kiroku, as run-ingest.sh)
  --port N               port for serve (default: the first free port from 18080)
  --patients N           without --data-dir: patients to ingest (default 150; plus run-ingest's 10 warm-up ones)
  --ingest-clients N     without --data-dir: concurrent clients of the ingest (default 8)
  --keep-data            without --data-dir: keep the data directory the ingest made
  --as-person            also run every phase with a clinician's token (access checks on: role, facility, care
                         relationship) and print the difference; bench/PersonToken.java registers the app, logs the
                         person in (from a managed terminal registered and enrolled here) and puts every patient
                         in their care. Tokens then live 2 h on this server.
  --compare-with LOG     SearchBench's option (the target checked against another run's output, e.g. HAPI's from
                         bench/run-hapi.sh --search), with LOG taken relative to where this script is started
  -h, --help             this message
All other options go to SearchBench (run `java bench/SearchBench.java --help`); --base, --client-id and
--client-secret are set by this script.
Credentials: if KIROKU_BENCH_CLIENT_ID and KIROKU_BENCH_CLIENT_SECRET are set they are tried first (and given to the
server as its bootstrap client, which it creates only when the data directory has no client at all); if they get no
token, a client "bench-search" with scope system/*.* is created with `java -jar <jar> client create` while the
server runs.
Environment: KIROKU_BENCH_SERVER_JAVA_OPTS (server JVM options, default -Xmx1g as ./kiroku),
             KIROKU_BENCH_JAVA_OPTS (SearchBench JVM options, default -Xmx512m).
EOF
}

die() { echo "run-search: $*" >&2; exit 2; }

datadir=""
jar=""
port=""
patients=150
ingest_clients=8
keep_data=0
as_person=0
bench_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --data-dir) [ $# -ge 2 ] || die "--data-dir needs a value"; datadir=$2; shift 2 ;;
        --data-dir=*) datadir=${1#*=}; shift ;;
        --jar) [ $# -ge 2 ] || die "--jar needs a value"; jar=$2; shift 2 ;;
        --jar=*) jar=${1#*=}; shift ;;
        --port) [ $# -ge 2 ] || die "--port needs a value"; port=$2; shift 2 ;;
        --port=*) port=${1#*=}; shift ;;
        --patients) [ $# -ge 2 ] || die "--patients needs a value"; patients=$2; shift 2 ;;
        --patients=*) patients=${1#*=}; shift ;;
        --ingest-clients) [ $# -ge 2 ] || die "--ingest-clients needs a value"; ingest_clients=$2; shift 2 ;;
        --ingest-clients=*) ingest_clients=${1#*=}; shift ;;
        --keep-data) keep_data=1; shift ;;
        --as-person) as_person=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --base|--base=*|--client-id|--client-id=*|--client-secret|--client-secret=*)
            die "$1 is set by this script (see --help)" ;;
        --compare-with|--compare-with=*)   # SearchBench runs from the repository: pass the file's absolute path
            if [ "$1" = --compare-with ]; then
                [ $# -ge 2 ] || die "--compare-with needs a value"; cmp=$2; shift 2
            else
                cmp=${1#*=}; shift
            fi
            [ -f "$cmp" ] || die "--compare-with: no such file: $cmp"
            bench_args+=(--compare-with "$(cd "$(dirname "$cmp")" && pwd)/$(basename "$cmp")") ;;
        --) shift; bench_args+=("$@"); break ;;
        *) bench_args+=("$1"); shift ;;
    esac
done
if [ -n "$port" ] && ! [[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]]; then
    die "--port must be a port number, got '$port'"
fi
[[ "$patients" =~ ^[0-9]+$ && "$patients" -ge 1 ]] || die "--patients must be a positive number, got '$patients'"
[[ "$ingest_clients" =~ ^[0-9]+$ && "$ingest_clients" -ge 1 ]] || die "--ingest-clients must be a positive number, got '$ingest_clients'"
if [ -n "$datadir" ]; then
    [ -d "$datadir" ] || die "--data-dir: no such directory: $datadir"
    datadir=$(cd "$datadir" && pwd)
    [ -d "$datadir/postgres" ] || echo "run-search: warning: $datadir has no postgres/ directory; is it a Kiroku data directory?" >&2
fi

cd "$REPO"

# --- the server jar (the same choice as run-ingest.sh) -----------------------------------------------------------
if [ -z "$jar" ]; then
    "$REPO/kiroku" --version >/dev/null
    jar="$REPO/target/kiroku-app/kiroku.jar"
fi
[ -f "$jar" ] || die "jar not found: $jar"
jar=$(cd "$(dirname "$jar")" && pwd)/$(basename "$jar")

# --- a data directory: the given one, or a fresh ingest --------------------------------------------------------
own_datadir=0
if [ -z "$datadir" ]; then
    ingest_log=$(mktemp "${TMPDIR:-/tmp}/kiroku-search-ingest.XXXXXX")
    ingest_args=(--jar "$jar" --keep-data --no-jdbc --patients "$patients" --clients "$ingest_clients")
    [ -n "$port" ] && ingest_args+=(--port "$port")
    echo "run-search: no --data-dir: running bench/run-ingest.sh ${ingest_args[*]} (log: $ingest_log)"
    set +e
    bash "$SCRIPT_DIR/run-ingest.sh" "${ingest_args[@]}" 2>&1 | tee "$ingest_log"
    ingest_rc=${PIPESTATUS[0]}
    set -e
    datadir=$(sed -n 's/^run-ingest: kept data directory //p' "$ingest_log" | tail -n 1)
    if [ "$ingest_rc" != 0 ]; then
        if [ -n "$datadir" ] && [ "$keep_data" = 0 ]; then rm -rf "$datadir"; fi
        die "run-ingest.sh failed (exit status $ingest_rc); see $ingest_log"
    fi
    [ -n "$datadir" ] && [ -d "$datadir" ] || die "run-ingest.sh did not report the kept data directory; see $ingest_log"
    own_datadir=1
    echo
fi

# --- port, bootstrap credentials --------------------------------------------------------------------------------
if [ -z "$port" ]; then
    for p in $(seq 18080 18179); do
        if ! port_in_use "$p"; then port=$p; break; fi
    done
    [ -n "$port" ] || die "no free port in 18080-18179"
elif port_in_use "$port"; then
    die "port $port is already in use"
fi

client_id=${KIROKU_BENCH_CLIENT_ID:-}
secret=${KIROKU_BENCH_CLIENT_SECRET:-}
if [ -z "$client_id" ] || [ -z "$secret" ]; then
    client_id=bench
    secret=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom 2>/dev/null | head -c 40 || true)
    [ "${#secret}" -eq 40 ] || die "could not generate a client secret"
fi

server_log=$(mktemp "${TMPDIR:-/tmp}/kiroku-search-server.XXXXXX")
server_pid=""
bench_pid=""
cli_pid=""

cleanup() {
    stop_processes "$bench_pid" "$cli_pid"
    stop_server
    if [ "$own_datadir" = 1 ]; then
        if [ "$keep_data" = 1 ]; then
            echo "run-search: kept data directory $datadir"
        else
            rm -rf "$datadir"
            echo "run-search: removed data directory $datadir"
        fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- start the server -------------------------------------------------------------------------------------------
serve_args=(serve --data-dir "$datadir" --port "$port")
echo "run-search: starting $(basename "$jar") ${serve_args[*]} (log: $server_log)"
t_launch=$(now_ns)
# shellcheck disable=SC2086
token_lifetime=5m
[ "$as_person" = 1 ] && token_lifetime=2h   # the person's token is not refreshed during the run
KIROKU_BOOTSTRAP_CLIENT_ID=$client_id KIROKU_BOOTSTRAP_CLIENT_SECRET=$secret KIROKU_TOKENS_ACCESS_TOKEN_LIFETIME=$token_lifetime \
    java ${KIROKU_BENCH_SERVER_JAVA_OPTS:--Xmx1g} -jar "$jar" "${serve_args[@]}" </dev/null >"$server_log" 2>&1 &
server_pid=$!

base="http://127.0.0.1:$port"
wait_until_up "$base/actuator/health" 120 0.1
echo "run-search: server healthy on port $port after $startup; JVM VmRSS $(mib "$rss_start");" \
     "server processes PSS $(mib "$pss_start") ($n_start processes)"

# --- credentials: the bootstrap client if it works, else a new client -------------------------------------------
token_status() {   # <id> <secret>: HTTP status of a client-credentials token request (credentials not on argv)
    printf 'user = "%s:%s"\n' "$1" "$2" \
        | curl -s -o /dev/null -m 30 -w '%{http_code}' -K - \
               -d 'grant_type=client_credentials&scope=system%2F*.*' "$base/oauth2/token" 2>/dev/null || true
}
if [ "$(token_status "$client_id" "$secret")" = 200 ]; then
    echo "run-search: using client '$client_id'"
else
    echo "run-search: client '$client_id' gets no token on this data directory (the bootstrap client is only" \
         "created when no client exists); creating a client with 'client create' ..."
    cli_out=$(mktemp "${TMPDIR:-/tmp}/kiroku-search-client.XXXXXX")
    # shellcheck disable=SC2086
    java ${KIROKU_BENCH_CLI_JAVA_OPTS:--Xmx512m} -jar "$jar" client create --data-dir "$datadir" --name bench-search \
        --scopes 'system/*.*' </dev/null >"$cli_out" 2>&1 &
    cli_pid=$!
    set +e
    wait "$cli_pid"
    cli_rc=$?
    set -e
    cli_pid=""
    client_id=$(awk '$1 == "client_id:" { print $2 }' "$cli_out")
    secret=$(awk '$1 == "client_secret:" { print $2 }' "$cli_out")
    if [ "$cli_rc" != 0 ] || [ -z "$client_id" ] || [ -z "$secret" ]; then
        echo "run-search: 'client create' failed (exit status $cli_rc):" >&2
        grep -v '^client_secret:' "$cli_out" | tail -n 20 >&2
        rm -f "$cli_out"
        exit 1
    fi
    rm -f "$cli_out"
    echo "run-search: created client '$client_id' (scope system/*.*)"
fi

# --- a clinician's token for --as-person ---------------------------------------------------------------------------
if [ "$as_person" = 1 ]; then
    person_dir=$(mktemp -d "${TMPDIR:-/tmp}/kiroku-search-person.XXXXXX")
    person=bench.dr$(date +%s)
    # shellcheck disable=SC2086
    java ${KIROKU_BENCH_CLI_JAVA_OPTS:--Xmx512m} -jar "$jar" client create-app --data-dir "$datadir" --name "bench app" \
        --redirect-uri "$base/callback" --scopes "openid user/*.rs" --public </dev/null >"$person_dir/app" 2>&1 \
        || { cat "$person_dir/app" >&2; die "client create-app failed"; }
    app_id=$(awk '$1 == "client_id:" { print $2 }' "$person_dir/app")
    # shellcheck disable=SC2086
    java ${KIROKU_BENCH_CLI_JAVA_OPTS:--Xmx512m} -jar "$jar" user create --data-dir "$datadir" --username "$person" \
        --name "ベンチ 医師" --kana "ベンチ イシ" --roles physician --profession physician \
        --fhir-ref Practitioner/bench-doctor </dev/null >"$person_dir/user" 2>&1 \
        || { cat "$person_dir/user" >&2; die "user create failed"; }
    otp=$(awk '$1 == "one-time" { print $3 }' "$person_dir/user")
    [ -n "$app_id" ] && [ -n "$otp" ] || die "no app id or one-time password (see $person_dir)"
    # staff work only from an enrolled terminal (BYOD-01): the bench machine is registered as a managed one
    # shellcheck disable=SC2086
    java ${KIROKU_BENCH_CLI_JAVA_OPTS:--Xmx512m} -jar "$jar" device register --data-dir "$datadir" --kind terminal \
        --name "bench client" --owner facility:bench --management managed --responsible "$person" </dev/null \
        >"$person_dir/device" 2>&1 || { cat "$person_dir/device" >&2; die "device register failed"; }
    device_id=$(awk '$1 == "Registered" { print $3 }' "$person_dir/device")
    # shellcheck disable=SC2086
    java ${KIROKU_BENCH_CLI_JAVA_OPTS:--Xmx512m} -jar "$jar" device enroll --data-dir "$datadir" "$device_id" </dev/null \
        >"$person_dir/enroll" 2>&1 || { cat "$person_dir/enroll" >&2; die "device enroll failed"; }
    awk '$1 == "credential:" { print $2 }' "$person_dir/enroll" >"$person_dir/token.device"
    java ${KIROKU_BENCH_JAVA_OPTS:--Xmx512m} "$SCRIPT_DIR/PersonToken.java" --base "$base" --client-id "$client_id" \
        --client-secret "$secret" --app-id "$app_id" --username "$person" --one-time-password "$otp" \
        --device "$(cat "$person_dir/token.device")" --out "$person_dir/token" </dev/null || die "PersonToken failed"
    bench_args+=(--person-token-file "$person_dir/token")
    echo "run-search: phases run as client '$client_id' and as $person (physician; every patient in their care)"
fi

# the background warm-up (profile validator, search extractor; ~15-20 s of CPU) must not compete with the phases
t_wait=$(now_ns)
until grep -q "Background warm-up finished" "$server_log" 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "run-search: the server exited; last lines of $server_log:" >&2
        tail -n 40 "$server_log" >&2
        exit 1
    fi
    if [ $(( $(now_ns) - t_wait )) -ge 180000000000 ]; then
        echo "run-search: the background warm-up did not finish within 180 s; timing anyway" >&2
        break
    fi
    sleep 0.5
done
echo "run-search: background warm-up finished after $(secs $(( $(now_ns) - t_launch ))) from launch"
echo

# --- run the benchmark ------------------------------------------------------------------------------------------
# shellcheck disable=SC2086
run_bench env KIROKU_BENCH_CLIENT_ID="$client_id" KIROKU_BENCH_CLIENT_SECRET="$secret" \
    java ${KIROKU_BENCH_JAVA_OPTS:--Xmx512m} "$SCRIPT_DIR/SearchBench.java" \
    --base "$base" ${bench_args[@]+"${bench_args[@]}"}

sample_after_run

stop_server

echo
echo "## Server"
echo
echo "- jar: $jar"
echo "- data directory: $datadir"
echo "- server JVM options: ${KIROKU_BENCH_SERVER_JAVA_OPTS:--Xmx1g}"
echo "- start-up (launch to /actuator/health 200): $startup"
memory_lines
if [ "$server_alive" = 1 ]; then
    echo "- server CPU during the bench (discovery included): $(cpu_line)"
    echo "- machine CPU during the bench: $(machine_line); load average before $load0, after $load1"
fi
echo "- WARN/ERROR lines in the server log: ${errors_in_log:-0}"
end_report
