#!/usr/bin/env bash
# binlogfs mount, the control files (DESIGN.md: control/state, workers,
# start-at, stop-at; `wait`; status.json), on a real server through a real
# mount. Stop points and `skip` are in 0230-mount-stop.sh.
#
# 1. An empty workspace: every control file with valid and invalid values.
#    state: garbage, `skip` (not held), `retry` (not failed) are refused;
#    pause/resume. workers: 1, 256 (the target allows the connections), 7
#    are taken; 0, 257, -1, text, empty are refused. start-at: FILE:POS, a
#    datetime (T or space, local, Z, +hh:mm), a MariaDB and a MySQL GTID, a
#    mariadb_backup_binlog_info line; stop-at the same but the backup info.
#    Invalid SPECs of each shape are refused; a refused value leaves the
#    setting as it was; `echo > f` and `: > f` clear it. Every refusal
#    fails with EINVAL and its reason is a new line of `errors`.
# 2. Under load (part 1 of the workload, 5 files copied one by one in
#    reverse order, 0.4 s apart, one worker): two rows of app.gate are locked on the target by our own
#    sessions, so replay is held mid-way at each, whatever the machine's
#    speed. At the first: `wait` still blocks; pause (state paused), the
#    lock is released, the applied count and the target's rows then stay
#    put while paused; retry and skip are refused; resume goes on to the
#    second gate. There workers is raised to 6 live (status.json workers
#    follows, 4 more connections appear on the target), then 3; the lock is
#    released and the `wait` started at the copy returns idle; the tables
#    equal the source's after part 1. A start-at FILE:POS set and cleared
#    before must not make the copy in reverse order start at the wrong
#    file.
# 3. A failure: the target gets a row of app.dup that part 2 inserts; part
#    2's files copied: `wait` says failed, state failed, `errors` and
#    status.json last_error hold FILE:POS, GTID, 1062 and the server's
#    message; resume is refused; the row is deleted by hand, `retry`.
# 4. Skip from the failed state: the target also has a row that a later
#    transaction of part 2 inserts, so the retry fails there; `skip` is
#    accepted while failed (state paused, transactions.skipped 1, the
#    row is the target's), `resume`, and `wait` says idle: every table
#    equals the source's but for that one skipped insert.
# status.json is checked (jq: the contract's keys) in each state met.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/server.sh"
. "$here/../lib/oracle.sh"
. "$here/../lib/replay.sh"
. "$here/../lib/mount.sh"
trap 'session_close_all; mount_cleanup_all; tap_cleanup' EXIT
server_require
mount_require
command -v jq >/dev/null || skip_all "jq is not installed"
BINLOGFS=${BINLOGFS:-$here/../../build/binlogfs}

# ---- the source: a backup, then part 1 (load, two gates) and part 2 (the dup) ----
src_opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0)
server_start src "${src_opts[@]}" || bail_out "cannot start the source"
{
    echo "CREATE DATABASE app; USE app;"
    echo "CREATE TABLE app.acct (id INT PRIMARY KEY, bal INT NOT NULL, note VARCHAR(64)) ENGINE=InnoDB;"
    echo "INSERT INTO app.acct SELECT seq, 1000, CONCAT('acct ', seq) FROM seq_1_to_100;"
    echo "CREATE TABLE app.log (id INT PRIMARY KEY, acct INT, v INT) ENGINE=InnoDB;"
    echo "CREATE TABLE app.gate (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;"
    echo "INSERT INTO app.gate VALUES (1, 0), (2, 0);"
    echo "CREATE TABLE app.marks (id INT PRIMARY KEY) ENGINE=InnoDB;"
    echo "CREATE TABLE app.dup (id INT PRIMARY KEY, v VARCHAR(32)) ENGINE=InnoDB;"
    echo "FLUSH BINARY LOGS;"
} | server_sql_file src || bail_out "cannot create the backup's tables"
first=$(basename "$(server_binlogs src | tail -n 1)")
server_backup_restart src backup "${src_opts[@]}" || bail_out "cannot restart the source"

# block FROM TO: transactions FROM..TO-1
block() {
    local i
    for ((i = $1; i < $2; i++)); do
        case $((i % 3)) in
        0) echo "INSERT INTO log VALUES ($i, $((i % 100 + 1)), $i);" ;;
        1) echo "UPDATE acct SET bal=bal+1 WHERE id=$((i % 100 + 1));" ;;
        2) echo "BEGIN; UPDATE acct SET bal=bal-2, note='t$i' WHERE id=$((i * 7 % 100 + 1));" \
            "INSERT INTO log VALUES ($i, $((i * 7 % 100 + 1)), -2); COMMIT;" ;;
        esac
    done
}
{
    echo "USE app;"
    block 0 300
    echo "FLUSH BINARY LOGS;"
    block 300 400
    echo "INSERT INTO marks VALUES (1);"         # the transaction before gate 1
    echo "UPDATE gate SET v=v+1 WHERE id=1;"      # gate 1
    block 400 600
    echo "FLUSH BINARY LOGS;"
    block 600 800
    echo "INSERT INTO marks VALUES (2);"
    echo "UPDATE gate SET v=v+1 WHERE id=2;"      # gate 2
    block 800 900
    echo "FLUSH BINARY LOGS;"
    block 900 1000
} | server_sql_file src || bail_out "part 1 of the workload failed"
part1_state=$(table_states src)
# part 1's last file ends with a Stop event, not with a Rotate to a file
# that is not there yet (which would leave replay waiting for it)
server_restart src || bail_out "cannot restart the source"
part2_first=$(basename "$(server_binlogs src | tail -n 1)")
{
    echo "USE app;"
    block 1000 1050
    echo "FLUSH BINARY LOGS;"
    block 1050 1080
    echo "INSERT INTO dup VALUES (500, 'from the binlog');"
    block 1080 1090
    echo "INSERT INTO dup VALUES (501, 'from the binlog');"
    block 1090 1100
    echo "FLUSH BINARY LOGS;"
} | server_sql_file src || bail_out "part 2 of the workload failed"
src_state=$(table_states src)
server_stop src
part1=() part2=()
for f in $(server_binlogs src); do
    b=$(basename "$f")
    if [ "$b" \< "$first" ]; then
        continue
    elif [ "$b" \< "$part2_first" ]; then
        part1+=("$f")
    else
        part2+=("$f")
    fi
done
[ "${#part1[@]}" = 5 ] && [ "${#part2[@]}" -ge 2 ] ||
    bail_out "unexpected binlog layout: ${#part1[@]} files in part 1, ${#part2[@]} in part 2"
part1_trx=$(for f in "${part1[@]}"; do "$BINLOGFS" inspect --transactions --json "$f"; done | wc -l)
dup=$(for f in "${part2[@]}"; do "$BINLOGFS" inspect --transactions --json "$f"; done |
    jq -r 'select(.tables == ["app.dup"]) | "\(.file | sub(".*/"; "")) \(.start) \(.gtid)"')
{ read -r dup_file dup_pos dup_gtid && read -r dup2_file dup2_pos dup2_gtid; } <<<"$dup"
[ -n "${dup2_gtid:-}" ] || bail_out "the two app.dup inserts are not in part 2: '$dup'"

backup_datadir backup tgt
server_start tgt --max-connections=300 || bail_out "cannot start the target"
mnt=$TEST_TMP/mnt
mount_start m "$mnt" "$TEST_TMP/spool" --socket="$(server_sock tgt)" --user=root --workers=2 ||
    bail_out "no mount"

# ---- helpers ----
# put FILE VALUE: VALUE and a newline written to control/FILE (one write,
# as echo does); the shell's complaint, if any, on stdout
put() {
    bash -c 'printf "%s\n" "$2" >"$1"' _ "$mnt/control/$1" "$2" 2>&1
}
# accepted FILE VALUE [READ_BACK]: the write succeeds and the file reads
# READ_BACK (default VALUE)
accepted() {
    local out
    out=$(put "$1" "$2")
    check $? "control/$1: '$2' is accepted" || diag "$out"
    is "$(cat "$mnt/control/$1")" "${3-$2}" "control/$1 reads '${3-$2}'"
}
# refused FILE VALUE ERE: the write fails with EINVAL, a new line of
# `errors` matches ERE, and the setting keeps its value
refused() {
    local file=$1 value=$2 re=$3 n out rc before new
    before=$(cat "$mnt/control/$file")
    n=$(wc -l <"$mnt/errors")
    out=$(put "$file" "$value")
    rc=$?
    new=$(tail -n +$((n + 1)) "$mnt/errors")
    if [ $rc != 0 ] && [[ $out == *"Invalid argument"* ]] && grep -Eq -- "$re" <<<"$new" &&
        [ "$(cat "$mnt/control/$file")" = "$before" ]; then
        pass "control/$file: '$value' is refused with EINVAL, the reason in errors"
    else
        fail "control/$file: '$value' is refused with EINVAL, the reason in errors" \
            "exit status $rc, shell: $out
new errors: $new
expected a line matching /$re/; the file reads '$(cat "$mnt/control/$file")' (before: '$before')"
    fi
}
# json_ok LABEL: status.json parses and has the contract's keys
json_ok() {
    local json
    json=$(cat "$mnt/status.json")
    jq -e '(["state","workers","position","transactions","bytes","rate","eta_s","waiting_for","files",
            "last_error"] - keys | length == 0)
        and (.position | has("file") and has("pos") and has("gtid"))
        and (.transactions | has("applied") and has("skipped") and has("retried") and has("failed"))
        and (.bytes | has("applied") and has("total"))
        and (.rate | has("transactions_per_s") and has("bytes_per_s"))
        and (.files | all(has("name") and has("size") and has("state") and has("error")))' \
        <<<"$json" >/dev/null
    check $? "status.json ($1) parses and has the contract's keys" || diag "$json"
}
jget() { jq -r "$1" "$mnt/status.json"; }
state() { cat "$mnt/control/state"; }
# until_true SECONDS CMD...: CMD succeeds within SECONDS
until_true() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.1
    done
}
state_is() { [ "$(state)" = "$1" ]; }
tgt_count() { server_sql tgt "SELECT COUNT(*) FROM $1"; }
marked() { [ "$(tgt_count "app.marks WHERE id = $1")" = 1 ]; }
conns() { server_sql tgt "SELECT COUNT(*) FROM information_schema.processlist WHERE id <> CONNECTION_ID()"; }
conns_at_least() { [ "$(conns)" -ge "$1" ]; }

# ==== 1. every control file on an empty workspace ====
# (state reads running while replay starts: `wait` returns once started)
is "$(timeout 20 cat "$mnt/wait")" idle "wait: an empty workspace ends its start idle"
is "$(state)" idle "control/state: an empty workspace is idle"
json_ok idle
refused state dance "control/state: 'dance' is not a command"
refused state "" "control/state: '' is not a command"
refused state skip "skip: replay is not held at a transaction \(state idle\)"
refused state retry "retry: replay has not failed \(state idle\)"
ok "control/state: pause is accepted" put state pause
ok "... the state reads paused" until_true 10 state_is paused
is "$(jget .state)" paused "status.json: state paused"
refused state skip "skip: replay is not held at a transaction \(state paused\)"
refused state retry "retry: replay has not failed \(state paused\)"
ok "control/state: resume is accepted" put state resume
ok "... the state reads idle again" until_true 10 state_is idle

is "$(cat "$mnt/control/workers")" 2 "control/workers reads --workers=2"
accepted workers 1
accepted workers 256
is "$(jget .workers)" 256 "status.json: workers 256"
accepted workers 7
refused workers 0 "control/workers: 0 is out of range"
refused workers 257 "control/workers: 257 is out of range"
refused workers -1 "control/workers: '-1' is not a number of workers"
refused workers many "control/workers: 'many' is not a number of workers"
refused workers "" "control/workers: '' is not a number of workers"
refused workers "4 5" "control/workers: '4 5' is not a number of workers"
accepted workers 2

is "$(cat "$mnt/control/start-at")" "" "control/start-at is empty at first"
is "$(cat "$mnt/control/stop-at")" "" "control/stop-at is empty at first"
b2=$(basename "${part1[1]}")
for spec in "$b2:4" "2024-01-02 03:04:05" "2024-01-02T03:04:05" "2024-01-02T03:04:05Z" \
    "2024-01-02 03:04:05+05:30" "0-1-100" "3E11FA47-71CA-11E1-9E33-C80AA9429562:23"; do
    accepted start-at "$spec"
    accepted stop-at "$spec"
done
info=$(printf '%s\t%s\t%s' "$b2" 385 0-1-5)
accepted start-at "$info"
refused stop-at "$info" "control/stop-at: .* a backup's binlog info is accepted by start-at only; write $b2:385 instead"
is "$(cat "$mnt/control/stop-at")" "3E11FA47-71CA-11E1-9E33-C80AA9429562:23" "(stop-at unchanged)"
for f in start-at stop-at; do
    refused $f garbage "control/$f: 'garbage' is not a valid SPEC"
    refused $f "$b2:abc" "control/$f: '$b2:abc' is not a valid SPEC: the position 'abc' is not a decimal number"
    refused $f "$b2:2" "control/$f: .*position 2 is below 4"
    refused $f "2024-13-01 00:00:00" "control/$f: .*month 13 out of range"
    refused $f "2024-01-02 25:00:00" "control/$f: .*hour 25 out of range"
    refused $f "2024-01-02T03:04:05+99:00" "control/$f: .*out of range"
    refused $f "0-1" "control/$f: '0-1' is not a valid SPEC"
    refused $f "0-1-x" "control/$f: '0-1-x' is not a valid SPEC"
    refused $f "3E11FA47-71CA-11E1-9E33-C80AA9429562:z" "control/$f: .*not a valid SPEC"
done
is "$(cat "$mnt/control/start-at")" "$info" "start-at keeps its value after the refusals"
ok "echo > control/start-at: accepted" put start-at ""
is "$(cat "$mnt/control/start-at")" "" "... and clears start-at"
ok ": > control/stop-at: accepted" bash -c ": >'$mnt/control/stop-at'"
is "$(cat "$mnt/control/stop-at")" "" "... and clears stop-at"
accepted stop-at "0-1-100"
ok "echo > control/stop-at: accepted" put stop-at ""
is "$(cat "$mnt/control/stop-at")" "" "... and clears stop-at"
# a FILE:POS start point, then cleared: replay must again wait for the
# copies to settle and begin at the lowest file (below, copied last)
accepted start-at "$b2:4"
ok ": > control/start-at: accepted" bash -c ": >'$mnt/control/start-at'"
is "$(cat "$mnt/control/start-at")" "" "... and clears start-at"
like "$(jget .last_error)" "is not a valid SPEC" "status.json: last_error is the last refusal"
ok "the workspace settles to idle after the restarts" until_true 30 state_is idle
is "$(timeout 30 cat "$mnt/wait")" idle "wait returns idle at once"
is "$(jget .transactions.applied)" 0 "nothing applied yet"

# ==== 2. pause, resume and workers under load ====
session_open tgt gate1 && session_sql gate1 "BEGIN" "SELECT v FROM app.gate WHERE id = 1 FOR UPDATE" &&
    session_sync gate1 || bail_out "cannot lock gate 1"
session_open tgt gate2 && session_sql gate2 "BEGIN" "SELECT v FROM app.gate WHERE id = 2 FOR UPDATE" &&
    session_sync gate2 || bail_out "cannot lock gate 2"
accepted workers 1
rev=()
for ((i = ${#part1[@]} - 1; i >= 0; i--)); do rev+=("${part1[i]}"); done
# one by one, as a slow copy of large files would (each one complete
# before the next starts, less than the 2 s of settling apart)
r=0
for f in "${rev[@]}"; do
    cp "$f" "$mnt/binlogs/" || r=1
    sleep 0.4
done
check $r "cp of part 1's ${#part1[@]} binlogs one by one, in reverse order"
(timeout 200 cat "$mnt/wait" >"$TEST_TMP/wait1.out" 2>&1) &
waiter=$!
ok "replay reaches gate 1 (the transaction before it is applied)" until_true 60 marked 1 ||
    diag "$(cat "$mnt/status" "$mnt/errors")"
sleep 0.5
is "$(state)" running "held at gate 1: state running"
json_ok running
ok "wait blocks while replay runs" kill -0 $waiter
ok "control/state: pause" put state pause
is "$(state)" paused "state: paused"
is "$(jget .state)" paused "status.json: state paused"
json_ok paused
session_sql gate1 "COMMIT" && session_sync gate1
sleep 1
a1=$(jget .transactions.applied) r1=$(tgt_count app.log) g1=$(tgt_count "app.gate WHERE v = 1")
sleep 2
a2=$(jget .transactions.applied) r2=$(tgt_count app.log)
is "$a2" "$a1" "paused: the applied count stays at $a1"
is "$r2" "$r1" "paused: app.log on the target stays at $r1 rows"
cmp_ok "$a1" -lt "$part1_trx" "paused mid-way ($a1 of $part1_trx transactions)"
is "$g1" 1 "the gate 1 transaction in flight at the pause has committed"
ok "wait still blocks while paused" kill -0 $waiter
is "$(state)" paused "state: still paused"
refused state retry "retry: replay has not failed \(state paused\)"
refused state skip "skip: replay is not held at a transaction \(state paused\)"
ok "control/state: resume" put state resume
ok "replay goes on after resume, up to gate 2" until_true 60 marked 2
cmp_ok "$(jget .transactions.applied)" -gt "$a2" "the applied count grows again"
sleep 0.5
is "$(state)" running "held at gate 2: state running"
c1=$(conns)
accepted workers 6
is "$(jget .workers)" 6 "status.json: workers 6, changed live"
ok "4 more connections to the target appear" until_true 20 conns_at_least $((c1 + 4)) ||
    diag "before: $c1, now: $(conns)"
accepted workers 3
is "$(jget .workers)" 3 "status.json: workers 3"
ok "wait still blocks" kill -0 $waiter
session_sql gate2 "COMMIT" && session_sync gate2
session_close gate1
session_close gate2
wait $waiter
is "$(cat "$TEST_TMP/wait1.out")" idle "the wait started at the copy returns idle"
is "$(state)" idle "state: idle"
json_ok idle
is "$(table_states tgt)" "$part1_state" "every table equals the source's after part 1"
is "$(jget .transactions.applied)" "$part1_trx" "status.json: every transaction of part 1 applied once"

# ==== 3. a failure, fixed by hand, retry ====
server_sql tgt "INSERT INTO app.dup VALUES (500, 'on the target'), (501, 'on the target')"
ok "cp of part 2's binlogs" cp "${part2[@]}" "$mnt/binlogs/"
is "$(timeout 120 cat "$mnt/wait")" failed "wait returns failed"
is "$(state)" failed "state: failed"
json_ok failed
err_re="$dup_file:$dup_pos GTID $dup_gtid: .*1062.*Duplicate entry '500' for key 'PRIMARY'"
like "$(cat "$mnt/errors")" "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} $err_re" \
    "errors: time, FILE:POS, GTID, code 1062 and the server's message"
like "$(jget .last_error)" "$err_re" "status.json: last_error the same"
cmp_ok "$(jget .transactions.failed)" -ge 1 "status.json: transactions.failed counted"
refused state resume "resume: replay failed; write retry .* or skip"
is "$(timeout 10 cat "$mnt/wait")" failed "wait returns failed at once while failed"
is "$(tgt_count "app.log WHERE id >= 1080")" 0 "nothing after the failed transaction is applied"
server_sql tgt "DELETE FROM app.dup WHERE id = 500"
ok "control/state: retry" put state retry

# ==== 4. the next failure, skipped ====
is "$(timeout 120 cat "$mnt/wait")" failed "after the fix and retry, wait returns failed at the next duplicate"
err_re="$dup2_file:$dup2_pos GTID $dup2_gtid: .*1062.*Duplicate entry '501' for key 'PRIMARY'"
like "$(jget .last_error)" "$err_re" "status.json: last_error is the second duplicate"
is "$(tgt_count "app.dup WHERE id = 500 AND v = 'from the binlog'")" 1 "the retried insert is applied"
ok "control/state: skip while failed" put state skip
is "$(state)" paused "after skip: state paused"
is "$(jget .transactions.skipped)" 1 "status.json: transactions.skipped 1"
refused state skip "skip: replay is not held at a transaction \(state paused\)"
ok "control/state: resume" put state resume
is "$(timeout 120 cat "$mnt/wait")" idle "after skip and resume, wait returns idle"
is "$(state)" idle "state: idle"
json_ok "idle after retry"
is "$(jget '[.files[] | select(.state != "applied") | "\(.name) \(.state)"] | join(", ")')" "" \
    "status.json: every file applied"
refused state retry "retry: replay has not failed \(state idle\)"
is "$(jget .transactions.skipped)" 1 "status.json: still one transaction skipped"
mount_stop m
check $? "unmount: the daemon exits 0"
is "$(tgt_count "app.dup WHERE id = 501 AND v = 'on the target'")" 1 \
    "the skipped insert is not applied: the target's row is there"
is "$(tgt_count "app.log WHERE id >= 1090")" 6 "the transactions after the skipped one are applied (6 rows of app.log)"
# the one difference the skip leaves, put right by hand
server_sql tgt "UPDATE app.dup SET v = 'from the binlog' WHERE id = 501"
is "$(table_states tgt)" "$src_state" "every table equals the source's but for the skipped insert"
done_testing
