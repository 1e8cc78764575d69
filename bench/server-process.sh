# Shared by run-ingest.sh, run-search.sh and run-hapi.sh (sourced, not run): how they wait for the server they
# start, what they measure of it and how they stop it. The sourcing script sets `bench_name` (for messages), `datadir`,
# `server_log` and, once started, `server_pid` and `t_launch`; stop_server sets `shutdown_s` and `server_rc`.

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
now_ns() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.1f s", ns / 1e9 }'; }
mib() { awk -v k="${1:-0}" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# The server's processes: the JVM and its descendants, plus anything started on the data directory (an embedded
# PostgreSQL that daemonised away from the JVM) and its descendants; not the bench scripts and clients themselves.
# One `ps` snapshot; the data directory is passed through the environment so that awk's own command line does not
# match it.
server_pids() {   # [--on-datadir-only]
    local root=${server_pid:-0}
    [ "${1:-}" = --on-datadir-only ] && root=0
    ps -e -ww -o pid=,ppid=,args= 2>/dev/null \
        | BENCH_DATADIR="$datadir" BENCH_ROOT="$root" BENCH_SELF="$$" BENCH_ONLY="${1:-}" awk '
            { pid[NR] = $1; parent[$1] = $2; cmd = $0; sub(/^ *[0-9]+ +[0-9]+ +/, "", cmd)
              if ($1 == ENVIRON["BENCH_ROOT"] || ($1 != ENVIRON["BENCH_SELF"] && index(cmd, ENVIRON["BENCH_DATADIR"]) > 0 \
                  && cmd !~ /IngestBench|SearchBench|client create|run-ingest|run-search|run-hapi/)) mark[$1] = 1 }
            END {
              if (ENVIRON["BENCH_ONLY"] == "") {
                do { changed = 0
                     for (i in pid) { p = pid[i]; if (!(p in mark) && (parent[p] in mark)) { mark[p] = 1; changed = 1 } }
                } while (changed)
              }
              for (p in mark) print p
            }' | sort -n
}

tree_pss() {   # "<kB> <processes>": proportional set size summed over the server's processes
    local total=0 n=0 p v
    for p in $(server_pids); do
        v=$(awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || true)
        [ -n "$v" ] || continue
        total=$((total + v)); n=$((n + 1))
    done
    echo "$total $n"
}

# CPU ticks (utime+stime+cutime+cstime) summed over the server's processes: "<java ticks> <other ticks>"
tree_ticks() {
    local j=0 other=0 p t
    for p in $(server_pids); do
        t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true)
        [ -n "$t" ] || continue
        if [ "$p" = "$server_pid" ]; then j=$((j + t)); else other=$((other + t)); fi
    done
    echo "$j $other"
}
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
# "<busy ticks> <all ticks>" summed over all CPUs since boot
machine_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

shutdown_s=""
server_rc=""
# SIGTERM, SIGKILL after 60 s; then anything still running on the data directory (started by this server) is asked
# to stop too
stop_server() {
    [ -n "$server_pid" ] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        local t0 i
        t0=$(now_ns)
        kill -TERM "$server_pid" 2>/dev/null || true
        for i in $(seq 1 600); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            echo "$bench_name: server did not stop within 60 s of SIGTERM; sending SIGKILL" >&2
            kill -KILL "$server_pid" 2>/dev/null || true
        fi
        shutdown_s=$(secs $(( $(now_ns) - t0 )))
    fi
    set +e
    wait "$server_pid" 2>/dev/null
    server_rc=$?
    set -e
    server_pid=""
    local left
    left=$(server_pids --on-datadir-only | tr '\n' ' ')
    if [ -n "${left// /}" ]; then
        echo "$bench_name: processes still running on $datadir after the server stopped: $left- sending SIGTERM" >&2
        # shellcheck disable=SC2086
        kill -TERM $left 2>/dev/null || true
        sleep 5
    fi
}

# Waits until GET <url> answers 200 (polling every <interval> s), then sets `startup`, `rss_start`, `pss_start` and
# `n_start`; exits the script with the server log's last lines when the server dies first or <limit> seconds have
# passed since `t_launch`.
wait_until_up() {   # <url> <limit seconds> <interval seconds>
    local code
    while :; do
        code=$(curl -s -o /dev/null -m 10 -w '%{http_code}' "$1" 2>/dev/null || true)
        if [ "$code" = 200 ]; then
            startup=$(secs $(( $(now_ns) - t_launch )))
            rss_start=$(status_kb "$server_pid" VmRSS)
            read -r pss_start n_start <<<"$(tree_pss)"
            return 0
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "$bench_name: the server exited during start-up; last lines of $server_log:" >&2
            tail -n 40 "$server_log" >&2
            exit 1
        fi
        if [ $(( $(now_ns) - t_launch )) -ge $(( $2 * 1000000000 )) ]; then
            echo "$bench_name: $1 did not return 200 within $2 s (last status: ${code:-none}); last lines of $server_log:" >&2
            tail -n 40 "$server_log" >&2
            exit 1
        fi
        sleep "$3"
    done
}

# Stops these processes if they still run (a bench client, a CLI call) and waits for them: the cleanup trap's part
stop_processes() {
    local p
    for p in "$@"; do
        if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
            kill -TERM "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        fi
    done
}

# Runs the bench command in the background and waits for it, so that a signal to the script is handled at once (the
# trap stops both processes); samples CPU ticks and the load average before and after. Sets bench_pid while it runs,
# then bench_rc, bench_ns, ticks_*0/ticks_*1, busy_m*/all_m* and load0/load1 (for cpu_line and machine_line).
run_bench() {
    local t0
    read -r ticks_j0 ticks_o0 <<<"$(tree_ticks)"
    read -r busy_m0 all_m0 <<<"$(machine_ticks)"
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    t0=$(now_ns)
    "$@" </dev/null &
    bench_pid=$!
    set +e
    wait "$bench_pid"
    bench_rc=$?
    set -e
    bench_pid=""
    bench_ns=$(( $(now_ns) - t0 ))
    read -r ticks_j1 ticks_o1 <<<"$(tree_ticks)"
    read -r busy_m1 all_m1 <<<"$(machine_ticks)"
    load1=$(cut -d' ' -f1-3 /proc/loadavg)
}

# After the bench, before stop_server: whether the server outlived the run, its memory, its log's WARN/ERROR lines
sample_after_run() {
    server_alive=1
    kill -0 "$server_pid" 2>/dev/null || server_alive=0
    rss_end=$(status_kb "$server_pid" VmRSS)
    hwm_end=$(status_kb "$server_pid" VmHWM)
    read -r pss_end n_end <<<"$(tree_pss)"
    errors_in_log=$(grep -cE ' (ERROR|WARN) ' "$server_log" 2>/dev/null || true)
}

# The `## Server` block's memory lines: after start, after the run (or that the server died during it)
memory_lines() {
    echo "- RSS after start: JVM VmRSS $(mib "$rss_start"); all server processes PSS $(mib "$pss_start") ($n_start processes)"
    if [ "$server_alive" = 1 ]; then
        echo "- RSS after run:   JVM VmRSS $(mib "$rss_end") (peak VmHWM $(mib "$hwm_end")); all server processes PSS $(mib "$pss_end") ($n_end processes)"
    else
        echo "- RSS after run:   n/a, THE SERVER EXITED DURING THE RUN (see $server_log)"
    fi
}

# CPU between the samples (ticks_*0/ticks_*1 from tree_ticks, busy_m*/all_m* from machine_ticks) over bench_ns
cpu_line() {
    awk -v j=$(( ticks_j1 - ticks_j0 )) -v o=$(( ticks_o1 - ticks_o0 )) -v hz="$clk_tck" -v ns="$bench_ns" 'BEGIN {
        w = ns / 1e9; printf "%.1f s JVM + %.1f s PostgreSQL over %.1f s of bench run (%.2f cores on average)",
        j / hz, o / hz, w, (j + o) / hz / w }'
}
machine_line() {
    awk -v m=$(( busy_m1 - busy_m0 )) -v a=$(( all_m1 - all_m0 )) -v s=$(( ticks_j1 - ticks_j0 + ticks_o1 - ticks_o0 )) \
        -v hz="$clk_tck" -v n="$(nproc)" 'BEGIN {
        pct = 0; if (a > 0) pct = 100 * m / a
        printf "%.1f s busy of %.1f s (%d CPUs, %.0f%%); server %.1f s, everything else (the bench client and any " \
               "other process) %.1f s", m / hz, a / hz, n, pct, s / hz, (m - s) / hz }'
}

# The block's last lines, then exit with the bench's status (a failure too when the server died during the run)
end_report() {
    echo "- shutdown after SIGTERM: ${shutdown_s:-n/a} (exit status $server_rc)"
    echo "- server log: $server_log"
    if [ "$server_alive" = 0 ] && [ "$bench_rc" = 0 ]; then
        bench_rc=1
    fi
    exit "$bench_rc"
}
