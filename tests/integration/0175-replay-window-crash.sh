#!/usr/bin/env bash
# --commit-window=N lets N COMMITs be in flight at once (a durable target
# groups their log flushes). Resume must stay exact: kill -9 binlogfs at
# random moments during a replay with a window of 8, run it again each
# time: every table ends equal to mariadb-binlog | mariadb, nothing twice,
# nothing missing.
#
# The moments are not delays (a fast machine finished the whole replay
# before them): round R waits until the progress table has passed a
# transaction drawn at random in the R-th quarter of them (20-35%,
# 45-60%, 70-85%), then kills binlogfs while it still runs; a replay that
# ends first fails the round.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/server.sh"
. "$here/../lib/oracle.sh"
trap tap_cleanup EXIT
server_require
command -v sysbench >/dev/null || skip_all "sysbench is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"
BINLOGFS=${BINLOGFS:-$here/../../binlogfs}

plan 6

src_opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW
    --max-binlog-size=2M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0)
server_start src "${src_opts[@]}" || bail_out "cannot start the source"
sb=(sysbench oltp_write_only --db-driver=mysql --mysql-socket="$(server_sock src)" --mysql-user=root
    --mysql-db=sbtest --tables=4 --table-size=2000 --threads=8 --rand-type=uniform)
server_sql src "CREATE DATABASE sbtest"
"${sb[@]}" prepare >"$TEST_TMP/prepare.log" 2>&1 || bail_out "sysbench prepare failed"
server_sql src "FLUSH BINARY LOGS"
first=$(basename "$(server_binlogs src | tail -n 1)")
server_backup_restart src backup "${src_opts[@]}" || bail_out "cannot restart the source"
"${sb[@]}" --events=8000 --time=0 run >"$TEST_TMP/run.log" 2>&1
server_sql src "FLUSH BINARY LOGS"
src_state=$(table_states src)
server_stop src
mapfile -t files < <(server_binlogs_from src "$first")

# every transaction's end, in order, as FILE:POS
mapfile -t ends < <("$BINLOGFS" inspect --transactions --json "${files[@]}" |
    jq -r '"\(.file | split("/") | last):\(.end)"')
[ "${#ends[@]}" -ge 100 ] || bail_out "inspect finds only ${#ends[@]} transactions"

backup_datadir backup t
server_start t || bail_out "cannot start the target"
seed=${SEED:-$(date +%s)}
RANDOM=$seed
note "random seed $seed"
replay=("$BINLOGFS" replay -q --socket="$(server_sock t)" --user=root --workers=8 --commit-window=8 "${files[@]}")
n=${#ends[@]}
for round in 1 2 3; do
    lo=$((n * (25 * round - 5) / 100))
    mark=${ends[$((lo + (RANDOM * 32768 + RANDOM) % (n * 15 / 100)))]}
    "${replay[@]}" 2>>"$TEST_TMP/replay.err" &
    pid=$!
    running=0
    if progress_reaches t "$pid" "$mark"; then
        kill -9 "$pid" 2>/dev/null && running=1
    fi
    wait "$pid" 2>/dev/null
    applied=$(server_sql t "SELECT COUNT(*) FROM binlogfs.progress WHERE file <> ''")
    is "$running" 1 "round $round: killed while it ran, past $mark (progress rows: $applied)"
done
"${replay[@]}" 2>>"$TEST_TMP/replay.err"
ok "the last run completes" test $? = 0 || diag "$(tail -n 20 "$TEST_TMP/replay.err")"
is "$(table_states t)" "$src_state" "every table equals the source's"
server_stop t

backup_datadir backup pipe
server_start pipe || bail_out "cannot start the pipe target"
pipe_apply pipe "${files[@]}"
is "$(table_states pipe)" "$src_state" "the pipe gives the source's state too"
server_stop pipe
done_testing
