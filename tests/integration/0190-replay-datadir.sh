#!/usr/bin/env bash
# 0190-replay-datadir — `binlogfs replay --datadir=DIR`, the embedded
# default: binlogfs starts a private mariadbd on a restored data directory,
# replays, and shuts it down cleanly.
#
# A source with binlogs (ROW) gets a backup (stopped, datadir copied), then
# a workload: three concurrent sessions of inserts, updates and deletes on
# shared rows, a DDL, more rows. A copy of the backup is replayed with
# `binlogfs replay --datadir=COPY`, then: exit 0; no process runs on the
# copy any more and binlogfs's pid is gone, its run directory removed; the
# copy starts again normally (no crash recovery, redo log not resized);
# every table equals the source's. The [binlogfs-server] group of
# $MYSQL_HOME/my.cnf is read (a small buffer pool) and a protected option
# in it (socket) is ignored with a warning. Errors: a directory that is not
# a data directory, one that does not exist, a data directory in use by a
# running server (the message names its pid; that server is untouched),
# --datadir with --socket (usage, exit 2). A rerun applies nothing and
# exits 0; a replay that fails (a file that is not a binlog) exits 1 and
# still shuts the server down cleanly.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/server.sh"
. "$here/../lib/oracle.sh"
. "$here/../lib/replay.sh"
# binlogfs makes the server's run directory under $TMPDIR: ours.
mkdir -p "$TEST_TMP/.srvtmp"
export TMPDIR=$TEST_TMP/.srvtmp

# A mariadbd that binlogfs started and left behind (binlogfs killed): its
# pid file is still in the run directory.
kill_private_servers() {
    local p pid
    for p in "$TMPDIR"/binlogfs-server-*/mysqld.pid; do
        [ -f "$p" ] || continue
        pid=$(cat "$p")
        if tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -qxF -- "--pid-file=$p"; then
            kill -9 "$pid"
        fi
    done
}
trap 'kill_private_servers; tap_cleanup' EXIT
server_require
BINLOGFS=${BINLOGFS:-$here/../../build/binlogfs}
[ -x "$BINLOGFS" ] || bail_out "the binary under test \$BINLOGFS=$BINLOGFS is not executable"

# PIDs of the processes whose command line has --datadir=DIR.
datadir_pids() {
    local p
    for p in /proc/[0-9]*; do
        tr '\0' '\n' 2>/dev/null <"$p/cmdline" | grep -qxF -- "--datadir=$1" && echo "${p#/proc/}"
    done
}

# The server's own options: a small buffer pool (several servers on a
# test machine), and one binlogfs must not take.
mkdir -p "$TEST_TMP/cnf"
printf '[binlogfs-server]\ninnodb_buffer_pool_size=128M\nsocket=/nonexistent/elsewhere.sock\n' \
    >"$TEST_TMP/cnf/my.cnf"
export MYSQL_HOME=$TEST_TMP/cnf

src_opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0)
server_start src "${src_opts[@]}" || bail_out "cannot start the source"
{
    echo "CREATE DATABASE app; USE app;"
    echo "CREATE TABLE app.acct (id INT PRIMARY KEY, bal INT NOT NULL) ENGINE=InnoDB;"
    echo "CREATE TABLE app.item (id INT PRIMARY KEY, owner INT, name VARCHAR(40), UNIQUE KEY (name)) ENGINE=InnoDB;"
    echo "INSERT INTO app.acct SELECT seq, 1000 FROM seq_1_to_50;"
} | server_sql_file src || bail_out "cannot create the backup's tables"
replay_backup src backup || bail_out "cannot take the backup"

# ---- the workload ------------------------------------------------------------
for s in 1 2 3; do
    for ((i = 1; i <= 120; i++)); do
        id=$((s * 1000 + i))
        echo "BEGIN; UPDATE app.acct SET bal=bal-1 WHERE id=$(((i * s) % 50 + 1));"
        echo "UPDATE app.acct SET bal=bal+1 WHERE id=$(((i * 7 + s) % 50 + 1));"
        echo "INSERT INTO app.item VALUES ($id, $((i % 50 + 1)), 'item $id'); COMMIT;"
        [ $((i % 3)) != 0 ] || echo "DELETE FROM app.item WHERE id=$((id - 2));"
        [ $((i % 5)) != 0 ] || echo "UPDATE app.item SET name=CONCAT(name, ' renamed') WHERE id=$((id - 1));"
    done >"$TEST_TMP/session$s.sql"
done
ok "three concurrent sessions" run_sessions -f src "$TEST_TMP"/session{1,2,3}.sql
{
    echo "USE app; ALTER TABLE app.item ADD COLUMN note VARCHAR(20) DEFAULT 'after';"
    echo "CREATE TABLE app.log (id INT AUTO_INCREMENT PRIMARY KEY, msg TEXT) ENGINE=InnoDB;"
    echo "INSERT INTO app.log (msg) SELECT CONCAT('entry ', seq) FROM seq_1_to_200;"
    echo "FLUSH BINARY LOGS;"
    echo "UPDATE app.item SET note='late' WHERE id % 4 = 0;"
    echo "DELETE FROM app.log WHERE id % 3 = 0;"
    echo "FLUSH BINARY LOGS;"
} | server_sql_file src || bail_out "the workload failed"
src_state=$(db_table_states src)
server_stop src
mapfile -t files < <(replay_binlogs src)
ok "the workload spans several binlog files (${#files[@]})" test "${#files[@]}" -ge 2

# ---- errors before any server starts -------------------------------------------
mkdir -p "$TEST_TMP/notdata"
out=$("$BINLOGFS" replay --datadir="$TEST_TMP/notdata" "${files[@]}" 2>&1)
rc=$?
isnt "$rc" 0 "not a data directory: exits non-zero"
like "$out" "$TEST_TMP/notdata is not a MariaDB data directory \(no mysql/ in it\)" \
    "not a data directory: the message names it"
out=$("$BINLOGFS" replay --datadir="$TEST_TMP/missing" "${files[@]}" 2>&1)
rc=$?
isnt "$rc" 0 "a missing directory: exits non-zero"
like "$out" "$TEST_TMP/missing: No such file or directory" "a missing directory: the message names it"
out=$("$BINLOGFS" replay --datadir="$TEST_TMP/notdata" --socket=/tmp/x.sock "${files[@]}" 2>&1)
is "$?" 2 "--datadir with --socket is a usage error"

# ---- the replay ------------------------------------------------------------------
backup_datadir backup restore
datadir=$(server_datadir restore)
out=$("$BINLOGFS" replay --workers=4 --datadir="$datadir" "${files[@]}" 2>&1)
rc=$?
is "$rc" 0 "replay --datadir exits 0" || diag "$out"
like "$out" "mariadbd shut down cleanly; $datadir is ready to start" "it says the server shut down cleanly"
like "$out" "socket=/nonexistent/elsewhere.sock ignored" "a protected [binlogfs-server] option is ignored, with a warning"
pid=$(printf '%s\n' "$out" | sed -n 's/.*mariadbd (pid \([0-9]*\)) is up.*/\1/p')
ok "the server's pid is gone ($pid)" test -n "$pid" -a ! -d "/proc/${pid:-0}"
is "$(datadir_pids "$datadir")" "" "no process runs on the data directory any more"
is "$(ls -d "$TMPDIR"/binlogfs-server-* 2>/dev/null)" "" "the run directory is removed"

server_start restore || bail_out "the data directory does not start again"
log=$(cat "$(server_dir restore)/error.log")
unlike "$log" "crash recovery|Resizing redo log" "it starts normally: no crash recovery, redo log as it was"
is "$(db_table_states restore)" "$src_state" "every table equals the source's"
cmp_ok "$(server_sql restore "SELECT COUNT(*) FROM binlogfs.progress")" -ge 1 "the progress rows are there"

# ---- a data directory in use ------------------------------------------------------------
out=$("$BINLOGFS" replay --datadir="$datadir" "${files[@]}" 2>&1)
rc=$?
isnt "$rc" 0 "in use by a running server: exits non-zero"
like "$out" "$datadir is in use by a running server \(mariadbd, pid $(server_pid restore)," \
    "in use: the message names the server's pid"
ok "in use: that server still answers" server_sql restore "SELECT 1"
server_stop restore

# ---- a rerun, and a failing replay -----------------------------------------------------
out=$("$BINLOGFS" replay --datadir="$datadir" "${files[@]}" 2>&1)
rc=$?
is "$rc" 0 "a rerun exits 0" || diag "$out"
like "$out" "idle: 0 transactions applied" "a rerun applies nothing (resumes after the last one)"
printf 'not a binlog\n' >"$TEST_TMP/bogus.000099"
out=$("$BINLOGFS" replay --datadir="$datadir" "$TEST_TMP/bogus.000099" 2>&1)
rc=$?
is "$rc" 1 "a replay that fails (not a binlog) exits 1" || diag "$out"
like "$out" "bogus.000099" "it names the file"
like "$out" "mariadbd shut down cleanly" "and still shuts the server down cleanly"
is "$(datadir_pids "$datadir")" "" "no process runs on the data directory after the failure"
server_start restore || bail_out "the data directory does not start after the failure"
is "$(db_table_states restore)" "$src_state" "and the tables are still the source's"
done_testing
