# shellcheck shell=bash
# binlogfs benchmarks — make a sysbench workload on a private MariaDB source.
#
# Source this file (bash). DESIGN: everything lives under one work directory,
# $BENCH_DIR/$BENCH_NAME, so several workloads (a 1 GiB one for the reader,
# a 100,000-transaction one for replay) coexist and are reused between runs:
#
#   src/data/      the source's datadir
#   src/binlog/    its binlogs and index (outside the datadir)
#   src/run/       socket, pid file, error log
#   backup/        a copy of the cleanly stopped datadir after `sysbench
#                  prepare` and before the run: the state the binlogs in
#                  src/binlog/ apply to (RESET MASTER is done before the
#                  copy, so those binlogs hold only the run)
#   workload.env   the parameters the workload was made with
#
# The server runs with --no-defaults and --skip-networking: only the socket.
# root has no password (auth method "normal"), so any OS user can connect.
#
# Functions:
#   bench_make_source     datadir + prepare + backup; leaves the source running
#   bench_run_workload N  N more sysbench transactions on the running source
#   bench_stop            stops the source cleanly (no-op if not running)
#   bench_start           starts the existing source again
#   bench_binlogs         prints the run's binlog paths, in order
#   bench_binlog_bytes    their total size in bytes
#   bench_sql ARGS...     the mariadb client on the source (-e "..." etc.)
#   bench_ensure_binlog_bytes BYTES [CHUNK]   make/extend until the binlogs
#                         reach BYTES
# For replay targets:
#   bench_server_start DATADIR RUNDIR [OPTS...]   a server on any datadir
#   bench_server_stop RUNDIR
#   bench_restore_backup DEST     a fresh copy of backup/ as DEST
#   bench_sql_at SOCKET ARGS...   the mariadb client on any server
#   bench_checksums SOCKET        "table rows checksum" of every sbtest
#                         table (the oracle: compare with the source's)
#   bench_profile_opts PROFILE TGT   the target server's options of a
#                         profile (durable, unlogged: the same server, relaxed); binlogs under TGT/binlog
#   bench_target_restore TGT      a fresh copy of the backup as TGT/data,
#                         with empty TGT/run and TGT/binlog (server stopped)
#   bench_target_warm SOCKET      reads every index of every table once
#   workload.env also records BENCH_LAST_GTID, the source's
#   gtid_binlog_pos after the last run (for MASTER_GTID_WAIT).

BENCH_DIR=${BENCH_DIR:-/var/tmp/binlogfs-bench}
BENCH_NAME=${BENCH_NAME:-default}
BENCH_TABLES=${BENCH_TABLES:-8}
BENCH_ROWS=${BENCH_ROWS:-100000}
BENCH_TRX=${BENCH_TRX:-100000}
BENCH_THREADS=${BENCH_THREADS:-8}
BENCH_MAX_BINLOG_SIZE=${BENCH_MAX_BINLOG_SIZE:-256M}
BENCH_BUFFER_POOL=${BENCH_BUFFER_POOL:-1G}
BENCH_DB=${BENCH_DB:-sbtest}
# Extra mariadbd options for the source, e.g. "--binlog-row-metadata=FULL".
BENCH_SOURCE_OPTS=${BENCH_SOURCE_OPTS:-}
# Extra mariadbd options for every target of both profiles, the same for
# every method (e.g. "--thread-handling=pool-of-threads"); say so in the
# results.
BENCH_TARGET_OPTS=${BENCH_TARGET_OPTS:-}
BENCH_MARIADBD=${BENCH_MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}
BENCH_START_TIMEOUT=${BENCH_START_TIMEOUT:-120}

bench_work() { echo "$BENCH_DIR/$BENCH_NAME"; }
bench_socket() { echo "$(bench_work)/src/run/mysqld.sock"; }

bench_log() { echo "# $(date +%H:%M:%S) $*" >&2; }
bench_die() { echo "bench: $*" >&2; exit 1; }

# bench_server_start DATADIR RUNDIR [OPTS...]: starts mariadbd in the
# background on DATADIR with its socket, pid file and error log in RUNDIR,
# and waits until it answers. Extra OPTS go last (they win).
bench_server_start() {
    local datadir=$1 rundir=$2
    shift 2
    mkdir -p "$rundir"
    local sock="$rundir/mysqld.sock"
    "$BENCH_MARIADBD" --no-defaults --user="$(id -un)" \
        --datadir="$datadir" --socket="$sock" --pid-file="$rundir/mysqld.pid" \
        --log-error="$rundir/error.log" --skip-networking \
        --innodb-buffer-pool-size="$BENCH_BUFFER_POOL" --innodb-log-file-size=512M \
        --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 \
        --max-connections=200 "$@" >/dev/null 2>&1 &
    local pid=$! i
    echo "$pid" >"$rundir/mariadbd.pid"
    for ((i = 0; i < BENCH_START_TIMEOUT * 10; i++)); do
        if mariadb-admin --no-defaults -S "$sock" -uroot ping >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -20 "$rundir/error.log" >&2
            bench_die "mariadbd on $datadir exited during startup"
        fi
        sleep 0.1
    done
    tail -20 "$rundir/error.log" >&2
    bench_die "mariadbd on $datadir did not answer within ${BENCH_START_TIMEOUT}s"
}

# bench_server_stop RUNDIR: clean shutdown, waits for the process to exit.
bench_server_stop() {
    local rundir=$1 pid i
    [ -f "$rundir/mariadbd.pid" ] || return 0
    pid=$(cat "$rundir/mariadbd.pid")
    if kill -0 "$pid" 2>/dev/null; then
        mariadb-admin --no-defaults -S "$rundir/mysqld.sock" -uroot shutdown >/dev/null 2>&1 ||
            kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < 3000; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            bench_log "mariadbd $pid did not stop in 300s; killing it"
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    rm -f "$rundir/mariadbd.pid"
}

bench_source_opts() {
    local w
    w=$(bench_work)
    # shellcheck disable=SC2086 # BENCH_SOURCE_OPTS is a list of options
    echo --log-bin="$w/src/binlog/source-bin" --log-bin-index="$w/src/binlog/source-bin.index" \
        --binlog-format=ROW --server-id=1 --max-binlog-size="$BENCH_MAX_BINLOG_SIZE" \
        $BENCH_SOURCE_OPTS
}

bench_start() {
    local w
    w=$(bench_work)
    [ -d "$w/src/data/mysql" ] || bench_die "no source datadir in $w (run bench_make_source)"
    # shellcheck disable=SC2046
    bench_server_start "$w/src/data" "$w/src/run" $(bench_source_opts)
}

bench_stop() { bench_server_stop "$(bench_work)/src/run"; }

bench_sql() { mariadb --no-defaults -S "$(bench_socket)" -uroot "$@"; }
bench_sql_at() {
    local sock=$1
    shift
    mariadb --no-defaults -S "$sock" -uroot "$@"
}

bench_restore_backup() {
    local dest=$1 w
    w=$(bench_work)
    [ -d "$w/backup/mysql" ] || bench_die "no backup in $w"
    rm -rf "$dest"
    mkdir -p "$(dirname "$dest")"
    cp -a "$w/backup" "$dest"
}

bench_profile_opts() {
    case $1 in
    durable | unlogged)
        echo --innodb-flush-log-at-trx-commit=1 --sync-binlog=1 --server-id=2 \
            --log-bin="$2/binlog/target-bin" --log-bin-index="$2/binlog/target-bin.index" \
            --binlog-format=ROW $BENCH_TARGET_OPTS
        ;;
    relaxed)
        echo --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --server-id=2 --skip-log-bin $BENCH_TARGET_OPTS
        ;;
    *) bench_die "unknown profile $1" ;;
    esac
}

bench_target_restore() {
    bench_server_stop "$1/run"
    rm -rf "$1"
    bench_restore_backup "$1/data" || return 1
    mkdir -p "$1/run" "$1/binlog"
}

bench_target_warm() {
    local sql
    sql=$(bench_sql_at "$1" -N -e "SELECT DISTINCT CONCAT('SELECT COUNT(*) FROM \`', table_schema, '\`.\`',
            table_name, '\` FORCE INDEX(\`', index_name, '\`);')
        FROM information_schema.statistics WHERE table_schema = '$BENCH_DB'") || return 1
    bench_sql_at "$1" -N -e "$sql" >/dev/null
}

bench_checksums() {
    local sock=$1 i t
    for ((i = 1; i <= BENCH_TABLES; i++)); do
        t="$BENCH_DB.sbtest$i"
        printf '%s %s %s\n' "$t" \
            "$(bench_sql_at "$sock" -N -e "SELECT COUNT(*) FROM $t")" \
            "$(bench_sql_at "$sock" -N -e "CHECKSUM TABLE $t EXTENDED" | cut -f2)"
    done
}

bench_sysbench() {
    sysbench oltp_write_only --db-driver=mysql --mysql-socket="$(bench_socket)" \
        --mysql-user=root --mysql-password= --mysql-db="$BENCH_DB" \
        --tables="$BENCH_TABLES" --table-size="$BENCH_ROWS" --threads="$BENCH_THREADS" "$@"
}

# bench_make_source: a fresh source (anything under $(bench_work) is
# removed), sysbench prepare, RESET MASTER, clean stop, backup, start again.
bench_make_source() {
    local w
    w=$(bench_work)
    bench_stop
    rm -rf "$w"
    mkdir -p "$w/src/data" "$w/src/binlog" "$w/src/run"
    bench_log "initialising $w/src/data"
    mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$w/src/data" \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$w/src/run/install.log" 2>&1 || {
        cat "$w/src/run/install.log" >&2
        bench_die "mariadb-install-db failed"
    }
    bench_start
    bench_sql -e "CREATE DATABASE $BENCH_DB" || bench_die "CREATE DATABASE failed"
    bench_log "sysbench prepare: $BENCH_TABLES tables x $BENCH_ROWS rows"
    bench_sysbench prepare >"$w/src/run/prepare.log" 2>&1 || {
        tail -20 "$w/src/run/prepare.log" >&2
        bench_die "sysbench prepare failed"
    }
    bench_sql -e "RESET MASTER" || bench_die "RESET MASTER failed"
    bench_stop
    bench_log "backup of the stopped datadir to $w/backup"
    cp -a "$w/src/data" "$w/backup"
    cat >"$w/workload.env" <<EOF
BENCH_TABLES=$BENCH_TABLES
BENCH_ROWS=$BENCH_ROWS
BENCH_THREADS=$BENCH_THREADS
BENCH_MAX_BINLOG_SIZE=$BENCH_MAX_BINLOG_SIZE
BENCH_SOURCE_OPTS='$BENCH_SOURCE_OPTS'
EOF
    bench_start
}

# bench_run_workload [N]: N (default $BENCH_TRX) sysbench transactions on
# the running source; adds N to BENCH_TRX_DONE in workload.env.
bench_run_workload() {
    local n=${1:-$BENCH_TRX} w done_before
    w=$(bench_work)
    bench_log "sysbench run: $n transactions at $BENCH_THREADS threads"
    bench_sysbench run --events="$n" --time=0 --report-interval=30 \
        >>"$w/src/run/run.log" 2>&1 || {
        tail -20 "$w/src/run/run.log" >&2
        bench_die "sysbench run failed"
    }
    done_before=$(sed -n 's/^BENCH_TRX_DONE=//p' "$w/workload.env")
    sed -i '/^BENCH_TRX_DONE=/d; /^BENCH_LAST_GTID=/d' "$w/workload.env"
    echo "BENCH_TRX_DONE=$((${done_before:-0} + n))" >>"$w/workload.env"
    echo "BENCH_LAST_GTID=$(bench_sql -N -e 'SELECT @@gtid_binlog_pos')" >>"$w/workload.env"
    grep -E 'transactions:|queries:' "$w/src/run/run.log" | tail -2 | sed 's/^/# /' >&2
}

bench_binlogs() {
    local w idx f
    w=$(bench_work)
    idx="$w/src/binlog/source-bin.index"
    [ -f "$idx" ] || return 0
    while read -r f; do
        case $f in /*) ;; *) f="$w/src/binlog/$(basename "$f")" ;; esac
        [ -f "$f" ] && echo "$f"
    done <"$idx"
}

bench_binlog_bytes() {
    local total=0 f
    while read -r f; do
        total=$((total + $(stat -c %s "$f")))
    done < <(bench_binlogs)
    echo "$total"
}

# True when $(bench_work) holds a finished workload (backup + binlogs).
bench_have_workload() {
    local w
    w=$(bench_work)
    [ -f "$w/workload.env" ] && [ -d "$w/backup/mysql" ] && [ -n "$(bench_binlogs)" ]
}

# bench_ensure_binlog_bytes BYTES [CHUNK]: makes the source if there is no
# workload yet, then runs CHUNK (default 100000) more transactions at a time
# until the run's binlogs total at least BYTES. Leaves the source stopped.
bench_ensure_binlog_bytes() {
    local want=$1 chunk=${2:-100000} have
    if ! bench_have_workload; then
        bench_make_source
    fi
    have=$(bench_binlog_bytes)
    while [ "$have" -lt "$want" ]; do
        [ -S "$(bench_socket)" ] || bench_start
        bench_run_workload "$chunk"
        have=$(bench_binlog_bytes)
        bench_log "binlogs: $((have / 1048576)) MiB of $((want / 1048576)) MiB"
    done
    bench_stop
}
