#!/usr/bin/env bash
# 0100-connect — the target connection module against a real server.
#
# Starts one private MariaDB server and runs the unit test binary
# test-conn with BL_TEST_SOCKET set, which enables its server tests:
# multi-statement batches whose 2nd statement fails, bl_conn_query_value,
# connection failure messages (naming the socket and the user), option
# files (which groups are read, in which order, what they cannot undo),
# the password from a file, reconnects after KILL. The binary's output is
# the TAP of this script. BL_BUILD is the build directory (set by
# `make test`; default build/).
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$TEST_ROOT/tests/lib/server.sh"
trap 'server_stop_all; tap_cleanup' EXIT

server_require
BIN=${BL_BUILD:-$TEST_ROOT/build}/tests/unit/test-conn
[ -x "$BIN" ] || skip_all "$BIN not built (make unit)"

server_start conn || bail_out "cannot start the server"

# Not exec: the EXIT trap must still stop the server.
BL_TEST_SOCKET=$(server_sock conn) "$BIN"
exit $?
