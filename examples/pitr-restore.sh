#!/usr/bin/env bash
# A full point-in-time restore with binlogfs: adapt the variables and run.
#
#   1. restore your last full backup into DATADIR first (mariadb-backup
#      --prepare + --copy-back, or your snapshot tool), then run this script;
#   2. binlogfs mounts a restore workspace with its own private mariadbd on
#      DATADIR, starts where the backup ends, stops just before the disaster;
#   3. the binlogs are copied in, replay runs in parallel, the script waits;
#   4. unmounting shuts the private server down cleanly: DATADIR is ready.
#
# To replay into a running server instead, replace --datadir with the
# mysql client options (--socket=... --user=... or --defaults-file=...).
# If that server keeps a binlog and nothing needs the replay in it (its
# replicas will be rebuilt), add -D (--disable-log-bin, as mariadb-binlog
# -D): much faster on durable settings (README, Measured).
set -euo pipefail

DATADIR=${DATADIR:-/var/lib/mysql-restore}        # the restored backup
BACKUP_INFO=${BACKUP_INFO:-$DATADIR/mariadb_backup_binlog_info}  # where the backup ends
BINLOGS=${BINLOGS:-/backup/binlogs}                # mysql-bin.000001 ...
STOP_AT=${STOP_AT:-}                               # e.g. "2026-11-24 09:41:00" or 0-1-4711 or mysql-bin.000042:1234
WORKERS=${WORKERS:-16}
SPOOL=${SPOOL:-/var/lib/binlogfs/spool}            # durable copy of the binlogs, progress survives a crash
MNT=${MNT:-/mnt/restore}
BINLOGFS=${BINLOGFS:-binlogfs}

mkdir -p "$SPOOL" "$MNT"
"$BINLOGFS" mount --datadir="$DATADIR" --spool="$SPOOL" --workers="$WORKERS" "$MNT"
trap 'echo "the workspace stays mounted on $MNT: see $MNT/status and $MNT/errors" >&2' ERR

# Where to start: the backup's binlog position (xtrabackup_binlog_info or
# mariadb_backup_binlog_info is accepted as it is). Where to stop: just
# before the disaster. Both may be changed later by writing the same files.
if [ -f "$BACKUP_INFO" ]; then cat "$BACKUP_INFO" >"$MNT/control/start-at"; fi
if [ -n "$STOP_AT" ]; then echo "$STOP_AT" >"$MNT/control/stop-at"; fi

# Replay starts by itself as files arrive (in sequence order, whatever the
# copy order). rsync works too: it writes temporary names, then renames.
cp "$BINLOGS"/*.[0-9]* "$MNT/binlogs/"

state=$(cat "$MNT/wait")   # blocks until idle, stopped or failed
cat "$MNT/status"
case $state in
idle | stopped)
    echo "replay $state: unmounting (the private server shuts down cleanly)"
    fusermount3 -u "$MNT"
    ;;
failed)
    echo "replay failed; the workspace stays mounted. What went wrong:" >&2
    cat "$MNT/errors" >&2
    echo "fix the cause, then: echo retry > $MNT/control/state (or skip)" >&2
    exit 1
    ;;
esac
