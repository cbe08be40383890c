# binlogfs examples: a sandbox of private MariaDB servers in a temporary
# directory (unix sockets only), stopped by PID and removed on exit, with
# a binlogfs mount on $work/mnt unmounted on exit. Sourced by demo.sh and
# stop-before-drop.sh; not needed to use binlogfs on real servers.

work=$(mktemp -d "/tmp/binlogfs-${SANDBOX_NAME:-example}.XXXXXX")
pids=()

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
mounted=
cleanup() {
    [ -z "$mounted" ] || fusermount3 -u "$work/mnt" 2>/dev/null || true
    for _ in $(seq 100); do pgrep -f "binlogfs mount .*$work/mnt" >/dev/null || break; sleep 0.2; done
    for p in "${pids[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

user_opt=()
[ "$(id -u)" != 0 ] || user_opt=(--user=root)

start_server() { # NAME DATADIR [OPTIONS...]
    local name=$1 data=$2
    shift 2
    /usr/sbin/mariadbd --no-defaults --datadir="$data" --socket="$work/$name.sock" \
        --pid-file="$work/$name.pid" --skip-networking --log-error="$work/$name.err" \
        --innodb-buffer-pool-size=256M --innodb-log-file-size=256M --innodb-use-native-aio=0 \
        "${user_opt[@]}" "$@" \
        >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 600); do
        mariadb-admin --no-defaults --socket="$work/$name.sock" -uroot ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the $name server did not start:" >&2
    tail -n 20 "$work/$name.err" >&2
    exit 1
}
stop_server() { # NAME
    mariadb-admin --no-defaults --socket="$work/$1.sock" -uroot shutdown
    for _ in $(seq 600); do [ -e "$work/$1.pid" ] || return 0; sleep 0.1; done
}
sql() { mariadb --no-defaults --socket="$work/$1.sock" -uroot -N -B -e "$2"; }
states() { # NAME: every table's row count and checksum
    for t in $(sql "$1" "SELECT CONCAT(table_schema,'.',table_name) FROM information_schema.tables
            WHERE table_schema='sbtest' ORDER BY 1"); do
        echo "$t $(sql "$1" "SELECT COUNT(*) FROM $t") $(sql "$1" "CHECKSUM TABLE $t EXTENDED" | cut -f2)"
    done
}


mount_binlogfs() { # binlogfs mount options (the mount point is $work/mnt)
    mkdir -p "$work/mnt" "$work/spool"
    "$BINLOGFS" mount --spool="$work/spool" "$@" "$work/mnt"
    mounted=1
}
unmount_binlogfs() { # waits until the daemon has exited (its server shut down)
    fusermount3 -u "$work/mnt"
    mounted=
    for _ in $(seq 1500); do pgrep -f "binlogfs mount .*$work/mnt" >/dev/null || return 0; sleep 0.2; done
    echo "binlogfs did not exit after the unmount" >&2
    return 1
}
