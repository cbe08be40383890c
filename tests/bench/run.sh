#!/bin/bash
# binlogfs — run every benchmark in tests/bench (`make bench`). Long: each
# script makes or reuses its workload under $BENCH_DIR
# (/var/tmp/binlogfs-bench) and prints its own table. Not part of make check.
# Scripts: inspect (the reader's speed), replay (binlogfs replay against the
# pipe and the relay-log applier, both durability profiles; writes
# $BENCH_DIR/replay-results.md), then ceiling (the same statements by a
# client with no order: the upper bound; it needs replay's workload).
# Arguments, if any, select scripts by name: tests/bench/run.sh inspect replay
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0
for name in inspect replay ceiling; do
    script=$here/$name.sh
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
