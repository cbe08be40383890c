#!/usr/bin/env bash
# binlogfs demo: a point-in-time restore, end to end, on private servers.
#
#   1. a "production" MariaDB with binary logs on runs an OLTP workload
#      (sysbench oltp_write_only) after a backup was taken;
#   2. the backup is restored into a second, private MariaDB;
#   3. binlogfs replays every binlog written since the backup, in parallel;
#   4. every table of the restored server is compared with production.
#
# Everything lives in a temporary directory and is removed at the end;
# servers run on unix sockets only and are stopped by PID, whatever happens.
# Run it with `make demo` (which installs what is missing first).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
BINLOGFS=${BINLOGFS:-$here/../binlogfs}
WORKERS=${WORKERS:-8}
TRX=${TRX:-20000}
work=$(mktemp -d /tmp/binlogfs-demo.XXXXXX)
pids=()

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
    for p in "${pids[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

user_opt=()
[ "$(id -u)" != 0 ] || user_opt=(--user=root)

start_server() { # NAME DATADIR [OPTIONS...]
    local name=$1 data=$2
    shift 2
    /usr/sbin/mariadbd --no-defaults --datadir="$data" --socket="$work/$name.sock" \
        --pid-file="$work/$name.pid" --skip-networking --log-error="$work/$name.err" \
        --innodb-buffer-pool-size=256M --innodb-log-file-size=256M --innodb-use-native-aio=0 \
        "${user_opt[@]}" "$@" \
        >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 600); do
        mariadb-admin --no-defaults --socket="$work/$name.sock" -uroot ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the $name server did not start:" >&2
    tail -n 20 "$work/$name.err" >&2
    exit 1
}
stop_server() { # NAME
    mariadb-admin --no-defaults --socket="$work/$1.sock" -uroot shutdown
    for _ in $(seq 600); do [ -e "$work/$1.pid" ] || return 0; sleep 0.1; done
}
sql() { mariadb --no-defaults --socket="$work/$1.sock" -uroot -N -B -e "$2"; }
states() { # NAME: every table's row count and checksum
    for t in $(sql "$1" "SELECT CONCAT(table_schema,'.',table_name) FROM information_schema.tables
            WHERE table_schema='sbtest' ORDER BY 1"); do
        echo "$t $(sql "$1" "SELECT COUNT(*) FROM $t") $(sql "$1" "CHECKSUM TABLE $t EXTENDED" | cut -f2)"
    done
}

say "1. Production: a MariaDB with binary logs, 8 tables of 50,000 rows"
mariadb-install-db --no-defaults --datadir="$work/prod" --auth-root-authentication-method=normal \
    --skip-test-db --innodb-use-native-aio=0 "${user_opt[@]}" >"$work/install.log" 2>&1
prod_opts=(--log-bin="$work/binlog/prod-bin" --server-id=1 --binlog-format=ROW --max-binlog-size=16M)
mkdir -p "$work/binlog"
start_server prod "$work/prod" "${prod_opts[@]}"
sql prod "CREATE DATABASE sbtest"
sb=(sysbench oltp_write_only --db-driver=mysql --mysql-socket="$work/prod.sock" --mysql-user=root
    --mysql-db=sbtest --tables=8 --table-size=50000 --threads=8)
"${sb[@]}" prepare >"$work/prepare.log"
sql prod "FLUSH BINARY LOGS"
first=$(basename "$(tail -n 1 "$work/binlog/prod-bin.index")")

say "2. The nightly backup (a copy of the stopped data directory)"
stop_server prod
cp -a "$work/prod" "$work/backup"
rm -f "$work/backup/"*bin.*
echo "backup taken; binlogs from $first on will have to be replayed"

say "3. The day goes on: $TRX transactions from 8 sessions"
start_server prod "$work/prod" "${prod_opts[@]}"
"${sb[@]}" --events="$TRX" --time=0 --report-interval=5 run | grep -E '^\[|transactions:'
sql prod "FLUSH BINARY LOGS"
files=()
while read -r f; do
    b=$(basename "$f")
    [[ "$b" < "$first" ]] || files+=("$work/binlog/$b")
done <"$work/binlog/prod-bin.index"
echo "binlogs to replay: ${#files[@]} files, $(du -ch "${files[@]}" | tail -n 1 | cut -f1)"
"$BINLOGFS" inspect --summary "${files[@]}" | sed -n '/^transactions/p;/^potential/,/^read/p'

say "4. Disaster. Restore the backup into a fresh server"
prod_state=$(states prod)
stop_server prod
cp -a "$work/backup" "$work/restore"
start_server restore "$work/restore"

say "5. binlogfs replays the binlogs with $WORKERS workers"
"$BINLOGFS" replay --socket="$work/restore.sock" --user=root --workers="$WORKERS" \
    ${COMMIT_WINDOW:+--commit-window=$COMMIT_WINDOW} "${files[@]}"

say "6. Check: every table of the restored server against production"
restore_state=$(states restore)
if [ "$restore_state" = "$prod_state" ]; then
    echo "$restore_state" | awk '{printf "  %-16s %8s rows  checksum %s\n", $1, $2, $3}'
    echo
    echo "All $(echo "$restore_state" | wc -l) tables are identical to production: the restore is complete."
    echo "binlogfs kept its progress in binlogfs.progress on the restored server:"
    sql restore "SELECT file, pos, gtid FROM binlogfs.progress WHERE file<>'' ORDER BY file DESC, pos DESC LIMIT 1"
else
    echo "MISMATCH between production and the restored server:" >&2
    diff <(echo "$prod_state") <(echo "$restore_state") >&2 || true
    exit 1
fi
stop_server restore
