# tests/lib/oracle.sh — the replay oracle: the state of every user table.
# Source tap.sh and server.sh first.
#
# API
#   table_states NAME        one line per user table (all schemas but the
#                            system ones and binlogfs): "db.table rows digest"
#                            digest = CHECKSUM TABLE ... EXTENDED, or, for
#                            tables with generated columns (whose checksum is
#                            not stable, MDEV-32079), the md5 of an ordered
#                            dump of the stored columns
#   backup_datadir SRC DST   copy the stopped server SRC's data directory to
#                            be the data directory of server DST (not started)
#   server_backup_restart NAME BACKUP OPTS...
#                            the moment of a backup: stop NAME, copy its data
#                            directory as BACKUP, start NAME again with OPTS
#   pipe_apply NAME FILES... the reference: mariadb-binlog FILES | mariadb
#   pos_key FILE:POS         a key that sorts as the position does (by the
#                            file's number, then the offset)
#   progress_key NAME        the greatest position of NAME's progress rows
#                            (binlogfs.progress) as a pos_key, "" if none
#   progress_reaches NAME PID FILE:POS
#                            0 once NAME's progress rows have reached
#                            FILE:POS while process PID still runs; 1 if
#                            PID ended first

table_states() {
    local name=$1 t cols gen
    local list
    list=$(server_sql "$name" "SELECT CONCAT(table_schema, '.', table_name) FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN
        ('mysql', 'information_schema', 'performance_schema', 'sys', 'binlogfs')
        ORDER BY table_schema, table_name") || return 1
    for t in $list; do
        local db=${t%%.*} tb=${t#*.}
        local q="\`$db\`.\`$tb\`"
        local n
        n=$(server_sql "$name" "SELECT COUNT(*) FROM $q")
        gen=$(server_sql "$name" "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema='$db'
            AND table_name='$tb' AND (extra LIKE '%GENERATED%' OR generation_expression IS NOT NULL
            AND generation_expression <> '')")
        if [ "$gen" != 0 ]; then
            cols=$(server_sql "$name" "SELECT GROUP_CONCAT(CONCAT('\`', column_name, '\`') ORDER BY ordinal_position)
                FROM information_schema.columns WHERE table_schema='$db' AND table_name='$tb'
                AND NOT (extra LIKE '%GENERATED%' OR generation_expression IS NOT NULL AND generation_expression <> '')")
            local d
            d=$(server_sql "$name" "SELECT $cols FROM $q ORDER BY $cols" | md5sum | cut -d' ' -f1)
            echo "$t $n dump:$d"
        else
            echo "$t $n $(server_sql "$name" "CHECKSUM TABLE $q EXTENDED" | awk '{print $2}')"
        fi
    done
}

backup_datadir() {
    local src=$1 dst=$2
    rm -rf "$TEST_TMP/$dst"
    mkdir -p "$TEST_TMP/$dst/binlog" "$TEST_TMP/$dst/files"
    cp -a "$TEST_TMP/$src/data" "$TEST_TMP/$dst/data"
    # the copy must not carry the source's binlogs or their index
    rm -f "$TEST_TMP/$dst/data/"*bin.[0-9]* "$TEST_TMP/$dst/data/"*bin.index
}

# server_backup_restart NAME BACKUP OPTS...: the moment of a backup: stops
# server NAME, copies its datadir as BACKUP and starts NAME again with OPTS.
server_backup_restart() {
    local name=$1 backup=$2
    shift 2
    server_stop "$name"
    backup_datadir "$name" "$backup"
    server_start "$name" "$@"
}

pipe_apply() {
    local name=$1
    shift
    # LOAD DATA events: mariadb-binlog writes each file's data to a temporary
    # file (SQL_LOAD_MB-*), by default in /tmp where nothing removes them.
    mkdir -p "$TEST_TMP/$name/load"
    mariadb-binlog --no-defaults "--local-load=$TEST_TMP/$name/load" "$@" |
        "$MARIADB_CLIENT" --no-defaults "--socket=$TEST_TMP/$name/sock" -uroot --local-infile=1 \
            --binary-mode
}

pos_key() {
    local f=${1%:*}
    printf '%020d:%020d' "$((10#${f##*.}))" "${1##*:}"
}

progress_key() {
    local f p k best=''
    while read -r f p; do
        k=$(pos_key "$f:$p")
        [[ "$k" > "$best" ]] && best=$k
    done < <(server_sql "$1" "SELECT file, pos FROM binlogfs.progress WHERE file <> ''" 2>/dev/null)
    echo "$best"
}

progress_reaches() {
    local name=$1 pid=$2 want at
    want=$(pos_key "$3")
    while kill -0 "$pid" 2>/dev/null; do
        at=$(progress_key "$name")
        if [ -n "$at" ] && [[ ! "$at" < "$want" ]]; then
            kill -0 "$pid" 2>/dev/null
            return
        fi
        sleep 0.01
    done
    return 1
}
