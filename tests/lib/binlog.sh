# tests/lib/binlog.sh — oracles for `binlogfs inspect`: what mariadb-binlog
# and the raw bytes of a binlog say, in the shapes the tests compare.
# Source tap.sh first.
#
# DESIGN: the expected values never come from binlogfs. Event offsets come
# from mariadb-binlog's `# at N` lines; type codes and sizes are read from
# the 19-byte header at those offsets in the file itself; type counts come
# from mariadb-binlog's event descriptions. binlogfs output is parsed
# strictly: a line that does not have the documented shape is kept as is so
# the comparison fails and shows it.
#
# API
#   binlogfs_require            fail (not skip) when $BINLOGFS is not executable;
#                               sets BINLOGFS (default: $TEST_ROOT/build/binlogfs)
#   mb_dump FILE OUT            mariadb-binlog FILE (default mode) > OUT, stderr
#                               to OUT.err; returns mariadb-binlog's exit status
#   mb_offsets DUMP             the `# at N` offsets of a dump, one a line
#   mb_types DUMP               "OFFSET TYPE" per event: TYPE is the binlogfs
#                               name derived from mariadb-binlog's description
#                               (rows events of a MariaDB writer are v1)
#   mb_gtids DUMP               the GTIDs of the dump, one a line ("0-1-5")
#   raw_events FILE             reads offsets on stdin and prints, for each,
#                               "OFFSET TYPE size=N" from the event header in FILE
#   type_name CODE              the binlogfs name of an event type code
#   bl_events FILE...           `$BINLOGFS inspect --events FILE...` reduced to
#                               "OFFSET TYPE size=N" for outer events; "# FILE"
#                               lines kept, anything else as "unparsed: LINE".
#                               Sets BL_RC (so call it as `bl_events F >OUT`,
#                               not in $(...)); stderr goes to $TEST_TMP/bl.err
#   count_by_type               stdin "OFFSET TYPE ..." lines -> "TYPE COUNT" sorted
#   json_dup_keys FILE          for compact, flat, one-object-a-line JSON (nested
#                               objects count as the same level):
#                               "LINE: key" for every key that appears twice in
#                               a line (jq would silently keep the last one)

: "${BINLOGFS:=${TEST_ROOT:?source tap.sh first}/build/binlogfs}"
MARIADB_BINLOG=${MARIADB_BINLOG:-$(command -v mariadb-binlog 2>/dev/null)}

binlogfs_require() {
    if [ ! -x "$BINLOGFS" ]; then
        echo "1..1"
        echo "not ok 1 - the binary under test \$BINLOGFS=$BINLOGFS is executable"
        exit 1
    fi
    [ -n "$MARIADB_BINLOG" ] || skip_all "mariadb-binlog not installed"
    command -v jq >/dev/null || skip_all "jq not installed"
}

mb_dump() {
    "$MARIADB_BINLOG" "$1" >"$2" 2>"$2.err"
}

mb_offsets() {
    sed -n 's/^# at \([0-9][0-9]*\)$/\1/p' "$1"
}

# Event header lines look like
#   #261126  1:30:43 server id 1  end_log_pos 256 CRC32 0x35761005 	Start: binlog v 4, ...
# and come in the same order as the `# at` lines (an Annotate_rows is printed
# late, after the next `# at`, but still before the next header line).
# Begin_load_query/Append_block have an empty description and put
# "#Begin_load_query: ..." on the next line.
mb_types() {
    awk '
    function name(d,   w) {
        w = d; sub(/[ \t].*/, "", w)
        if (d ~ /^Start: binlog/) return "Format_desc"
        if (d ~ /^Gtid list/) return "Gtid_list"
        if (d ~ /^Binlog checkpoint/) return "Binlog_checkpoint"
        if (d ~ /^GTID /) return "Gtid"
        if (w == "Query") return "Query"
        if (w == "Query_compressed") return "Query_compressed"
        if (w == "Annotate_rows:") return "Annotate_rows"
        if (w == "Table_map:") return "Table_map"
        if (w == "Write_rows:") return "Write_rows_v1"
        if (w == "Update_rows:") return "Update_rows_v1"
        if (w == "Delete_rows:") return "Delete_rows_v1"
        if (w == "Write_compressed_rows:") return "Write_rows_compressed_v1"
        if (w == "Update_compressed_rows:") return "Update_rows_compressed_v1"
        if (w == "Delete_compressed_rows:") return "Delete_rows_compressed_v1"
        if (d ~ /^Xid = /) return "Xid"
        if (d ~ /^XID = /) return "XA_prepare"
        if (w == "Rotate") return "Rotate"
        if (w == "Stop") return "Stop"
        if (w == "Intvar") return "Intvar"
        if (w == "User_var") return "User_var"
        if (w == "Rand" || w == "RAND") return "RAND"
        if (w == "Begin_load_query:") return "Begin_load_query"
        if (w == "Append_block:") return "Append_block"
        if (w == "Delete_file:") return "Delete_file"
        if (w == "Execute_load_query") return "Execute_load_query"
        return "?" d
    }
    /^# at [0-9]+$/ { at[n_at++] = $3; next }
    pending { d = $0; sub(/^#/, "", d); types[n_ev++] = name(d); pending = 0; next }
    /^#[0-9][0-9][0-9][0-9][0-9][0-9] +[0-9]+:[0-9][0-9]:[0-9][0-9] server id [0-9]+ +end_log_pos [0-9]+/ {
        d = $0
        sub(/^.* end_log_pos [0-9]+ */, "", d)
        sub(/^CRC32 0x[0-9a-f]+ */, "", d)
        sub(/^[ \t]+/, "", d)
        if (d == "") { pending = 1; next }
        types[n_ev++] = name(d)
    }
    END {
        if (n_at != n_ev) { print "mb_types: " n_at " offsets but " n_ev " event headers" > "/dev/stderr" }
        for (i = 0; i < n_at; i++) print at[i], (i < n_ev ? types[i] : "?missing")
    }' "$1"
}

mb_gtids() {
    sed -n 's/^#[0-9]\{6\} .* end_log_pos [0-9]* .*GTID \([0-9]*-[0-9]*-[0-9]*\).*$/\1/p' "$1"
}

# The binlogfs event type names (replay/binlog.c), by type code.
BL_TYPE_NAMES='0 Unknown 1 Start_v3 2 Query 3 Stop 4 Rotate 5 Intvar 6 Load 7 Slave
8 Create_file 9 Append_block 10 Exec_load 11 Delete_file 12 New_load 13 RAND 14 User_var
15 Format_desc 16 Xid 17 Begin_load_query 18 Execute_load_query 19 Table_map
20 Write_rows_event_old 21 Update_rows_event_old 22 Delete_rows_event_old 23 Write_rows_v1
24 Update_rows_v1 25 Delete_rows_v1 26 Incident 27 Heartbeat 28 Ignorable 29 Rows_query
30 Write_rows 31 Update_rows 32 Delete_rows 33 Gtid 34 Anonymous_Gtid 35 Previous_gtids
36 Transaction_context 37 View_change 38 XA_prepare 39 Update_rows_partial
40 Transaction_payload 41 Heartbeat_v2 42 Gtid_tagged 160 Annotate_rows 161 Binlog_checkpoint
162 Gtid 163 Gtid_list 164 Start_encryption 165 Query_compressed 166 Write_rows_compressed_v1
167 Update_rows_compressed_v1 168 Delete_rows_compressed_v1 169 Write_rows_compressed
170 Update_rows_compressed 171 Delete_rows_compressed 172 Partial_row_data'

type_name() {
    # shellcheck disable=SC2086 # split into words on purpose
    printf '%s\n' $BL_TYPE_NAMES | awk -v c="$1" 'NR % 2 == 1 { code = $0; next }
        code == c { print; found = 1 } END { if (!found) print "type" c }'
}

# (perl, not python: it starts 25 times faster, and prove needs it anyway)
raw_events() {
    BL_TYPE_NAMES=$BL_TYPE_NAMES perl -e '
        my %name = split " ", $ENV{BL_TYPE_NAMES};
        open(my $fh, "<:raw", $ARGV[0]) or die "$ARGV[0]: $!\n";
        my $data = do { local $/; <$fh> };
        while (my $off = <STDIN>) {
            chomp $off;
            if ($off + 19 > length $data) { print "$off beyond-eof size=?\n"; next }
            my ($code, $size) = unpack("x4 C x4 V", substr($data, $off, 13));
            printf "%d %s size=%d\n", $off, $name{$code} // "type$code", $size;
        }' "$1"
}

bl_events() {
    timeout "${BL_TIMEOUT:-60}" "$BINLOGFS" inspect --events "$@" >"$TEST_TMP/bl.out" 2>"$TEST_TMP/bl.err"
    # shellcheck disable=SC2034 # for the caller
    BL_RC=$?
    awk '
        /^# / { print; next }
        /^$/ { next }
        $1 ~ /^[0-9]+\+[0-9]+$/ { next }          # inside a Transaction_payload
        $1 ~ /^[0-9]+$/ && $3 ~ /^size=[0-9]+$/ { print $1, $2, $3; next }
        { print "unparsed: " $0 }' "$TEST_TMP/bl.out"
}

count_by_type() {
    awk '{ n[$2]++ } END { for (t in n) print t, n[t] }' | sort
}

# A key is a string right after "{" or ",": inside a string a quote is always
# escaped, so '{"' and ',"' only occur at the start of a key.
json_dup_keys() {
    awk '{
        line = $0; delete seen
        while (match(line, /[{,]"([^"\\]|\\.)*":/)) {
            k = substr(line, RSTART + 1, RLENGTH - 2)
            if (seen[k]++ == 1) print NR ": " k
            line = substr(line, RSTART + RLENGTH)
        }
    }' "$1"
}
