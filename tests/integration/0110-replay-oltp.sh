#!/usr/bin/env bash
# Replay of a concurrent OLTP workload (sysbench oltp_write_only, ROW
# format, several binlog files) with 1, 4 and 16 workers: every table
# ends equal to `mariadb-binlog | mariadb` on the same backup and to the
# source itself.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/server.sh"
. "$here/../lib/oracle.sh"
trap tap_cleanup EXIT
server_require
command -v sysbench >/dev/null || skip_all "sysbench is not installed"
BINLOGFS=${BINLOGFS:-$here/../../binlogfs}

plan 9

src_opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW
    --max-binlog-size=1M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0)
server_start src "${src_opts[@]}" || bail_out "cannot start the source"
sock=$(server_sock src)
sb=(sysbench oltp_write_only --db-driver=mysql --mysql-socket="$sock" --mysql-user=root
    --mysql-db=sbtest --tables=4 --table-size=2000 --threads=8 --rand-type=uniform)
server_sql src "CREATE DATABASE sbtest"
"${sb[@]}" prepare >"$TEST_TMP/prepare.log" 2>&1 || bail_out "sysbench prepare failed"
server_sql src "FLUSH BINARY LOGS"
first=$(basename "$(server_binlogs src | tail -n 1)")
server_stop src
backup_datadir src backup
server_start src "${src_opts[@]}" || bail_out "cannot restart the source"
"${sb[@]}" --events=6000 --time=0 run >"$TEST_TMP/run.log" 2>&1
ok "sysbench run" test $? = 0
server_sql src "FLUSH BINARY LOGS"
src_state=$(table_states src)
server_stop src
files=()
for f in $(server_binlogs src); do
    [ "$(basename "$f")" \< "$first" ] || files+=("$f")
done
ok "the workload spans several binlog files (${#files[@]})" test "${#files[@]}" -ge 3

backup_datadir backup pipe
server_start pipe || bail_out "cannot start the pipe target"
pipe_apply pipe "${files[@]}"
pipe_state=$(table_states pipe)
is "$pipe_state" "$src_state" "the pipe reproduces the source"
server_stop pipe

for w in 1 4 16; do
    backup_datadir backup "t$w"
    server_start "t$w" || bail_out "cannot start target t$w"
    "$BINLOGFS" replay -q --socket="$(server_sock "t$w")" --user=root --workers=$w "${files[@]}" \
        2>"$TEST_TMP/replay-$w.err"
    rc=$?
    ok "replay with $w workers exits 0" test $rc = 0 || diag "$(tail -n 20 "$TEST_TMP/replay-$w.err")"
    is "$(table_states "t$w")" "$pipe_state" "$w workers: every table equals the pipe's result"
    server_stop "t$w"
done
done_testing
