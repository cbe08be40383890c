#!/usr/bin/env bash
# 0020-inspect-fixtures — `binlogfs inspect` on every binlog we did not write
# ourselves: the shared fixtures (MariaDB 10.5/10.11/11.8, MySQL 8.0/9.6)
# and the binlog-like files of mariadb-test-data's std_data (old formats,
# relay logs, truncated, corrupt and encrypted files).
#
# Every file, in each mode (--events, --transactions, --summary --json),
# is either read (exit 0) or refused cleanly: exit status 1..127, a message
# on stderr naming the file, no crash (signal, sanitizer report, assertion),
# within `timeout 20`. When it is read, its outer-event offsets equal
# mariadb-binlog's `# at` list (or extend it, where mariadb-binlog stops
# early without reaching the end of the file). For the shared fixtures, the
# event counts per type and the transaction counts equal the ones their
# README gives (an independent decoder). The encrypted fixture is refused
# with a message about encryption.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$TEST_ROOT/tests/lib/binlog.sh"
trap 'tap_cleanup' EXIT

binlogfs_require

# CI lays shared/ beside the clone; a developer machine has /work/shared.
FIXDIR=
for d in "$(dirname "$TEST_ROOT")/shared/fixtures" /work/shared/fixtures; do
    if [ -d "$d" ]; then
        FIXDIR=$(cd "$d" && pwd)
        break
    fi
done
STDDATA=/usr/share/mysql/mysql-test/std_data
[ -d "$STDDATA" ] || STDDATA=

[ -n "$FIXDIR$STDDATA" ] ||
    skip_all "neither shared/fixtures nor $STDDATA (package mariadb-test-data) is present"

FILES=()
if [ -n "$FIXDIR" ]; then
    mapfile -t -O "${#FILES[@]}" FILES < <(find "$FIXDIR" -type f ! -name '*.md' | sort)
fi
if [ -n "$STDDATA" ]; then
    # Files that begin with the binlog magic, plus anything named *binlog*
    # (one process for the ~400 files: forks are slow on small machines).
    mapfile -t -O "${#FILES[@]}" FILES < <(find "$STDDATA" -type f -print0 | sort -z |
        perl -0 -ne 'chomp; my $m = ""; if (open(my $fh, "<:raw", $_)) { read($fh, $m, 4) }
                     print "$_\n" if $m eq "\xfebin" || m{binlog[^/]*$}')
fi

T=$TEST_TMP/out
mkdir -p "$T"
CRASH='Segmentation|Assertion|assertion|AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error|core dumped|Aborted|GLib-CRITICAL|g_assert'

# clean_outcome WHAT RC STDOUT STDERR PATH: one test: read, or refused cleanly.
# (Builtins only where it is cheap: this runs ~120 times.)
clean_outcome() {
    local what=$1 rc=$2 out=$3 err=$4 path=$5 problems=() errtext=
    IFS= read -r -d '' errtext <"$err"
    if [ "$rc" = 124 ]; then
        problems+=("did not finish within 20 s")
    elif [ "$rc" -ge 128 ]; then
        problems+=("exit status $rc (killed by signal $((rc - 128)))")
    elif [ "$rc" = 0 ]; then
        # --transactions prints nothing for a file without transactions.
        [ -s "$out" ] || [[ "$what" == *--transactions* ]] || problems+=("exit 0 but no output")
    else
        [ -n "$errtext" ] || problems+=("exit $rc without a message on stderr")
        [[ "$errtext" == *"${path##*/}"* ]] || problems+=("the message does not name the file")
    fi
    if [[ "$errtext" =~ $CRASH ]]; then
        problems+=("crash report on stderr")
    fi
    if [ "${#problems[@]}" = 0 ]; then
        pass "$what"
        return 0
    fi
    fail "$what" "$(printf '  %s\n' "${problems[@]}"; echo "  stderr:"; printf '%s\n' "${errtext:0:1500}" | sed 's/^/    /')"
}

declare -A EVENTS_RC=()

n=0
for f in "${FILES[@]}"; do
    n=$((n + 1))
    short=${f#"$FIXDIR/"}
    short=${short#"$STDDATA/"}
    for mode in --events --transactions "--summary --json"; do
        o=$T/$n.${mode%% *}
        # shellcheck disable=SC2086 # mode is one or two words
        timeout 20 "$BINLOGFS" inspect $mode "$f" >"$o" 2>"$o.err"
        rc=$?
        [ "$mode" != --events ] || EVENTS_RC[$f]=$rc
        if [ "$rc" = 0 ]; then
            clean_outcome "$short: inspect $mode reads it" "$rc" "$o" "$o.err" "$f"
        else
            clean_outcome "$short: inspect $mode refuses it cleanly (exit $rc)" "$rc" "$o" "$o.err" "$f"
        fi
    done

    # Offsets against mariadb-binlog, for the files binlogfs reads.
    [ "${EVENTS_RC[$f]}" = 0 ] || continue
    mb_dump "$f" "$T/$n.mb"
    mbrc=$?
    mb_offsets "$T/$n.mb" >"$T/$n.mb.offsets"
    awk '/^# / || /^$/ { next } $1 ~ /^[0-9]+$/ && $3 ~ /^size=[0-9]+$/ { print $1; next }
         $1 ~ /^[0-9]+\+[0-9]+$/ { next } { print "unparsed: " $0 }' "$T/$n.--events" >"$T/$n.bl.offsets"
    nmb=$(wc -l <"$T/$n.mb.offsets")
    if [ "$nmb" = 0 ]; then
        skip "$short: event offsets equal mariadb-binlog's" "mariadb-binlog prints no event (exit $mbrc)"
        continue
    fi
    last=$(tail -n 1 "$T/$n.mb.offsets")
    lastsize=$(echo "$last" | raw_events "$f" | sed -n 's/.* size=//p')
    if [ "$mbrc" = 0 ] && [ "$((last + ${lastsize:-0}))" = "$(stat -c %s "$f")" ]; then
        is "$(cat "$T/$n.bl.offsets")" "$(cat "$T/$n.mb.offsets")" \
            "$short: event offsets equal mariadb-binlog's \`# at\` list"
    else
        # mariadb-binlog stopped early (it does not know every MySQL 8 event):
        # its offsets are the start of ours.
        is "$(head -n "$nmb" "$T/$n.bl.offsets")" "$(cat "$T/$n.mb.offsets")" \
            "$short: event offsets begin with mariadb-binlog's $nmb (it stops early, exit $mbrc)"
    fi
done
cmp_ok "${#FILES[@]}" -ge 1 "found files to inspect"

# ---- the shared fixtures: counts from their README --------------------------

if [ -n "$FIXDIR" ]; then
    # FILE | event counts per type (outer events and those inside a
    # Transaction_payload) | transactions
    while IFS='|' read -r file types trx; do
        [ -n "$file" ] || continue
        f=$FIXDIR/$file
        if [ ! -f "$f" ]; then
            fail "$file: fixture present" "missing: $f"
            continue
        fi
        # shellcheck disable=SC2086 # one word per type
        want=$(printf '%s\n' $types | tr '=' ' ' | sort)
        got=$(timeout 20 "$BINLOGFS" inspect --summary --json "$f" 2>/dev/null |
            jq -r '.event_types | to_entries[] | "\(.key) \(.value)"' | sort)
        is "$got" "$want" "$file: event counts per type equal the README's"
        got=$(timeout 20 "$BINLOGFS" inspect --transactions --json "$f" 2>/dev/null | grep -c '^{')
        is "$got" "$trx" "$file: $trx transactions"
    done <<'EOF'
mariadb/mariadb-11.8.5-sysbench-repl-bin.000005|Format_desc=1 Gtid_list=1 Binlog_checkpoint=2 Gtid=87 Query=348 Xid=87 Rotate=1|87
mariadb/mariadb-10.5.15-bin.000001|Format_desc=1 Gtid_list=1 Binlog_checkpoint=1 Gtid=2 Annotate_rows=2 Table_map=2 Write_rows_v1=2 Xid=2|2
mariadb/generated/fmt-bin.000001|Format_desc=1 Gtid_list=1 Binlog_checkpoint=1 Gtid=42 Query=30 Annotate_rows=19 Table_map=19 Write_rows_v1=15 Update_rows_v1=1 Delete_rows_v1=1 Intvar=5 User_var=1 XA_prepare=1 Begin_load_query=1 Execute_load_query=1 Write_rows_compressed_v1=1 Update_rows_compressed_v1=1 Xid=18 Rotate=1|42
mariadb/generated/fmt-bin.000002|Format_desc=1 Gtid_list=1 Binlog_checkpoint=2 Gtid=4 Annotate_rows=3 Table_map=3 Write_rows_compressed_v1=1 Update_rows_compressed_v1=1 Delete_rows_compressed_v1=1 Query_compressed=1 Xid=4 Rotate=1|4
mariadb/generated/fmt-bin.000004|Format_desc=1 Gtid_list=1 Binlog_checkpoint=2 Gtid=1 Annotate_rows=1 Table_map=1 Write_rows_v1=1 Xid=1 Rotate=1|1
mysql8/mysql-enum-string-set.000001|Format_desc=1 Previous_gtids=1 Gtid=5 Query=5 Table_map=3 Write_rows=1 Update_rows=1 Delete_rows=1 Xid=3|5
mysql8/binlog-invisible-columns.000001|Format_desc=1 Previous_gtids=1 Gtid=5 Query=5 Table_map=3 Write_rows=2 Update_rows=1 Xid=3 Stop=1|5
mysql8/json.binlog.000001|Format_desc=1 Previous_gtids=1 Anonymous_Gtid=8 Query=8 Table_map=6 Write_rows=4 Update_rows=1 Update_rows_partial=1 Xid=6|8
mysql8/transaction_compression.000001|Format_desc=1 Previous_gtids=1 Anonymous_Gtid=1 Transaction_payload=1 Rotate=1 Query=1 Table_map=1 Write_rows=1 Xid=1|1
mysql8/mdev35643_mysql_80_binlog.000001|Format_desc=1 Previous_gtids=1 Anonymous_Gtid=9 Query=10 Table_map=106 Write_rows=105 Transaction_payload=1 Update_rows_partial=1 Xid=7 Rotate=1|9
mysql8/mysql_type_bit.000001|Format_desc=1 Previous_gtids=1 Gtid=3 Query=3 Table_map=1 Write_rows=1 Xid=1|3
mysql8/time_issue.000001|Format_desc=1 Previous_gtids=1 Anonymous_Gtid=1 Query=1 Table_map=1 Write_rows=1 Xid=1 Rotate=1|1
mysql8/minimal_row_metadata.000001|Format_desc=1 Previous_gtids=1 Anonymous_Gtid=1 Query=1 Table_map=1 Write_rows=1 Xid=1 Rotate=1|1
mysql8/rpl_unfiltered_hidden_gcol.000001|Format_desc=2 Previous_gtids=1 Rotate=2 Anonymous_Gtid=3 Query=3 Table_map=1 Write_rows=1 Xid=1 Stop=1|3
mysql8/binlog_transaction_with_GTID_TAG.000001|Format_desc=1 Previous_gtids=1 Gtid_tagged=1 Query=1 Table_map=1 Write_rows=1 Xid=1 Rotate=1|1
EOF

    # Inner events of a Transaction_payload: OFFSET+INNER, at the payload's offset.
    f=$FIXDIR/mysql8/mdev35643_mysql_80_binlog.000001
    if [ -f "$f" ]; then
        got=$(timeout 20 "$BINLOGFS" inspect --events "$f" 2>/dev/null |
            awk '$1 ~ /^[0-9]+\+[0-9]+$/ { split($1, a, "+"); print a[1], $2 }' | sort | uniq -c |
            awk '{ print $2, $3, $1 }')
        is "$got" "$(printf '1468 Query 1\n1468 Table_map 100\n1468 Write_rows 100\n1468 Xid 1')" \
            "mdev35643: the Transaction_payload at 1468 holds BEGIN, 100 Table_map/Write_rows pairs, Xid"
    fi

    f=$FIXDIR/mariadb/generated/fmt-bin.000006
    if [ -f "$f" ]; then
        timeout 20 "$BINLOGFS" inspect --events "$f" >"$T/enc.out" 2>"$T/enc.err"
        rc=$?
        cmp_ok "$rc" -ne 0 "fmt-bin.000006 (encrypted): refused"
        like "$(cat "$T/enc.err")" '[Ee]ncrypt' "fmt-bin.000006 (encrypted): the message says it is encrypted"
        like "$(cat "$T/enc.err")" 'fmt-bin\.000006:256([^0-9]|$)' \
            "fmt-bin.000006 (encrypted): the message names file:offset of the first encrypted event"
    fi
fi

done_testing
