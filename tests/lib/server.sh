# tests/lib/server.sh — private MariaDB servers for the integration tests.
# Source tap.sh first (it provides $TEST_TMP, diag, skip_all).
#
# DESIGN: every server lives in $TEST_TMP/NAME (data/, sock, pid, error.log)
# and is started by us, so we know its PID; it is only ever stopped by that
# PID (never by name), and server_stop_all — which every script calls from
# its EXIT trap — stops whatever is still running, also when a test failed
# or the script was interrupted. A pristine data directory is made once per
# script by mariadb-install-db and copied for each server, which is faster
# than bootstrapping every time.
#
# API
#   server_available            0 if mariadbd/mariadb-install-db/mariadb exist
#   server_require              skip_all unless server_available
#   server_start NAME [OPT...]  create $TEST_TMP/NAME, start mariadbd with the
#                               base options plus OPT..., wait until it answers
#                               (SERVER_START_TIMEOUT, default 60 s). Returns 1
#                               with the error log tail on stderr on failure.
#                               Also creates $TEST_TMP/NAME/binlog/ (for
#                               --log-bin=$TEST_TMP/NAME/binlog/bin) and
#                               $TEST_TMP/NAME/files/ (for --secure-file-priv).
#   server_sql NAME SQL         run SQL (mariadb -uroot -N -B); stdout = rows
#   server_sql_file NAME [FILE] run a file of SQL statements (stdin without FILE)
#   server_sock NAME            the socket path
#   server_datadir NAME         the data directory
#   server_dir NAME             $TEST_TMP/NAME
#   server_pid NAME             the mariadbd PID ("" when not running)
#   server_running NAME         0 if the recorded PID is alive
#   server_stop NAME            clean shutdown (mariadb-admin shutdown), wait
#                               for the PID to go, kill -9 after
#                               SERVER_STOP_TIMEOUT (default 60 s)
#   server_kill NAME            kill -9 by PID, wait until it is gone
#   server_restart NAME         stop, then start with the same options
#   server_stop_all             server_stop every server still running
#   server_binlogs NAME         binlog files in order (absolute paths, one a
#                               line), read from the binlog index file;
#                               works after the server stopped
#   server_binlog_index NAME    the index file path
#
# Base mariadbd options: --no-defaults --datadir --socket --pid-file
# --skip-networking --log-error --user=root (as root) --innodb-buffer-pool-size=64M
# --innodb-log-file-size=48M, plus SERVER_EXTRA_OPTS (word-split) if set.

if [ -n "${_SERVER_SH_LOADED:-}" ]; then
    return 0
fi
_SERVER_SH_LOADED=1

MARIADBD=${MARIADBD:-$(command -v mariadbd 2>/dev/null || { [ -x /usr/sbin/mariadbd ] && echo /usr/sbin/mariadbd; })}
MARIADB_INSTALL_DB=${MARIADB_INSTALL_DB:-$(command -v mariadb-install-db 2>/dev/null)}
MARIADB_CLIENT=${MARIADB_CLIENT:-$(command -v mariadb 2>/dev/null)}
MARIADB_ADMIN=${MARIADB_ADMIN:-$(command -v mariadb-admin 2>/dev/null)}
SERVER_START_TIMEOUT=${SERVER_START_TIMEOUT:-60}
SERVER_STOP_TIMEOUT=${SERVER_STOP_TIMEOUT:-60}

# State lives in files, not shell variables, so that the functions also work
# from subshells (`ok NAME server_start ...`, `$(...)`): $TEST_TMP/.servers
# lists the names in start order, $TEST_TMP/NAME/server.pid holds the PID
# while it runs, $TEST_TMP/NAME/opts the extra options (for server_restart).

_server_set_pid() {
    if [ -n "$2" ]; then
        echo "$2" >"$TEST_TMP/$1/server.pid"
    else
        rm -f "$TEST_TMP/$1/server.pid"
    fi
}

server_available() {
    [ -n "$MARIADBD" ] && [ -x "$MARIADBD" ] &&
        [ -n "$MARIADB_INSTALL_DB" ] && [ -n "$MARIADB_CLIENT" ] && [ -n "$MARIADB_ADMIN" ]
}

server_require() {
    server_available ||
        skip_all "mariadbd, mariadb-install-db, mariadb or mariadb-admin not installed"
}

server_dir() { echo "$TEST_TMP/$1"; }
server_sock() { echo "$TEST_TMP/$1/sock"; }
server_datadir() { echo "$TEST_TMP/$1/data"; }
server_pid() { cat "$TEST_TMP/$1/server.pid" 2>/dev/null; }

# Alive, and still our mariadbd (not a reused PID): its command line names
# our data directory.
server_running() {
    local pid
    pid=$(server_pid "$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--datadir=$TEST_TMP/$1/data "
}

_server_base_opts() {
    local name=$1 d="$TEST_TMP/$1"
    local opts=(--no-defaults "--datadir=$d/data" "--socket=$d/sock" "--pid-file=$d/pid"
        --skip-networking "--log-error=$d/error.log"
        --innodb-buffer-pool-size=64M --innodb-log-file-size=48M
        # io_uring locks memory: several servers at once exceed the default
        # RLIMIT_MEMLOCK and InnoDB then fails to start ("Generic error")
        --innodb-use-native-aio=0)
    [ "$(id -u)" != 0 ] || opts+=(--user=root)
    printf '%s\n' "${opts[@]}"
}

# Makes $TEST_TMP/.pristine once: a freshly bootstrapped data directory.
_server_pristine() {
    local p="$TEST_TMP/.pristine"
    [ -f "$p/.done" ] && return 0
    rm -rf "$p"
    mkdir -p "$p"
    local user_opt=()
    [ "$(id -u)" != 0 ] || user_opt=(--user=root)
    if ! "$MARIADB_INSTALL_DB" --no-defaults "--datadir=$p/data" \
        --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
        "${user_opt[@]}" --innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
        --innodb-use-native-aio=0 \
        >"$p/install.log" 2>&1; then
        diag "mariadb-install-db failed:" "$(tail -n 30 "$p/install.log")"
        return 1
    fi
    touch "$p/.done"
}

server_start() {
    local name=$1
    shift
    local d="$TEST_TMP/$name"
    if server_running "$name"; then
        diag "server_start $name: already running (pid $(server_pid "$name"))"
        return 1
    fi
    _server_pristine || return 1
    if [ ! -d "$d/data" ]; then
        mkdir -p "$d" "$d/binlog" "$d/files"
        cp -a "$TEST_TMP/.pristine/data" "$d/data" || return 1
    fi
    mkdir -p "$d/binlog" "$d/files"
    local base
    mapfile -t base < <(_server_base_opts "$name")
    # shellcheck disable=SC2206 # word splitting is the point
    local extra_env=(${SERVER_EXTRA_OPTS:-})
    local opts=("${base[@]}" "${extra_env[@]}" "$@")
    printf '%q ' "$@" >"$d/opts"
    rm -f "$d/sock" "$d/pid"
    printf '%q ' "$MARIADBD" "${opts[@]}" >"$d/cmdline"
    "$MARIADBD" "${opts[@]}" >>"$d/stdout.log" 2>&1 </dev/null &
    local pid=$!
    # No job notices ("Killed") on our stderr; bash still reaps it.
    disown "$pid"
    _server_set_pid "$name" "$pid"
    grep -qxF -- "$name" "$TEST_TMP/.servers" 2>/dev/null || echo "$name" >>"$TEST_TMP/.servers"
    _server_watchdog "$name" "$pid"

    local deadline=$((SECONDS + SERVER_START_TIMEOUT))
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            _server_set_pid "$name" ""
            diag "server $name (pid $pid) died during startup; error log tail:" \
                "$(tail -n 40 "$d/error.log" 2>/dev/null; tail -n 10 "$d/stdout.log" 2>/dev/null)"
            return 1
        fi
        if [ -S "$d/sock" ] &&
            "$MARIADB_ADMIN" --no-defaults "--socket=$d/sock" -uroot --connect-timeout=2 \
                ping >/dev/null 2>&1; then
            break
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            diag "server $name (pid $pid) did not answer within ${SERVER_START_TIMEOUT}s; error log tail:" \
                "$(tail -n 40 "$d/error.log" 2>/dev/null)"
            server_kill "$name"
            return 1
        fi
        sleep 0.1
    done
    # Remember where the binlog index is, for server_binlogs after a stop.
    server_sql "$name" "SELECT IFNULL(@@log_bin_index, '')" >"$d/binlog_index" 2>/dev/null ||
        : >"$d/binlog_index"
    return 0
}

# If the script itself is killed with SIGKILL (a harness timeout), no trap
# runs: a watchdog kills the server once the script's main process is gone.
# Its output goes to /dev/null so that it never holds prove's pipe open.
_server_watchdog() {
    local name=$1 pid=$2 owner=$$ datadir="--datadir=$TEST_TMP/$1/data "
    (
        trap '' INT TERM HUP
        while kill -0 "$owner" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do
            sleep 1
        done
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$datadir"; then
            kill -9 "$pid"
        fi
    ) </dev/null >/dev/null 2>&1 &
    disown $!
}

server_sql() {
    local name=$1
    shift
    "$MARIADB_CLIENT" --no-defaults "--socket=$TEST_TMP/$name/sock" -uroot -N -B \
        --connect-timeout=10 -e "$*"
}

server_sql_file() {
    "$MARIADB_CLIENT" --no-defaults "--socket=$TEST_TMP/$1/sock" -uroot -N -B \
        --connect-timeout=10 <"${2:-/dev/stdin}"
}

# _server_wait_gone PID SECONDS: 0 once PID is gone, 1 on timeout.
_server_wait_gone() {
    local pid=$1 deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null; do
        # A zombie still answers kill -0: it is gone for our purpose.
        if ! ps -p "$pid" -o stat= 2>/dev/null | grep -qv Z; then
            break
        fi
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
    return 0
}

server_stop() {
    local name=$1 pid
    pid=$(server_pid "$1")
    [ -n "$pid" ] || return 0
    if server_running "$name"; then
        timeout 30 "$MARIADB_ADMIN" --no-defaults "--socket=$TEST_TMP/$name/sock" -uroot \
            --connect-timeout=5 shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null
        if ! _server_wait_gone "$pid" "$SERVER_STOP_TIMEOUT"; then
            diag "server $name (pid $pid) did not stop within ${SERVER_STOP_TIMEOUT}s, killing it"
            kill -9 "$pid" 2>/dev/null
            _server_wait_gone "$pid" 10
        fi
    fi
    _server_set_pid "$name" ""
    return 0
}

server_kill() {
    local name=$1 pid
    pid=$(server_pid "$1")
    [ -n "$pid" ] || return 0
    if server_running "$name"; then
        kill -9 "$pid" 2>/dev/null
        _server_wait_gone "$pid" 30
    fi
    _server_set_pid "$name" ""
}

server_restart() {
    local name=$1
    server_stop "$name"
    eval "local opts=($(cat "$TEST_TMP/$name/opts" 2>/dev/null))"
    # shellcheck disable=SC2154 # set by the eval
    server_start "$name" "${opts[@]}"
}

server_stop_all() {
    local name
    [ -f "$TEST_TMP/.servers" ] || return 0
    # Newest first.
    for name in $(tac "$TEST_TMP/.servers"); do
        server_stop "$name"
    done
}

server_binlog_index() {
    local f="$TEST_TMP/$1/binlog_index"
    [ -s "$f" ] && cat "$f"
}

server_binlogs() {
    local name=$1 idx line dir
    idx=$(server_binlog_index "$name") || return 1
    [ -f "$idx" ] || return 1
    dir=$(server_datadir "$name")
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        case $line in
        /*) echo "$line" ;;
        *) echo "$dir/${line#./}" ;;
        esac
    done <"$idx"
}

# server_binlogs_from NAME FIRST: NAME's binlog files whose names sort at or
# after FIRST (the binlogs written since a backup), one path per line.
server_binlogs_from() {
    local f
    server_binlogs "$1" | while IFS= read -r f; do
        [ "$(basename "$f")" \< "$2" ] || echo "$f"
    done
}
