#!/usr/bin/env bash
# binlogfs mount, stop points and `skip` (DESIGN.md: control/stop-at,
# control/state; doc/replay.md: skip leaves replay paused, resume goes on),
# on a real server through a real mount, compared with mariadb-binlog piped
# into mariadb on the same backup.
#
# Workload (ROW format, five files): transfers between accounts of app.acct
# that also insert a row of app.log, inserts and deletes; and three
# transactions whose absence is visible:
#   bonus  UPDATE app.bonus SET amount = amount + 1000 (file 2)
#   drop   DROP TABLE app.victim, the first transaction after a pause of
#          two seconds (file 3; app.victim was updated just before)
#   flags  UPDATE app.flags SET flag = 1 WHERE id BETWEEN 3 AND 7 (file 4)
# For each SPEC kind, on a fresh copy of the backup with its own mount:
#   stop-at FILE:POS of bonus, a datetime between the phases (drop), the
#   GTID of flags. The binlogs are copied in; `wait` says stopped, the state
#   reads stopped, and the tables equal mariadb-binlog --stop-position (or
#   --stop-datetime) piped into mariadb. resume and retry are refused
#   (EINVAL, the reason in errors). `skip`: the state becomes paused, the
#   stop point is cleared, nothing more is applied (the held transaction
#   neither); a second skip is refused. `resume`: `wait` says idle, one
#   transaction counted as skipped, and the tables equal the pipe cut around
#   exactly that transaction (mariadb-binlog --stop-position=its start, then
#   --start-position=its end): the source's final state minus it.
# Last, examples/stop-before-drop.sh (the same story told to DBAs) runs
# and exits 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/server.sh"
. "$here/../lib/oracle.sh"
. "$here/../lib/mount.sh"
trap 'mount_cleanup_all; tap_cleanup' EXIT
server_require
mount_require
command -v jq >/dev/null || skip_all "jq is not installed"
command -v mariadb-binlog >/dev/null || skip_all "mariadb-binlog is not installed"
BINLOGFS=${BINLOGFS:-$here/../../build/binlogfs}

# ---- the source ----
src_opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0)
server_start src "${src_opts[@]}" || bail_out "cannot start the source"
{
    echo "CREATE DATABASE app; USE app;"
    echo "CREATE TABLE acct (id INT PRIMARY KEY, bal INT NOT NULL) ENGINE=InnoDB;"
    echo "INSERT INTO acct SELECT seq, 1000 FROM seq_1_to_50;"
    echo "CREATE TABLE log (id INT PRIMARY KEY, acct INT, amount INT) ENGINE=InnoDB;"
    echo "CREATE TABLE bonus (id INT PRIMARY KEY, amount INT) ENGINE=InnoDB;"
    echo "INSERT INTO bonus VALUES (1, 0);"
    echo "CREATE TABLE victim (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;"
    echo "INSERT INTO victim SELECT seq, seq FROM seq_1_to_5;"
    echo "CREATE TABLE flags (id INT PRIMARY KEY, flag INT) ENGINE=InnoDB;"
    echo "INSERT INTO flags SELECT seq, 0 FROM seq_1_to_10;"
    echo "FLUSH BINARY LOGS;"
} | server_sql_file src || bail_out "cannot create the backup's tables"
server_backup_restart src backup "${src_opts[@]}" || bail_out "cannot restart the source"
first=$(basename "$(server_binlogs src | tail -n 1)")

# block FROM TO: transactions FROM..TO-1 (a transfer follows a delete:
# one transaction too many or too few changes the tables)
block() {
    local i
    for ((i = $1; i < $2; i++)); do
        case $((i % 4)) in
        0) echo "BEGIN; UPDATE acct SET bal=bal-$((i % 7 + 1)) WHERE id=$((i % 25 + 1));" \
            "UPDATE acct SET bal=bal+$((i % 7 + 1)) WHERE id=$((i % 25 + 26));" \
            "INSERT INTO log VALUES ($i, $((i % 25 + 1)), $((i % 7 + 1))); COMMIT;" ;;
        1) echo "INSERT INTO acct VALUES ($((1000 + i)), $i);" ;;
        2) echo "UPDATE log SET amount=amount*2+1 WHERE id=$((i - 2));" ;;
        3) echo "DELETE FROM acct WHERE id=$((1000 + i - 2));" ;;
        esac
    done
}
{
    echo "USE app;"
    block 0 60
    echo "FLUSH BINARY LOGS;"
    block 60 90
    echo "UPDATE bonus SET amount = amount + 1000 WHERE id = 1;"
    block 90 120
    echo "FLUSH BINARY LOGS;"
    block 120 150
    echo "UPDATE victim SET v = v * 10;"
    block 150 160
} | server_sql_file src || bail_out "workload phase 1 failed"
phase1_end=$(date +%s)
# phase 2 starts two full seconds later: every phase-1 transaction commits
# before phase1_end + 1, every phase-2 one at or after it
while [ "$(date +%s)" -lt $((phase1_end + 2)) ]; do sleep 0.1; done
{
    echo "USE app;"
    echo "DROP TABLE victim;"
    block 160 200
    echo "FLUSH BINARY LOGS;"
    block 200 230
    echo "UPDATE flags SET flag = 1 WHERE id BETWEEN 3 AND 7;"
    block 230 260
    echo "FLUSH BINARY LOGS;"
} | server_sql_file src || bail_out "workload phase 2 failed"
stop_dt=$(date -d "@$((phase1_end + 1))" '+%Y-%m-%dT%H:%M:%S')
src_state=$(table_states src)
server_stop src
mapfile -t files < <(server_binlogs_from src "$first")
[ "${#files[@]}" = 5 ] || bail_out "expected 5 binlog files, got ${#files[@]}"

# the special transactions: "FILE-INDEX START END GTID"
trx_all() {
    local i
    for i in "${!files[@]}"; do
        "$BINLOGFS" inspect --transactions --json "${files[i]}" | jq -c --argjson i "$i" '. + {index: $i}'
    done
}
trx_all >"$TEST_TMP/trx.json" || bail_out "inspect failed"
find_trx() { jq -r "select($1) | \"\\(.index) \\(.start) \\(.end) \\(.gtid)\"" "$TEST_TMP/trx.json"; }
bonus=$(find_trx '.tables == ["app.bonus"]')
drop=$(find_trx ".commit_time_us >= $(((phase1_end + 1) * 1000000))" | head -n 1)
flags=$(find_trx '.tables == ["app.flags"]')
[ "$(wc -l <<<"$bonus$flags")" = 1 ] && [ -n "$bonus" ] && [ -n "$drop" ] && [ -n "$flags" ] ||
    bail_out "the special transactions: bonus '$bonus', drop '$drop', flags '$flags'"
read -r i s _ _ <<<"$drop"
jq -s -e "map(select(.index == $i and .start == $s)) | length == 1 and .[0].kind == \"ddl\"" \
    "$TEST_TMP/trx.json" >/dev/null || bail_out "the first transaction of phase 2 is not the DROP"

# ---- helpers ----
mnt=$TEST_TMP/mnt
put() { bash -c 'printf "%s\n" "$2" >"$1"' _ "$mnt/control/$1" "$2" 2>&1; }
state() { cat "$mnt/control/state"; }
state_is() { [ "$(state)" = "$1" ]; }
jget() { jq -r "$1" "$mnt/status.json"; }
until_true() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.1
    done
}
# refused FILE VALUE ERE: EINVAL, and a new line of errors matches ERE
refused() {
    local n out rc new
    n=$(wc -l <"$mnt/errors")
    out=$(put "$1" "$2")
    rc=$?
    new=$(tail -n +$((n + 1)) "$mnt/errors")
    if [ $rc != 0 ] && [[ $out == *"Invalid argument"* ]] && grep -Eq -- "$3" <<<"$new"; then
        pass "$CASE: '$2' to control/$1 is refused with EINVAL, the reason in errors"
    else
        fail "$CASE: '$2' to control/$1 is refused with EINVAL, the reason in errors" \
            "exit status $rc, shell: $out
new errors: $new
expected a line matching /$3/"
    fi
}
fresh() {
    server_kill "$1"
    backup_datadir backup "$1"
    server_start "$1" || bail_out "cannot start $1"
}
pipe() { # NAME MARIADB-BINLOG-ARGS...
    local name=$1
    shift
    pipe_apply "$name" "$@" >"$TEST_TMP/$name.pipe.out" 2>&1 ||
        diag "the pipe into $name failed: $(tail -n 5 "$TEST_TMP/$name.pipe.out")"
}

# stop_case KIND SPEC TRX ABSENT_SQL ABSENT_WANT MARIADB-BINLOG-ARGS...
#   TRX: "INDEX START END GTID" of the transaction at the stop point;
#   ABSENT_SQL prints ABSENT_WANT on the target while that transaction is
#   not applied; the arguments cut the pipe just before it
stop_case() {
    local kind=$1 spec=$2 trx=$3 absent_sql=$4 absent_want=$5
    shift 5
    local idx start end gtid want_stop want_final got
    read -r idx start end gtid <<<"$trx"
    CASE="stop-at $kind"
    fresh tgt
    fresh ref
    pipe ref "$@"
    want_stop=$(table_states ref)
    pipe ref --start-position="$end" "${files[@]:idx}"
    want_final=$(table_states ref)
    isnt "$want_final" "$src_state" "$CASE: (skipping $gtid changes the final tables)"

    rm -rf "$TEST_TMP/spool"
    mount_start m "$mnt" "$TEST_TMP/spool" --socket="$(server_sock tgt)" --user=root --workers=4 ||
        bail_out "no mount"
    ok "$CASE: '$spec' to control/stop-at" put stop-at "$spec"
    is "$(cat "$mnt/control/stop-at")" "$spec" "$CASE: control/stop-at reads it"
    ok "$CASE: cp of the binlogs" cp "${files[@]}" "$mnt/binlogs/"
    is "$(timeout 120 cat "$mnt/wait")" stopped "$CASE: wait returns stopped"
    is "$(state)" stopped "$CASE: state stopped"
    is "$(jget .state)" stopped "$CASE: status.json state stopped"
    got=$(table_states tgt)
    local opts=() a
    for a in "$@"; do [[ $a != --* ]] || opts+=("$a"); done
    is "$got" "$want_stop" "$CASE: the tables equal mariadb-binlog ${opts[*]} piped (cut before $gtid)"
    is "$(server_sql tgt "$absent_sql")" "$absent_want" "$CASE: $gtid is not applied"
    refused state resume "resume: replay is stopped at the stop point; clear or move control/stop-at, or write skip"
    refused state retry "retry: replay has not failed \(state stopped\)"
    ok "$CASE: skip" put state skip
    ok "$CASE: the state becomes paused" until_true 30 state_is paused ||
        diag "state $(state); errors: $(cat "$mnt/errors")"
    is "$(cat "$mnt/control/stop-at")" "" "$CASE: skip cleared the stop point"
    sleep 1
    is "$(state)" paused "$CASE: still paused a second later"
    is "$(table_states tgt)" "$want_stop" "$CASE: paused after skip: nothing more applied"
    is "$(server_sql tgt "$absent_sql")" "$absent_want" "$CASE: the skipped $gtid is not applied"
    refused state skip "skip: replay is not held at a transaction \(state paused\)"
    ok "$CASE: resume" put state resume
    is "$(timeout 120 cat "$mnt/wait")" idle "$CASE: wait returns idle"
    is "$(jget .transactions.skipped)" 1 "$CASE: status.json: one transaction skipped"
    is "$(jget .state)" idle "$CASE: status.json state idle"
    is "$(server_sql tgt "$absent_sql")" "$absent_want" "$CASE: $gtid is still not applied"
    mount_stop m
    check $? "$CASE: unmount, the daemon exits 0"
    is "$(table_states tgt)" "$want_final" "$CASE: the tables equal the source's minus exactly $gtid"
}

b() { basename "${files[$1]}"; }
read -r i s _ _ <<<"$bonus"
stop_case "FILE:POS" "$(b "$i"):$s" "$bonus" "SELECT amount FROM app.bonus" 0 \
    "${files[@]:0:i+1}" --stop-position="$s"
stop_case datetime "$stop_dt" "$drop" "SELECT GROUP_CONCAT(v ORDER BY id) FROM app.victim" "10,20,30,40,50" \
    --stop-datetime="${stop_dt/T/ }" "${files[@]}"
read -r i s _ g <<<"$flags"
stop_case GTID "$g" "$flags" "SELECT SUM(flag) FROM app.flags" 0 "${files[@]:0:i+1}" --stop-position="$s"

# ---- the example DBAs read ----
out=$(cd "$TEST_TMP" && BINLOGFS=$BINLOGFS timeout 300 bash "$TEST_ROOT/examples/stop-before-drop.sh" 2>&1)
check $? "examples/stop-before-drop.sh exits 0" || diag "$(tail -n 30 <<<"$out")"
like "$out" "the customers table survived" "... and says the customers table survived"
done_testing
