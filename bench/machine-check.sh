#!/usr/bin/env bash
# Prints what decides whether two machines' bench numbers can be compared (bench/README.md, "Is this the same machine?"):
# CPU model and count, plain computation (sha256 in OpenSSL), the round trip of a wake-up between two processes on
# different CPUs and on one CPU (a pipe ping-pong; every request crosses CPUs several times: client, Tomcat thread,
# PostgreSQL backend), and the fsync rate of the temporary directory. Takes about 15 s; starts no server.
#
#   bench/machine-check.sh
set -euo pipefail

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
     "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"

sha=$(openssl speed -seconds 2 sha256 2>/dev/null | awk '$1 == "sha256" { print $NF }')
echo "computation: sha256 ${sha:-?} bytes/s (16 KiB blocks, OpenSSL)"

pingpong() {   # [taskset args...]: mean round trip of a one-byte pipe ping-pong between two processes, in µs
    "$@" python3 - <<'PY'
import os, time
n = 20000
r1, w1 = os.pipe(); r2, w2 = os.pipe()
if os.fork() == 0:
    for _ in range(n):
        os.read(r1, 1); os.write(w2, b"x")
    os._exit(0)
t = time.perf_counter()
for _ in range(n):
    os.write(w1, b"x"); os.read(r2, 1)
print(f"{(time.perf_counter() - t) / n * 1e6:.1f}")
os.wait()
PY
}
echo "wake-up round trip: $(pingpong env) µs free to use both CPUs, $(pingpong taskset -c 0) µs on one CPU" \
     "(the first is the cost that grows with the CPUs a request crosses)"

fsync_bin=$(ls /usr/lib/postgresql/*/bin/pg_test_fsync 2>/dev/null | tail -n 1 || true)
if [ -n "$fsync_bin" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/kiroku-fsync.XXXXXX")
    trap 'rm -rf "$dir"' EXIT
    rate=$("$fsync_bin" -s 1 -f "$dir/test" 2>/dev/null | awk '$1 == "fdatasync" { print $2; exit }')
    echo "fsync: ${rate:-?} fdatasync/s of one 8 kB write in ${TMPDIR:-/tmp} (pg_test_fsync)"
else
    echo "fsync: not measured (pg_test_fsync from Debian's postgresql-15 is not installed)"
fi
