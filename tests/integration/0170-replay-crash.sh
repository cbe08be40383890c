#!/usr/bin/env bash
# 0170-replay-crash — exactly once across crashes: `binlogfs replay` killed
# with SIGKILL at a random moment, then the same command run again, exits
# 0 and leaves every table equal to `mariadb-binlog | mariadb` on the same
# backup (nothing applied twice, nothing missing). Right after each kill
# the tables equal the pipe cut at the position the progress table names
# (commit order is kept, and the progress row commits with its
# transaction). Three rounds at different moments. Then the target
# mariadbd is killed with SIGKILL instead and restarted at once: binlogfs
# may reconnect and finish, or fail; if it exits 0 the tables must already
# be equal; the same command again must end equal. Once with the durable
# target, once with a target that is not durable
# (innodb_flush_log_at_trx_commit=0: the crash loses the last commits,
# progress rows included, so binlogfs must not go on from where it believed
# it was). After each completed run the progress table (binlogfs.progress)
# names the last file with a transaction and the position where that
# transaction ends (from inspect --transactions). A SIGTERM instead of
# the kill: a clean stop, exit status 143, the position in the message is
# the progress table's, the tables hold exactly that prefix.
#
# The moments are not delays (a fast machine finished the whole replay
# before most of them): each kill waits until the progress table has
# passed a transaction drawn at random between the first 10% and 80% of
# them, then strikes while binlogfs is still running. A replay that ends
# before that is a failure, not a skip.
#
# Workload: sysbench oltp_write_only, 6000 transactions, ROW format,
# 2 MB binlog files; target with durable settings
# (innodb_flush_log_at_trx_commit=1, doublewrite), 4 workers.
# The draws come from $RANDOM seeded with the date, or with BLFS_SEED
# when set (to replay a failure): the seed is printed as a TAP comment.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/server.sh"
. "$here/../lib/oracle.sh"
trap tap_cleanup EXIT
server_require
command -v sysbench >/dev/null || skip_all "sysbench is not installed"
command -v mariadb-binlog >/dev/null || skip_all "mariadb-binlog is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"
BINLOGFS=${BINLOGFS:-$here/../../build/binlogfs}
[ -x "$BINLOGFS" ] || bail_out "the binary under test \$BINLOGFS=$BINLOGFS is not executable"

seed=${BLFS_SEED:-$(date +%s)}
RANDOM=$seed
diag "random seed $seed (rerun with BLFS_SEED=$seed to get the same draws)"

src_opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW
    --max-binlog-size=2M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0)
tgt_opts=(--innodb-flush-log-at-trx-commit=1 --innodb-doublewrite=1)
server_start src "${src_opts[@]}" || bail_out "cannot start the source"
sb=(sysbench oltp_write_only --db-driver=mysql --mysql-socket="$(server_sock src)" --mysql-user=root
    --mysql-db=sbtest --tables=4 --table-size=2000 --threads=4 --rand-type=uniform)
server_sql src "CREATE DATABASE sbtest"
"${sb[@]}" prepare >"$TEST_TMP/prepare.log" 2>&1 || bail_out "sysbench prepare failed"
server_backup_restart src backup "${src_opts[@]}" || bail_out "cannot restart the source"
first=$(basename "$(server_binlogs src | tail -n 1)")
"${sb[@]}" --events=6000 --time=0 run >"$TEST_TMP/run.log" 2>&1 ||
    bail_out "sysbench run failed: $(tail -n 5 "$TEST_TMP/run.log")"
server_sql src "FLUSH BINARY LOGS"
server_stop src
mapfile -t files < <(server_binlogs_from src "$first")
ok "the workload spans several binlog files (${#files[@]})" test "${#files[@]}" -ge 4

# The last transaction: its file and where it ends.
last_file='' last_end=''
for f in "${files[@]}"; do
    e=$("$BINLOGFS" inspect --transactions --json "$f" | jq -s -r 'if length > 0 then last.end else empty end')
    if [ -n "$e" ]; then
        last_file=$(basename "$f") last_end=$e
    fi
done
[ -n "$last_file" ] || bail_out "inspect finds no transaction"
# every transaction's end, in order, as FILE:POS
mapfile -t ends < <("$BINLOGFS" inspect --transactions --json "${files[@]}" |
    jq -r '"\(.file | split("/") | last):\(.end)"')
[ "${#ends[@]}" -ge 100 ] || bail_out "inspect finds only ${#ends[@]} transactions"

backup_datadir backup pipe
server_start pipe --innodb-flush-log-at-trx-commit=2 || bail_out "cannot start the pipe target"
pipe_apply pipe "${files[@]}" >"$TEST_TMP/pipe.out" 2>&1
ok "the pipe applies the binlogs" test $? = 0
want=$(table_states pipe)
server_kill pipe
backup_datadir backup pipe
server_start pipe --innodb-flush-log-at-trx-commit=2 || bail_out "cannot start the pipe target"
backup_state=$(table_states pipe)
server_kill pipe

# fresh NAME: a target on a new copy of the backup.
fresh() {
    server_kill "$1"
    backup_datadir backup "$1"
    server_start "$1" "${tgt_opts[@]}" || bail_out "cannot start $1"
}
replay_cmd() {
    "$BINLOGFS" replay -q --socket="$(server_sock tgt)" --user=root --workers=4 "${files[@]}"
}
# start_replay ERRFILE: the same command in the background; PID is
# binlogfs's own (a simple command, not a subshell running a function)
start_replay() {
    "$BINLOGFS" replay -q --socket="$(server_sock tgt)" --user=root --workers=4 "${files[@]}" 2>"$1" &
    PID=$!
}
# progress: the greatest (file, pos) of the progress rows, as "file:pos".
progress() {
    server_sql tgt "SELECT file, pos FROM binlogfs.progress WHERE file <> ''" 2>/dev/null |
        awk '{ n = split($1, a, "."); k = sprintf("%020d:%020d", a[n], $2) }
            k > best { best = k; out = $1 ":" $2 } END { print out }'
}
# rerun WHAT: run the same command again to the end and check the result.
rerun() {
    local what=$1 rc
    replay_cmd 2>"$TEST_TMP/rerun.err"
    rc=$?
    is "$rc" 0 "$what: the same command again exits 0" || diag "$(tail -n 15 "$TEST_TMP/rerun.err")"
    is "$(table_states tgt)" "$want" "$what: every table equals the pipe's result"
    is "$(progress)" "$last_file:$last_end" "$what: the progress table names the end of the last transaction"
}
# prefix_state FILE:POS: the tables after the pipe of every transaction that
# ends at or before FILE:POS (the backup's for an empty position).
prefix_state() {
    local at=$1 f cut=()
    if [ -z "$at" ]; then
        echo "$backup_state"
        return
    fi
    for f in "${files[@]}"; do
        cut+=("$f")
        [ "$(basename "$f")" != "${at%:*}" ] || break
    done
    backup_datadir backup pipe
    server_start pipe --innodb-flush-log-at-trx-commit=2 || bail_out "cannot start the pipe target"
    pipe_apply pipe "${cut[@]}" --stop-position="${at##*:}" >"$TEST_TMP/prefix.out" 2>&1 ||
        diag "the pipe up to $at failed: $(tail -n 5 "$TEST_TMP/prefix.out")"
    table_states pipe
    server_kill pipe
}
# draw [LO HI]: a transaction's end between the first LO% and HI% of
# them (default 10, 80)
draw() {
    local n=${#ends[@]} lo=${1:-10} hi=${2:-80}
    echo "${ends[$((n * lo / 100 + (RANDOM * 32768 + RANDOM) % (n * (hi - lo) / 100)))]}"
}
# wait_progress PID FILE:POS: progress_reaches (oracle.sh) on the target
wait_progress() { progress_reaches tgt "$@"; }

# ---- kill -9 binlogfs --------------------------------------------------------------------------
for round in 1 2 3; do
    mark=$(draw)
    fresh tgt
    start_replay "$TEST_TMP/killed-$round.err"
    pid=$PID
    if wait_progress "$pid" "$mark"; then
        comm=$(cat "/proc/$pid/comm" 2>/dev/null)
        kill -9 "$pid"
        wait "$pid" 2>/dev/null
        [ "$comm" = binlogfs ] || bail_out "the process killed was '$comm', not binlogfs"
        at=$(progress)
        note "round $round: binlogfs killed past $mark, at ${at:-the start} (end $last_file:$last_end)"
        # commit order is kept: the target holds exactly the transactions
        # up to the position in the progress table
        is "$(table_states tgt)" "$(prefix_state "$at")" \
            "kill -9 binlogfs past $mark: the tables hold exactly the transactions up to ${at:-the start}"
        rerun "kill -9 binlogfs past $mark"
    else
        wait "$pid"
        fail "kill -9 binlogfs past $mark: binlogfs ended (status $?) before the progress table got there"
    fi
done

# ---- SIGTERM: a clean stop --------------------------------------------------------------------
# The first SIGTERM (or SIGINT, SIGHUP) stops the replay cleanly: exit
# status 143, a message naming the position where the same command
# resumes, which is the progress table's, before the end (the signal is
# seen within 50 ms; it comes in the first 10-40% of the transactions);
# the tables hold exactly the transactions up to it; the same command
# again ends equal.
mark=$(draw 10 40)
fresh tgt
start_replay "$TEST_TMP/term.err"
pid=$PID
if wait_progress "$pid" "$mark"; then
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    at=$(progress)
    note "binlogfs stopped by SIGTERM past $mark, at ${at:-the start}: $(tail -n 2 "$TEST_TMP/term.err")"
    is "$rc" 143 "SIGTERM past $mark: exit status 143"
    isnt "$at" "$last_file:$last_end" "SIGTERM past $mark: the replay stopped before the end"
    like "$(cat "$TEST_TMP/term.err")" "interrupted by signal 15: the same command resumes after ${at:-\(start\)}" \
        "SIGTERM: the message names the position of the progress table"
    is "$(table_states tgt)" "$(prefix_state "$at")" \
        "SIGTERM past $mark: the tables hold exactly the transactions up to ${at:-the start}"
    rerun "SIGTERM past $mark"
else
    wait "$pid"
    fail "SIGTERM past $mark: binlogfs ended (status $?) before the progress table got there"
fi

# ---- kill -9 the target server ---------------------------------------------------------------------
# server_round WHAT OPTION...: a target started with OPTION..., killed with
# SIGKILL at a random moment while binlogfs applies, restarted at once.
# binlogfs may reconnect and go on, or fail; if it exits 0, every table
# must already be equal. Then the same command again: equal.
server_round() {
    local what=$1 mark rc
    shift
    mark=$(draw)
    local delay="past $mark"
    server_kill tgt
    backup_datadir backup tgt
    server_start tgt "$@" || bail_out "cannot start tgt"
    start_replay "$TEST_TMP/server-killed.err"
    pid=$PID
    if ! wait_progress "$pid" "$mark"; then
        wait "$pid"
        fail "kill -9 of the $what target $delay: binlogfs ended (status $?) before the progress table got there"
        return
    fi
    local at
    at=$(progress)
    server_kill tgt
    server_start tgt "$@" || bail_out "cannot restart the target after kill -9"
    note "the $what target killed ${delay}; progress just before the kill: $at, after the restart: $(progress)"
    # binlogfs reconnects within its budget (30 s) or gives up
    local deadline=$((SECONDS + 90))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$what target killed ${delay}: binlogfs ends within 90 s of the restart"
        kill -9 "$pid"
        wait "$pid" 2>/dev/null
    else
        wait "$pid"
        rc=$?
        pass "$what target killed ${delay}: binlogfs ends within 90 s of the restart (status $rc)"
        note "binlogfs after the target's kill -9 and restart: status $rc: $(tail -n 3 "$TEST_TMP/server-killed.err")"
        if [ "$rc" = 0 ]; then
            is "$(table_states tgt)" "$want" \
                "$what target killed ${delay}: binlogfs went on and exited 0: every table equals the pipe's result"
        fi
    fi
    rerun "kill -9 of the $what target ${delay}"
}
server_round durable "${tgt_opts[@]}"
# innodb_flush_log_at_trx_commit=0 (a common setting for a restore): the
# server's crash loses the last second of commits, progress rows with them;
# binlogfs must not go on from where it believed it was.
server_round non-durable --innodb-flush-log-at-trx-commit=0
done_testing
