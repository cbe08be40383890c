# shellcheck shell=bash
# tests/lib/replay.sh — the shared steps of the replay tests: a backup
# point on a source, concurrent client sessions (free-running or driven
# step by step), the database state oracle (data and schema), the pipe
# reference and the replay with several worker counts.
# Source tap.sh, server.sh and oracle.sh first. Sourcing it sets TMPDIR to
# $TEST_TMP/.srvtmp and adds --tmpdir=$TEST_TMP/.srvtmp to SERVER_EXTRA_OPTS.
#
# DESIGN: the expected state never comes from binlogfs: it is either
# `mariadb-binlog | mariadb` on the same backup (the pipe) or the source's
# own final state. Every target is a fresh copy of the backup, started
# without options of its own, and is stopped and removed after its check.
#
# API
#   replay_backup SRC BACKUP     on the running SRC: FLUSH BINARY LOGS and
#                                remember the newest file as the first to
#                                replay; stop SRC, copy its datadir to BACKUP
#                                (backup_datadir), start SRC again with the
#                                same options
#   replay_binlogs SRC           the binlogs written since replay_backup, in
#                                order, absolute paths (works after a stop)
#   db_table_states NAME         what table_states (oracle.sh) prints, in
#                                the same format, with fewer client calls;
#                                and system-versioned tables, which
#                                table_states leaves out: "db.table ROWS
#                                history:MD5" over every version
#   schema_states NAME           one block per user table: SHOW CREATE TABLE
#                                without its AUTO_INCREMENT=N counter (which
#                                the source's rolled-back inserts move), then
#                                one line per trigger, per view and per
#                                sequence (with its state)
#   db_state NAME                db_table_states NAME and schema_states NAME
#   run_sessions [-f] SRV FILE...
#                                one `mariadb` client per SQL FILE against SRV,
#                                all at once; waits for all. stderr of each in
#                                FILE.err. Without -f: 0 if every client exited
#                                0. With -f (mariadb --force): 0 if every
#                                error is one of $SESSION_OK_ERRORS (default:
#                                1213 deadlock, 1205 lock wait timeout);
#                                prints "# N tolerated errors" with -f
#   session_open SRV ID          a client driven step by step: reads from a
#                                FIFO that the script writes (session_sql);
#                                stops at its first error
#   session_sql ID SQL...        send SQL (each argument one statement, the
#                                trailing ';' is added)
#   session_sync ID              wait until every statement sent so far has
#                                run (SESSION_SYNC_TIMEOUT, default 60 s);
#                                non-zero, with the client's stderr, if the
#                                client died or did not answer
#   session_close ID             end the session (EOF) and return its exit
#                                status (0: no statement failed)
#   session_close_all            close every session still open (a keeper
#                                also goes by itself when the script ends)
#   pipe_state BACKUP NAME FILES...
#                                copy BACKUP to NAME, start it, pipe_apply
#                                FILES, print db_state, stop and remove NAME.
#                                Returns the pipe's exit status
#   replay_check LABEL BACKUP EXPECTED FILES...
#                                for each worker count in $REPLAY_WORKERS
#                                (default "1 4 16"): a fresh copy of BACKUP,
#                                `$BINLOGFS replay -q --workers=N FILES`, then
#                                two assertions: exits 0, and db_state equals
#                                EXPECTED. If REPLAY_HOOK names a function, it
#                                is called as HOOK SERVER N while the target
#                                still runs (for extra assertions).
#                                REPLAY_BINLOG_STATE, if set: each target keeps
#                                a binlog (server id 99, gtid_strict_mode=ON),
#                                and a third assertion: its @@gtid_binlog_state
#                                equals REPLAY_BINLOG_STATE (binlogfs logs the
#                                source's GTIDs and none of its own).
#                                REPLAY_ONLY_TABLES, if set, is an ERE: only
#                                db_state lines of tables matching it are
#                                compared (EXPECTED must be filtered the same
#                                way with state_filter).
#   state_filter ERE             stdin -> stdout: the db_state lines (and
#                                CREATE blocks) of tables whose db.table
#                                matches ERE
#   state_exclude ERE            the opposite of state_filter
#   state_data                   stdin -> stdout: the data lines of a db_state
#                                ("db.table ROWS DIGEST"), as db_table_states

if [ -n "${_REPLAY_SH_LOADED:-}" ]; then
    return 0
fi
_REPLAY_SH_LOADED=1

: "${BINLOGFS:=${TEST_ROOT:?source tap.sh first}/build/binlogfs}"
SESSION_OK_ERRORS=${SESSION_OK_ERRORS:-"1213 1205"}
SESSION_SYNC_TIMEOUT=${SESSION_SYNC_TIMEOUT:-60}
REPLAY_WORKERS=${REPLAY_WORKERS:-"1 4 16"}

# Temporary files (the servers', mariadb-install-db's, mariadb-binlog's
# LOAD DATA files, binlogfs's) in a directory of the script's own, not in
# the shared /tmp, where something on the test machines removes
# /tmp/#sql-* files under running servers.
mkdir -p "$TEST_TMP/.srvtmp"
export TMPDIR=$TEST_TMP/.srvtmp
SERVER_EXTRA_OPTS="${SERVER_EXTRA_OPTS:-} --tmpdir=$TEST_TMP/.srvtmp"

replay_backup() {
    local src=$1 backup=$2
    server_sql "$src" "FLUSH BINARY LOGS" || return 1
    basename "$(server_binlogs "$src" | tail -n 1)" >"$TEST_TMP/$src/first_binlog"
    server_stop "$src"
    backup_datadir "$src" "$backup"
    server_restart "$src"
}

replay_binlogs() {
    local src=$1 first f
    first=$(cat "$TEST_TMP/$src/first_binlog") || return 1
    for f in $(server_binlogs "$src"); do
        [ "$(basename "$f")" \< "$first" ] || echo "$f"
    done
}

# Both in a few client calls (a call costs ~0.1 s on a loaded machine):
# the list of tables, then one batch of COUNT/CHECKSUM/SHOW CREATE.
# Tables with generated columns are dumped one by one as table_states does.
_state_tables() {
    server_sql "$1" "SELECT CONCAT(t.table_schema, '.', t.table_name),
        IF(t.table_type = 'SYSTEM VERSIONED', 'V', (SELECT COUNT(*)
        FROM information_schema.columns c WHERE c.table_schema = t.table_schema AND
        c.table_name = t.table_name AND (c.extra LIKE '%GENERATED%' OR
        c.generation_expression IS NOT NULL AND c.generation_expression <> '')))
        FROM information_schema.tables t WHERE t.table_type IN ('BASE TABLE', 'SYSTEM VERSIONED')
        AND t.table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys', 'binlogfs')
        ORDER BY t.table_schema, t.table_name"
}

_state_batch() {
    local name=$1 what=$2 t gen
    _state_tables "$name" >"$TEST_TMP/.state-tables" || return 1
    {
        while read -r t gen; do
            local db=${t%%.*} tb=${t#*.}
            local q="\`$db\`.\`$tb\`"
            case $what in
            data)
                if [ "$gen" = 0 ]; then
                    echo "SELECT 'T', '$t', COUNT(*) FROM $q;"
                    echo "CHECKSUM TABLE $q EXTENDED;"
                fi
                ;;
            schema) echo "SELECT 'S', '$t'; SHOW CREATE TABLE $q;" ;;
            esac
        done <"$TEST_TMP/.state-tables"
        echo "SELECT 'E';"
    } | server_sql_file "$name"
}

db_table_states() {
    local name=$1 t gen line
    local -A got=()
    while IFS= read -r line; do
        got[${line%% *}]=$line
    done < <(_state_batch "$name" data | awk -F'\t' '
        $1 == "T" && NF == 3 { t = $2; n = $3; next }
        t != "" { print t " " n " " $2; t = ""; next }')
    while read -r t gen; do
        if [ "$gen" = 0 ]; then
            echo "${got[$t]:-$t missing}"
        elif [ "$gen" = V ]; then
            versioned_state_one "$name" "$t"
        else
            table_states_one "$name" "$t"
        fi
    done <"$TEST_TMP/.state-tables"
}

# A system-versioned table (table_states leaves them out): every row of its
# history with ROW_START and ROW_END, sorted, digested.
versioned_state_one() {
    local name=$1 t=$2
    local q="\`${t%%.*}\`.\`${t#*.}\`"
    echo "$t $(server_sql "$name" "SELECT COUNT(*) FROM $q FOR SYSTEM_TIME ALL")" \
        "history:$(server_sql "$name" "SELECT *, ROW_START, ROW_END FROM $q FOR SYSTEM_TIME ALL" |
            sort | md5sum | cut -d' ' -f1)"
}

# One table with generated columns, exactly as table_states prints it.
table_states_one() {
    local name=$1 t=$2 cols n
    local db=${t%%.*} tb=${t#*.}
    local q="\`$db\`.\`$tb\`"
    n=$(server_sql "$name" "SELECT COUNT(*) FROM $q")
    cols=$(server_sql "$name" "SELECT GROUP_CONCAT(CONCAT('\`', column_name, '\`') ORDER BY ordinal_position)
        FROM information_schema.columns WHERE table_schema='$db' AND table_name='$tb'
        AND NOT (extra LIKE '%GENERATED%' OR generation_expression IS NOT NULL AND generation_expression <> '')")
    echo "$t $n dump:$(server_sql "$name" "SELECT $cols FROM $q ORDER BY $cols" | md5sum | cut -d' ' -f1)"
}

schema_states() {
    local name=$1 out
    out=$(_state_batch "$name" schema) || return 1
    printf '%s\n' "$out" | awk -F'\t' '
        $1 == "S" && NF == 2 { t = $2; next }
        t != "" {
            s = $2; gsub(/ AUTO_INCREMENT=[0-9]+/, "", s)
            print t " create:"
            n = split(s, L, /\\n/)
            for (i = 1; i <= n; i++) print t "   " L[i]
            t = ""
        }'
    server_sql "$name" "SELECT CONCAT_WS(' ', 'trigger', trigger_schema, trigger_name,
        action_timing, event_manipulation, event_object_table, action_order, MD5(action_statement))
        FROM information_schema.triggers WHERE trigger_schema NOT IN ('mysql', 'sys')
        ORDER BY trigger_schema, trigger_name"
    server_sql "$name" "SELECT CONCAT_WS(' ', 'view', table_schema, table_name, MD5(view_definition))
        FROM information_schema.views WHERE table_schema NOT IN ('mysql', 'sys')
        ORDER BY table_schema, table_name"
    local q
    for q in $(server_sql "$name" "SELECT CONCAT('\`', table_schema, '\`.\`', table_name, '\`')
        FROM information_schema.tables WHERE table_type = 'SEQUENCE' ORDER BY table_schema, table_name"); do
        echo "sequence ${q//\`/} $(server_sql "$name" "SELECT * FROM $q" | tr '\t' ' ')"
    done
}

db_state() {
    db_table_states "$1" && schema_states "$1"
}

# Lines of db_state start with "db.table "; trigger lines are
# "trigger DB NAME TIMING EVENT TABLE ...", view lines "view DB NAME ...",
# sequence lines "sequence DB.NAME ...":
# keep or drop them by the table's (view's) name.
state_filter() {
    RE=$1 awk '{ k = $1; if (k == "trigger") k = $2 "." $6; else if (k == "view") k = $2 "." $3
        else if (k == "sequence") k = $2
        if (k ~ ENVIRON["RE"]) print }'
}

state_exclude() {
    RE=$1 awk '{ k = $1; if (k == "trigger") k = $2 "." $6; else if (k == "view") k = $2 "." $3
        else if (k == "sequence") k = $2
        if (k !~ ENVIRON["RE"]) print }'
}

state_data() {
    awk 'NF == 3 && $2 ~ /^[0-9]+$/'
}

run_sessions() {
    local force=
    if [ "$1" = -f ]; then
        force=--force
        shift
    fi
    local srv=$1 f pid rc=0
    shift
    local pids=()
    for f in "$@"; do
        "$MARIADB_CLIENT" --no-defaults "--socket=$TEST_TMP/$srv/sock" -uroot -N -B \
            --connect-timeout=10 $force <"$f" >"$f.out" 2>"$f.err" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || rc=1
    done
    [ -n "$force" ] || return $rc
    local bad tolerated
    bad=$(cat "${@/%/.err}" | grep -E '^ERROR' | grep -vE "^ERROR ($(echo "$SESSION_OK_ERRORS" | tr ' ' '|')) " | head -n 20)
    tolerated=$(cat "${@/%/.err}" | grep -cE '^ERROR')
    echo "# $tolerated tolerated errors"
    if [ -n "$bad" ]; then
        echo "$bad"
        return 1
    fi
    return 0
}

# A driven session is a client reading a FIFO. The write end is held open
# by a keeper subshell (so that the client sees EOF only when the keeper
# goes, not after each write; and no other child of the script inherits a
# write end that would keep the client waiting): session_sql opens the FIFO
# for each write, session_close kills the keeper by its PID. The keeper also
# goes by itself once the script's main process is gone.
declare -A _SESS_KEEPER _SESS_PID _SESS_N

session_open() {
    local srv=$1 id=$2 d=$TEST_TMP/.sessions owner=$$
    mkdir -p "$d"
    rm -f "$d/$id.in"
    mkfifo "$d/$id.in" || return 1
    "$MARIADB_CLIENT" --no-defaults "--socket=$TEST_TMP/$srv/sock" -uroot -N -B --unbuffered \
        --connect-timeout=10 <"$d/$id.in" >"$d/$id.out" 2>"$d/$id.err" &
    _SESS_PID[$id]=$!
    (
        trap '' INT HUP
        trap 'exit 0' TERM
        while kill -0 "$owner" 2>/dev/null; do
            sleep 1 >/dev/null 2>&1
        done
    ) >"$d/$id.in" 2>/dev/null </dev/null &
    _SESS_KEEPER[$id]=$!
    _SESS_N[$id]=0
}

session_sql() {
    local id=$1 s
    shift
    kill -0 "${_SESS_PID[$id]:-0}" 2>/dev/null || return 1
    for s in "$@"; do
        printf '%s;\n' "$s" >"$TEST_TMP/.sessions/$id.in" || return 1
    done
}

session_sync() {
    local id=$1 d=$TEST_TMP/.sessions
    local n=$((${_SESS_N[$id]} + 1))
    _SESS_N[$id]=$n
    local mark="sync-$id-$n"
    session_sql "$id" "SELECT '$mark'" || {
        diag "session $id is gone: $(cat "$d/$id.err")"
        return 1
    }
    local deadline=$((SECONDS + SESSION_SYNC_TIMEOUT))
    while ! grep -qxF -- "$mark" "$d/$id.out" 2>/dev/null; do
        if ! kill -0 "${_SESS_PID[$id]}" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
            diag "session $id did not reach $mark: $(cat "$d/$id.err")"
            return 1
        fi
        sleep 0.05
    done
}

session_close() {
    local id=$1 rc=0
    [ -n "${_SESS_KEEPER[$id]:-}" ] || return 0
    kill -TERM "${_SESS_KEEPER[$id]}" 2>/dev/null
    wait "${_SESS_KEEPER[$id]}" 2>/dev/null
    wait "${_SESS_PID[$id]}" || rc=$?
    [ $rc = 0 ] || diag "session $id: $(cat "$TEST_TMP/.sessions/$id.err")"
    unset "_SESS_KEEPER[$id]" "_SESS_PID[$id]"
    return $rc
}

session_close_all() {
    local id
    for id in "${!_SESS_KEEPER[@]}"; do
        session_close "$id" >/dev/null 2>&1
    done
}

_replay_drop_server() {
    server_stop "$1"
    [ "${KEEP_TMP:-0}" = 1 ] || rm -rf "${TEST_TMP:?}/$1/data"
}

pipe_state() {
    local backup=$1 name=$2 rc
    shift 2
    backup_datadir "$backup" "$name"
    server_start "$name" || return 1
    pipe_apply "$name" "$@" >"$TEST_TMP/$name.pipe.out" 2>"$TEST_TMP/$name.pipe.err"
    rc=$?
    [ $rc = 0 ] || diag "the pipe failed: $(tail -n 5 "$TEST_TMP/$name.pipe.err")"
    db_state "$name"
    _replay_drop_server "$name"
    return $rc
}

replay_check() {
    local label=$1 backup=$2 expected=$3 w t rc got
    shift 3
    for w in $REPLAY_WORKERS; do
        t="$label-w$w"
        backup_datadir "$backup" "$t"
        local topts=()
        [ -z "${REPLAY_BINLOG_STATE:-}" ] ||
            topts=(--log-bin="$TEST_TMP/$t/binlog/tbin" --server-id=99 --gtid-strict-mode=1)
        if ! server_start "$t" "${topts[@]}"; then
            fail "$label: start the target for $w workers"
            fail "$label: $w workers: the state equals the expected one"
            continue
        fi
        "$BINLOGFS" replay -q --socket="$(server_sock "$t")" --user=root --workers="$w" "$@" \
            >"$TEST_TMP/$t.replay.out" 2>"$TEST_TMP/$t.replay.err"
        rc=$?
        ok "$label: replay with $w workers exits 0" test $rc = 0 ||
            diag "$(tail -n 20 "$TEST_TMP/$t.replay.err")"
        got=$(db_state "$t")
        if [ -n "${REPLAY_ONLY_TABLES:-}" ]; then
            got=$(printf '%s\n' "$got" | state_filter "$REPLAY_ONLY_TABLES")
        fi
        is "$got" "$expected" "$label: $w workers: the state equals the expected one"
        if [ -n "${REPLAY_BINLOG_STATE:-}" ]; then
            is "$(server_sql "$t" "SELECT @@gtid_binlog_state")" "$REPLAY_BINLOG_STATE" \
                "$label: $w workers: the target's binlog holds the source's GTIDs only"
        fi
        if [ -n "${REPLAY_HOOK:-}" ]; then
            "$REPLAY_HOOK" "$t" "$w"
        fi
        _replay_drop_server "$t"
    done
}
