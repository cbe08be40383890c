#!/usr/bin/env bash
# 0185-replay-progress-table — how the progress row travels, and that it
# is the same row whichever way it goes.
#
# On a MariaDB target, binlogfs updates its progress row (binlogfs.progress)
# with Table_map + Update_rows events joined to the transaction's BINLOG
# statement, and with an SQL UPDATE where it cannot (doc/replay.md). The
# target's general log shows which way was taken.
#
# Workload: a source (ROW, and one INSERT logged as a statement), app.t
# with inserts and updates, an XA transaction (XA PREPARE and XA COMMIT
# are two transactions of the binlog), a MyISAM table app.m (an insert of
# its own, logged as a non-transactional group ending in a Query COMMIT;
# one in a transaction after an InnoDB insert), FLUSH BINARY LOGS in the
# middle: two files.
# Cases, each on a fresh target, replayed with 1 worker (one progress
# row, so the rows compare):
#   - the default: no SQL UPDATE of the progress table in the general log;
#     app.t equals the source's; the progress row names the end of the
#     last transaction (inspect --transactions) and its GTID; `updated` is
#     the server's NOW(6) of the replay, on a server whose time zone
#     (+05:30) is not binlogfs's;
#   - BINLOGFS_PROGRESS_SQL=1 with --batch=1 (this target has no binlog,
#     so by default consecutive transactions share one target transaction
#     and one update): one SQL UPDATE per transaction; the
#     progress row (every column but `updated`) equals the default's;
#   - a progress table that is not binlogfs's layout (a DBA's column added
#     at its end): the SQL UPDATE is used; app.t equal, same row;
#   - a progress table made while mysql56_temporal_format=OFF (its
#     DATETIME of MariaDB's older format, which information_schema does not
#     tell apart), replayed after the setting went ON and with it OFF: the
#     server takes the events' DATETIME2 value; no SQL UPDATE; app.t equal,
#     same row, `updated` a time of today with its microseconds;
#   - a rerun of the same files applies nothing (the row events committed
#     the progress) and the row is unchanged;
#   - a target that keeps a binlog with gtid_strict_mode=ON (server id 2):
#     binlogfs's own statements outside the source's transactions (the
#     progress table's setup; the update after each DDL and after XA
#     PREPARE, which commits by itself; the update of the MyISAM insert's
#     group, which would commit as a group of its own) stay out of its
#     binlog, which would
#     otherwise hold GTIDs of the target's own ahead of the source's (ERROR
#     1950 at the first transaction) or the source's next GTID twice
#     (ERROR 1950 at the next one): exit 0, app.t equal,
#     @@gtid_binlog_state equal to the source's (no GTID of server 2); a
#     rerun exits 0 and leaves it so;
#   - the binlog of a server binlogfs replayed into (binlog on, MIXED, 4
#     workers; once with row events, once with BINLOGFS_PROGRESS_SQL, whose
#     UPDATE after the statement-based INSERT it logs as a statement)
#     holds that replay's progress table:
#     its setup (a row per worker, logged as rows) and each transaction's
#     update. Replayed in turn by binlogfs (1 worker) onto a fresh server:
#     exit 0, app.t equal, none of the first replay's SQL updates ran
#     (general log), and the progress rows name only the files replayed
#     (none of the first replay's), so a rerun applies nothing.
#     (Applied, the updates overwrote this replay's rows with the other
#     one's positions, and the rerun "resumed" after the other replay's
#     last transaction, refusing every file.)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/server.sh"
trap tap_cleanup EXIT
server_require
command -v jq >/dev/null || skip_all "jq is not installed"
BINLOGFS=${BINLOGFS:-$here/../../build/binlogfs}
[ -x "$BINLOGFS" ] || bail_out "the binary under test \$BINLOGFS=$BINLOGFS is not executable"

server_start src --log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW \
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 || bail_out "cannot start the source"
server_sql src "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20), d DATETIME(6));
    INSERT INTO app.t VALUES (1, 'one', NOW(6)), (2, 'two', NULL);
    UPDATE app.t SET v = 'uno' WHERE id = 1;
    FLUSH BINARY LOGS;
    INSERT INTO app.t VALUES (3, 'three', '2001-02-03 04:05:06.789');
    BEGIN; UPDATE app.t SET v = CONCAT(v, '!'); DELETE FROM app.t WHERE id = 2; COMMIT;
    XA START 'x1'; INSERT INTO app.t VALUES (5, 'five', NULL); XA END 'x1'; XA PREPARE 'x1'; XA COMMIT 'x1';
    CREATE TABLE app.m (id INT PRIMARY KEY, v INT) ENGINE=MyISAM; INSERT INTO app.m VALUES (1, 1);
    BEGIN; INSERT INTO app.t VALUES (6, 'six', NULL); INSERT INTO app.m VALUES (2, 2); COMMIT;
    SET SESSION binlog_format=STATEMENT; INSERT INTO app.t VALUES (4, 'four', NULL);" ||
    bail_out "cannot write the workload"
mapfile -t files < <(server_binlogs src)
[ "${#files[@]}" -ge 2 ] || bail_out "expected two binlog files, got ${#files[@]}"
want_t=$(server_sql src "SELECT * FROM app.t ORDER BY id")
want_m=$(server_sql src "SELECT * FROM app.m ORDER BY id")
ntrx=$("$BINLOGFS" inspect --transactions --json "${files[@]}" | jq -s 'length')
last=$("$BINLOGFS" inspect --transactions --json "${files[@]}" | jq -rs 'last | "\(.file | split("/") | last):\(.end) \(.gtid)"')
cmp_ok "$ntrx" -ge 5 "the workload has transactions ($ntrx)"

# progress_row NAME: the progress row of worker 0, every column but
# `updated`.
progress_row() {
    server_sql "$1" "SELECT worker, file, pos, gtid, wm_file, wm_pos FROM binlogfs.progress WHERE file <> ''"
}
# sql_updates NAME: SQL UPDATEs of the progress table in the general log.
sql_updates() {
    grep -c 'UPDATE `binlogfs`.`progress`' "$TEST_TMP/$1.general.log"
}
# fresh NAME: 1 if worker 0's `updated` is within 10 minutes before the
# server's NOW(6) and has a fraction of a second.
fresh() {
    server_sql "$1" "SELECT TIMESTAMPDIFF(SECOND, updated, NOW(6)) BETWEEN 0 AND 600
        AND updated LIKE '%.______' AND MICROSECOND(updated) > 0 FROM binlogfs.progress WHERE file <> ''"
}
start_target() {
    local name=$1
    shift
    server_start "$name" --general-log=1 --general-log-file="$TEST_TMP/$name.general.log" "$@" ||
        bail_out "cannot start $name"
}
replay() {
    local name=$1
    shift
    "$BINLOGFS" replay --socket="$(server_sock "$name")" -uroot --workers=1 "$@" 2>"$TEST_TMP/$name.err"
}

# The default: row events; the server in a zone of its own (+05:30),
# which `updated` follows as NOW(6) would, whatever binlogfs's zone.
start_target events --default-time-zone=+05:30
ok "the default replay exits 0" replay events "${files[@]}"
is "$(sql_updates events)" 0 "the default: no SQL UPDATE of the progress table"
is "$(server_sql events "SELECT * FROM app.t ORDER BY id")" "$want_t" "the default: app.t equals the source's"
row=$(progress_row events)
is "$(echo "$row" | awk '{print $2 ":" $3 " " $4}')" "$last" "the default: the progress row names the last transaction"
is "$(fresh events)" 1 "the default: updated is the time of the replay, with microseconds"
ok "a rerun exits 0" replay events "${files[@]}"
like "$(cat "$TEST_TMP/events.err")" "0 transactions applied" "a rerun applies nothing"
is "$(progress_row events)" "$row" "a rerun leaves the progress row"

# BINLOGFS_PROGRESS_SQL: the SQL update, the same row.
start_target sqlpath
ok "BINLOGFS_PROGRESS_SQL=1 (--batch=1): exits 0" env BINLOGFS_PROGRESS_SQL=1 \
    "$BINLOGFS" replay --socket="$(server_sock sqlpath)" -uroot --workers=1 --batch=1 "${files[@]}"
is "$(sql_updates sqlpath)" "$ntrx" "BINLOGFS_PROGRESS_SQL=1 (--batch=1): one SQL UPDATE per transaction"
is "$(progress_row sqlpath)" "$row" "BINLOGFS_PROGRESS_SQL=1: the same progress row as the events"
is "$(server_sql sqlpath "SELECT * FROM app.t ORDER BY id")" "$want_t" "BINLOGFS_PROGRESS_SQL=1: app.t equal"

# A progress table of another layout: the SQL update.
start_target other
server_sql other "CREATE DATABASE binlogfs; CREATE TABLE binlogfs.progress (
    worker SMALLINT UNSIGNED NOT NULL PRIMARY KEY, file VARCHAR(512) NOT NULL DEFAULT '',
    pos BIGINT UNSIGNED NOT NULL DEFAULT 0, gtid VARCHAR(256) NOT NULL DEFAULT '',
    updated DATETIME(6) NULL, wm_file VARCHAR(512) NOT NULL DEFAULT '',
    wm_pos BIGINT UNSIGNED NOT NULL DEFAULT 0, dba_note VARCHAR(10) NULL) ENGINE=InnoDB" ||
    bail_out "cannot create the other progress table"
ok "another layout: exits 0" replay other "${files[@]}"
cmp_ok "$(sql_updates other)" -ge 1 "another layout: the SQL UPDATE is used"
is "$(progress_row other)" "$row" "another layout: the same progress row"
is "$(server_sql other "SELECT * FROM app.t ORDER BY id")" "$want_t" "another layout: app.t equal"

# A progress table of the older DATETIME format: made by a first run
# while mysql56_temporal_format=OFF, then the rest with the setting ON,
# and once more from scratch with it OFF all along.
for after in ON OFF; do
    name=old$after
    start_target "$name"
    server_sql "$name" "SET GLOBAL mysql56_temporal_format=OFF"
    ok "old DATETIME ($after after): the first file exits 0" replay "$name" "${files[0]}"
    like "$(server_sql "$name" "SHOW CREATE TABLE binlogfs.progress" | tr '\t' ' ')" \
        "\`updated\` datetime\(6\) /\* mariadb-5.3 \*/" "old DATETIME ($after after): the table has the older format"
    server_sql "$name" "SET GLOBAL mysql56_temporal_format=$after"
    before=$(sql_updates "$name")
    ok "old DATETIME ($after after): the rest exits 0" replay "$name" "${files[@]}"
    is "$(($(sql_updates "$name") - before))" 0 "old DATETIME ($after after): no SQL UPDATE, the events were taken"
    is "$(progress_row "$name")" "$row" "old DATETIME ($after after): the same progress row"
    is "$(fresh "$name")" 1 "old DATETIME ($after after): updated is the time of the replay, with microseconds"
    is "$(server_sql "$name" "SELECT * FROM app.t ORDER BY id")" "$want_t" "old DATETIME ($after after): app.t equal"
    server_stop "$name"
done

# A binlogged target in GTID strict mode.
src_gtids=$(server_sql src "SELECT @@gtid_binlog_state")
server_start strict --log-bin="$TEST_TMP/strict/binlog/sbin" --server-id=2 --gtid-strict-mode=1 ||
    bail_out "cannot start strict"
ok "gtid_strict_mode: the replay exits 0" replay strict "${files[@]}"
is "$(server_sql strict "SELECT * FROM app.t ORDER BY id")" "$want_t" "gtid_strict_mode: app.t equal"
is "$(server_sql strict "SELECT * FROM app.m ORDER BY id")" "$want_m" "gtid_strict_mode: app.m (MyISAM) equal"
is "$(server_sql strict "SELECT @@gtid_binlog_state")" "$src_gtids" \
    "gtid_strict_mode: the target's binlog holds the source's GTIDs only"
ok "gtid_strict_mode: a rerun exits 0" replay strict "${files[@]}"
is "$(server_sql strict "SELECT @@gtid_binlog_state")" "$src_gtids" "gtid_strict_mode: ... and logs nothing"
server_stop strict

# A chain: the binlog of a server binlogfs replayed into, replayed again.
for how in events sql; do
    a=chain_a_$how b=chain_b_$how
    server_start "$a" --log-bin="$TEST_TMP/$a/binlog/abin" --server-id=3 --binlog-format=MIXED ||
        bail_out "cannot start $a"
    if [ "$how" = sql ]; then
        env BINLOGFS_PROGRESS_SQL=1 "$BINLOGFS" replay -q --socket="$(server_sock "$a")" -uroot --workers=4 \
            "${files[@]}" 2>"$TEST_TMP/$a.err"
    else
        "$BINLOGFS" replay -q --socket="$(server_sock "$a")" -uroot --workers=4 "${files[@]}" 2>"$TEST_TMP/$a.err"
    fi
    is "$?" 0 "chain ($how): the first replay exits 0"
    server_sql "$a" "FLUSH BINARY LOGS"
    mapfile -t afiles < <(server_binlogs "$a")
    if [ "$how" = sql ]; then
        cmp_ok "$(cat "${afiles[@]}" | grep -ac 'UPDATE `binlogfs`.`progress` SET file=')" -ge 1 \
            "chain ($how): the first target's binlog logged the progress updates as statements"
    fi
    start_target "$b"
    ok "chain ($how): the first target's binlogs replay onto a fresh server" \
        "$BINLOGFS" replay -q --socket="$(server_sock "$b")" -uroot --workers=1 "${afiles[@]}"
    is "$(server_sql "$b" "SELECT * FROM app.t ORDER BY id")" "$want_t" "chain ($how): app.t equal"
    is "$(server_sql "$b" "SELECT COUNT(*) FROM binlogfs.progress WHERE file <> '' AND file NOT LIKE 'abin.%'")" 0 \
        "chain ($how): the progress rows name only the files replayed"
    is "$(grep -c "UPDATE \`binlogfs\`.\`progress\` SET file='bin" "$TEST_TMP/$b.general.log")" 0 \
        "chain ($how): none of the first replay's SQL updates ran"
    "$BINLOGFS" replay --socket="$(server_sock "$b")" -uroot --workers=1 "${afiles[@]}" 2>"$TEST_TMP/$b.err"
    like "$(cat "$TEST_TMP/$b.err")" " 0 transactions applied" "chain ($how): a rerun applies nothing"
    server_stop "$a"
    server_stop "$b"
done
done_testing
