#!/usr/bin/env bash
# 0180-replay-errors — how `binlogfs replay` reports failures, and what it
# leaves behind.
#
# Workload (own SQL, database app, FLUSH BINARY LOGS between blocks: six
# files with transactions and an empty last one):
#   file 3: a row-based INSERT INTO gone in the middle;
#   file 4: a statement-based INSERT INTO dup (id 7) in the middle, then
#     a statement-based transaction of three statements whose third
#     inserts multi row 2, then (binlog_format=MIXED) a transaction of a
#     row-based INSERT INTO multi (id 3, UUID()) and a statement-based
#     INSERT INTO multi (id 4) after it;
#   the other transactions insert and update rows of app.t.
# Cases:
#   - the target lacks table app.gone (dropped before the replay): exit
#     status 1; stderr names FILE:POS and GTID of the INSERT INTO gone
#     transaction, error 1146 and its message, and the statement (the
#     Annotate_rows text); every transaction before it is applied and
#     nothing after it (equal to mariadb-binlog cut at that position);
#     after CREATE TABLE gone, the same command resumes there and ends
#     equal to the full pipe;
#   - the target already has dup row 7: exit status 1, FILE:POS, GTID,
#     1062, "Duplicate entry", the statement; the prefix is applied; after
#     deleting the row the same command ends equal to the full pipe;
#   - the target already has multi row 2: exit status 1, and the message
#     quotes the third statement of the transaction (the one the server
#     refused), not its first; after deleting the row the same command
#     ends equal to the full pipe;
#   - the target already has multi row 4: the statement after the
#     transaction's rows, sent in the same batch as its BINLOG statement
#     (whose reply lacks the more-results flag), fails: exit status 1,
#     1062, and the message quotes that statement, not the rows; after
#     deleting the row the same command ends equal to the full pipe;
#   - a gap (files 1, 2, 4: file 2 rotates to 3): non-zero exit status, the
#     message names file 3, nothing of file 4 is applied; the same command
#     with file 3 added ends equal to the pipe of files 1-4;
#   - files 1-5 applied, then file 3 given: refused (non-zero) with a
#     message naming file 3 and the position, and nothing changes;
#   - a file that does not exist: non-zero, the message names it;
#   - connection failures (a socket that does not exist; a user that does
#     not exist): exit status 1, the message names the socket and the user.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/server.sh"
. "$here/../lib/oracle.sh"
trap tap_cleanup EXIT
server_require
command -v mariadb-binlog >/dev/null || skip_all "mariadb-binlog is not installed"
BINLOGFS=${BINLOGFS:-$here/../../build/binlogfs}
[ -x "$BINLOGFS" ] || bail_out "the binary under test \$BINLOGFS=$BINLOGFS is not executable"

src_opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0)
server_start src "${src_opts[@]}" || bail_out "cannot start the source"
{
    echo "CREATE DATABASE app;"
    echo "CREATE TABLE app.t (id INT PRIMARY KEY, v BIGINT NOT NULL) ENGINE=InnoDB;"
    echo "CREATE TABLE app.gone (id INT PRIMARY KEY, v VARCHAR(32)) ENGINE=InnoDB;"
    echo "CREATE TABLE app.dup (id INT PRIMARY KEY, v VARCHAR(32)) ENGINE=InnoDB;"
    echo "INSERT INTO app.dup VALUES (1, 'backup');"
    echo "CREATE TABLE app.multi (id INT PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB;"
} | server_sql_file src || bail_out "cannot create the backup's tables"
server_backup_restart src backup "${src_opts[@]}" || bail_out "cannot restart the source"
first=$(basename "$(server_binlogs src | tail -n 1)")

# block FROM TO: transactions on app.t
block() {
    local i
    for ((i = $1; i < $2; i++)); do
        case $((i % 3)) in
        0) echo "INSERT INTO t VALUES ($i, $i);" ;;
        1) echo "UPDATE t SET v=v+100 WHERE id=$((i - 1));" ;;
        2) echo "BEGIN; INSERT INTO t VALUES ($i, 0); UPDATE t SET v=v*2 WHERE id=$((i - 2)); COMMIT;" ;;
        esac
    done
}
{
    echo "USE app;"
    block 0 30
    echo "FLUSH BINARY LOGS;"
    block 30 60
    echo "FLUSH BINARY LOGS;"
    block 60 75
    echo "INSERT INTO gone VALUES (1, 'first gone row');"
    block 75 90
    echo "INSERT INTO gone VALUES (2, 'second');"
    echo "FLUSH BINARY LOGS;"
    block 90 105
    echo "SET SESSION binlog_format=STATEMENT;"
    echo "INSERT INTO dup VALUES (7, 'seven by statement');"
    echo "BEGIN; INSERT INTO multi VALUES (1, 'first of the transaction');"
    echo "UPDATE t SET v = v + 1 WHERE id = 90;"
    echo "INSERT INTO multi VALUES (2, 'third, the one that fails'); COMMIT;"
    echo "SET SESSION binlog_format=MIXED;"
    echo "BEGIN; INSERT INTO multi VALUES (3, UUID());"
    echo "INSERT INTO multi VALUES (4, 'a statement after rows'); COMMIT;"
    echo "SET SESSION binlog_format=ROW;"
    block 105 120
    echo "FLUSH BINARY LOGS;"
    block 120 150
    echo "FLUSH BINARY LOGS;"
    block 150 180
    echo "FLUSH BINARY LOGS;"
} | server_sql_file src || bail_out "the workload failed"
server_stop src
mapfile -t files < <(server_binlogs_from src "$first")
ok "the workload spans 7 binlog files" test "${#files[@]}" -eq 7 || bail_out "unexpected binlog layout"
names=()
for f in "${files[@]}"; do names+=("$(basename "$f")"); done

# trx_with TEXT: "FILE POS GTID" of the first transaction with a statement
# (a Query, or the Annotate_rows of rows events) containing TEXT, read
# from mariadb-binlog's output: the "# at" line before the GTID event.
trx_with() {
    local f
    for f in "${files[@]}"; do
        mariadb-binlog --no-defaults "$f" | awk -v t="$1" -v f="$f" '
            /^# at [0-9]+$/ { at = $3 }
            /end_log_pos [0-9]+ .*GTID [0-9]+-[0-9]+-[0-9]+/ {
                match($0, /GTID [0-9]+-[0-9]+-[0-9]+/)
                g = substr($0, RSTART + 5, RLENGTH - 5); gat = at
            }
            index($0, t) && g != "" { print f, gat, g; exit }'
    done | head -n 1
}

fresh() {
    server_kill "$1" # its data is thrown away
    backup_datadir backup "$1"
    server_start "$1" || bail_out "cannot start $1"
}
pipe() {
    local name=$1
    shift
    pipe_apply "$name" "$@" >"$TEST_TMP/$name.pipe.out" 2>&1 ||
        diag "the pipe into $name failed: $(tail -n 5 "$TEST_TMP/$name.pipe.out")"
}
# replay NAME OPTION...: sets RC and ERR (stderr)
replay() {
    local name=$1
    shift
    timeout 120 "$BINLOGFS" replay -q --socket="$(server_sock "$name")" --user=root --workers=4 "$@" \
        2>"$TEST_TMP/$name.err"
    RC=$?
    ERR=$(cat "$TEST_TMP/$name.err")
}
# has TEXT NAME: ERR contains TEXT (fixed string)
has() {
    if grep -qF -- "$1" <<<"$ERR"; then
        pass "$2"
    else
        fail "$2" "stderr: $ERR"
    fi
}
# has_gtid GTID NAME: ERR names GTID (not as the prefix of a longer one)
has_gtid() {
    if grep -qE -- "(^|[^0-9-])$1([^0-9-]|\$)" <<<"$ERR"; then
        pass "$2"
    else
        fail "$2" "stderr: $ERR"
    fi
}

fresh ref
pipe ref "${files[@]}"
full_state=$(table_states ref)

# ---- a table the target lacks (row-based) --------------------------------------------------
read -r gfile gpos ggtid < <(trx_with "INSERT INTO gone VALUES (1,")
[ -n "$ggtid" ] || bail_out "the INSERT INTO gone transaction is not found"
gname=$(basename "$gfile")
cut=()
for f in "${files[@]}"; do
    cut+=("$f")
    [ "$f" != "$gfile" ] || break
done
fresh ref
server_sql ref "DROP TABLE app.gone"
pipe ref "${cut[@]}" --stop-position="$gpos"
want=$(table_states ref)
fresh tgt
server_sql tgt "DROP TABLE app.gone"
replay tgt "${files[@]}"
is "$RC" 1 "missing table: exit status 1"
has "$gname:$gpos" "missing table: stderr names $gname:$gpos"
has_gtid "$ggtid" "missing table: stderr names GTID $ggtid"
has 1146 "missing table: stderr names the server error code 1146"
has "Table 'app.gone' doesn't exist" "missing table: stderr has the server's message"
has "INSERT INTO gone VALUES (1, 'first gone row')" "missing table: stderr quotes the statement"
is "$(table_states tgt)" "$want" "missing table: every transaction before $gname:$gpos is applied, none after"
server_sql tgt "CREATE TABLE app.gone (id INT PRIMARY KEY, v VARCHAR(32)) ENGINE=InnoDB"
replay tgt "${files[@]}"
is "$RC" 0 "missing table re-created: the same command exits 0" || diag "$ERR"
is "$(table_states tgt)" "$full_state" "missing table re-created: the rerun ends equal to the full pipe"

# ---- a duplicate key (statement-based) ------------------------------------------------------
read -r dfile dpos dgtid < <(trx_with "INSERT INTO dup VALUES (7,")
[ -n "$dgtid" ] || bail_out "the INSERT INTO dup transaction is not found"
dname=$(basename "$dfile")
cut=()
for f in "${files[@]}"; do
    cut+=("$f")
    [ "$f" != "$dfile" ] || break
done
fresh ref
server_sql ref "INSERT INTO app.dup VALUES (7, 'on the target')"
pipe ref "${cut[@]}" --stop-position="$dpos"
want=$(table_states ref)
fresh tgt
server_sql tgt "INSERT INTO app.dup VALUES (7, 'on the target')"
replay tgt "${files[@]}"
is "$RC" 1 "duplicate key: exit status 1"
has "$dname:$dpos" "duplicate key: stderr names $dname:$dpos"
has_gtid "$dgtid" "duplicate key: stderr names GTID $dgtid"
has 1062 "duplicate key: stderr names the server error code 1062"
has "Duplicate entry '7' for key 'PRIMARY'" "duplicate key: stderr has the server's message"
has "INSERT INTO dup VALUES (7, 'seven by statement')" "duplicate key: stderr quotes the statement"
is "$(table_states tgt)" "$want" "duplicate key: every transaction before $dname:$dpos is applied, none after"
server_sql tgt "DELETE FROM app.dup WHERE id = 7"
replay tgt "${files[@]}"
is "$RC" 0 "duplicate row deleted: the same command exits 0" || diag "$ERR"
is "$(table_states tgt)" "$full_state" "duplicate row deleted: the rerun ends equal to the full pipe"

# ---- the third statement of a transaction fails ------------------------------------------------------
fresh tgt
server_sql tgt "INSERT INTO app.multi VALUES (2, 'on the target')"
replay tgt "${files[@]}"
is "$RC" 1 "third statement fails: exit status 1"
has 1062 "third statement fails: stderr names the server error code 1062"
has "INSERT INTO multi VALUES (2, 'third, the one that fails')" \
    "third statement fails: stderr quotes the statement the server refused"
if grep -qF "first of the transaction" <<<"$ERR"; then
    fail "third statement fails: stderr does not quote the transaction's first statement" "stderr: $ERR"
else
    pass "third statement fails: stderr does not quote the transaction's first statement"
fi
server_sql tgt "DELETE FROM app.multi WHERE id = 2"
replay tgt "${files[@]}"
is "$RC" 0 "multi row 2 deleted: the same command exits 0" || diag "$ERR"
is "$(table_states tgt)" "$full_state" "multi row 2 deleted: the rerun ends equal to the full pipe"

# ---- a statement after rows in the same batch fails -------------------------------------------------
read -r mfile mpos mgtid < <(trx_with "INSERT INTO multi VALUES (4,")
[ -n "$mgtid" ] || bail_out "the mixed transaction is not found"
fresh tgt
server_sql tgt "INSERT INTO app.multi VALUES (4, 'on the target')"
replay tgt "${files[@]}"
is "$RC" 1 "statement after rows fails: exit status 1"
has "$(basename "$mfile"):$mpos" "statement after rows fails: stderr names $(basename "$mfile"):$mpos"
has 1062 "statement after rows fails: stderr names the server error code 1062"
has "INSERT INTO multi VALUES (4, 'a statement after rows')" \
    "statement after rows fails: stderr quotes the statement the server refused"
if grep -qF "UUID()" <<<"$ERR"; then
    fail "statement after rows fails: stderr does not quote the rows' statement" "stderr: $ERR"
else
    pass "statement after rows fails: stderr does not quote the rows' statement"
fi
is "$(server_sql tgt "SELECT COUNT(*) FROM app.multi WHERE id = 3")" 0 \
    "statement after rows fails: the transaction's rows are rolled back"
server_sql tgt "DELETE FROM app.multi WHERE id = 4"
replay tgt "${files[@]}"
is "$RC" 0 "multi row 4 deleted: the same command exits 0" || diag "$ERR"
is "$(table_states tgt)" "$full_state" "multi row 4 deleted: the rerun ends equal to the full pipe"

# ---- a gap in the file list ----------------------------------------------------------------------
fresh ref
pipe ref "${files[0]}" "${files[1]}"
want12=$(table_states ref)
pipe ref "${files[2]}" "${files[3]}"
want1234=$(table_states ref)
fresh tgt
replay tgt "${files[0]}" "${files[1]}" "${files[3]}"
isnt "$RC" 0 "gap (${names[0]} ${names[1]} ${names[3]}): non-zero exit status"
has "${names[2]}" "gap: the message names the missing ${names[2]}"
is "$(table_states tgt)" "$want12" "gap: ${names[0]} and ${names[1]} are applied, nothing of ${names[3]}"
replay tgt "${files[0]}" "${files[1]}" "${files[2]}" "${files[3]}"
is "$RC" 0 "gap filled: the same command with ${names[2]} added exits 0" || diag "$ERR"
is "$(table_states tgt)" "$want1234" "gap filled: equal to the pipe of ${names[0]}..${names[3]}"

# ---- a file before the position already applied ------------------------------------------------
fresh ref
pipe ref "${files[@]:0:5}"
want=$(table_states ref)
fresh tgt
replay tgt "${files[@]:0:5}"
is "$RC" 0 "${names[0]}..${names[4]} applied" || diag "$ERR"
replay tgt "${files[2]}"
isnt "$RC" 0 "then ${names[2]} alone: refused (non-zero exit status)"
has "${names[2]}" "the refusal names ${names[2]}"
like "$ERR" "(before|already applied)" "the refusal says it sorts before what was applied"
has "${names[4]}" "the refusal names the position (${names[4]})"
is "$(table_states tgt)" "$want" "the refused file changed nothing"

# ---- a file that does not exist ----------------------------------------------------------------
replay tgt "${files[4]}" "$TEST_TMP/no-such-dir/bin.999999"
isnt "$RC" 0 "a file that does not exist: non-zero exit status"
has "$TEST_TMP/no-such-dir/bin.999999" "a file that does not exist: the message names it"

# ---- connection failures ---------------------------------------------------------------------------
sock=$TEST_TMP/no-such-dir/mysqld.sock
ERR=$(timeout 60 "$BINLOGFS" replay -q --socket="$sock" --user=blfs_nobody "${files[0]}" 2>&1 >/dev/null)
RC=$?
is "$RC" 1 "no server at the socket: exit status 1"
has "$sock" "no server at the socket: the message names the socket"
has blfs_nobody "no server at the socket: the message names the user"
ERR=$(timeout 60 "$BINLOGFS" replay -q --socket="$(server_sock tgt)" --user=blfs_nobody "${files[0]}" 2>&1 >/dev/null)
RC=$?
is "$RC" 1 "unknown user: exit status 1"
has "$(server_sock tgt)" "unknown user: the message names the socket"
has blfs_nobody "unknown user: the message names the user"
done_testing
