#!/bin/bash
# binlogfs benchmark — how fast the reader goes through a large binlog set.
#
# Makes (or reuses) at least BENCH_INSPECT_BYTES (default 1 GiB) of ROW
# binlogs from sysbench oltp_write_only on a private MariaDB (see
# lib-workload.sh; workload "inspect" under $BENCH_DIR), warms the page
# cache, then times, interleaved, BENCH_REPS times (default 3) each:
#   binlogfs inspect --summary FILES        (verifies every event's CRC32)
#   mariadb-binlog FILES > /dev/null        (default: no CRC check)
#   mariadb-binlog -c FILES > /dev/null     (--verify-binlog-checksum)
# and prints the median seconds, MiB/s, the peak RSS (/usr/bin/time %M) and
# each method's speed relative to plain mariadb-binlog.
#
# BINLOGFS=path/to/binlogfs (default build/binlogfs)
# BENCH_METHODS="binlogfs mariadb-binlog mariadb-binlog-c" selects methods.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BENCH_NAME=${BENCH_NAME:-inspect}
# shellcheck source-path=SCRIPTDIR source=lib-workload.sh
. "$here/lib-workload.sh"

BINLOGFS=${BINLOGFS:-$root/build/binlogfs}
BENCH_INSPECT_BYTES=${BENCH_INSPECT_BYTES:-1073741824}
BENCH_REPS=${BENCH_REPS:-3}
BENCH_METHODS=${BENCH_METHODS:-binlogfs mariadb-binlog mariadb-binlog-c}
TIME=${TIME_BIN:-/usr/bin/time}

[ -x "$TIME" ] || bench_die "$TIME not found: install the Debian package 'time'"
[ -x "$BINLOGFS" ] || bench_die "$BINLOGFS not found: run make first (or set BINLOGFS)"
"$BINLOGFS" inspect --summary "$root/tests/fuzz/corpus/mariadb-10.5-fullmeta.binlog" >/dev/null ||
    bench_die "$BINLOGFS inspect --summary does not work yet"

trap bench_stop EXIT
bench_ensure_binlog_bytes "$BENCH_INSPECT_BYTES"
trap - EXIT

mapfile -t files < <(bench_binlogs)
bytes=$(bench_binlog_bytes)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1048576 }')
bench_log "$mib MiB in ${#files[@]} files under $(bench_work)/src/binlog"

method_cmd() {
    case $1 in
    binlogfs) echo "$BINLOGFS inspect --summary" ;;
    mariadb-binlog) echo "mariadb-binlog --no-defaults" ;;
    mariadb-binlog-c) echo "mariadb-binlog --no-defaults --verify-binlog-checksum" ;;
    *) bench_die "unknown method $1" ;;
    esac
}
method_label() {
    case $1 in
    binlogfs) echo "binlogfs inspect --summary" ;;
    mariadb-binlog) echo "mariadb-binlog >/dev/null" ;;
    mariadb-binlog-c) echo "mariadb-binlog -c >/dev/null" ;;
    esac
}

out=$(mktemp -d "${TMPDIR:-/tmp}/binlogfs-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT
# A private copy: a rebuild during the run must not change the binary.
mkdir "$out/bin" && cp "$BINLOGFS" "$out/bin/binlogfs"
BINLOGFS=$out/bin/binlogfs

# One timed run: appends "milliseconds rss_kib" to $out/res-METHOD.
run_one() {
    local m=$1 t0 t1 cmd
    cmd=$(method_cmd "$m")
    t0=$(date +%s%N)
    # shellcheck disable=SC2086
    if ! "$TIME" -f %M -o "$out/rss" $cmd "${files[@]}" >"$out/stdout" 2>"$out/stderr"; then
        tail -5 "$out/stderr" >&2
        bench_die "$m failed"
    fi
    t1=$(date +%s%N)
    echo "$(((t1 - t0) / 1000000)) $(tail -1 "$out/rss")" >>"$out/res-$m"
    if [ "$m" = binlogfs ] && [ ! -f "$out/summary" ]; then
        cp "$out/stdout" "$out/summary"
    fi
}

bench_log "warming the page cache"
cat "${files[@]}" >/dev/null
for ((rep = 1; rep <= BENCH_REPS; rep++)); do
    for m in $BENCH_METHODS; do
        bench_log "run $rep/$BENCH_REPS: $m"
        run_one "$m"
    done
done

if [ -f "$out/summary" ]; then
    sed -n '1,3p' "$out/summary" | sed 's/^/# binlogfs: /'
fi

# Median milliseconds and max RSS of each method.
declare -A ms rss
for m in $BENCH_METHODS; do
    ms[$m]=$(cut -d' ' -f1 "$out/res-$m" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    rss[$m]=$(cut -d' ' -f2 "$out/res-$m" | sort -n | tail -1)
done
base=${ms[mariadb-binlog]:-}

echo "# $mib MiB of ROW binlogs ($(sed -n 's/^BENCH_TRX_DONE=//p' "$(bench_work)/workload.env") sysbench" \
    "oltp_write_only transactions), warm cache, median of $BENCH_REPS, $(nproc) cores"
printf '%-30s %9s %9s %13s %8s\n' method seconds MiB/s "peak RSS MiB" ratio
for m in $BENCH_METHODS; do
    awk -v label="$(method_label "$m")" -v ms="${ms[$m]}" -v rss="${rss[$m]}" -v bytes="$bytes" \
        -v base="$base" 'BEGIN {
            s = ms / 1000; if (s <= 0) s = 0.001
            ratio = base != "" ? sprintf("%.1fx", (base / 1000) / s) : "-"
            printf "%-30s %9.2f %9.1f %13.1f %8s\n", label, s, bytes / 1048576 / s, rss / 1024, ratio
        }'
done
echo "# ratio = mariadb-binlog's time / the method's time (higher is faster)"
for m in $BENCH_METHODS; do
    echo "# $(method_label "$m"): runs of $(cut -d' ' -f1 "$out/res-$m" |
        awk '{ printf "%s%.2f", NR > 1 ? ", " : "", $1 / 1000 }') s"
done
