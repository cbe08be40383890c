#!/bin/bash
# binlogfs benchmark — replay speed against the two baselines, same binlogs,
# same backup, same server settings, side by side in one run.
#
# Workload (lib-workload.sh, workload "replay" under $BENCH_DIR, reused when
# present): sysbench oltp_write_only, 8 tables x 100,000 rows, 100,000
# transactions at 8 threads, ROW, source server_id=1, max_binlog_size=64M.
#
# Methods (see /work/shared/docs/baselines.md):
#   pipe        mariadb-binlog FILES | mariadb
#   relay       the target's own SQL thread applying the binlogs as relay
#               logs: single thread (slave_parallel_threads=0) and 4/8/16
#               threads, conservative and optimistic
#   binlogfs    binlogfs replay --workers=1/2/4/8/16
# Profiles:
#   durable     innodb_flush_log_at_trx_commit=1, sync_binlog=1, target
#               binlog on (log_slave_updates=ON for relay)
#   relaxed     innodb_flush_log_at_trx_commit=2, no target binlog
#   unlogged    durable's server, with the replay kept out of the target's
#               binlog: mariadb-binlog -D for the pipe, log_slave_updates=OFF
#               for relay, --disable-log-bin for binlogfs (the target's
#               binlog then does not record the replayed transactions)
#
# Every run: fresh copy of the backup, the profile's server, buffer pool
# warmed (every index of every table read once), only the apply is timed,
# then CHECKSUM TABLE EXTENDED + COUNT(*) of every table must equal the
# source's final state. A run that fails, times out (BENCH_RUN_TIMEOUT,
# default 900 s) or differs is reported in the table, not fatal.
# Peak RSS: /usr/bin/time %M of the applying client (pipe: the mariadb
# client, mariadb-binlog's in the notes); relay: the server's VmHWM (it
# includes the warmed buffer pool), marked "srv".
#
# Arguments select phases (default: all = essential-relaxed bigtrx
# essential-durable rest; the durable runs are the long ones):
#   essential   pipe, relay single, relay 16 optimistic (durable only),
#               binlogfs 1/4/8/16, in both profiles (essential-relaxed,
#               essential-durable: one profile)
#   unlogged    pipe, relay single, relay 4/16 optimistic, binlogfs
#               1/4/8/16 in the unlogged profile
#   rest        the other relay configurations and binlogfs 2
#   extra       binlogfs with BENCH_EXTRA_WORKERS, both profiles
#   runs        the runs listed in BENCH_RUNS (see runs() below)
#   bigtrx      once: one ~1.1 GiB transaction (LONGBLOB, 1100 rows of
#               1 MiB) replayed with --memory-limit=64: peak RSS (goal
#               < 256 MiB) and checksum equality
# Results accumulate in $(bench_work)/results/runs.tsv (BENCH_RESUME=1
# keeps the file of an earlier invocation and skips runs it holds); the
# Markdown tables are rewritten after every run to $BENCH_DIR/replay-results.md.
#
# BINLOGFS=path (default build/binlogfs; a private copy is timed).
# BINLOGFS_OPTS="..." extra options for every binlogfs replay run (e.g.
# --commit-window=8); they become part of the run's label.
# BINLOGFS_OPTS_DURABLE, BINLOGFS_OPTS_RELAXED, BINLOGFS_OPTS_UNLOGGED: the
# same for one profile only (default: BINLOGFS_OPTS; the unlogged profile
# always adds --disable-log-bin). A worker count of "N/W" in the lists
# below means N workers with --commit-window=W.
# BENCH_EXTRA_WORKERS="32 ...": phase "extra" runs binlogfs with these
# worker counts in both profiles.
# BENCH_TARGET_OPTS="...": extra mariadbd options for every target, the
# same for every method (lib-workload.sh); the results say so.
# BENCH_PERF=dir: record the target server's profile over each apply
# (perf record -a -g, 999 Hz: the whole machine, the client too) into
# dir/PROFILE-LABEL.data.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BENCH_NAME=${BENCH_NAME:-replay}
BENCH_TRX=${BENCH_TRX:-100000}
BENCH_MAX_BINLOG_SIZE=${BENCH_MAX_BINLOG_SIZE:-64M}
# shellcheck source-path=SCRIPTDIR source=lib-workload.sh
. "$here/lib-workload.sh"

BINLOGFS=${BINLOGFS:-$root/build/binlogfs}
BENCH_RUN_TIMEOUT=${BENCH_RUN_TIMEOUT:-900}
BENCH_BIGTRX_ROWS=${BENCH_BIGTRX_ROWS:-1100}
BENCH_BIGTRX_MEMORY=${BENCH_BIGTRX_MEMORY:-64}
TIME=${TIME_BIN:-/usr/bin/time}
RESULTS_MD=${RESULTS_MD:-$BENCH_DIR/replay-results.md}

[ -x "$TIME" ] || bench_die "$TIME not found: install the Debian package 'time'"
[ -x "$BINLOGFS" ] || bench_die "$BINLOGFS not found: run make first (or set BINLOGFS)"
phases=${*:-all}

W=$(bench_work)

TGT=$W/tgt # one target at a time
cleanup() {
    bench_server_stop "$TGT/run"
    bench_stop
}
trap cleanup EXIT

# ---------------------------------------------------------------- workload
workload_trx() { sed -n 's/^BENCH_TRX_DONE=//p' "$W/workload.env" 2>/dev/null; }

if ! bench_have_workload || [ "$(workload_trx)" != "$BENCH_TRX" ] ||
    ! grep -q "^BENCH_MAX_BINLOG_SIZE=$BENCH_MAX_BINLOG_SIZE\$" "$W/workload.env" ||
    [ ! -s "$W/source-checksums.txt" ]; then
    bench_make_source
    bench_run_workload "$BENCH_TRX"
    bench_checksums "$(bench_socket)" >"$W/source-checksums.txt"
    bench_stop
fi
# A private copy: others rebuild build/ during the run.
cp "$BINLOGFS" "$W/binlogfs-bench" || bench_die "cannot copy $BINLOGFS"
BIN=$W/binlogfs-bench
RES=$W/results
mkdir -p "$RES"
[ "${BENCH_RESUME:-0}" = 1 ] || : >"$RES/runs.tsv"
touch "$RES/runs.tsv"
# shellcheck disable=SC1091
LAST_GTID=$(. "$W/workload.env" && echo "$BENCH_LAST_GTID")
TRX=$(workload_trx)
mapfile -t FILES < <(bench_binlogs)
BYTES=$(bench_binlog_bytes)
MIB=$(awk -v b="$BYTES" 'BEGIN { printf "%.0f", b / 1048576 }')
bench_log "$TRX transactions, $MIB MiB in ${#FILES[@]} files, last GTID $LAST_GTID"

# ---------------------------------------------------------------- target
# target_restore: a fresh copy of the backup as the target's datadir.
target_restore() { bench_target_restore "$TGT"; }
# target_boot PROFILE [OPTS...]: starts the target (non-zero on failure).
target_boot() {
    local profile=$1
    shift
    # shellcheck disable=SC2046
    (bench_server_start "$TGT/data" "$TGT/run" $(bench_profile_opts "$profile" "$TGT") "$@")
}
tsql() { bench_sql_at "$TGT/run/mysqld.sock" "$@"; }

# Reads every index of every table once (the same for every method).
target_warm() { bench_target_warm "$TGT/run/mysqld.sock"; }

target_stop() {
    bench_server_stop "$TGT/run"
    rm -rf "$TGT"
}

# ---------------------------------------------------------------- runs
now_ns() { date +%s%N; }

profile_binlogfs_opts() {
    case $1 in
    durable) echo "${BINLOGFS_OPTS_DURABLE-${BINLOGFS_OPTS:-}}" ;;
    relaxed) echo "${BINLOGFS_OPTS_RELAXED-${BINLOGFS_OPTS:-}}" ;;
    unlogged)
        local o=${BINLOGFS_OPTS_UNLOGGED-${BINLOGFS_OPTS:-}}
        echo "--disable-log-bin${o:+ $o}"
        ;;
    esac
}

# record PROFILE METHOD LABEL STATUS SECONDS RSS_KIB NOTE
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RES/runs.tsv"
    write_tables
}
have_run() { awk -F'\t' -v p="$1" -v l="$2" '$1 == p && $3 == l { f = 1 } END { exit !f }' "$RES/runs.tsv"; }

# run_one PROFILE METHOD ARG...: one run; appends its line to runs.tsv.
#   pipe
#   relay THREADS MODE    (THREADS 0 or "single" = single SQL thread, no MODE)
#   binlogfs WORKERS
run_one() {
    local profile=$1 method=$2 label status=ok secs=- rss=- note="" t0 t1 rc log sum
    local threads mode workers bopts
    case $method in
    pipe) label="pipe" ;;
    relay)
        threads=$3 mode=${4:-}
        [ "$threads" = single ] && threads=0
        if [ "$threads" = 0 ]; then label="relay single"; else label="relay $threads $mode"; fi
        ;;
    binlogfs)
        workers=$3 bopts=$(profile_binlogfs_opts "$profile")
        if [[ $workers == */* ]]; then
            # this window, not the profile's
            bopts=$(sed -E 's/(^| )--commit-window=[0-9]+//g; s/^ +//' <<<"$bopts")
            bopts="--commit-window=${workers#*/}${bopts:+ $bopts}"
            workers=${workers%/*}
        fi
        label="binlogfs $workers${bopts:+ $bopts}"
        ;;
    esac
    if have_run "$profile" "$label"; then
        bench_log "$profile / $label: already measured"
        return 0
    fi
    bench_log "$profile / $label: restoring the backup"
    log=$RES/$profile-$(tr -c 'A-Za-z0-9.\n' - <<<"$label").log
    : >"$log"

    local extra=()
    target_restore
    if [ "$method" = relay ]; then
        # The binlogs become the target's relay logs (copied before the start).
        local rdir=$TGT/relay i=0 f
        extra=(--relay-log="$rdir/relay-bin" --relay-log-index="$rdir/relay-bin.index"
            --skip-slave-start --slave-parallel-threads="$threads")
        [ "$threads" = 0 ] || extra+=(--slave-parallel-mode="$mode")
        [ "$profile" = durable ] && extra+=(--log-slave-updates=ON)
        [ "$profile" = unlogged ] && extra+=(--log-slave-updates=OFF)
        mkdir -p "$rdir"
        : >"$rdir/relay-bin.index"
        for f in "${FILES[@]}"; do
            i=$((i + 1))
            cp "$f" "$(printf '%s/relay-bin.%06d' "$rdir" "$i")"
            printf '%s/relay-bin.%06d\n' "$rdir" "$i" >>"$rdir/relay-bin.index"
        done
    fi
    if ! target_boot "$profile" "${extra[@]}" 2>>"$log"; then
        record "$profile" "$method" "$label" "FAILED" - - "target did not start: $(tail -1 "$log")"
        target_stop
        return 0
    fi
    if [ "$method" = relay ] &&
        ! tsql -e "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=1, MASTER_USER='none',
            MASTER_USE_GTID=no, MASTER_LOG_FILE='$(basename "${FILES[0]}")', MASTER_LOG_POS=4,
            RELAY_LOG_FILE='relay-bin.000001', RELAY_LOG_POS=4" 2>>"$log"; then
        record "$profile" "$method" "$label" "FAILED" - - "CHANGE MASTER: $(tail -1 "$log")"
        target_stop
        return 0
    fi
    bench_log "$profile / $label: warming the buffer pool"
    target_warm 2>>"$log" || note="warm-up failed; "
    sync

    local sock=$TGT/run/mysqld.sock
    bench_log "$profile / $label: applying"
    local srv0
    srv0=$(server_cpu)
    local perfpid=
    if [ -n "${BENCH_PERF:-}" ]; then
        mkdir -p "$BENCH_PERF"
        perf record -q -F 999 -g -a \
            -o "$BENCH_PERF/$profile-$(tr -c 'A-Za-z0-9.\n' - <<<"$label").data" >/dev/null 2>&1 &
        perfpid=$!
    fi
    t0=$(now_ns)
    case $method in
    pipe)
        # shellcheck disable=SC2016 # expanded by the inner bash ($d: -D or nothing)
        timeout -k 10 "$BENCH_RUN_TIMEOUT" bash -c 'set -o pipefail
            t=$1 res=$2 sock=$3 d=$4; shift 4
            "$t" -f "%M %U %S" -o "$res/rss-binlog" mariadb-binlog --no-defaults $d "$@" |
                "$t" -f "%M %U %S" -o "$res/rss-client" mariadb --no-defaults -S "$sock" -uroot \
                    --max-allowed-packet=1G' \
            pipe "$TIME" "$RES" "$sock" "$([ "$profile" = unlogged ] && echo -D)" "${FILES[@]}" >>"$log" 2>&1
        rc=$?
        t1=$(now_ns)
        ;;
    binlogfs)
        # shellcheck disable=SC2086 # bopts is a list of options
        timeout -k 10 "$BENCH_RUN_TIMEOUT" "$TIME" -f "%M %U %S" -o "$RES/rss-client" \
            "$BIN" replay -q --socket="$sock" --user=root --workers="$workers" $bopts \
            "${FILES[@]}" >>"$log" 2>&1
        rc=$?
        t1=$(now_ns)
        ;;
    relay)
        tsql -e "START SLAVE SQL_THREAD" 2>>"$log"
        rc=$?
        local deadline=$(($(date +%s) + BENCH_RUN_TIMEOUT)) r st
        while [ "$rc" = 0 ]; do
            r=$(tsql -N -e "SELECT MASTER_GTID_WAIT('$LAST_GTID', 1)" 2>>"$log") || { rc=1; break; }
            [ "$r" = 0 ] && break
            st=$(tsql -e "SHOW SLAVE STATUS\G" 2>>"$log")
            if ! grep -q 'Slave_SQL_Running: Yes' <<<"$st"; then
                grep -E 'Last_SQL_Err|Slave_SQL_Running:' <<<"$st" >>"$log"
                rc=1
                break
            fi
            if [ "$(date +%s)" -ge "$deadline" ]; then
                rc=124
                break
            fi
        done
        t1=$(now_ns)
        awk '/VmHWM/ { print $2 }' "/proc/$(cat "$TGT/run/mariadbd.pid")/status" >"$RES/rss-client" 2>/dev/null
        # mariadbd exits on the relay workers' crash (baselines.md): say so.
        kill -0 "$(cat "$TGT/run/mariadbd.pid")" 2>/dev/null || note+="server died; "
        ;;
    esac
    if [ -n "$perfpid" ]; then
        kill -INT "$perfpid" 2>/dev/null
        wait "$perfpid" 2>/dev/null
    fi
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    # the target server's CPU seconds over the apply: with the client's,
    # where the two cores went (the relay applier is all server)
    local srv1
    srv1=$(server_cpu)
    [ -n "$srv0" ] && [ -n "$srv1" ] &&
        note+="server CPU $(awk -v a="$srv0" -v b="$srv1" 'BEGIN { printf "%.1f", b - a }') s; "
    rss=$(tail -1 "$RES/rss-client" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { print $1 }')
    rss=${rss:--}
    # CPU seconds (user+sys) of the client processes: on 2 cores the client
    # and the server compete for the same CPUs.
    if [ "$method" != relay ]; then
        note+="client CPU $(cat "$RES/rss-client" "$RES/rss-binlog" 2>/dev/null |
            awk 'NF == 3 && $1 ~ /^[0-9]+$/ { c += $2 + $3 } END { printf "%.1f", c }') s; "
    fi
    [ "$method" = relay ] && rss="$rss srv"
    if [ "$method" = pipe ]; then
        note+="mariadb-binlog $(awk '{ printf "%.0f", $1 / 1024 }' "$RES/rss-binlog" 2>/dev/null) MiB; "
    fi
    rm -f "$RES/rss-client" "$RES/rss-binlog"
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        status=TIMEOUT
        note+="no end after ${BENCH_RUN_TIMEOUT}s; "
    elif [ "$rc" != 0 ]; then
        status=FAILED
        note+="exit $rc: $(grep -v '^$' "$log" | tail -3 | tr '\n\t' '  ' | cut -c1-300); "
    fi
    if [ "$method" = relay ] && [ "$status" != ok ]; then
        tsql -e "STOP SLAVE" >/dev/null 2>&1
    fi
    if kill -0 "$(cat "$TGT/run/mariadbd.pid" 2>/dev/null)" 2>/dev/null; then
        if [ "$profile" = durable ]; then
            local g c
            c=$(tsql -N -e "SHOW GLOBAL STATUS LIKE 'Binlog_commits'" 2>/dev/null | cut -f2)
            g=$(tsql -N -e "SHOW GLOBAL STATUS LIKE 'Binlog_group_commits'" 2>/dev/null | cut -f2)
            [ -n "$g" ] && [ "$g" -gt 0 ] &&
                note+="$(awk -v c="$c" -v g="$g" 'BEGIN { printf "%.1f commits/group", c / g }'); "
        fi
        # The oracle, also after a failure (how far it got is useful).
        bench_checksums "$sock" >"$RES/target-checksums.txt" 2>>"$log"
        if ! sum=$(diff "$W/source-checksums.txt" "$RES/target-checksums.txt"); then
            [ "$status" = ok ] && status=DIFFERS
            note+="checksums differ: $(grep -c '^>' <<<"$sum") of $BENCH_TABLES tables; "
            {
                echo "## checksum diff (< source, > target)"
                echo "$sum"
            } >>"$log"
        else
            note+="checksums equal; "
        fi
    else
        [ "$status" = ok ] && status=FAILED
        note+="target server gone: $(tail -2 "$TGT/run/error.log" 2>/dev/null | tr '\n' ' ' | cut -c1-200); "
    fi
    bench_log "$profile / $label: $status ${secs}s rss ${rss} KiB; ${note}"
    record "$profile" "$method" "$label" "$status" "$secs" "$rss" "${note%; }"
    target_stop
}

# ---------------------------------------------------------------- tables
write_tables() {
    {
        echo "# binlogfs replay vs the baselines"
        echo
        echo "Workload: sysbench oltp_write_only, $BENCH_TABLES tables x $BENCH_ROWS rows," \
            "$TRX transactions at $BENCH_THREADS threads, ROW, $MIB MiB in ${#FILES[@]} binlogs" \
            "(max_binlog_size $BENCH_MAX_BINLOG_SIZE). $(nproc) cores, MariaDB" \
            "$(mariadbd --version | awk '{ print $3 }'), buffer pool $BENCH_BUFFER_POOL, warm." \
            "binlogfs $(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD -- replay fs include 2>/dev/null || echo ' + uncommitted changes'), binary md5 $(md5sum <"$BIN" | cut -c1-12). $(date '+%Y-%m-%d %H:%M')."
        echo
        echo "x pipe / x relay = that method's time / this run's time (higher is faster);" \
            "best relay = the fastest relay configuration measured in the profile." \
            "Peak RSS: the applying client (/usr/bin/time %M); 'srv' = the relay" \
            "target server's VmHWM (includes its warmed buffer pool). One run each:" \
            "runs of the same method vary by up to 20% on these shared machines."
        [ -z "$BENCH_TARGET_OPTS" ] || echo "Every target also ran with: $BENCH_TARGET_OPTS"
        for profile in durable unlogged relaxed; do
            grep -q "^$profile	" "$RES/runs.tsv" || continue
            echo
            case $profile in
            durable) echo "## durable (innodb_flush_log_at_trx_commit=1, sync_binlog=1, target binlog on, log_slave_updates for relay)" ;;
            relaxed) echo "## relaxed (innodb_flush_log_at_trx_commit=2, no target binlog)" ;;
            unlogged) echo "## unlogged (durable's server, the replay kept out of its binlog: mariadb-binlog -D, log_slave_updates=OFF, binlogfs --disable-log-bin)" ;;
            esac
            echo
            awk -F'\t' -v p="$profile" -v trx="$TRX" '
                $1 == p { n++; lab[n] = $3; st[n] = $4; s[n] = $5; rss[n] = $6; note[n] = $7
                    if ($4 == "ok" && $3 == "pipe") pipe = $5
                    if ($4 == "ok" && $2 == "relay" && (best == "" || $5 + 0 < best + 0)) { best = $5; bestl = $3 } }
                END {
                    printf "| method | status | seconds | trx/s | x pipe | x best relay (%s) | peak RSS MiB | notes |\n", bestl == "" ? "-" : bestl
                    print "|---|---|---:|---:|---:|---:|---:|---|"
                    for (i = 1; i <= n; i++) {
                        ok = st[i] == "ok"
                        tps = ok ? sprintf("%.0f", trx / s[i]) : "-"
                        rp = ok && pipe != "" ? sprintf("%.2f", pipe / s[i]) : "-"
                        rr = ok && best != "" ? sprintf("%.2f", best / s[i]) : "-"
                        split(rss[i], r, " ")
                        m = r[1] ~ /^[0-9]+$/ ? sprintf("%.0f%s", r[1] / 1024, r[2] != "" ? " " r[2] : "") : "-"
                        printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", lab[i], st[i], s[i], tps, rp, rr, m, note[i]
                    }
                }' "$RES/runs.tsv"
        done
        if [ -s "$RES/bigtrx.md" ]; then
            echo
            cat "$RES/bigtrx.md"
        fi
    } >"$RESULTS_MD.tmp" && mv "$RESULTS_MD.tmp" "$RESULTS_MD"
}

# ---------------------------------------------------------------- bigtrx
# One transaction of BENCH_BIGTRX_ROWS rows of 1 MiB on its own source
# (workload "$BENCH_NAME-bigtrx"), replayed with --memory-limit.
bigtrx() {
    local bw=$W-bigtrx bsock bt rc=0 rss=- secs status=ok note="" t0 t1 src_sum tgt_sum mib
    local pk="--max-allowed-packet=64M"
    bsock=$bw/src/run/mysqld.sock
    if [ ! -s "$bw/source-checksum.txt" ] || [ ! -d "$bw/backup/mysql" ]; then
        bench_log "bigtrx: making the source"
        bench_server_stop "$bw/src/run"
        rm -rf "$bw"
        mkdir -p "$bw/src/data" "$bw/src/binlog" "$bw/src/run"
        mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$bw/src/data" \
            --auth-root-authentication-method=normal --skip-test-db >"$bw/src/run/install.log" 2>&1 ||
            bench_die "bigtrx: mariadb-install-db failed"
        local sopts=(--log-bin="$bw/src/binlog/source-bin" --log-bin-index="$bw/src/binlog/source-bin.index"
            --binlog-format=ROW --server-id=1 "$pk")
        (bench_server_start "$bw/src/data" "$bw/src/run" "${sopts[@]}") || bench_die "bigtrx: source start"
        bench_sql_at "$bsock" -e "CREATE DATABASE big; CREATE TABLE big.t (id INT PRIMARY KEY, b LONGBLOB NOT NULL) ENGINE=InnoDB; RESET MASTER" ||
            bench_die "bigtrx: create"
        bench_server_stop "$bw/src/run"
        cp -a "$bw/src/data" "$bw/backup"
        (bench_server_start "$bw/src/data" "$bw/src/run" "${sopts[@]}") || bench_die "bigtrx: source start"
        bench_log "bigtrx: one transaction of $BENCH_BIGTRX_ROWS rows of 1 MiB"
        bench_sql_at "$bsock" "$pk" -D big -e "BEGIN;
            INSERT INTO big.t SELECT seq, REPEAT(MD5(seq), 32768) FROM seq_1_to_$BENCH_BIGTRX_ROWS;
            COMMIT" || bench_die "bigtrx: insert"
        bench_sql_at "$bsock" -N -e "SELECT COUNT(*) FROM big.t; CHECKSUM TABLE big.t EXTENDED" |
            tr '\n\t' '  ' >"$bw/source-checksum.txt"
        bench_server_stop "$bw/src/run"
    fi
    local bfiles=()
    mapfile -t bfiles < <(sed "s|^.*/|$bw/src/binlog/|" "$bw/src/binlog/source-bin.index")
    mib=$(cat "${bfiles[@]}" | wc -c | awk '{ printf "%.0f", $1 / 1048576 }')
    bt=$bw/tgt
    bench_server_stop "$bt/run"
    rm -rf "$bt"
    mkdir -p "$bt"
    cp -a "$bw/backup" "$bt/data"
    (bench_server_start "$bt/data" "$bt/run" --server-id=2 --skip-log-bin "$pk") || bench_die "bigtrx: target start"
    bench_log "bigtrx: binlogfs replay --memory-limit=$BENCH_BIGTRX_MEMORY ($mib MiB of binlog)"
    t0=$(now_ns)
    timeout -k 10 "$BENCH_RUN_TIMEOUT" "$TIME" -f %M -o "$bw/rss" "$BIN" replay -q \
        --socket="$bt/run/mysqld.sock" --user=root --workers=4 \
        --memory-limit="$BENCH_BIGTRX_MEMORY" "${bfiles[@]}" >"$bw/replay.log" 2>&1 || rc=$?
    t1=$(now_ns)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
    rss=$(tail -1 "$bw/rss" 2>/dev/null | grep -E '^[0-9]+$' || echo -)
    [ "$rc" = 0 ] || {
        status=FAILED
        note="exit $rc: $(tail -3 "$bw/replay.log" | tr '\n' ' ' | cut -c1-300)"
    }
    src_sum=$(cat "$bw/source-checksum.txt")
    tgt_sum=$(bench_sql_at "$bt/run/mysqld.sock" -N -e "SELECT COUNT(*) FROM big.t; CHECKSUM TABLE big.t EXTENDED" 2>&1 |
        tr '\n\t' '  ')
    if [ "$src_sum" = "$tgt_sum" ]; then sum="equal"; else
        sum="DIFFER"
        [ "$status" = ok ] && status=DIFFERS
    fi
    bench_server_stop "$bt/run"
    rm -rf "$bt"
    {
        echo "## one large transaction"
        echo
        echo "One transaction inserting $BENCH_BIGTRX_ROWS rows of 1 MiB into a LONGBLOB table" \
            "($mib MiB of binlog), max_allowed_packet=64M on source and target, relaxed target," \
            "\`binlogfs replay --workers=4 --memory-limit=$BENCH_BIGTRX_MEMORY\`."
        echo
        echo "| status | seconds | peak RSS MiB (goal < 256) | checksum + COUNT(*) | notes |"
        echo "|---|---:|---:|---|---|"
        echo "| $status | $secs | $(awk -v r="$rss" 'BEGIN { if (r ~ /^[0-9]+$/) printf "%.0f", r / 1024; else print "-" }') |" \
            "$sum (source: $src_sum/ target: $tgt_sum) | $note |"
    } >"$RES/bigtrx.md"
    bench_log "bigtrx: $status ${secs}s rss ${rss} KiB checksum $sum $note"
    write_tables
}

# ---------------------------------------------------------------- phases
# Relaxed first: its runs are short, so figures come early.
essential_relaxed() {
    run_one relaxed pipe
    run_one relaxed relay 0 -
    run_one relaxed binlogfs 1
    run_one relaxed binlogfs 4
    run_one relaxed binlogfs 8
    run_one relaxed binlogfs 16
}
essential_durable() {
    run_one durable pipe
    run_one durable relay 16 optimistic
    run_one durable binlogfs 8
    run_one durable binlogfs 1
    run_one durable relay 0 -
    run_one durable binlogfs 4
    run_one durable binlogfs 16
}
essential_unlogged() {
    run_one unlogged pipe
    run_one unlogged relay 16 optimistic
    run_one unlogged binlogfs 8
    run_one unlogged relay 4 optimistic
    run_one unlogged relay 0 -
    run_one unlogged binlogfs 1
    run_one unlogged binlogfs 4
    run_one unlogged binlogfs 16
}
# BENCH_RUNS="PROFILE:METHOD[:ARG...] ...": exactly these runs, in order
# (e.g. durable:relay:16:optimistic durable:binlogfs:32/32 relaxed:pipe
# relaxed:relay:single).
# server_cpu: the target server's user+system CPU seconds so far
server_cpu() {
    local pid
    pid=$(cat "$TGT/run/mariadbd.pid" 2>/dev/null) || return 0
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$pid/stat" 2>/dev/null
}

runs() {
    local r
    for r in ${BENCH_RUNS:-}; do
        # shellcheck disable=SC2086 # the fields are the arguments
        run_one ${r//:/ }
    done
}
extra() {
    local p w
    for p in relaxed durable; do
        for w in ${BENCH_EXTRA_WORKERS:-}; do
            run_one "$p" binlogfs "$w"
        done
    done
}
rest() {
    local p n m
    for p in durable relaxed; do
        run_one "$p" binlogfs 2
        for n in 4 8 16; do
            for m in conservative optimistic; do
                run_one "$p" relay "$n" "$m"
            done
        done
    done
}

write_tables
for phase in $phases; do
    case $phase in
    essential)
        essential_relaxed
        essential_durable
        ;;
    essential-relaxed) essential_relaxed ;;
    essential-durable) essential_durable ;;
    rest | bigtrx | extra | runs) "$phase" ;;
    unlogged) essential_unlogged ;;
    all)
        essential_relaxed
        bigtrx
        essential_durable
        rest
        ;;
    *) bench_die "unknown phase $phase (all, essential, essential-relaxed, essential-durable, unlogged, bigtrx, rest, extra, runs)" ;;
    esac
done
write_tables
cat "$RESULTS_MD"
