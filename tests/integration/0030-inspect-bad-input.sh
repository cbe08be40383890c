#!/usr/bin/env bash
# 0030-inspect-bad-input — `binlogfs inspect` on damaged input refuses it
# cleanly: exit status 1..127, within `timeout 20`, no crash report, and a
# message on stderr that names the file and the byte offset where the damage
# is ("name:OFFSET"); for a file cut short or damaged in the middle, also
# where the last complete transaction ends.
#
# The damaged files are made from a real binlog written by a private server
# (ROW and STATEMENT transactions, CRC32), plus synthetic ones: wrong magic,
# random bytes (fixed seed), empty, magic only, a cut Format_description, an
# event whose size field is too small or huge.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$TEST_ROOT/tests/lib/server.sh"
. "$TEST_ROOT/tests/lib/binlog.sh"
trap 'server_stop_all; tap_cleanup' EXIT

server_require
binlogfs_require

S=src
SDIR=$(server_dir $S)
server_start $S --log-bin="$SDIR/binlog/bin" --server-id=1 --binlog-format=ROW \
    --binlog-checksum=CRC32 --innodb-flush-log-at-trx-commit=2 || bail_out "cannot start the server"
{
    echo "CREATE DATABASE b;"
    echo "CREATE TABLE b.t (id INT PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB;"
    for n in $(seq 1 10); do echo "INSERT INTO b.t VALUES ($n, REPEAT('row $n ', 10));"; done
    echo "SET SESSION binlog_format=STATEMENT;"
    for n in $(seq 11 15); do echo "INSERT INTO b.t VALUES ($n, 'statement $n');"; done
    echo "FLUSH BINARY LOGS;"
} | server_sql_file $S || bail_out "cannot write the binlog"
server_stop $S
GOOD=$(server_binlogs $S | head -n 1)
[ -s "$GOOD" ] || bail_out "no binlog written"

D=$TEST_TMP/bad
mkdir -p "$D"
mb_dump "$GOOD" "$D/good.mb" || bail_out "mariadb-binlog cannot read $GOOD"
mb_offsets "$D/good.mb" | raw_events "$GOOD" >"$D/good.events"   # OFFSET TYPE size=N

# Sanity: the good file is read.
timeout 20 "$BINLOGFS" inspect --events "$GOOD" >/dev/null 2>"$D/good.err"
is "$?" 0 "the undamaged binlog is read (exit 0)" || diag "$(head -c 1000 "$D/good.err")"

# nth_event TYPE N: "OFFSET SIZE" of the N-th event of TYPE in the good file.
nth_event() {
    awk -v t="$1" -v n="$2" '$2 == t && ++k == n { sub(/size=/, "", $3); print $1, $3 }' "$D/good.events"
}
# end_of_last_before TYPE OFFSET: where the last TYPE event before OFFSET ends.
end_of_last_before() {
    awk -v t="$1" -v o="$2" '$2 == t && $1 < o { sub(/size=/, "", $3); e = $1 + $3 } END { print e }' \
        "$D/good.events"
}
# patch FILE OFFSET PERL-EXPR: replace bytes in place (perl: $b is the data).
bytes_of() { head -c "$2" "$1"; }
flip_byte() {
    perl -e 'open(my $fh, "+<:raw", $ARGV[0]) or die; seek($fh, $ARGV[1], 0); read($fh, my $c, 1);
             seek($fh, $ARGV[1], 0); print $fh chr(ord($c) ^ 0xff); close $fh' "$1" "$2"
}
put_u32() {
    perl -e 'open(my $fh, "+<:raw", $ARGV[0]) or die; seek($fh, $ARGV[1], 0);
             print $fh pack("V", $ARGV[2]); close $fh' "$1" "$2" "$3"
}
random_bytes() {  # SEED COUNT: deterministic pseudo-random bytes
    perl -e 'srand($ARGV[0]); print pack("C*", map { int(rand(256)) } 1 .. $ARGV[1])' "$1" "$2"
}

# Sanitizer builds reserve terabytes of address space; others run under a
# 1 GiB limit so that trusting a huge size field shows up as a failure.
LIMIT_VM=1
if grep -aqE '__(asan|tsan|msan)_init' "$BINLOGFS" 2>/dev/null; then
    LIMIT_VM=0
fi
run_inspect() {  # OUT ERR ARGS...
    local out=$1 err=$2
    shift 2
    (
        [ "$LIMIT_VM" = 0 ] || ulimit -v 1048576
        exec timeout 20 "$BINLOGFS" inspect "$@"
    ) >"$out" 2>"$err"
}

CRASH='Segmentation|Assertion|assertion|AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error|core dumped|Aborted|GLib-CRITICAL|g_assert|out of memory|Cannot allocate'

# refused WHAT FILE OFFSET [EXTRA-ERE]: in --events and --summary --json
# modes, the file is refused cleanly with "name:OFFSET" in the message (and
# EXTRA-ERE matching the message, if given).
refused() {
    local what=$1 file=$2 off=$3 extra=${4:-} mode rc err problems naming="file:offset $3"
    [ -n "$off" ] || naming="the file"
    for mode in --events "--summary --json"; do
        # shellcheck disable=SC2086
        run_inspect "$D/out" "$D/err" $mode "$file"
        rc=$?
        err=$(cat "$D/err")
        problems=()
        if [ "$rc" = 0 ]; then
            problems+=("exit status 0")
        elif [ "$rc" = 124 ]; then
            problems+=("did not finish within 20 s")
        elif [ "$rc" -ge 128 ]; then
            problems+=("exit status $rc (signal $((rc - 128)))")
        fi
        [[ "$err" =~ $CRASH ]] && problems+=("crash report on stderr")
        [ -n "$off" ] && ! printf '%s\n' "$err" | grep -qE -- "$(basename "$file" | sed 's/[.[\*^$]/\\&/g'):$off([^0-9]|$)" &&
            problems+=("no '$(basename "$file"):$off' in the message")
        [ -z "$off" ] && [[ "$err" != *"$(basename "$file")"* ]] && problems+=("the message does not name the file")
        [ -n "$extra" ] && ! printf '%s\n' "$err" | grep -qE -- "$extra" && problems+=("the message does not match /$extra/")
        if [ "${#problems[@]}" = 0 ]; then
            pass "$what: inspect $mode refuses it (exit $rc), naming $naming"
        else
            fail "$what: inspect $mode refuses it (exit $rc), naming $naming" \
                "$(printf '  %s\n' "${problems[@]}"; echo "  stderr:"; printf '%s\n' "${err:0:1500}" | sed 's/^/    /')"
        fi
    done
}

# ---- cut in the middle of an event -------------------------------------------

read -r w6 _ < <(nth_event Write_rows_v1 6)
last_xid_end=$(end_of_last_before Xid "$w6")
cmp_ok "$last_xid_end" -gt 0 "precondition: a committed transaction precedes the 6th Write_rows_v1 (at $w6)"

f=$D/cut-body.000001
bytes_of "$GOOD" $((w6 + 25)) >"$f"
refused "cut inside an event's body" "$f" "$w6"
like "$(cat "$D/err")" "complete.*([^0-9]|^)$last_xid_end([^0-9]|$)" \
    "cut inside an event's body: says the last complete transaction ends at $last_xid_end"

f=$D/cut-header.000001
bytes_of "$GOOD" $((w6 + 10)) >"$f"
refused "cut inside an event's header" "$f" "$w6"
like "$(cat "$D/err")" "complete.*([^0-9]|^)$last_xid_end([^0-9]|$)" \
    "cut inside an event's header: says the last complete transaction ends at $last_xid_end"

# A cut inside a statement-based transaction (Gtid, Query, Xid).
read -r q_off q_size < <(awk '$2 == "Query" { q = $1 " " $3 } END { sub(/size=/, "", q); print q }' "$D/good.events")
q_last_end=$(end_of_last_before Xid "$q_off")
f=$D/cut-query.000001
bytes_of "$GOOD" $((q_off + q_size / 2)) >"$f"
refused "cut inside the last Query event" "$f" "$q_off"
like "$(cat "$D/err")" "complete.*([^0-9]|^)$q_last_end([^0-9]|$)" \
    "cut inside the last Query event: says the last complete transaction ends at $q_last_end"

# ---- one flipped byte: checksum mismatch -------------------------------------

read -r w4 w4size < <(nth_event Write_rows_v1 4)
f=$D/flip-rows.000001
cp "$GOOD" "$f"
flip_byte "$f" $((w4 + w4size / 2))
refused "a flipped byte inside a Write_rows_v1 event" "$f" "$w4" '[Cc]hecksum|CRC'

read -r q1 q1size < <(nth_event Query 2)
f=$D/flip-query.000001
cp "$GOOD" "$f"
flip_byte "$f" $((q1 + q1size - 8))
refused "a flipped byte inside a Query event" "$f" "$q1" '[Cc]hecksum|CRC'

# ---- bad event sizes ---------------------------------------------------------

read -r x3 _ < <(nth_event Xid 3)
f=$D/size-small.000001
cp "$GOOD" "$f"
put_u32 "$f" $((x3 + 9)) 5
refused "an event whose size field is 5 (less than a header)" "$f" "$x3"

f=$D/size-huge.000001
cp "$GOOD" "$f"
put_u32 "$f" $((x3 + 9)) 4294967040
refused "an event whose size field is 4 GiB" "$f" "$x3"

# ---- not a binlog ------------------------------------------------------------

f=$D/wrong-magic.000001
cp "$GOOD" "$f"
printf 'X' | dd of="$f" bs=1 seek=1 conv=notrunc status=none
refused "wrong magic" "$f" 0

f=$D/garbage.000001
random_bytes 42 65536 >"$f"
isnt "$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')" fe62696e "precondition: the garbage does not begin with the magic"
refused "64 KiB of random bytes" "$f" 0

f=$D/magic-garbage.000001
{ printf '\376bin'; random_bytes 43 65536; } >"$f"
refused "the magic, then 64 KiB of random bytes" "$f" 4

read -r fde_off fde_size < <(nth_event Format_desc 1)
f=$D/fde-garbage.000001
{ bytes_of "$GOOD" $((fde_off + fde_size)); random_bytes 44 65536; } >"$f"
refused "a real Format_description, then 64 KiB of random bytes" "$f" $((fde_off + fde_size))

f=$D/empty.000001
: >"$f"
refused "an empty file" "$f" 0

f=$D/magic-only.000001
printf '\376bin' >"$f"
refused "only the magic" "$f" 4

f=$D/fde-cut.000001
bytes_of "$GOOD" 100 >"$f"
refused "a Format_description cut short" "$f" 4

refused "a file that does not exist" "$D/no-such-file.000001" ""
mkdir -p "$D/a-directory.000001"
refused "a directory" "$D/a-directory.000001" ""

# ---- a bad file among good ones ----------------------------------------------

cp "$GOOD" "$D/good-copy.000002"
run_inspect "$D/out" "$D/err" --events "$GOOD" "$D/garbage.000001" "$D/good-copy.000002"
rc=$?
cmp_ok "$rc" -ne 0 "good, bad, good: exit status is not 0"
cmp_ok "$rc" -lt 124 "good, bad, good: exit status is a clean failure"
is "$(grep -xF -e "# $GOOD" -e "# $D/good-copy.000002" "$D/out")" "$(printf '# %s\n' "$GOOD" "$D/good-copy.000002")" \
    "good, bad, good: both good files are still listed"
is "$(awk '/^# / { f = $2 } f == "'"$D/good-copy.000002"'" && $1 ~ /^[0-9]+$/ { print $1 }' "$D/out")" \
    "$(cut -d' ' -f1 "$D/good.events")" "good, bad, good: the file after the bad one is read completely"

done_testing
