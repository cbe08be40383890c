# tests/lib/tap.sh — TAP output for the shell tests, sourced by every
# tests/integration/NNNN-*.sh script.
#
# DESIGN: every assertion prints exactly one "ok N - name" / "not ok N - name"
# line on stdout and bumps a counter; diagnostics go to stderr as "# ..." so
# prove shows them even without -v. The script's exit status is the number of
# failed assertions (capped at 254), set by done_testing or, for a planned
# script that dies early, by the EXIT handling of the plan (prove then also
# sees the missing tests). A test that cannot run calls skip_all, which
# prints "1..0 # SKIP reason" and exits 0 (never 77: prove would count 77 as
# a failure).
#
# Scratch space: $TEST_TMP, a fresh directory per script, removed by
# tap_cleanup (call it from the script's EXIT trap) unless KEEP_TMP=1;
# tap_cleanup also stops the servers of server.sh, if it is sourced.
#
# API
#   plan N                      print the plan up front
#   done_testing                print the plan (if none yet), exit with the failure count
#   ok NAME CMD [ARGS...]       run CMD; pass if it exits 0 (its output is shown on failure)
#   nok NAME CMD [ARGS...]      run CMD; pass if it exits non-zero
#   check STATUS NAME           pass if STATUS (an exit status, e.g. $?) is 0
#   pass NAME / fail NAME [MSG] an unconditional result
#   is GOT EXPECTED NAME        string equality; a unified diff on failure
#   isnt GOT UNEXPECTED NAME
#   like GOT ERE NAME           GOT matches the extended regex (grep -E, any line)
#   unlike GOT ERE NAME
#   cmp_ok A OP B NAME          numeric: OP is one of -eq -ne -lt -le -gt -ge
#   skip NAME REASON            an "ok N # skip REASON" line
#   diag MSG...                 "# MSG" on stderr (one "# " per line)
#   note MSG...                 "# MSG" on stdout (shown with prove -v)
#   skip_all REASON             "1..0 # SKIP REASON", exit 0
#   bail_out REASON             "Bail out! REASON", exit 255
#   tap_cleanup                 server_stop_all (if server.sh is sourced), then
#                               remove $TEST_TMP (unless KEEP_TMP=1)
#   tap_failures                the number of failed assertions so far
#   TEST_NAME                   the script's base name without .sh
#   TEST_DIR, TEST_ROOT         the script's directory and the repository root

# Guard against double sourcing.
if [ -n "${_TAP_SH_LOADED:-}" ]; then
    return 0
fi
_TAP_SH_LOADED=1

_tap_planned=

TEST_NAME=$(basename "$0" .sh)
# shellcheck disable=SC2034 # for the scripts
TEST_DIR=$(cd "$(dirname "$0")" && pwd)
TEST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# A signal must still run the script's EXIT trap (servers, temp dirs).
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# Keep Perl-free, locale-independent output from the tools we call.
export LC_ALL=C

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/blfs-${TEST_NAME:0:24}.XXXXXX") || {
    echo "Bail out! cannot create a temporary directory"
    exit 255
}
export TEST_TMP

# The counters live in a file, so that assertions made in a subshell (the
# right side of a pipe, $(...), ( ... )) count too: "N FAILED".
_TAP_STATE=$TEST_TMP/.tap-state
echo "0 0" >"$_TAP_STATE"
_tap_load() { read -r _tap_n _tap_failed <"$_TAP_STATE"; }
_tap_save() { echo "$_tap_n $_tap_failed" >"$_TAP_STATE"; }

tap_cleanup() {
    # The servers first (server.sh): their state lives in $TEST_TMP.
    if declare -F server_stop_all >/dev/null; then
        server_stop_all
    fi
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "# KEEP_TMP=1: test files kept in $TEST_TMP" >&2
    elif [ -n "${TEST_TMP:-}" ] && [ -d "$TEST_TMP" ]; then
        rm -rf -- "$TEST_TMP"
    fi
}

tap_failures() {
    _tap_load
    echo "$_tap_failed"
}

plan() {
    _tap_planned=$1
    echo "1..$1"
}

done_testing() {
    _tap_load
    if [ -z "$_tap_planned" ]; then
        echo "1..$_tap_n"
    elif [ "$_tap_planned" != "$_tap_n" ]; then
        diag "planned $_tap_planned tests but ran $_tap_n"
        [ "$_tap_failed" -gt 0 ] || _tap_failed=1
    fi
    if [ "$_tap_failed" -gt 0 ]; then
        diag "$_tap_failed of $_tap_n tests failed"
    fi
    exit $((_tap_failed > 254 ? 254 : _tap_failed))
}

diag() {
    local line
    printf '%s\n' "$*" | while IFS= read -r line; do
        printf '# %s\n' "$line"
    done >&2
}

note() {
    local line
    printf '%s\n' "$*" | while IFS= read -r line; do
        printf '# %s\n' "$line"
    done
}

# _tap_result STATUS NAME: the one place that prints a test line.
_tap_result() {
    local status=$1 name=$2
    _tap_load
    _tap_n=$((_tap_n + 1))
    # '#' in a name would start a TAP directive.
    name=${name//#/\\#}
    if [ "$status" -eq 0 ]; then
        _tap_save
        echo "ok $_tap_n - $name"
        return 0
    fi
    _tap_failed=$((_tap_failed + 1))
    _tap_save
    echo "not ok $_tap_n - $name"
    local where
    where="${BASH_SOURCE[2]:-?}:${BASH_LINENO[1]:-?}"
    diag "  Failed test '$name'" "  at $where"
    return 1
}

pass() { _tap_result 0 "$1"; }

fail() {
    _tap_result 1 "$1"
    [ $# -lt 2 ] || diag "$2"
    return 1
}

check() {
    _tap_result "$1" "$2"
}

ok() {
    local name=$1 out status
    shift
    out=$("$@" 2>&1)
    status=$?
    if _tap_result "$status" "$name"; then
        return 0
    fi
    diag "  command: $*" "  exit status: $status"
    [ -z "$out" ] || diag "$(printf '%s\n' "$out" | tail -n 30 | sed 's/^/    /')"
    return 1
}

nok() {
    local name=$1 out status
    shift
    out=$("$@" 2>&1)
    status=$?
    if [ "$status" -ne 0 ]; then
        _tap_result 0 "$name"
        return 0
    fi
    _tap_result 1 "$name"
    diag "  command: $*" "  succeeded but was expected to fail"
    [ -z "$out" ] || diag "$(printf '%s\n' "$out" | tail -n 30 | sed 's/^/    /')"
    return 1
}

is() {
    local got=$1 want=$2 name=$3
    if [ "$got" == "$want" ]; then
        _tap_result 0 "$name"
        return 0
    fi
    _tap_result 1 "$name"
    if [[ "$got" != *$'\n'* && "$want" != *$'\n'* ]]; then
        diag "         got: '$got'" "    expected: '$want'"
    else
        diag "  --- expected  +++ got"
        diag "$(diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$got") | tail -n +3 | head -n 60)"
    fi
    return 1
}

isnt() {
    local got=$1 bad=$2 name=$3
    if [ "$got" != "$bad" ]; then
        _tap_result 0 "$name"
        return 0
    fi
    _tap_result 1 "$name"
    diag "         got: '$got'" "    expected: anything else"
    return 1
}

like() {
    local got=$1 re=$2 name=$3
    if printf '%s\n' "$got" | grep -Eq -- "$re"; then
        _tap_result 0 "$name"
        return 0
    fi
    _tap_result 1 "$name"
    diag "    '$(printf '%s' "$got" | head -c 2000)'" "    doesn't match /$re/"
    return 1
}

unlike() {
    local got=$1 re=$2 name=$3
    if ! printf '%s\n' "$got" | grep -Eq -- "$re"; then
        _tap_result 0 "$name"
        return 0
    fi
    _tap_result 1 "$name"
    diag "    '$(printf '%s' "$got" | head -c 2000)'" "    matches /$re/"
    return 1
}

cmp_ok() {
    local a=$1 op=$2 b=$3 name=$4
    if [[ "$a" =~ ^-?[0-9]+$ && "$b" =~ ^-?[0-9]+$ ]] && test "$a" "$op" "$b"; then
        _tap_result 0 "$name"
        return 0
    fi
    _tap_result 1 "$name"
    diag "    '$a'" "        $op" "    '$b'"
    return 1
}

skip() {
    local name=$1 reason=$2
    _tap_load
    _tap_n=$((_tap_n + 1))
    _tap_save
    echo "ok $_tap_n - ${name//#/\\#} # skip $reason"
}

skip_all() {
    echo "1..0 # SKIP $*"
    exit 0
}

bail_out() {
    echo "Bail out! $*"
    exit 255
}
