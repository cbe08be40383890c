#!/usr/bin/env bash
# binlogfs mount, interrupted mid-replay, then mounted again over the same
# spool: nothing applied twice, nothing missing.
#  1. kill -9 of the daemon at a random point of the replay (the seed is
#     printed; BLFS_SEED=N repeats a run), remount: wait says idle, the
#     remount had work left, every table equals the source's;
#  2. fusermount3 -u mid-replay: the daemon exits 0 (the transactions in
#     flight commit or roll back), remount: idle, every table equal;
#  3. --datadir (the embedded server), kill -9 of the daemon mid-replay:
#     the private mariadbd outlives it (it runs in a session of its own).
#     Decided behaviour: a remount on that data directory refuses, naming
#     the server and its pid (two servers on one data directory would
#     corrupt it; binlogfs does not adopt a server it no longer knows the
#     state of), and leaves that server alone; once it is stopped (SIGTERM:
#     a clean shutdown), the remount resumes and ends idle, the unmount
#     shuts the private server down cleanly, and the data directory starts
#     as a normal server (no crash recovery) with every table equal. A
#     SIGINT while a mount's private server starts stops the set-up and
#     leaves no process on the data directory.
# The workload is sysbench oltp_write_only (several binlog files, a few
# seconds of replay); the reference is the source itself.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/server.sh"
. "$here/../lib/oracle.sh"
. "$here/../lib/replay.sh"
. "$here/../lib/mount.sh"

# A private mariadbd that a killed mount left behind: its pid file is in
# SPOOL/run; ended by that pid, if it is still that server.
kill_private_servers() {
    local p pid
    for p in "$TEST_TMP"/spool*/run/mysqld.pid; do
        [ -f "$p" ] || continue
        pid=$(cat "$p")
        if tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -qxF -- "--pid-file=$p"; then
            kill -9 "$pid"
        fi
    done
}
trap 'mount_cleanup_all; kill_private_servers; tap_cleanup' EXIT
server_require
mount_require
command -v jq >/dev/null || skip_all "jq is not installed"
command -v sysbench >/dev/null || skip_all "sysbench is not installed"

seed=${BLFS_SEED:-$(($(date +%s%N) / 1000 % 32768))}
RANDOM=$seed
note "seed $seed (BLFS_SEED=$seed repeats this run's timing)"

# the private server's own options: a small buffer pool
mkdir -p "$TEST_TMP/cnf"
printf '[binlogfs-server]\ninnodb_buffer_pool_size=128M\n' >"$TEST_TMP/cnf/my.cnf"
export MYSQL_HOME=$TEST_TMP/cnf

# ---- the source ------------------------------------------------------------------------
src_opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW
    --max-binlog-size=1M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0)
server_start src "${src_opts[@]}" || bail_out "cannot start the source"
sb=(sysbench oltp_write_only --db-driver=mysql --mysql-socket="$(server_sock src)" --mysql-user=root
    --mysql-db=sbtest --tables=4 --table-size=2000 --threads=8 --rand-type=uniform)
server_sql src "CREATE DATABASE sbtest"
"${sb[@]}" prepare >"$TEST_TMP/prepare.log" 2>&1 || bail_out "sysbench prepare failed"
replay_backup src backup || bail_out "cannot take the backup"
"${sb[@]}" --events=16000 --time=0 run >"$TEST_TMP/run.log" 2>&1 || bail_out "sysbench run failed"
server_sql src "FLUSH BINARY LOGS"
src_state=$(db_table_states src)
server_stop src
mapfile -t files < <(replay_binlogs src)
[ "${#files[@]}" -ge 3 ] || bail_out "expected several binlog files, got ${#files[@]}"

mnt=$TEST_TMP/mnt
sj() { jq -r "$1" "$mnt/status.json"; }

# at_random_point PCT MS: returns once replay has applied PCT% of the
# bytes, plus MS ms; prints where that was. Returns 1 if replay is no
# longer running then. (`progress` is read without a fork: replay is fast.)
# RANDOM is drawn by the script itself, before $(...): a subshell reseeds it.
at_random_point() {
    local pct=$1 pause=$2 i line now
    for ((i = 0; i < 6000; i++)); do
        read -r line <"$mnt/progress"
        now=${line%%.*}
        [ "$now" -lt 100 ] || break
        [ "$now" -ge "$pct" ] && break
        sleep 0.01
    done
    sleep "$(printf '0.%03d' "$pause")"
    line=$(cat "$mnt/progress")
    echo "$pct% + ${pause} ms: $line"
    [ "$(cat "$mnt/control/state")" = running ] && [ "${line%%.*}" -lt 100 ]
}

# the PIDs of the processes whose command line has --datadir=DIR
datadir_pids() {
    local p
    for p in /proc/[0-9]*; do
        tr '\0' '\n' 2>/dev/null <"$p/cmdline" | grep -qxF -- "--datadir=$1" && echo "${p#/proc/}"
    done
}

# ---- 1. kill -9 of the daemon mid-replay ---------------------------------------------------
backup_datadir backup t1
server_start t1 || bail_out "cannot start target t1"
mount_start k1 "$mnt" "$TEST_TMP/spool1" --socket="$(server_sock t1)" --user=root -o workers=4 ||
    bail_out "no mount"
ok "cp of ${#files[@]} binlogs" cp "${files[@]}" "$mnt/binlogs/"
pct=$((5 + RANDOM % 56)) ms=$((RANDOM % 200))
where=$(at_random_point "$pct" "$ms")
check $? "replay runs when the kill comes, at $where"
pid=$(mount_pid k1)
mount_kill k1
ok "kill -9: the daemon is gone" sh -c "! kill -0 $pid 2>/dev/null"
nok "... and so is the mount" mounted "$mnt"
mount_start k2 "$mnt" "$TEST_TMP/spool1" --socket="$(server_sock t1)" --user=root
check $? "a remount over the same spool starts"
is "$(timeout 120 cat "$mnt/wait")" idle "the remount ends idle"
cmp_ok "$(sj .transactions.applied)" -gt 0 "the remount applied what was left"
is "$(sj '[.files[] | select(.state != "applied")] | length')" 0 "every file is applied"
is "$(cat "$mnt/errors")" "" "no error"
mount_stop k2
check $? "unmount: exit 0"
is "$(db_table_states t1)" "$src_state" "every table equals the source's: nothing twice, nothing missing"
server_stop t1

# ---- 2. unmount mid-replay ----------------------------------------------------------------------
backup_datadir backup t2
server_start t2 || bail_out "cannot start target t2"
mount_start u1 "$mnt" "$TEST_TMP/spool2" --socket="$(server_sock t2)" --user=root -o workers=4 ||
    bail_out "no mount"
ok "cp of ${#files[@]} binlogs" cp "${files[@]}" "$mnt/binlogs/"
pct=$((5 + RANDOM % 56)) ms=$((RANDOM % 200))
where=$(at_random_point "$pct" "$ms")
check $? "replay runs when the unmount comes, at $where"
mount_stop u1
check $? "fusermount3 -u mid-replay: the daemon exits 0"
like "$(cat "$(mount_log u1)")" 'unmounting: the transactions in flight commit or roll back' \
    "... having said it lets the transactions in flight end"
mount_start u2 "$mnt" "$TEST_TMP/spool2" --socket="$(server_sock t2)" --user=root
check $? "a remount over the same spool starts"
is "$(timeout 120 cat "$mnt/wait")" idle "the remount ends idle"
cmp_ok "$(sj .transactions.applied)" -gt 0 "the remount applied what was left"
is "$(cat "$mnt/errors")" "" "no error"
mount_stop u2
check $? "unmount: exit 0"
is "$(db_table_states t2)" "$src_state" "every table equals the source's: nothing twice, nothing missing"
server_stop t2

# ---- 3. --datadir: kill -9 of the daemon, the private server orphaned ------------------------------
backup_datadir backup dd
datadir=$(server_datadir dd)
spool3=$TEST_TMP/spool3
mount_start d1 "$mnt" "$spool3" --datadir="$datadir" -o workers=4 || bail_out "no mount with --datadir"
ok "cp of ${#files[@]} binlogs" cp "${files[@]}" "$mnt/binlogs/"
pct=$((5 + RANDOM % 56)) ms=$((RANDOM % 200))
where=$(at_random_point "$pct" "$ms")
check $? "replay runs when the kill comes, at $where"
orphan=$(cat "$spool3/run/mysqld.pid" 2>/dev/null)
mount_kill d1
ok "kill -9 of binlogfs: its private server (pid $orphan) keeps running" kill -0 "${orphan:-0}"

out=$("$BINLOGFS" mount -f --spool="$spool3" --datadir="$datadir" "$mnt" 2>&1)
rc=$?
note "the remount says: $out"
is "$rc" 1 "a remount on that data directory refuses: exit 1"
like "$out" "$datadir is in use by a running server \(mariadbd, pid $orphan,.*kill -TERM $orphan" \
    "... the message names the data directory, the server and its pid, and how to stop it"
nok "... nothing is mounted" mounted "$mnt"
ok "... and the orphaned server is left alone: it still answers" \
    "$MARIADB_CLIENT" --no-defaults --socket="$spool3/run/mysqld.sock" -uroot -e "SELECT 1"

kill -TERM "$orphan"
for ((i = 0; i < 600; i++)); do
    kill -0 "$orphan" 2>/dev/null || break
    sleep 0.1
done
ok "SIGTERM stops the orphaned server" sh -c "! kill -0 $orphan 2>/dev/null"
like "$(tail -n 5 "$spool3/run/error.log" 2>/dev/null)" 'Shutdown complete' "... cleanly (Shutdown complete)"

# SIGTERM while the private server starts (a Ctrl-C's SIGINT is ignored
# in a background job): the set-up stops and takes down what it built, the
# server included; if it comes once mounted, the unmount does the same
# (a spool of its own, empty: replay's progress stays as the kill left it)
"$BINLOGFS" mount -f --spool="$TEST_TMP/spool4" --datadir="$datadir" "$mnt" >"$TEST_TMP/sigint.out" 2>&1 &
mpid=$!
# the private server's process (the mount's own command line names the
# data directory too)
server_up() {
    local p
    for p in $(datadir_pids "$datadir"); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = mariadbd ] && return 0
    done
    return 1
}
# SPOOL/run is made as the private server's start begins (signals are
# caught from just before)
for ((i = 0; i < 1500; i++)); do
    [ -d "$TEST_TMP/spool4/run" ] && break
    sleep 0.01
done
ok "a mount with --datadir begins to start its private server" test -d "$TEST_TMP/spool4/run"
kill -TERM $mpid
for ((i = 0; i < 600; i++)); do
    kill -0 $mpid 2>/dev/null || break
    sleep 0.1
done
if kill -0 $mpid 2>/dev/null; then
    diag "the mount did not exit within 60 s of SIGTERM: killed"
    fusermount3 -u -z "$mnt" 2>/dev/null
    { kill -9 $mpid && wait $mpid; } 2>/dev/null
fi
wait $mpid
rc=$?
out=$(cat "$TEST_TMP/sigint.out")
note "the mount said: $out"
if [[ $out == *"interrupted by signal 15"* ]]; then
    like "$out" "set-up stopped: interrupted by signal 15" "SIGTERM during the set-up: the message says the set-up stopped, not which step failed"
    is "$rc" 1 "SIGTERM during the set-up: the mount exits 1, saying it was interrupted"
else
    like "$out" "signal 15 .* received" "SIGTERM once mounted (the set-up was quicker): the mount says so"
    is "$rc" 0 "... and exits 0 after the unmount"
fi
like "$out" "the private server on $datadir stopped cleanly" "... the private server is stopped cleanly" ||
    diag "$out"
is "$(datadir_pids "$datadir")" "" "... no process is left on the data directory"
nok "... nothing is mounted" mounted "$mnt"

mount_start d2 "$mnt" "$spool3" --datadir="$datadir"
check $? "then the remount starts (a new private server)"
is "$(timeout 120 cat "$mnt/wait")" idle "the remount ends idle"
cmp_ok "$(sj .transactions.applied)" -gt 0 "the remount applied what was left"
is "$(cat "$mnt/errors")" "" "no error"
mount_stop d2
check $? "unmount: exit 0 (the private server stopped cleanly)"
like "$(cat "$(mount_log d2)")" "the private server on $datadir stopped cleanly" "... as the log says"
is "$(datadir_pids "$datadir")" "" "no process runs on the data directory"
server_start dd || bail_out "the data directory does not start as a normal server"
unlike "$(cat "$(server_dir dd)/error.log")" 'crash recovery|Starting crash recovery' \
    "it starts without crash recovery"
is "$(db_table_states dd)" "$src_state" "every table equals the source's: nothing twice, nothing missing"
done_testing
