#!/bin/bash
# binlogfs benchmark — the ceiling: how fast can any client apply the same
# statements on the durable target, with no commit order at all?
#
# 1. binlogfs replays the replay workload (replay.sh makes it) on a durable
#    target (replay.sh's profile) with CEILING_BINLOGFS_OPTS (default
#    --workers=64 --commit-window=64), every batch it sends traced
#    (BINLOGFS_TRACE_SQL); timed like replay.sh.
# 2. For each CLIENT:K in CEILING_RUNS (default "threads:1 threads:4
#    async:1"): the same statements, from a fresh backup, by a minimal
#    client: one connection per binlogfs worker, sending K of that
#    worker's batches per round trip, each worker on its own with no
#    order between them. CLIENT "threads" is ceiling.c (a thread per
#    connection, as binlogfs's appliers), "async" ceiling-async.c (one
#    thread, libmariadb's non-blocking API). This is an upper bound, not
#    a replay: rows may be applied out of order (failures are counted and
#    the checksums compared only to say so).
# Prints one line per run: seconds, trx/s, the target server's CPU
# seconds, binlog commits per group.
#
# What it showed (doc/benchmarks.md, runs 8 and 10): with one round trip
# per transaction (K=1), the unordered client with a thread per
# connection was about level with the relay applier; on one thread with
# an event loop it was 6-20% faster, up to 1.15x the relay: the server's
# durable commit path is the limit, and the client's context switches
# on two cores take part of it.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BENCH_NAME=replay
# shellcheck source-path=SCRIPTDIR source=lib-workload.sh
. "$here/lib-workload.sh"
BINLOGFS=${BINLOGFS:-$root/build/binlogfs}
CEILING_RUNS=${CEILING_RUNS:-threads:1 threads:4 async:1}
read -r -a binlogfs_opts <<<"${CEILING_BINLOGFS_OPTS:---workers=64 --commit-window=64}"
[ -x "$BINLOGFS" ] || bench_die "$BINLOGFS not found: run make first (or set BINLOGFS)"
W=$(bench_work)
if ! bench_have_workload || [ ! -s "$W/source-checksums.txt" ]; then
    bench_die "no replay workload: run tests/bench/replay.sh first"
fi
C=$W/ceiling
TGT=$W/tgt
rm -rf "$C"
mkdir -p "$C"
trap 'bench_server_stop "$TGT/run"' EXIT
read -r -a cflags <<<"$(mariadb_config --cflags)"
read -r -a libs <<<"$(mariadb_config --libs)"
cc -O2 -o "$C/threads" "$here/ceiling.c" "${cflags[@]}" "${libs[@]}" -lpthread || bench_die "cannot build ceiling.c (libmariadb-dev)"
cc -O2 -o "$C/async" "$here/ceiling-async.c" "${cflags[@]}" "${libs[@]}" || bench_die "cannot build ceiling-async.c (libmariadb-dev)"
mapfile -t FILES < <(bench_binlogs)
SOCK=$TGT/run/mysqld.sock

target_start() {
    bench_target_restore "$TGT" || bench_die "cannot restore the backup"
    # shellcheck disable=SC2046 # the options as words
    bench_server_start "$TGT/data" "$TGT/run" $(bench_profile_opts durable "$TGT") || bench_die "cannot start the target"
    bench_target_warm "$SOCK"
}

# timed LABEL CMD...: runs CMD, prints the line
timed() {
    local label=$1 pid s0 s1 t0 t1 c g
    shift
    pid=$(cat "$TGT/run/mariadbd.pid")
    s0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    t0=$(date +%s%N)
    "$@"
    t1=$(date +%s%N)
    s1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    c=$(bench_sql_at "$SOCK" -N -e "SHOW GLOBAL STATUS LIKE 'Binlog_commits'" | cut -f2)
    g=$(bench_sql_at "$SOCK" -N -e "SHOW GLOBAL STATUS LIKE 'Binlog_group_commits'" | cut -f2)
    bench_checksums "$SOCK" >"$C/checksums.txt"
    local same=differ
    cmp -s "$W/source-checksums.txt" "$C/checksums.txt" && same=equal
    awk -v l="$label" -v a="$t0" -v b="$t1" -v s=$((s1 - s0)) -v c="$c" -v g="$g" -v n="$TRX" -v k="$same" \
        'BEGIN { d = (b - a) / 1e9; printf "%-34s %7.2f s %6.0f trx/s  server CPU %5.1f s  %5.2f commits/group  checksums %s\n",
                 l, d, n / d, s / 100, (g > 0 ? c / g : 0), k }'
}

TRX=$(sed -n 's/^BENCH_TRX_DONE=//p' "$W/workload.env")
target_start
bench_log "binlogfs ${binlogfs_opts[*]}, traced"
timed "binlogfs ${binlogfs_opts[*]}" env BINLOGFS_TRACE_SQL="$C/trace.sql" \
    "$BINLOGFS" replay -q --socket="$SOCK" --user=root "${binlogfs_opts[@]}" "${FILES[@]}"
bench_sql_at "$SOCK" -N -e "SHOW CREATE TABLE binlogfs.progress" | cut -f2- | sed 's/\\n/ /g' >"$C/progress.sql"

for run in $CEILING_RUNS; do
    client=${run%%:*} k=${run#*:}
    if [ ! -x "$C/$client" ] || ! [ "$k" -ge 1 ] 2>/dev/null; then
        bench_die "CEILING_RUNS: $run is not threads:K or async:K"
    fi
    rm -f "$C"/w*.sql
    # a traced batch's last statement may lack its ';' (the session's
    # own SET): it gets one, as batches are joined K by K
    awk -v k="$k" -v dir="$C" '
        function out(w) { if (held[w] != "") { f = dir "/w" w ".sql"; print held[w] (held[w] ~ /;$/ ? "" : ";") > f; held[w] = "" } }
        /^-- worker [0-9]+$/ { w = $3; out(w); n[w]++; if (n[w] > 1 && (n[w] - 1) % k == 0) print "$$" > (dir "/w" w ".sql"); next }
        /^-- / { w = ""; next }   # the engine'"'"'s own connections
        /^$/ || w == "" { next }
        { if (held[w] != "") print held[w] > (dir "/w" w ".sql"); held[w] = $0 }
        END { for (w in n) { out(w); print "$$" > (dir "/w" w ".sql") } }' "$C/trace.sql"
    target_start
    bench_sql_at "$SOCK" -e "CREATE DATABASE binlogfs; USE binlogfs; $(cat "$C/progress.sql");
        INSERT INTO binlogfs.progress (worker) SELECT seq FROM seq_0_to_255" || bench_die "cannot make the progress table"
    bench_log "ceiling client ($client), $k transactions per round trip"
    timed "ceiling $client, $k trx per round trip" "$C/$client" "$SOCK" "$C"/w*.sql 2>"$C/$client-$k.log"
    grep -h " batches, " "$C/$client-$k.log" | awk '{ b += $2; f += $4 } END { printf "  %d batches, %d failed\n", b, f }'
done
