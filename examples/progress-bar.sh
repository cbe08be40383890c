#!/usr/bin/env bash
# A live progress bar over a binlogfs mount's `progress` file, until the
# replay is idle, stopped or failed.   usage: progress-bar.sh MOUNTPOINT
#
# `progress` is one line: PCT% APPLIED/TOTAL TRX trx RATE trx/s ETA HH:MM:SS
# Reading it never waits for the database, so polling it is cheap.
set -euo pipefail
mnt=${1:?usage: $0 MOUNTPOINT}
width=40
while :; do
    read -r line <"$mnt/progress"
    state=$(cat "$mnt/control/state")
    pct=${line%%%*}          # "42.0"
    full=$(awk -v p="$pct" -v w=$width 'BEGIN { n = int(p * w / 100); if (n > w) n = w; print n }')
    bar=$(printf '%*s' "$full" '' | tr ' ' '#')$(printf '%*s' $((width - full)) '' | tr ' ' '.')
    printf '\r[%s] %s  %-8s' "$bar" "$line" "$state"
    case $state in idle | stopped | failed) break ;; esac
    sleep 1
done
echo
[ "$state" != failed ] || { cat "$mnt/errors" >&2; exit 1; }
