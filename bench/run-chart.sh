#!/usr/bin/env bash
# Runs the chart benchmark (issue 11): starts `java -jar <jar> serve` on a fresh data directory, creates a physician's
# account for Practitioner/bench-doctor, runs bench/ChartBench.java (one patient with N resources in the physician's
# care; the chart page opened repeatedly in the physician's session), stops the server and removes the data.
#
#   bench/run-chart.sh [--jar PATH] [--port N] [ChartBench options: --resources 2000 --warmup 3 --rounds 20]
#
# The terminal rule (kiroku.devices.terminal-required) is off for this server: the benchmark measures the chart, not
# the terminal check. See bench/README.md ("Chart benchmark").
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
die() { echo "run-chart: $*" >&2; exit 2; }

jar=""
port=""
bench_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --jar) [ $# -ge 2 ] || die "--jar needs a value"; jar=$2; shift 2 ;;
        --port) [ $# -ge 2 ] || die "--port needs a value"; port=$2; shift 2 ;;
        -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) bench_args+=("$1"); shift ;;
    esac
done
cd "$REPO"
if [ -z "$jar" ]; then
    "$REPO/kiroku" --version >/dev/null
    jar="$REPO/target/kiroku-app/kiroku.jar"
fi
[ -f "$jar" ] || die "jar not found: $jar"
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "$port" ]; then
    for p in $(seq 18180 18279); do
        if ! port_in_use "$p"; then port=$p; break; fi
    done
fi
[ -n "$port" ] || die "no free port"

datadir=$(mktemp -d "${TMPDIR:-/tmp}/kiroku-chart.XXXXXX")
classes=$(mktemp -d "${TMPDIR:-/tmp}/kiroku-chart-classes.XXXXXX")
log="$datadir.log"
secret=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom 2>/dev/null | head -c 40 || true)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$datadir" "$classes"
}
trap cleanup EXIT

echo "run-chart: server on port $port, data in $datadir (log: $log)"
KIROKU_BOOTSTRAP_CLIENT_ID=bench KIROKU_BOOTSTRAP_CLIENT_SECRET="$secret" \
    java ${KIROKU_BENCH_SERVER_JAVA_OPTS:--Xmx1g} -jar "$jar" serve --data-dir "$datadir" --port "$port" \
    --kiroku.devices.terminal-required=false >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
    grep -q "Background warm-up finished" "$log" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || die "the server stopped; see $log"
    sleep 1
done
grep -q "Background warm-up finished" "$log" || die "the server did not finish its warm-up in 300 s; see $log"

otp=$(java -jar "$jar" user create --data-dir "$datadir" --username bench.doctor --name "計測 医師" \
    --kana "ケイソク イシ" --roles physician --profession physician --fhir-ref Practitioner/bench-doctor \
    | sed -n 's/^one-time password: *//p')
[ -n "$otp" ] || die "no one-time password from 'user create'"

javac -d "$classes" "$SCRIPT_DIR/PersonToken.java" "$SCRIPT_DIR/ChartBench.java"
java ${KIROKU_BENCH_JAVA_OPTS:--Xmx512m} -cp "$classes" ChartBench --base "http://127.0.0.1:$port" --client-id bench \
    --client-secret "$secret" --username bench.doctor --one-time-password "$otp" "${bench_args[@]}"
