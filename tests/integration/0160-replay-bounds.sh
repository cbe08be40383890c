#!/usr/bin/env bash
# 0160-replay-bounds — `binlogfs replay` with --start-at, --stop-at,
# --exclude-gtids, --database and --rewrite-db ends with the same tables as
# `mariadb-binlog` with the matching option piped into `mariadb`, on the
# same backup.
#
# Workload (ROW format, own SQL, FLUSH BINARY LOGS between blocks, so five
# binlog files with transactions plus an empty last one): transfers between
# accounts of database app that also write a row of database other (one
# transaction, two databases), inserts and deletes in app, updates in
# other, a CREATE TABLE in each database, and two independent single-row
# inserts into app.marks (the --exclude-gtids targets). Phase 1 (files 1-3)
# and phase 2 (files 3-5) are two seconds apart, so a datetime between them
# stops between two transactions of file 3. Cut points are transfers: one
# transaction too early or too late changes the tables (see mid()).
#
# stop-at, for each SPEC kind:
#   FILE:POS (a transaction of file 2)   = mariadb-binlog f1 f2 --stop-position=POS
#   datetime between the phases          = mariadb-binlog --stop-datetime, both in local
#                                          time with TZ=Asia/Kolkata; also the same
#                                          instant as ...Z with TZ=America/New_York
#   GTID (a transaction of file 4)       = mariadb-binlog f1..f4 --stop-position=its start
# and each stopped target, given the same files again with no bounds,
# resumes from the progress table and ends equal to the full pipe.
# start-at, on a target that holds the state at that point (the pipe cut
# there: a backup taken at that point), compared with the same state plus
# mariadb-binlog --start-position=POS from that file on:
#   FILE:POS (file 2); a mariadb_backup_binlog_info "FILE\tPOS\tGTID" (file 3)
#   with a stop-at GTID (file 4), then continued with no bounds; a GTID (file 4).
# --exclude-gtids with the two marks inserts: those rows are missing,
# everything else equals the full pipe. --database=other: other's tables
# equal the full pipe's, all others stay as in the backup.
# --rewrite-db=app->appcopy (appcopy's tables exist in the backup) equals
# mariadb-binlog --rewrite-db piped; app stays as in the backup.
# Invalid SPECs (and invalid --exclude-gtids and --rewrite-db values): exit
# status 2 and a message quoting the value; the target is not changed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/server.sh"
. "$here/../lib/oracle.sh"
trap tap_cleanup EXIT
server_require
command -v mariadb-binlog >/dev/null || skip_all "mariadb-binlog is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"
BINLOGFS=${BINLOGFS:-$here/../../build/binlogfs}
[ -x "$BINLOGFS" ] || bail_out "the binary under test \$BINLOGFS=$BINLOGFS is not executable"

src_opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0)
server_start src "${src_opts[@]}" || bail_out "cannot start the source"

# ---- the backup -------------------------------------------------------------
{
    echo "CREATE DATABASE app; CREATE DATABASE other; CREATE DATABASE appcopy; USE app;"
    echo "CREATE TABLE app.acct (id INT PRIMARY KEY, bal INT NOT NULL, note VARCHAR(64)) ENGINE=InnoDB;"
    echo "CREATE TABLE app.marks (id INT PRIMARY KEY, tag VARCHAR(32)) ENGINE=InnoDB;"
    echo "CREATE TABLE other.log (id INT PRIMARY KEY, acct INT, amount INT, at DATETIME(6)) ENGINE=InnoDB;"
    echo "INSERT INTO app.acct SELECT seq, 1000, CONCAT('acct ', seq) FROM seq_1_to_200;"
    echo "INSERT INTO app.marks VALUES (1, 'backup');"
    echo "CREATE TABLE appcopy.acct LIKE app.acct; INSERT INTO appcopy.acct SELECT * FROM app.acct;"
    echo "CREATE TABLE appcopy.marks LIKE app.marks; INSERT INTO appcopy.marks SELECT * FROM app.marks;"
    echo "FLUSH BINARY LOGS;"
} | server_sql_file src || bail_out "cannot create the backup's tables"
server_backup_restart src backup "${src_opts[@]}" || bail_out "cannot restart the source"
first=$(basename "$(server_binlogs src | tail -n 1)")

# ---- the workload -------------------------------------------------------------
# block FROM TO: transactions FROM..TO-1 (default database app).
block() {
    local i
    for ((i = $1; i < $2; i++)); do
        case $((i % 4)) in
        0) echo "BEGIN; UPDATE acct SET bal=bal-$((i % 7 + 1)) WHERE id=$((i % 50 + 1));" \
            "UPDATE acct SET bal=bal+$((i % 7 + 1)) WHERE id=$(((i * 7) % 50 + 51));" \
            "INSERT INTO other.log VALUES ($i, $((i % 50 + 1)), $((i % 7 + 1)), '2020-01-01 00:00:00.$i'); COMMIT;" ;;
        1) echo "INSERT INTO acct VALUES ($((1000 + i)), $i, 'new $i');" ;;
        2) echo "UPDATE other.log SET amount=amount*2+1 WHERE id=$((i - 2));" ;;
        3) echo "DELETE FROM acct WHERE id=$((1000 + i - 2));" ;;
        esac
    done
}
{
    echo "USE app;"
    block 0 40
    echo "CREATE TABLE extra (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;"
    echo "INSERT INTO extra VALUES (1, 1), (2, 2);"
    echo "INSERT INTO marks VALUES (1001, 'excluded one');"
    block 40 80
    echo "FLUSH BINARY LOGS;"
    block 80 160
    echo "UPDATE extra SET v=v+10;"
    echo "FLUSH BINARY LOGS;"
    block 160 200
} | server_sql_file src || bail_out "workload phase 1 failed"
phase1_end=$(date +%s)
# Phase 2 starts two full seconds later: every phase-1 event has a
# timestamp <= phase1_end, every phase-2 event >= phase1_end + 2.
while [ "$(date +%s)" -lt $((phase1_end + 2)) ]; do sleep 0.2; done
{
    echo "USE app;"
    block 200 240
    echo "USE other; CREATE TABLE t2 (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB;"
    echo "INSERT INTO t2 VALUES (1, 'a'), (2, 'b'); USE app;"
    echo "FLUSH BINARY LOGS;"
    block 240 280
    echo "INSERT INTO marks VALUES (1002, 'excluded two');"
    block 280 320
    echo "FLUSH BINARY LOGS;"
    block 320 400
    echo "DELETE FROM extra WHERE id=1;"
    echo "FLUSH BINARY LOGS;"
} | server_sql_file src || bail_out "workload phase 2 failed"
stop_time=$((phase1_end + 1))
src_state=$(table_states src)
server_stop src

mapfile -t files < <(server_binlogs_from src "$first")
ok "the workload spans 6 binlog files" test "${#files[@]}" -eq 6 || bail_out "unexpected binlog layout"
f1=${files[0]} f2=${files[1]} f3=${files[2]} f4=${files[3]}
b1=$(basename "$f1") b2=$(basename "$f2") b3=$(basename "$f3") b4=$(basename "$f4")

# trx FILE: the file's transactions, one JSON object a line.
trx() { "$BINLOGFS" inspect --transactions --json "$1"; }
# mid FILE FIELD [FRACTION]: FIELD of the transfer (the transactions that
# write app.acct and other.log) at FRACTION (default 1/2) of the file's
# transfers. A transfer follows a delete: starting one transaction early
# deletes a missing row (error), one late misses the transfer's insert;
# stopping one early keeps a deleted row, one late applies the transfer.
mid() {
    trx "$1" | jq -s -r --arg k "$2" --argjson f "${3:-0.5}" \
        '[.[] | select(.tables == ["app.acct", "other.log"])] | .[length * $f | floor][$k]'
}
for f in "${files[@]}"; do trx "$f" >/dev/null || bail_out "inspect fails on $f"; done
# the transaction before FILE:POS (its GTID, for the backup info)
gtid_before() { trx "$1" | jq -s -r --argjson p "$2" '[.[] | select(.end <= $p)] | last | .gtid'; }

# ---- helpers -----------------------------------------------------------------
# fresh NAME: a server on a new copy of the backup.
fresh() {
    server_kill "$1" # its data is thrown away
    backup_datadir backup "$1"
    server_start "$1" || bail_out "cannot start $1"
}
# replay NAME OPTION...: binlogfs replay into NAME; sets RC, stderr in $TEST_TMP/NAME.err.
replay() {
    local name=$1
    shift
    "$BINLOGFS" replay -q --socket="$(server_sock "$name")" --user=root --workers=4 "$@" \
        2>"$TEST_TMP/$name.err"
    RC=$?
}
# pipe NAME MARIADB-BINLOG-ARGS...: the pipe into NAME; a failure is a diagnostic.
pipe() {
    local name=$1
    shift
    pipe_apply "$name" "$@" >"$TEST_TMP/$name.pipe.out" 2>&1 ||
        diag "the pipe into $name failed: $(tail -n 5 "$TEST_TMP/$name.pipe.out")"
}
# reference NAME MARIADB-BINLOG-ARGS...: a fresh NAME with the pipe applied;
# prints its table states.
reference() {
    fresh "$1"
    pipe "$@"
    table_states "$1"
}
# replay_ok NAME DESCRIPTION OPTION...: replay, expect exit 0.
replay_ok() {
    local name=$1 what=$2
    shift 2
    replay "$name" "$@"
    is "$RC" 0 "$what: exit status 0" || diag "$(tail -n 20 "$TEST_TMP/$name.err")"
}

# ---- references -----------------------------------------------------------------
fresh ref
backup_state=$(table_states ref)
full_state=$(reference ref "${files[@]}")
is "$full_state" "$src_state" "the full pipe reproduces the source"
isnt "$full_state" "$backup_state" "the workload changes the tables"

# ---- stop-at FILE:POS ---------------------------------------------------------------
pos=$(mid "$f2" start)
want=$(reference ref "$f1" "$f2" --stop-position="$pos")
fresh tgt
replay_ok tgt "stop-at $b2:$pos" --stop-at="$b2:$pos" "${files[@]}"
is "$(table_states tgt)" "$want" "stop-at $b2:$pos = mariadb-binlog $b1 $b2 --stop-position=$pos"
isnt "$want" "$full_state" "(stop-at $b2:$pos stops before the end)"
replay_ok tgt "the same stop-at $b2:$pos again" --stop-at="$b2:$pos" "${files[@]}"
is "$(table_states tgt)" "$want" "the same stop-at $b2:$pos again applies nothing more"
replay_ok tgt "rerun after stop-at $b2:$pos, no bounds" "${files[@]}"
is "$(table_states tgt)" "$full_state" "rerun after stop-at $b2:$pos resumes: equal to the full pipe"

# ---- stop-at datetime ---------------------------------------------------------------------
# Local time in a zone that is not UTC, for mariadb-binlog and binlogfs
# alike; then the same instant in UTC with a Z, under yet another zone.
export TZ=Asia/Kolkata
dt=$(date -d "@$stop_time" '+%Y-%m-%d %H:%M:%S')
want=$(reference ref --stop-datetime="$dt" "${files[@]}")
isnt "$want" "$full_state" "(stop-at '$dt' stops before the end)"
isnt "$want" "$backup_state" "(stop-at '$dt' applies phase 1)"
fresh tgt
replay_ok tgt "TZ=$TZ stop-at '$dt'" --stop-at="$dt" "${files[@]}"
is "$(table_states tgt)" "$want" "TZ=$TZ stop-at '$dt' = mariadb-binlog --stop-datetime='$dt'"
replay_ok tgt "rerun after stop-at '$dt', no bounds" "${files[@]}"
is "$(table_states tgt)" "$full_state" "rerun after stop-at '$dt' resumes: equal to the full pipe"
dt_z=$(date -u -d "@$stop_time" '+%Y-%m-%dT%H:%M:%SZ')
export TZ=America/New_York
fresh tgt
replay_ok tgt "TZ=$TZ stop-at $dt_z" --stop-at="$dt_z" "${files[@]}"
is "$(table_states tgt)" "$want" "TZ=$TZ stop-at $dt_z = the same cut"
unset TZ

# ---- stop-at GTID ------------------------------------------------------------------------
gtid=$(mid "$f4" gtid)
pos=$(mid "$f4" start)
want=$(reference ref "$f1" "$f2" "$f3" "$f4" --stop-position="$pos")
fresh tgt
replay_ok tgt "stop-at $gtid" --stop-at="$gtid" "${files[@]}"
is "$(table_states tgt)" "$want" "stop-at $gtid = mariadb-binlog up to $b4:$pos"
replay_ok tgt "rerun after stop-at $gtid, no bounds" "${files[@]}"
is "$(table_states tgt)" "$full_state" "rerun after stop-at $gtid resumes: equal to the full pipe"

# ---- start-at ---------------------------------------------------------------------------
# A start-at is only meaningful on a backup taken at that point: the target
# gets the pipe up to the point first (binlogfs's progress table stays
# empty), the reference gets the same, then mariadb-binlog
# --start-position=POS from the point's file on.

# start-at FILE:POS
pos=$(mid "$f2" start)
fresh ref
pipe ref "$f1" "$f2" --stop-position="$pos"
pipe ref --start-position="$pos" "${files[@]:1}"
want=$(table_states ref)
is "$want" "$full_state" "(the pipe cut at $b2:$pos and resumed there gives the full result)"
fresh tgt
pipe tgt "$f1" "$f2" --stop-position="$pos"
replay_ok tgt "start-at $b2:$pos" --start-at="$b2:$pos" "${files[@]}"
is "$(table_states tgt)" "$want" "start-at $b2:$pos = mariadb-binlog --start-position=$pos $b2.. piped"

# start-at a backup's binlog info, with a stop-at GTID, then continue
pos=$(mid "$f3" start)
info=$(printf '%s\t%s\t%s' "$b3" "$pos" "$(gtid_before "$f3" "$pos")")
printf '%s\n' "$info" >"$TEST_TMP/mariadb_backup_binlog_info"
gtid=$(mid "$f4" gtid)
pos4=$(mid "$f4" start)
want=$(reference ref "$f1" "$f2" "$f3" "$f4" --stop-position="$pos4")
fresh tgt
pipe tgt "$f1" "$f2" "$f3" --stop-position="$pos"
before=$(table_states tgt)
replay_ok tgt "start-at '$info' stop-at $gtid" --start-at="$(cat "$TEST_TMP/mariadb_backup_binlog_info")" \
    --stop-at="$gtid" "${files[@]}"
got=$(table_states tgt)
isnt "$got" "$before" "start-at (backup info $b3:$pos) stop-at $gtid applies something"
is "$got" "$want" "start-at (backup info $b3:$pos) stop-at $gtid = the pipe cut at $b4:$pos4"
replay_ok tgt "rerun after start-at $b3:$pos stop-at $gtid with no bounds" "${files[@]}"
is "$(table_states tgt)" "$full_state" "the rerun resumes at $gtid: equal to the full pipe"

# start-at GTID
gtid=$(mid "$f4" gtid 0.25)
pos=$(mid "$f4" start 0.25)
fresh ref
pipe ref "$f1" "$f2" "$f3" "$f4" --stop-position="$pos"
pipe ref --start-position="$pos" "${files[@]:3}"
want=$(table_states ref)
is "$want" "$full_state" "(the pipe cut at $b4:$pos and resumed there gives the full result)"
fresh tgt
pipe tgt "$f1" "$f2" "$f3" "$f4" --stop-position="$pos"
replay_ok tgt "start-at $gtid" --start-at="$gtid" "${files[@]}"
is "$(table_states tgt)" "$want" "start-at $gtid = mariadb-binlog --start-position=$pos $b4.. piped"

# ---- --exclude-gtids -------------------------------------------------------------------------
mapfile -t marks < <(for f in "${files[@]}"; do trx "$f"; done |
    jq -r 'select(.tables == ["app.marks"] and .rows == 1) | .gtid')
is "${#marks[@]}" 2 "two single-row marks inserts in the binlogs (${marks[*]})"
set_text=$(IFS=,; echo "${marks[*]}")
# the expectation: the full pipe, but app.marks as in the backup (the two
# inserts are the only changes to it)
want=$(grep -v '^app\.marks ' <<<"$full_state"; grep '^app\.marks ' <<<"$backup_state")
want=$(sort <<<"$want")
fresh tgt
replay_ok tgt "exclude-gtids $set_text" --exclude-gtids="$set_text" "${files[@]}"
is "$(server_sql tgt "SELECT GROUP_CONCAT(id ORDER BY id) FROM app.marks")" 1 \
    "exclude-gtids $set_text: rows 1001 and 1002 are missing"
is "$(table_states tgt | sort)" "$want" "exclude-gtids $set_text: every other change is applied"

# ---- --database -------------------------------------------------------------------------------
want=$( (grep '^other\.' <<<"$full_state"; grep -v '^other\.' <<<"$backup_state") | sort)
fresh tgt
replay_ok tgt "database=other" --database=other "${files[@]}"
is "$(table_states tgt | sort)" "$want" "database=other: other's tables as after the full pipe, the rest as in the backup"

# ---- --rewrite-db -----------------------------------------------------------------------------
want=$(reference ref --rewrite-db='app->appcopy' "${files[@]}")
fresh tgt
replay_ok tgt "rewrite-db=app->appcopy" --rewrite-db='app->appcopy' "${files[@]}"
got=$(table_states tgt)
is "$got" "$want" "rewrite-db=app->appcopy = mariadb-binlog --rewrite-db='app->appcopy' piped"
is "$(grep '^app\.' <<<"$got")" "$(grep '^app\.' <<<"$backup_state")" "rewrite-db=app->appcopy: app is left as in the backup"
is "$(grep '^appcopy\.' <<<"$got" | sed 's/^appcopy\./app./')" "$(grep '^app\.' <<<"$full_state")" \
    "rewrite-db=app->appcopy: appcopy holds what the full pipe gives app"

# ---- invalid SPECs --------------------------------------------------------------------------------
# bad_spec OPTION VALUE [QUOTED]: exit status 2, and stderr quotes the value
# (QUOTED: the part the message must quote, default the whole value; a
# control character appears escaped)
bad_spec() {
    local opt=$1 spec=$2 shown=${3:-$2}
    replay tgt "$opt=$spec" "${files[@]}"
    local err name="$opt='${spec//$'\t'/\\t}'"
    err=$(cat "$TEST_TMP/tgt.err")
    is "$RC" 2 "$name: exit status 2"
    if grep -qF -- "$shown" <<<"$err"; then
        pass "$name: the message quotes $shown"
    else
        fail "$name: the message quotes $shown" "stderr: $err"
    fi
}
before=$(table_states tgt)
bad_spec --stop-at "$b2:12x"
bad_spec --stop-at "$b2:"
bad_spec --start-at "$b2"
bad_spec --stop-at "2024-02-30 10:00:00"
bad_spec --stop-at "2024-01-01 25:00:00"
bad_spec --start-at "2024-01-01T10:00:00+99:00"
bad_spec --stop-at "0-1-"
bad_spec --start-at "0-1-2-3"
bad_spec --stop-at "3e11fa47-71ca-11e1-9e33-c80aa9429562:x"
bad_spec --start-at "no such spec"
bad_spec --stop-at "$(printf '%s\t%s\t%s' "$b3" 4 0-1-1)" "$b3\\t4\\t0-1-1"
# the other REPLAY options are checked the same way
bad_spec --exclude-gtids "0-1"
bad_spec --exclude-gtids "0-1-5,x" "'x'"
bad_spec --rewrite-db "app-appcopy"
bad_spec --rewrite-db "->appcopy"
is "$(table_states tgt)" "$before" "the invalid options changed nothing on the target"
done_testing
