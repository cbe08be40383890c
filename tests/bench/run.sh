#!/bin/bash
# binlogfs — run every benchmark in tests/bench (`make bench`). Long: each
# script makes or reuses its workload under $BENCH_DIR
# (/var/tmp/binlogfs-bench) and prints its own table. Not part of make check.
# Scripts: inspect (the reader's speed), replay (binlogfs replay against the
# pipe and the relay-log applier, both durability profiles; writes
# $BENCH_DIR/replay-results.md).
# Arguments, if any, select scripts by name: tests/bench/run.sh inspect replay
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0
for script in "$here"/*.sh; do
    name=$(basename "$script" .sh)
    case $name in run | lib-*) continue ;; esac
    if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then
        continue
    fi
    echo "=== $name"
    if ! bash "$script"; then
        echo "=== $name FAILED" >&2
        status=1
    fi
done
exit $status
