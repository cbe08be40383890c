#!/usr/bin/env bash
# binlogfs mount, the basics: the layout and modes of the contract, binlogs
# dropped in with cp (several at once) and rsync (temporary name, then
# rename) are applied and read back as written, `wait` returns idle, every
# table equals the source, status.json has the contract's keys, progress
# and metrics have their formats, control/workers reads and changes and
# refuses an invalid value with EINVAL and a reason in `errors`, unmount
# leaves no process, and a remount over the same spool resumes (nothing
# applied twice); a copy cut short by kill -9 is not replayed by the next
# mount; the mount takes the replay options, also as -o (-o
# disable_log_bin onto a binlogged target: the tables equal, its binlog
# not grown).
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
command -v rsync >/dev/null || skip_all "rsync is not installed"

# ---- a source with a backup point and binlogs after it ----
src_opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW)
server_start src "${src_opts[@]}" || bail_out "cannot start the source"
server_sql src "CREATE DATABASE shop;
    CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40), qty INT) ENGINE=InnoDB;
    CREATE TABLE shop.log (id INT AUTO_INCREMENT PRIMARY KEY, item INT, note TEXT) ENGINE=InnoDB;
    INSERT INTO shop.items VALUES (1, 'one', 1), (2, 'two', 2);"
server_sql src "FLUSH BINARY LOGS"
first=$(basename "$(server_binlogs src | tail -n 1)")
server_backup_restart src backup "${src_opts[@]}" || bail_out "cannot restart the source"
{
    for i in $(seq 3 400); do
        echo "INSERT INTO shop.items VALUES ($i, 'item $i', $i);"
        echo "INSERT INTO shop.log (item, note) VALUES ($i, REPEAT('x', $i));"
        [ $((i % 7)) != 0 ] || echo "UPDATE shop.items SET qty = qty + 1 WHERE id = $((i - 5));"
        [ $((i % 11)) != 0 ] || echo "DELETE FROM shop.items WHERE id = $((i - 9));"
        [ $((i % 100)) != 0 ] || echo "FLUSH BINARY LOGS;"
    done
    echo "ALTER TABLE shop.items ADD COLUMN price DECIMAL(10,2) DEFAULT 1.50;"
    echo "UPDATE shop.items SET price = id / 3;"
} | server_sql_file src || bail_out "the workload failed"
server_sql src "FLUSH BINARY LOGS"
src_state=$(table_states src)
server_stop src
mapfile -t files < <(server_binlogs_from src "$first")
[ "${#files[@]}" -ge 4 ] || bail_out "expected several binlog files, got ${#files[@]}"
half=$((${#files[@]} / 2))

backup_datadir backup tgt
server_start tgt || bail_out "cannot start the target"

# ---- mount ----
mnt=$TEST_TMP/mnt
spool=$TEST_TMP/spool
mount_start m "$mnt" "$spool" --socket="$(server_sock tgt)" --user=root -o workers=4
check $? "binlogfs mount -f starts and mounts" || bail_out "no mount"

is "$(cd "$mnt" && ls -A | tr '\n' ' ')" \
    "binlogs control errors metrics progress status status.json wait " "the root holds the contract's entries"
is "$(cd "$mnt/control" && ls -A | tr '\n' ' ')" "start-at state stop-at workers " "control/ holds the four settings"
modes=$(cd "$mnt" && stat -c '%n %A' status status.json progress errors metrics wait control/* binlogs control)
is "$modes" "status -r--r--r--
status.json -r--r--r--
progress -r--r--r--
errors -r--r--r--
metrics -r--r--r--
wait -r--r--r--
control/start-at -rw-r--r--
control/state -rw-r--r--
control/stop-at -rw-r--r--
control/workers -rw-r--r--
binlogs drwxr-x---
control dr-xr-xr-x" "modes: status files read-only, control files read-write, binlogs/ a directory"
is "$(cat "$mnt/control/workers")" 4 "control/workers reads the -o workers=4 setting"
# (state reads running while replay starts: connections, the target's keys)
is "$(timeout 20 cat "$mnt/wait")" idle "wait returns idle when there is nothing to do"
is "$(cat "$mnt/control/state")" idle "an empty workspace is idle"
nok "status files cannot be written" bash -c "echo x > '$mnt/status'"
nok "nothing can be created at the root" touch "$mnt/newfile"

# ---- the first half by cp of several files at once, the rest by rsync ----
ok "cp of ${half} binlogs into binlogs/" cp "${files[@]:0:half}" "$mnt/binlogs/"
ok "rsync of the other binlogs (temporary names, then rename)" \
    rsync -a "${files[@]:half}" "$mnt/binlogs/"
is "$(timeout 300 cat "$mnt/wait")" idle "wait blocks until everything is applied, then says idle"
is "$(table_states tgt)" "$src_state" "every table equals the source's"
same=0
for f in "${files[@]}"; do
    cmp -s "$f" "$mnt/binlogs/$(basename "$f")" || { same=1; diag "$(basename "$f") reads back different"; }
    cmp -s "$f" "$spool/binlogs/$(basename "$f")" || { same=1; diag "$(basename "$f") differs in the spool"; }
done
check $same "every file reads back as written, in the mount and in the spool"
is "$(cd "$mnt/binlogs" && ls -A | grep -c '^\.')" 0 "no temporary file is left in binlogs/"

# ---- status.json, status, progress, metrics ----
json=$(cat "$mnt/status.json")
ok "status.json parses as JSON" jq -e . <<<"$json"
ok "status.json has the contract's keys" jq -e '
    (["state","workers","position","transactions","bytes","rate","eta_s","waiting_for","files","last_error"]
        - keys | length == 0)
    and (.position | has("file") and has("pos") and has("gtid"))
    and (.transactions | has("applied") and has("skipped") and has("retried") and has("failed"))
    and (.bytes | has("applied") and has("total"))
    and (.rate | has("transactions_per_s") and has("bytes_per_s"))
    and (.files | length > 0) and (.files[0] | has("name") and has("size") and has("state") and has("error"))' <<<"$json"
is "$(jq -r '.state' <<<"$json")" idle "status.json: state idle"
is "$(jq -r '[.files[] | select(.state != "applied" and .state != "read")] | map(.name + " " + .state) |
    join(", ")' <<<"$json")" "" "status.json: every file read and applied"
like "$(jq -r '.position.file + ":" + (.position.pos | tostring)' <<<"$json")" '^bin\.[0-9]+:[1-9][0-9]*$' \
    "status.json: the position is a file and an offset"
cmp_ok "$(jq -r '.transactions.applied' <<<"$json")" -ge 800 "status.json: the transactions are counted"
like "$(cat "$mnt/status")" '^state: +idle$' "status: a human summary starting with the state"
like "$(cat "$mnt/progress")" '^100\.0% [0-9]+/[0-9]+ trx [0-9]+ trx/s ETA ([0-9]{2,}:[0-9]{2}:[0-9]{2}|--:--:--)$' \
    "progress: one line PCT% APPLIED/TOTAL trx RATE trx/s ETA HH:MM:SS"
metrics=$(cat "$mnt/metrics")
like "$metrics" '^binlogfs_state\{state="idle"\} 1$' "metrics: the state"
like "$metrics" '^binlogfs_transactions_total\{result="applied"\} [0-9]+$' "metrics: transactions by result"
like "$metrics" '^# TYPE binlogfs_bytes_applied_total counter$' "metrics: typed (Prometheus text format)"
unlike "$metrics" '^[^#]*[^ -~]' "metrics: plain ASCII"

# ---- control/workers ----
ok "echo 3 > control/workers" bash -c "echo 3 > '$mnt/control/workers'"
is "$(cat "$mnt/control/workers")" 3 "control/workers reads the new value"
out=$(bash -c "echo lots > '$mnt/control/workers'" 2>&1)
check $((! $?)) "an invalid worker count is refused"
like "$out" 'Invalid argument' "... with EINVAL"
like "$(cat "$mnt/errors")" 'lots' "... and the reason is in errors"
nok "0 workers is refused" bash -c "echo 0 > '$mnt/control/workers'"
nok "257 workers is refused" bash -c "echo 257 > '$mnt/control/workers'"
is "$(cat "$mnt/control/workers")" 3 "control/workers keeps its value after refusals"
nok "an unknown command to control/state is refused" bash -c "echo dance > '$mnt/control/state'"
like "$(tail -n 1 "$mnt/errors")" 'dance' "... and explained in errors"

# ---- unmount, remount over the same spool ----
pid=$(mount_pid m)
mount_stop m
check $? "fusermount3 -u: the daemon exits 0"
ok "no binlogfs process is left" sh -c "! kill -0 $pid 2>/dev/null"
nok "the mount is gone" mounted "$mnt"
applied=$(server_sql tgt "SELECT COUNT(*) FROM shop.log")
mount_start m2 "$mnt" "$spool" --socket="$(server_sock tgt)" --user=root
check $? "a remount over the same spool starts"
is "$(timeout 120 cat "$mnt/wait")" idle "the remount settles to idle"
is "$(cat "$mnt/control/workers")" 3 "the worker count set before the unmount is kept"
is "$(jq -r '.transactions.applied' "$mnt/status.json")" 0 "the remount applies nothing again"
is "$(server_sql tgt "SELECT COUNT(*) FROM shop.log")" "$applied" "the target is unchanged"
pid=$(mount_pid m2)
mount_stop m2
check $? "the second unmount exits 0"
ok "no binlogfs process is left after the second unmount" sh -c "! kill -0 $pid 2>/dev/null"

# ---- a copy cut short by kill -9 is not taken for a complete file ----
mount_start m3 "$mnt" "$spool" --socket="$(server_sock tgt)" --user=root || bail_out "no third mount"
exec 7>"$mnt/binlogs/bin.999999"
head -c 1000 "${files[0]}" >&7
ok "a file being written is marked incomplete in the spool" test -e "$spool/incomplete/bin.999999"
mount_kill m3
exec 7>&-
mount_start m4 "$mnt" "$spool" --socket="$(server_sock tgt)" --user=root
check $? "a mount after kill -9 starts"
like "$(cat "$mnt/errors")" 'bin\.999999: binlogfs stopped while it was being copied' \
    "the partial copy is reported in errors"
is "$(jq -r '[.files[].name] | index("bin.999999")' "$mnt/status.json")" null "... and not handed to replay"
ok "rm of the partial copy" rm "$mnt/binlogs/bin.999999"
nok "... clears its marker" test -e "$spool/incomplete/bin.999999"
is "$(timeout 120 cat "$mnt/wait")" idle "replay is idle"
mount_stop m4
check $? "the last unmount exits 0"
is "$(table_states tgt)" "$src_state" "every table still equals the source's"

# ---- the mount takes the replay options: -D onto a target with a binlog ----
backup_datadir backup tgtlog
server_start tgtlog --log-bin="$TEST_TMP/tgtlog/binlog/tbin" --server-id=2 || bail_out "cannot start tgtlog"
before=$(server_sql tgtlog "SHOW MASTER STATUS" | cut -f1,2)
mount_start m5 "$TEST_TMP/mnt5" "$TEST_TMP/spool5" --socket="$(server_sock tgtlog)" --user=root \
    -o workers=2,disable_log_bin
check $? "binlogfs mount -o disable_log_bin (the fstab form of -D) starts"
cp "${files[@]}" "$TEST_TMP/mnt5/binlogs/"
is "$(timeout 120 cat "$TEST_TMP/mnt5/wait")" idle "mount -D: the binlogs are applied"
is "$(table_states tgtlog)" "$src_state" "mount -D: every table equals the source's"
is "$(server_sql tgtlog "SHOW MASTER STATUS" | cut -f1,2)" "$before" "mount -D: the target's binlog has not grown"
mount_stop m5
check $? "mount -D: unmount exits 0"
done_testing
