#!/bin/bash
# binlogfs — fuzz the reader for FUZZ_SECONDS (default 30) under `make check`.
#
# TAP. Builds build/fuzz/fuzz-reader with `make fuzz-build` (clang,
# -fsanitize=fuzzer,address,undefined; a no-op when it is up to date), runs
# every seed of tests/fuzz/corpus once, then fuzzes a copy of the corpus in a
# temporary directory. A crash, leak, timeout or OOM fails the test; the
# input that caused it is kept in build/fuzz/artifacts/ and named in the
# output (reproduce: build/fuzz/fuzz-reader FILE).
#
# The seeds are small real binlogs (each < 8 KiB): MariaDB 10.5/10.11/11.8
# and MySQL 8.0/9.6 files from /work/shared/fixtures, and event-boundary
# slices of larger ones (fmt-bin.000001 split into transaction groups, the
# start of a sysbench ROW binlog and of a sysbench STATEMENT binlog).
#
# FUZZ_SECONDS=0 only replays the seeds.

set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${FUZZ_SECONDS:-30}
bin=$root/build/fuzz/fuzz-reader
corpus=$root/tests/fuzz/corpus

tmp=$(mktemp -d "${TMPDIR:-/tmp}/binlogfs-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# Is clang's libFuzzer runtime there? Link a trivial target to find out.
probe() {
    command -v clang >/dev/null 2>&1 || return 1
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
        >"$tmp/probe.c"
    clang -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1
}
if ! probe; then
    echo "1..0 # SKIP clang with libFuzzer runtime not available (packages clang, libclang-rt-14-dev)"
    exit 0
fi

echo "1..3"

# The nested make must not inherit the outer one's variables (B=, SAN_CFLAGS=)
# or jobserver.
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$root" --no-print-directory fuzz-build \
    >"$tmp/build.log" 2>&1 && [ -x "$bin" ]; then
    echo "ok 1 - make fuzz-build"
else
    echo "not ok 1 - make fuzz-build"
    tail -30 "$tmp/build.log" | sed 's/^/# /'
    echo "ok 2 # SKIP no binary"
    echo "ok 3 # SKIP no binary"
    exit 1
fi

status=0
keep_artifacts() {
    local f
    for f in "$tmp"/art/*; do
        [ -e "$f" ] || continue
        mkdir -p "$root/build/fuzz/artifacts"
        cp "$f" "$root/build/fuzz/artifacts/"
        echo "# input kept: build/fuzz/artifacts/$(basename "$f")"
    done
}

mkdir -p "$tmp/art" "$tmp/corpus"
cp "$corpus"/* "$tmp/corpus/"
opts=(-max_len=65536 -timeout=25 -rss_limit_mb=2048 -artifact_prefix="$tmp/art/")

# Each seed once: a seed that crashes is a plain bug, found without fuzzing.
if "$bin" "${opts[@]}" -runs=0 "$tmp/corpus" >"$tmp/seeds.log" 2>&1; then
    echo "ok 2 - $(find "$corpus" -type f | wc -l) seeds replay cleanly"
else
    echo "not ok 2 - seeds replay cleanly"
    grep -v '^#[0-9]' "$tmp/seeds.log" | tail -40 | sed 's/^/# /'
    keep_artifacts
    status=1
fi

if [ "$seconds" -le 0 ]; then
    echo "ok 3 - fuzz # SKIP FUZZ_SECONDS=$seconds"
    exit $status
fi
if "$bin" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 "$tmp/corpus" \
    >"$tmp/fuzz.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log")
    echo "ok 3 - fuzz-reader ran ${seconds}s, ${runs:-?} inputs, no crash"
else
    echo "not ok 3 - fuzz-reader ran ${seconds}s"
    grep -v '^#[0-9]' "$tmp/fuzz.log" | tail -60 | sed 's/^/# /'
    keep_artifacts
    status=1
fi
exit $status
