#!/usr/bin/env bash
# 0187-replay-disable-log-bin — --disable-log-bin (-D) keeps the replay
# out of a target's binlog, as `mariadb-binlog -D | mariadb` does, and
# with it consecutive transactions may share one target transaction.
#
# Workload: a source (ROW, server id 1), two files: app.t created and
# filled (400 inserts, each its own transaction), then after FLUSH BINARY
# LOGS 400 updates, a DDL, an XA transaction, a MyISAM insert (a
# non-transactional group) and an INSERT logged as a statement.
# Every target keeps a binlog (server id 2; gtid_strict_mode but for the
# last case) and a general log. Cases:
#   - without -D (the contrast): the target's binlog holds the source's
#     GTIDs (@@gtid_binlog_state equal), one target COMMIT per source
#     transaction at least (no batches on a target that logs), and the
#     message about one commit per log flush;
#   - with -D and 4 workers: exit 0, app.t and app.m equal the source's,
#     the target's binlog has not grown by one byte (SHOW MASTER STATUS)
#     and its GTID state is empty, far fewer COMMITs than source
#     transactions (batches), no flush message;
#   - -D across reconnects: the first file, then the rest while a client
#     holds a row lock one of the updates needs; once a binlogfs session
#     waits for it, every binlogfs connection is killed (KILL CONNECTION),
#     and the lock is released. binlogfs connects again, each new session
#     turning sql_log_bin off first (general log), the binlog has not
#     grown, app.t equal;
#   - an account without BINLOG ADMIN or SUPER: -D fails at the start with
#     a message naming the option, the privilege, the account and the
#     server's refusal, and applies nothing; the same account replays
#     without -D (so it is the option that was refused).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/server.sh"
. "$here/../lib/oracle.sh"
. "$here/../lib/replay.sh"
trap tap_cleanup EXIT
server_require
BINLOGFS=${BINLOGFS:-$here/../../build/binlogfs}
[ -x "$BINLOGFS" ] || bail_out "the binary under test \$BINLOGFS=$BINLOGFS is not executable"

server_start src --log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW \
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 || bail_out "cannot start the source"
{
    echo "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT, u INT UNIQUE) ENGINE=InnoDB;"
    echo "CREATE TABLE app.m (id INT PRIMARY KEY, v INT) ENGINE=MyISAM;"
    for i in $(seq 1 400); do echo "INSERT INTO app.t VALUES ($i, 0, $i);"; done
    echo "FLUSH BINARY LOGS;"
    for i in $(seq 1 200); do echo "UPDATE app.t SET v = v + 1 WHERE id = $i;"; done
    echo "ALTER TABLE app.t ADD COLUMN w INT NOT NULL DEFAULT 7;"
    echo "XA START 'x1'; INSERT INTO app.t VALUES (1001, 1, 1001, 1); XA END 'x1'; XA PREPARE 'x1'; XA COMMIT 'x1';"
    echo "INSERT INTO app.m VALUES (1, 1);"
    echo "SET SESSION binlog_format=STATEMENT; INSERT INTO app.t VALUES (1002, 2, 1002, 2); SET SESSION binlog_format=ROW;"
    for i in $(seq 201 400); do echo "UPDATE app.t SET v = v + 1, w = w + $i WHERE id = $i;"; done
} >"$TEST_TMP/workload.sql"
server_sql_file src "$TEST_TMP/workload.sql" || bail_out "cannot write the workload"
mapfile -t files < <(server_binlogs src)
[ "${#files[@]}" -ge 2 ] || bail_out "expected two binlog files, got ${#files[@]}"
want_t=$(server_sql src "SELECT * FROM app.t ORDER BY id")
want_m=$(server_sql src "SELECT * FROM app.m ORDER BY id")
src_gtids=$(server_sql src "SELECT @@gtid_binlog_state")
ntrx=$("$BINLOGFS" inspect --transactions --json "${files[@]}" | jq -s 'length')
cmp_ok "$ntrx" -ge 800 "the workload has its transactions ($ntrx)"

# start_target NAME [OPTS...]
start_target() {
    local name=$1
    shift
    server_start "$name" --log-bin="$TEST_TMP/$name/binlog/tbin" --server-id=2 \
        --general-log=1 --general-log-file="$TEST_TMP/$name.general.log" "$@" || bail_out "cannot start $name"
}
# commits NAME: COMMIT statements in the target's general log (which logs
# a multi-statement packet as one entry, a statement per line here).
commits() { grep -cE '(^|	Query	)COMMIT$' "$TEST_TMP/$1.general.log"; }
# binlog_end NAME: the target's binlog file and position now.
binlog_end() { server_sql "$1" "SHOW MASTER STATUS" | cut -f1,2; }

# The contrast: a target that logs the replay.
start_target logged --gtid-strict-mode=1
"$BINLOGFS" replay -q --socket="$(server_sock logged)" -uroot --workers=4 "${files[@]}" \
    2>"$TEST_TMP/logged.err"
check $? "without -D: exits 0"
is "$(server_sql logged "SELECT * FROM app.t ORDER BY id")" "$want_t" "without -D: app.t equal"
is "$(server_sql logged "SELECT @@gtid_binlog_state")" "$src_gtids" "without -D: the target's binlog holds the source's GTIDs"
cmp_ok "$(commits logged)" -ge "$((ntrx - 10))" "without -D: about one target COMMIT per source transaction"
like "$(cat "$TEST_TMP/logged.err")" "flushes its logs at every commit.*--disable-log-bin keeps the replay out" \
    "without -D: the note on one commit per log flush, naming -D"
server_stop logged

# -D: nothing logged, batches.
start_target unlogged --gtid-strict-mode=1
before=$(binlog_end unlogged)
"$BINLOGFS" replay -q --socket="$(server_sock unlogged)" -uroot --workers=4 -D "${files[@]}" \
    2>"$TEST_TMP/unlogged.err"
check $? "-D: exits 0"
is "$(server_sql unlogged "SELECT * FROM app.t ORDER BY id")" "$want_t" "-D: app.t equal"
is "$(server_sql unlogged "SELECT * FROM app.m ORDER BY id")" "$want_m" "-D: app.m (MyISAM) equal"
is "$(binlog_end unlogged)" "$before" "-D: the target's binlog has not grown"
is "$(server_sql unlogged "SELECT @@gtid_binlog_state")" "" "-D: the target's GTID state is still empty"
cmp_ok "$(commits unlogged)" -lt "$((ntrx / 4))" "-D: consecutive transactions share target transactions ($(commits unlogged) COMMITs)"
unlike "$(cat "$TEST_TMP/unlogged.err")" "flushes its logs at every commit" "-D: no note on log flushes"
"$BINLOGFS" replay -q --socket="$(server_sock unlogged)" -uroot --workers=4 --disable-log-bin "${files[@]}" \
    2>"$TEST_TMP/unlogged2.err"
check $? "--disable-log-bin: a rerun exits 0"
is "$(binlog_end unlogged)" "$before" "--disable-log-bin: a rerun logs nothing either"
server_stop unlogged

# -D across reconnects.
start_target kill --gtid-strict-mode=1
before=$(binlog_end kill)
"$BINLOGFS" replay -q --socket="$(server_sock kill)" -uroot --workers=4 -D "${files[0]}" 2>"$TEST_TMP/kill1.err"
check $? "reconnect: the first file exits 0"
session_open kill blk
session_sql blk "SELECT CONNECTION_ID()" "BEGIN" "SELECT id FROM app.t WHERE id = 150 FOR UPDATE"
session_sync blk
blocker_id=$(head -n 1 "$TEST_TMP/.sessions/blk.out")
like "$(cat "$TEST_TMP/.sessions/blk.out")" "^150$" "reconnect: a client holds the lock of row 150"
"$BINLOGFS" replay -q --socket="$(server_sock kill)" -uroot --workers=4 -D "${files[@]}" 2>"$TEST_TMP/kill2.err" &
pid=$!
waiting=0
for _ in $(seq 1 800); do
    waiting=$(server_sql kill "SELECT COUNT(*) FROM information_schema.processlist
        WHERE user = 'root' AND info LIKE '%BINLOG%' AND time_ms > 300")
    [ "$waiting" -gt 0 ] && break
    sleep 0.01
done
cmp_ok "$waiting" -gt 0 "reconnect: a binlogfs session waits for the lock"
others="user = 'root' AND id NOT IN (CONNECTION_ID(), $blocker_id)"
killed=$(server_sql kill "SELECT COUNT(*) FROM information_schema.processlist WHERE $others")
server_sql kill "SELECT CONCAT('KILL CONNECTION ', id, ';') FROM information_schema.processlist
    WHERE $others" >"$TEST_TMP/kill.sql"
server_sql_file kill "$TEST_TMP/kill.sql"
cmp_ok "$killed" -ge 4 "reconnect: binlogfs's connections killed ($killed)"
session_sql blk "COMMIT"
session_close blk
wait "$pid"
check $? "reconnect: the replay exits 0"
cmp_ok "$(sed -n '/KILL CONNECTION/,$p' "$TEST_TMP/kill.general.log" | grep -c "SET @@session.sql_log_bin=0")" \
    -ge 1 "reconnect: binlogfs connected again, each session unlogged first"
is "$(server_sql kill "SELECT * FROM app.t ORDER BY id")" "$want_t" "reconnect: app.t equal"
is "$(binlog_end kill)" "$before" "reconnect: the sessions still do not log"
server_stop kill

# An account that may not turn sql_log_bin off (without strict mode: the
# account logs binlogfs's own statements then, with a warning).
start_target weak
server_sql weak "CREATE USER weak@localhost; GRANT ALL ON *.* TO weak@localhost;
    REVOKE SUPER, BINLOG ADMIN ON *.* FROM weak@localhost" || bail_out "cannot create the weak account"
"$BINLOGFS" replay -q --socket="$(server_sock weak)" -uweak --workers=4 -D "${files[@]}" 2>"$TEST_TMP/weak.err"
isnt "$?" 0 "no BINLOG ADMIN: -D fails"
err=$(cat "$TEST_TMP/weak.err")
like "$err" "--disable-log-bin" "no BINLOG ADMIN: the message names the option"
like "$err" "BINLOG ADMIN" "no BINLOG ADMIN: ... the privilege"
like "$err" "weak@" "no BINLOG ADMIN: ... the account"
like "$err" "ERROR 1227" "no BINLOG ADMIN: ... and the server's refusal"
is "$(server_sql weak "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'app'")" 0 \
    "no BINLOG ADMIN: nothing applied"
"$BINLOGFS" replay -q --socket="$(server_sock weak)" -uweak --workers=4 "${files[@]}" 2>"$TEST_TMP/weak2.err"
check $? "no BINLOG ADMIN: the same account replays without -D"
is "$(server_sql weak "SELECT * FROM app.t ORDER BY id")" "$want_t" "no BINLOG ADMIN: without -D, app.t equal"
server_stop weak

done_testing
