#!/usr/bin/env bash
# Replay of a concurrent OLTP workload (sysbench oltp_write_only, ROW
# format, several binlog files) with 1, 4 and 16 workers, with batches
# off, and on a target keeping a binlog: every table ends equal to
# `mariadb-binlog | mariadb` on the same backup and to the source itself.
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

plan 28

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
server_backup_restart src backup "${src_opts[@]}" || bail_out "cannot restart the source"
"${sb[@]}" --events=6000 --time=0 run >"$TEST_TMP/run.log" 2>&1
ok "sysbench run" test $? = 0
server_sql src "FLUSH BINARY LOGS"
src_state=$(table_states src)
server_stop src
mapfile -t files < <(server_binlogs_from src "$first")
ok "the workload spans several binlog files (${#files[@]})" test "${#files[@]}" -ge 3

backup_datadir backup pipe
server_start pipe || bail_out "cannot start the pipe target"
pipe_apply pipe "${files[@]}"
pipe_state=$(table_states pipe)
is "$pipe_state" "$src_state" "the pipe reproduces the source"
server_stop pipe

# name|binlogfs options|target binlog: 1, 4 and 16 workers (a target
# without a binlog: consecutive transactions committed in batches); 4 with
# --batch=1 (no batches); 4 on a target that keeps a binlog (each source
# transaction its own, with its GTID): with the default commit window the
# target's binlog holds the source's GTIDs in the source's order, and with
# --commit-window=4 each GTID exactly once, none more than 3 places from
# its source position (COMMITs sent in order on different connections may
# reach the binlog in another order: doc/replay.md).
rounds=("t1|--workers=1|" "t4|--workers=4|" "t16|--workers=16|" "t4nobatch|--workers=4 --batch=1|"
    "t4binlog|--workers=4|on" "t4window|--workers=4 --commit-window=4|on")
gtids() { for f in "$@"; do "$BINLOGFS" inspect --transactions --json "$f"; done | jq -r '.gtid'; }
src_gtids=$(gtids "${files[@]}")
for r in "${rounds[@]}"; do
    IFS='|' read -r t opts binlog <<<"$r"
    backup_datadir backup "$t"
    sopts=()
    [ -n "$binlog" ] && sopts=(--log-bin="$TEST_TMP/$t/binlog/bin" --server-id=2)
    server_start "$t" "${sopts[@]}" || bail_out "cannot start target $t"
    label="$opts${binlog:+ (target binlog on)}"
    # shellcheck disable=SC2086 # options as words
    BINLOGFS_TRACE_SQL="$TEST_TMP/trace-$t.sql" \
        "$BINLOGFS" replay -q --socket="$(server_sock "$t")" --user=root $opts "${files[@]}" \
        2>"$TEST_TMP/replay-$t.err"
    rc=$?
    ok "replay $label exits 0" test $rc = 0 || diag "$(tail -n 20 "$TEST_TMP/replay-$t.err")"
    is "$(table_states "$t")" "$pipe_state" "$label: every table equals the pipe's result"
    # a binlogged target that flushes at every commit (the server's
    # default innodb_flush_log_at_trx_commit=1), fed in the source's
    # order: the replay says that its speed is one transaction per flush
    noted=no
    grep -q "expect about one transaction per log flush.*--commit-window=N" "$TEST_TMP/replay-$t.err" && noted=yes
    case "$binlog|$opts" in
    on\|*--commit-window=*) want=no ;;
    on\|*) want=yes ;;
    *) want=no ;;
    esac
    is "$noted" "$want" "$label: the note on a durable binlogged target in commit order: $want"
    server_stop "$t"
    [ -n "$binlog" ] || continue
    # the source's transactions in the target's binlog (server_id 1; the
    # progress table's own DDL is the target's, server_id 2)
    tgt_gtids=$(gtids "$TEST_TMP/$t/binlog/bin".[0-9]* | grep -- '^0-1-')
    # the row events are not annotated with the BINLOG statements that
    # carried them (the base64 a second time)
    is "$(mariadb-binlog --no-defaults "$TEST_TMP/$t/binlog/bin".[0-9]* | grep -c "^#Q> BINLOG")" 0 \
        "$label: the target's binlog does not annotate rows with BINLOG statements"
    # the trace (BINLOGFS_TRACE_SQL) holds everything each worker sent:
    # every transaction it started ends with its COMMIT or a ROLLBACK on
    # the same connection, also a COMMIT sent after the body (not its
    # turn yet, as the commit window allows), and there is one COMMIT per
    # source transaction
    is "$(awk '/^-- worker [0-9]+$/ { w = $3; next }
        /^-- / { w = ""; next }
        w == "" { next }
        /^START TRANSACTION;$/ { if (open[w]) bad++; open[w] = 1 }
        /^COMMIT;$/ { if (!open[w]) bad++; open[w] = 0; n++ }
        /^ROLLBACK;?$/ { open[w] = 0 }
        END { for (w in open) if (open[w]) bad++; print bad + 0, n + 0 }' "$TEST_TMP/trace-$t.sql")" \
        "0 $(wc -l <<<"$src_gtids")" "$label: the SQL trace holds each transaction whole, one COMMIT per source transaction"
    case $opts in
    *--commit-window=*)
        is "$(sort <<<"$tgt_gtids")" "$(sort <<<"$src_gtids")" \
            "$label: the target's binlog holds every source GTID exactly once"
        far=$(paste <(nl -ba <<<"$src_gtids") <(nl -ba <<<"$tgt_gtids") |
            awk '{ split($2, s, "-"); split($4, t, "-"); d = t[3] - s[3]; if (d < 0) d = -d; if (d > 3) n++ }
                 END { print n + 0 }')
        is "$far" 0 "$label: no GTID more than 3 places from its source position"
        ;;
    *)
        is "$tgt_gtids" "$src_gtids" "$label: the target's binlog holds the source's GTIDs in the source's order"
        ;;
    esac
done
done_testing
