#!/usr/bin/env bash
# binlogfs mount, the files dropped in: how binlogs/ orders, queues, refuses
# and recovers, over one mount on one target.
#  - several files copied at once in reverse order (cp F3 F2 F1) start at
#    F1: nothing rejected, then `waiting` for F4 (F3 rotates to it);
#  - files dropped while replay is paused and while it runs join the queue
#    (F4 is large; pause, drop F5, resume, drop F6 while F4 still runs);
#  - a file that sorts before the position (the binlog before the backup
#    point) is refused: a clear line in errors, state rejected in
#    status.json, never applied;
#  - a gap (F7 F8 F10): `waiting`, waiting_for names F9; F9 dropped: on;
#  - a garbage file: refused, the error names the file and the offset;
#    the mount keeps working and the next good file applies;
#  - a binlog damaged in the middle (a CRC error): failed, the error names
#    file:offset; the good copy over it carries on (exactly once);
#  - a truncated binlog (cut mid-event): failed or waiting, the error has
#    file:offset and where the last complete transaction ends; the complete
#    file copied over it carries on (a new copy of a file replay read
#    restarts from the progress rows).
# Ends with the oracle: every table equals the source's and the pipe's
# (`mariadb-binlog | mariadb` on the same backup).
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

# ---- a source: a backup point, then 13 binlog files of changes -------------------
src_opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0)
server_start src "${src_opts[@]}" || bail_out "cannot start the source"
server_sql src "CREATE DATABASE shop;
    CREATE TABLE shop.items (id INT PRIMARY KEY, qty INT NOT NULL, note VARCHAR(60)) ENGINE=InnoDB;
    CREATE TABLE shop.log (id INT AUTO_INCREMENT PRIMARY KEY, item INT, note TEXT) ENGINE=InnoDB;
    USE shop; INSERT INTO shop.items SELECT seq, 0, NULL FROM seq_1_to_50;"
server_sql src "FLUSH BINARY LOGS"
first=$(basename "$(server_binlogs src | tail -n 1)")
server_backup_restart src backup "${src_opts[@]}" || bail_out "cannot restart the source"
# 13 rounds of non-idempotent changes (qty = qty + 1, auto-increment
# inserts, deletes), so that a transaction applied twice or missed shows,
# each ending its file. Round 3 is larger and holds, half-way, a slow
# statement (statement-based, SLEEP(2)): replay is known to be running
# in its file for two seconds.
{
    for k in $(seq 1 13); do
        n=40
        [ "$k" != 3 ] || n=600
        for ((i = 1; i <= n; i++)); do
            echo "UPDATE shop.items SET qty = qty + 1, note = 'f$k i$i' WHERE id = $(((i * 7 + k) % 50 + 1));"
            echo "INSERT INTO shop.log (item, note) VALUES ($k, REPEAT('$k', $((i % 40 + 1))));"
            [ $((i % 9)) != 0 ] || echo "DELETE FROM shop.log WHERE id = $((k * 10 + i / 9));"
            [ "$k $i" != "3 300" ] || echo "SET SESSION binlog_format = STATEMENT;
                UPDATE shop.items SET note = 'slow' WHERE id = 1 AND SLEEP(2) = 0;
                SET SESSION binlog_format = ROW;"
        done
        echo "FLUSH BINARY LOGS;"
    done
} | server_sql_file src 2>/dev/null || bail_out "the workload failed"
src_state=$(table_states src)
server_stop src
before=
files=()
for f in $(server_binlogs src); do
    if [ "$(basename "$f")" \< "$first" ]; then
        before=$f
    else
        files+=("$f")
    fi
done
[ "${#files[@]}" = 15 ] || bail_out "expected 15 binlog files since the backup, got ${#files[@]}"
[ -n "$before" ] || bail_out "no binlog before the backup point"
# F[1..15]: F[1] the backup point's file (no transaction: the source
# stopped), F[2..14] the rounds (F[4] the large one), F[15] the file the
# source was writing when it stopped (no Rotate at its end)
F=("" "${files[@]}")
N=()
for i in $(seq 1 15); do N[i]=$(basename "${F[i]}"); done

backup_datadir backup pipe
server_start pipe || bail_out "cannot start the pipe target"
pipe_apply pipe "${files[@]}"
is "$(table_states pipe)" "$src_state" "the pipe reproduces the source"
server_stop pipe

backup_datadir backup tgt
server_start tgt || bail_out "cannot start the target"
mnt=$TEST_TMP/mnt
spool=$TEST_TMP/spool
mount_start m "$mnt" "$spool" --socket="$(server_sock tgt)" --user=root -o workers=4 ||
    bail_out "no mount"

sj() { jq -r "$1" "$mnt/status.json"; }
fstate() { jq -r --arg n "$1" '.files[] | select(.name == $n) | .state' "$mnt/status.json"; }
ferror() { jq -r --arg n "$1" '.files[] | select(.name == $n) | .error // ""' "$mnt/status.json"; }
# until_state STATE [SECONDS]: polls control/state until it reads STATE
until_state() {
    local want=$1 t=${2:-60} i st
    for ((i = 0; i < t * 10; i++)); do
        st=$(cat "$mnt/control/state")
        [ "$st" = "$want" ] && return 0
        sleep 0.1
    done
    diag "state is '$st' after ${t}s, not '$want'; last error: $(sj .last_error)"
    return 1
}
nerrors() { wc -l <"$mnt/errors"; }

# ---- several files at once, in reverse order -----------------------------------------
ok "cp ${N[3]} ${N[2]} ${N[1]} (reverse order, one cp)" cp "${F[3]}" "${F[2]}" "${F[1]}" "$mnt/binlogs/"
ok "replay goes through them and waits for ${N[4]}" until_state waiting 60
is "$(sj .waiting_for)" "${N[4]}" "status.json: waiting_for names ${N[4]}"
is "$(sj '[.files[] | .name + " " + .state] | join(", ")')" \
    "${N[1]} applied, ${N[2]} applied, ${N[3]} applied" "status.json: the three files are applied"
is "$(cat "$mnt/errors")" "" "no error: replay began at ${N[1]}, not at the first file copied"
is "$(sj '.position.file')" "${N[3]}" "the position is at the end of ${N[3]}"

# ---- files dropped while replay is paused and while it runs join the queue ------------
ok "echo pause > control/state" sh -c "echo pause > '$mnt/control/state'"
ok "cp ${N[4]} while paused" cp "${F[4]}" "$mnt/binlogs/"
is "$(cat "$mnt/control/state")" paused "the state stays paused"
ok "cp ${N[5]} while paused" cp "${F[5]}" "$mnt/binlogs/"
like "$(fstate "${N[5]}")" '^(queued|reading|read)$' "${N[5]} is queued behind ${N[4]}"
applied_paused=$(sj .transactions.applied)
sleep 0.5
is "$(sj .transactions.applied)" "$applied_paused" "nothing is applied while paused"
ok "echo resume > control/state" sh -c "echo resume > '$mnt/control/state'"
# replay reaches the slow statement half-way through F4 and runs it 2 s
for ((i = 0; i < 100; i++)); do
    [ "$(sj '.state + " " + .position.file')" = "running ${N[4]}" ] && break
    sleep 0.05
done
is "$(sj '.state + " " + .position.file')" "running ${N[4]}" "replay runs in ${N[4]}"
ok "cp ${N[6]} while replay runs" cp "${F[6]}" "$mnt/binlogs/"
is "$(sj '.state + " " + .position.file')" "running ${N[4]}" "... still in ${N[4]} after the copy"
like "$(fstate "${N[6]}")" '^(queued|reading|read)$' "${N[6]} joins the queue"
ok "replay goes through ${N[4]}..${N[6]} and waits for ${N[7]}" until_state waiting 120
is "$(sj .waiting_for)" "${N[7]}" "waiting_for names ${N[7]}"
is "$(sj '[.files[] | select(.state != "applied") | .name + " " + .state] | join(", ")')" "" \
    "every file so far is applied"
is "$(cat "$mnt/errors")" "" "still no error"

# ---- a file that sorts before the position ---------------------------------------------
state_before=$(table_states tgt)
out=$(cp "$before" "$mnt/binlogs/" 2>&1)
check $? "cp of $(basename "$before") (before the backup point) succeeds: the copy is durable" ||
    diag "$out"
like "$(cat "$mnt/errors")" "$(basename "$before") sorts before the current position ${N[6]}:[0-9]+.*not applied" \
    "errors: it sorts before the current position, not applied"
is "$(fstate "$(basename "$before")")" rejected "status.json: its state is rejected"
like "$(ferror "$(basename "$before")")" 'sorts before the current position' "... with the reason"
is "$(cat "$mnt/control/state")" waiting "the state is unchanged (waiting for ${N[7]})"
is "$(table_states tgt)" "$state_before" "nothing of it is applied"

# ---- a gap: F7 F8 F10, then F9 ------------------------------------------------------------
ok "cp ${N[7]} ${N[8]} ${N[10]}" cp "${F[7]}" "${F[8]}" "${F[10]}" "$mnt/binlogs/"
ok "the state is waiting" until_state waiting 60
for ((i = 0; i < 50; i++)); do
    [ "$(sj .position.file)" = "${N[8]}" ] && break
    sleep 0.1
done
is "$(sj .waiting_for)" "${N[9]}" "status.json: waiting_for names the missing ${N[9]}"
like "$(cat "$mnt/status")" "${N[9]}" "status names it too"
is "$(fstate "${N[8]}") $(fstate "${N[10]}")" "applied queued" "${N[8]} applied, ${N[10]} queued"
ok "cp ${N[9]}" cp "${F[9]}" "$mnt/binlogs/"
ok "the gap is filled: replay goes on and waits for ${N[11]}" until_state waiting 60
for ((i = 0; i < 50; i++)); do
    [ "$(sj .waiting_for)" = "${N[11]}" ] && break
    sleep 0.1
done
is "$(sj .waiting_for)" "${N[11]}" "waiting_for names ${N[11]}"
is "$(fstate "${N[9]}") $(fstate "${N[10]}")" "applied applied" "${N[9]} and ${N[10]} applied"

# ---- a garbage file -----------------------------------------------------------------------
head -c 100000 /dev/urandom >"$TEST_TMP/junk.000001"
ok "cp of a garbage file succeeds (the copy is durable)" cp "$TEST_TMP/junk.000001" "$mnt/binlogs/"
# the file is read after its copy ends, by the engine's own thread
for ((i = 0; i < 100; i++)); do
    grep -q 'junk\.000001' "$mnt/errors" && break
    sleep 0.1
done
like "$(cat "$mnt/errors")" 'junk\.000001:[0-9]+: ' "errors: the garbage file is named, with an offset"
is "$(fstate junk.000001)" rejected "status.json: the garbage file is rejected"
ok "the mount keeps working: status.json parses" jq -e .state "$mnt/status.json"
is "$(cat "$mnt/control/state")" waiting "the state is still waiting (for ${N[11]})"
ok "cmp: the garbage file reads back as written" cmp "$TEST_TMP/junk.000001" "$mnt/binlogs/junk.000001"
ok "cp ${N[11]} (the next good file)" cp "${F[11]}" "$mnt/binlogs/"
ok "it applies: waiting for ${N[12]}" until_state waiting 60
for ((i = 0; i < 50; i++)); do
    [ "$(sj .waiting_for)" = "${N[12]}" ] && break
    sleep 0.1
done
is "$(sj .waiting_for) $(fstate "${N[11]}")" "${N[12]} applied" "${N[11]} applied, waiting for ${N[12]}"

# ---- a binlog damaged in the middle ---------------------------------------------------------
# the offset of an event half-way through the file; its body gets garbage
mapfile -t offs < <("$BINLOGFS" inspect --events "${F[12]}" | awk '$1 ~ /^[0-9]+$/ {print $1}')
[ "${#offs[@]}" -gt 20 ] || bail_out "binlogfs inspect --events ${N[12]} gave ${#offs[@]} offsets"
bad=${offs[$((${#offs[@]} / 2))]}
cp "${F[12]}" "$TEST_TMP/${N[12]}"
printf 'GARBAGE-GARBAGE' | dd of="$TEST_TMP/${N[12]}" bs=1 seek=$((bad + 20)) conv=notrunc status=none
# the same size and time as the good file: cp -p of one after the other
# must still count as a new copy
touch -r "${F[12]}" "$TEST_TMP/${N[12]}"
applied_before=$(server_sql tgt "SELECT COUNT(*) FROM shop.log")
n0=$(nerrors)
ok "cp -p of ${N[12]} damaged at offset $bad" cp -p "$TEST_TMP/${N[12]}" "$mnt/binlogs/"
ok "replay fails at the damage" until_state failed 60
is "$(timeout 20 cat "$mnt/wait")" failed "wait returns failed"
like "$(tail -n +$((n0 + 1)) "$mnt/errors")" "${N[12]}:$bad: " "errors: the damaged file and the event's offset"
is "$(fstate "${N[12]}")" failed "status.json: ${N[12]} failed"
cmp_ok "$(server_sql tgt "SELECT COUNT(*) FROM shop.log")" -gt "$applied_before" \
    "the transactions before the damage are applied"
ok "cp -p of the good ${N[12]} over it (same size and time)" cp -p "${F[12]}" "$mnt/binlogs/"
ok "replay carries on: waiting for ${N[13]}" until_state waiting 60
for ((i = 0; i < 50; i++)); do
    [ "$(sj .waiting_for)" = "${N[13]}" ] && break
    sleep 0.1
done
is "$(sj .waiting_for) $(fstate "${N[12]}")" "${N[13]} applied" "${N[12]} applied, waiting for ${N[13]}"

# ---- a truncated binlog -----------------------------------------------------------------------
mapfile -t offs < <("$BINLOGFS" inspect --events "${F[13]}" | awk '$1 ~ /^[0-9]+$/ {print $1}')
cut=$((${offs[$((${#offs[@]} * 2 / 3))]} + 10)) # inside an event, two thirds into the file
head -c "$cut" "${F[13]}" >"$TEST_TMP/${N[13]}.cut"
n0=$(nerrors)
ok "cp of ${N[13]} cut at byte $cut of $(stat -c %s "${F[13]}")" cp "$TEST_TMP/${N[13]}.cut" "$mnt/binlogs/${N[13]}"
ok "replay stops at the cut: failed" until_state failed 60
errs=$(tail -n +$((n0 + 1)) "$mnt/errors")
like "$errs" "${N[13]}:[0-9]+: " "errors: the truncated file with an offset"
like "$errs" "last complete transaction ends at ${N[13]}:[0-9]+" "... and where its last complete transaction ends"
last_end=$(printf '%s\n' "$errs" | sed -n "s/.*last complete transaction ends at ${N[13]}:\([0-9]*\).*/\1/p" | head -n 1)
cmp_ok "${last_end:-0}" -lt "$cut" "... which is before the cut"
is "$(sj .position.file)" "${N[13]}" "the transactions before the cut are applied"
ok "cp of the complete ${N[13]} over it" cp "${F[13]}" "$mnt/binlogs/"
ok "replay carries on: waiting for ${N[14]}" until_state waiting 60
is "$(sj .waiting_for) $(fstate "${N[13]}")" "${N[14]} applied" "${N[13]} applied, waiting for ${N[14]}"

# A copy cut at the end of a transaction looks like the source's active
# binlog (no Rotate yet): replay applies what is there and is idle; the
# complete copy then carries on the same way.
mapfile -t ends < <("$BINLOGFS" inspect --transactions --json "${F[14]}" | jq -r .end)
cut=${ends[$((${#ends[@]} / 2))]}
ok "cp of ${N[14]} cut at the end of a transaction (byte $cut)" \
    sh -c "head -c $cut '${F[14]}' > '$mnt/binlogs/${N[14]}'"
ok "replay applies what is there: idle" until_state idle 60
is "$(sj '.position.file + ":" + (.position.pos | tostring)')" "${N[14]}:$cut" "the position is the cut"
ok "cp of the complete ${N[14]} over it" cp "${F[14]}" "$mnt/binlogs/"
ok "replay carries on: waiting for ${N[15]}" until_state waiting 60
is "$(sj .waiting_for) $(fstate "${N[14]}")" "${N[15]} applied" "${N[14]} applied, waiting for ${N[15]}"
ok "cp ${N[15]} (the last file)" cp "${F[15]}" "$mnt/binlogs/"
is "$(timeout 120 cat "$mnt/wait")" idle "wait returns idle"
is "$(sj '[.files[] | select(.state != "applied") | .name + " " + .state] | join(", ")')" \
    "$(basename "$before") rejected, junk.000001 rejected" "every binlog is applied but the two refused"

# ---- the oracle ------------------------------------------------------------------------------
mount_stop m
check $? "fusermount3 -u: the daemon exits 0"
is "$(table_states tgt)" "$src_state" "every table equals the source's (and the pipe's)"
done_testing
