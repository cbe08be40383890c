# shellcheck shell=bash
# tests/lib/mount.sh — binlogfs mounts for the integration tests.
# Source tap.sh first (it provides $TEST_TMP, diag, skip_all).
#
# DESIGN: every mount runs `binlogfs mount -f` in the background, started
# by us, so we know its PID; its state lives in $TEST_TMP/.mounts/NAME
# (pid, mountpoint, spool) and its stderr (the log, with -f) in
# $TEST_TMP/NAME.mount.log. mount_cleanup_all — call it from the EXIT
# trap, before tap_cleanup (the mounts use the servers) — detaches every
# mount still there (fusermount3 -u -z) and ends its daemon by PID (TERM,
# then KILL), also when a test failed or the script was interrupted.
#
# API
#   mount_require               skip_all unless /dev/fuse, fusermount3 and a
#                               binlogfs binary are there
#   mount_start NAME MNT SPOOL [ARG...]
#                               mkdir MNT SPOOL, start `$BINLOGFS mount -f
#                               --spool=SPOOL ARG... MNT` in the background,
#                               wait until MNT is mounted and answers
#                               (MOUNT_START_TIMEOUT, default 60 s). Returns 1
#                               with the log's tail on stderr if the daemon
#                               died or the mount did not appear
#   mount_stop NAME             fusermount3 -u, then wait for the daemon to
#                               exit (MOUNT_STOP_TIMEOUT, default 120 s; then
#                               kill -9 and return 1); returns the daemon's
#                               exit status
#   mount_kill NAME             kill -9 the daemon, detach the mount (-z)
#   mount_pid NAME              the daemon's PID ("" when not started)
#   mount_dir NAME              the mountpoint
#   mount_log NAME              the daemon's stderr file
#   mount_alive NAME            0 if the daemon runs
#   mounted DIR                 0 if DIR is a binlogfs mount now
#   mount_cleanup_all           detach and end every mount still there

if [ -n "${_MOUNT_SH_LOADED:-}" ]; then
    return 0
fi
_MOUNT_SH_LOADED=1

: "${BINLOGFS:=${TEST_ROOT:?source tap.sh first}/build/binlogfs}"
MOUNT_START_TIMEOUT=${MOUNT_START_TIMEOUT:-60}
MOUNT_STOP_TIMEOUT=${MOUNT_STOP_TIMEOUT:-120}
mkdir -p "$TEST_TMP/.mounts"

mount_require() {
    [ -c /dev/fuse ] || skip_all "no /dev/fuse"
    command -v fusermount3 >/dev/null || skip_all "fusermount3 is not installed"
    [ -x "$BINLOGFS" ] || skip_all "no binlogfs binary at $BINLOGFS"
}

mount_pid() { cat "$TEST_TMP/.mounts/$1/pid" 2>/dev/null; }
mount_dir() { cat "$TEST_TMP/.mounts/$1/mnt" 2>/dev/null; }
mount_log() { echo "$TEST_TMP/$1.mount.log"; }

mount_alive() {
    local pid
    pid=$(mount_pid "$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# /proc/self/mountinfo: field 5 is the mount point (octal escapes for
# spaces...), the filesystem type follows the " - " separator.
mounted() {
    local dir
    dir=$(cd "$1" 2>/dev/null && pwd -P) || dir=$1
    awk -v d="$dir" '{
        mp = $5; gsub(/\\040/, " ", mp); gsub(/\\011/, "\t", mp)
        for (i = 6; i <= NF; i++) if ($i == "-") break
        if (mp == d && $(i + 1) == "fuse.binlogfs") found = 1
    } END { exit !found }' /proc/self/mountinfo
}

mount_start() {
    local name=$1 mnt=$2 spool=$3 i
    shift 3
    mkdir -p "$mnt" "$spool" "$TEST_TMP/.mounts/$name" || return 1
    mnt=$(cd "$mnt" && pwd -P)
    echo "$mnt" >"$TEST_TMP/.mounts/$name/mnt"
    "$BINLOGFS" mount -f --spool="$spool" "$@" "$mnt" >>"$(mount_log "$name")" 2>&1 &
    echo $! >"$TEST_TMP/.mounts/$name/pid"
    _mount_watchdog "$mnt" "$!"
    for ((i = 0; i < MOUNT_START_TIMEOUT * 10; i++)); do
        if ! mount_alive "$name"; then
            wait "$(mount_pid "$name")" 2>/dev/null
            diag "binlogfs mount $name exited with status $? before mounting:"
            diag "$(tail -n 20 "$(mount_log "$name")")"
            rm -f "$TEST_TMP/.mounts/$name/pid"
            return 1
        fi
        if mounted "$mnt" && [ -r "$mnt/status" ]; then
            return 0
        fi
        sleep 0.1
    done
    diag "binlogfs mount $name: no mount on $mnt after ${MOUNT_START_TIMEOUT}s:"
    diag "$(tail -n 20 "$(mount_log "$name")")"
    return 1
}

# If the script itself is killed with SIGKILL (a harness timeout), no trap
# runs: a watchdog detaches the mount and ends the daemon once the
# script's main process is gone (its output to /dev/null, so that it
# never holds prove's pipe open).
_mount_watchdog() {
    local mnt=$1 pid=$2 owner=$$
    (
        trap '' INT TERM HUP
        while kill -0 "$owner" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do
            sleep 1
        done
        if kill -0 "$pid" 2>/dev/null; then
            fusermount3 -u -z "$mnt"
            kill -TERM "$pid"
            sleep 30
            if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- " $mnt"; then
                kill -9 "$pid"
            fi
        fi
    ) </dev/null >/dev/null 2>&1 &
    disown $!
}

# Waits for the daemon to exit; its exit status, or 1 after a kill -9.
_mount_reap() {
    local name=$1 timeout=$2 pid i
    pid=$(mount_pid "$name")
    [ -n "$pid" ] || return 0
    for ((i = 0; i < timeout * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        diag "binlogfs mount $name (pid $pid) did not exit within ${timeout}s: killed"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        rm -f "$TEST_TMP/.mounts/$name/pid"
        return 1
    fi
    wait "$pid" 2>/dev/null
    local rc=$?
    rm -f "$TEST_TMP/.mounts/$name/pid"
    return $rc
}

mount_stop() {
    local name=$1 mnt i
    mnt=$(mount_dir "$name")
    # a reader that just closed a file can keep the mount busy a moment
    for ((i = 0; i < 50; i++)); do
        mounted "$mnt" || break
        fusermount3 -u "$mnt" 2>/dev/null && break
        sleep 0.1
    done
    if mounted "$mnt"; then
        diag "fusermount3 -u $mnt failed: $(fusermount3 -u "$mnt" 2>&1)"
    fi
    _mount_reap "$name" "$MOUNT_STOP_TIMEOUT"
}

mount_kill() {
    local name=$1 pid mnt
    pid=$(mount_pid "$name")
    mnt=$(mount_dir "$name")
    # the shell's "Killed" notice of the reaped job goes nowhere
    [ -z "$pid" ] || { kill -9 "$pid" && wait "$pid"; } 2>/dev/null
    _mount_reap "$name" 10
    if [ -n "$mnt" ] && mounted "$mnt"; then
        fusermount3 -u -z "$mnt" 2>/dev/null
    fi
    return 0
}

mount_cleanup_all() {
    local d name pid mnt
    for d in "$TEST_TMP"/.mounts/*/; do
        [ -d "$d" ] || continue
        name=$(basename "$d")
        mnt=$(mount_dir "$name")
        pid=$(mount_pid "$name")
        if [ -n "$mnt" ] && mounted "$mnt"; then
            fusermount3 -u -z "$mnt" 2>/dev/null
        fi
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
            _mount_reap "$name" 30 >/dev/null 2>&1
        fi
    done
}
