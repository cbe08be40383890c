#!/usr/bin/env bash
# binlogfs demo: a point-in-time restore, end to end, on private servers.
#
#   1. a "production" MariaDB with binary logs on runs an OLTP workload
#      (sysbench oltp_write_only) after a backup was taken;
#   2. the backup is restored: binlogfs mounts a restore workspace on it
#      (--datadir: its own private mariadbd on the restored data directory);
#   3. the binlogs written since the backup are copied into the mount, and
#      binlogfs replays them in parallel while the demo shows the progress;
#   4. every table of the restored server is compared with production, then
#      the mount is unmounted, which shuts the private server down cleanly.
#
# Everything lives in a temporary directory and is removed at the end;
# servers run on unix sockets only and are stopped by PID, whatever happens.
# Run it with `make demo` (which installs what is missing first).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
BINLOGFS=${BINLOGFS:-$here/../binlogfs}
WORKERS=${WORKERS:-8}
TRX=${TRX:-20000}
SANDBOX_NAME=demo
# shellcheck source=examples/sandbox.sh
. "$here/sandbox.sh"

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

say "4. Disaster. Restore the backup, mount binlogfs on it"
prod_state=$(states prod)
stop_server prod
cp -a "$work/backup" "$work/restore"
# --datadir: binlogfs runs a private mariadbd on the restored data directory
# (unix socket SPOOL/run/mysqld.sock only) and shuts it down cleanly at unmount.
mount_binlogfs --datadir="$work/restore" --workers="$WORKERS"
echo "mounted on $work/mnt:"
ls -l "$work/mnt" "$work/mnt/control" | sed 's/^/  /'

say "5. Copy the binlogs in: replay starts by itself ($WORKERS workers)"
cp "${files[@]}" "$work/mnt/binlogs/"
while :; do
    state=$(cat "$work/mnt/control/state")
    printf '\r  %-10s %s   ' "$state" "$(cat "$work/mnt/progress")"
    case $state in idle|stopped|failed) break ;; esac
    sleep 1
done
echo
echo "  cat wait -> $(cat "$work/mnt/wait")"
sed 's/^/  /' "$work/mnt/status"
if [ "$state" != idle ]; then
    echo "replay did not finish: $state" >&2
    cat "$work/mnt/errors" >&2
    exit 1
fi

say "6. Check: every table of the restored server against production"
sock="$work/spool/run/mysqld.sock"
restore_state=$(for t in $(mariadb --no-defaults --socket="$sock" -uroot -N -B -e \
        "SELECT CONCAT(table_schema,'.',table_name) FROM information_schema.tables
         WHERE table_schema='sbtest' ORDER BY 1"); do
    echo "$t $(mariadb --no-defaults --socket="$sock" -uroot -N -B -e "SELECT COUNT(*) FROM $t") $(
        mariadb --no-defaults --socket="$sock" -uroot -N -B -e "CHECKSUM TABLE $t EXTENDED" | cut -f2)"
done)
unmount_binlogfs
if [ "$restore_state" = "$prod_state" ]; then
    echo "$restore_state" | awk '{printf "  %-16s %8s rows  checksum %s\n", $1, $2, $3}'
    echo
    echo "All $(echo "$restore_state" | wc -l) tables are identical to production: the restore is complete."
    echo "binlogfs is unmounted and its private server shut down cleanly: $work/restore"
    echo "is a data directory ready to be put into service (it is removed when this demo ends)."
else
    echo "MISMATCH between production and the restored server:" >&2
    diff <(echo "$prod_state") <(echo "$restore_state") >&2 || true
    exit 1
fi
