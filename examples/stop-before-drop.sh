#!/usr/bin/env bash
# "Stop before the DROP": someone ran DROP TABLE by accident. Restore the
# backup, replay the binlogs up to just before the DROP, check the table is
# there, then skip the DROP and replay everything written after it.
#
# This script builds the whole story on private servers (a sandbox in a
# temporary directory) so it runs anywhere binlogfs is built; the part to
# adapt on a real restore is step 3 onwards.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
BINLOGFS=${BINLOGFS:-$here/../binlogfs}
SANDBOX_NAME=stop-before-drop
# shellcheck source=examples/sandbox.sh
. "$here/sandbox.sh"

say "1. A shop database with binary logs; the nightly backup"
mariadb-install-db --no-defaults --datadir="$work/prod" --auth-root-authentication-method=normal \
    --skip-test-db --innodb-use-native-aio=0 "${user_opt[@]}" >"$work/install.log" 2>&1
mkdir -p "$work/binlog"
prod_opts=(--log-bin="$work/binlog/shop-bin" --server-id=1 --binlog-format=ROW)
start_server prod "$work/prod" "${prod_opts[@]}"
sql prod "CREATE DATABASE shop;
  CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(40));
  CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, customer INT, amount DECIMAL(10,2));
  INSERT INTO shop.customers VALUES (1,'Ada'),(2,'Grace'),(3,'Edsger');"
# mariadb-backup records where the backup ends in the binlogs
# (FILE, POS, GTID); this cold copy writes the same file by hand
sql prod "SHOW MASTER STATUS" | awk '{ printf "%s\t%s\t", $1, $2 }' >"$work/binlog_info"
sql prod "SELECT @@gtid_binlog_pos" >>"$work/binlog_info"
stop_server prod
cp -a "$work/prod" "$work/backup"
mv "$work/binlog_info" "$work/backup/mariadb_backup_binlog_info"
start_server prod "$work/prod" "${prod_opts[@]}"

say "2. The day: orders, a new customer, the accident, more orders"
for i in $(seq 50); do sql prod "INSERT INTO shop.orders (customer, amount) VALUES ($((i % 3 + 1)), $i.50)"; done
sql prod "INSERT INTO shop.customers VALUES (4,'Barbara')"
sql prod "DROP TABLE shop.customers"   # the accident
for i in $(seq 20); do sql prod "INSERT INTO shop.orders (customer, amount) VALUES (4, $i.00)"; done
sql prod "FLUSH BINARY LOGS"
orders_expected=$(sql prod "SELECT COUNT(*), SUM(amount) FROM shop.orders")
stop_server prod
binlogs=("$work"/binlog/shop-bin.[0-9]*)

say "3. Find the DROP in the binlogs"
# --events prints each event's offset first; --transactions each
# transaction's start-end and GTID: the one holding the DROP is the stop point.
drop_at=$("$BINLOGFS" inspect --events "${binlogs[@]}" | grep -i 'DROP TABLE' | head -n 1)
echo "  $drop_at"
# (grep without -q reads to the end: with pipefail, -q would make the
# pipeline fail when inspect is cut off by SIGPIPE)
drop_file=$(basename "$(for f in "${binlogs[@]}"; do
    "$BINLOGFS" inspect --events "$f" | grep -i 'DROP TABLE' >/dev/null && echo "$f"; done | head -n 1)")
drop_off=${drop_at%% *}
drop_gtid=$("$BINLOGFS" inspect --transactions "$work/binlog/$drop_file" |
    awk -v o="$drop_off" '{ split($1, r, "-"); if (r[1] <= o && o < r[2]) { print $2; exit } }')
echo "  the DROP is transaction $drop_gtid in $drop_file"

say "4. Restore the backup, stop before the DROP"
cp -a "$work/backup" "$work/restore"
# the private server's socket is SPOOL/run/mysqld.sock: the restored tables
# can be looked at while it runs
mount_binlogfs --datadir="$work/restore" --workers=4
cat "$work/backup/mariadb_backup_binlog_info" >"$work/mnt/control/start-at"  # where the backup ends
echo "$drop_gtid" >"$work/mnt/control/stop-at"
cp "${binlogs[@]}" "$work/mnt/binlogs/"
echo "  cat wait -> $(cat "$work/mnt/wait")"
cat "$work/mnt/progress" | sed 's/^/  /'
sock="$work/spool/run/mysqld.sock"
rsql() { mariadb --no-defaults --socket="$sock" -uroot -N -B -e "$1"; }
echo "  customers on the restored server, just before the DROP:"
rsql "SELECT id, name FROM shop.customers ORDER BY id" | sed 's/^/    /'
[ "$(rsql "SELECT COUNT(*) FROM shop.customers")" = 4 ]

say "5. Skip the DROP, replay the rest"
echo skip >"$work/mnt/control/state"      # records the DROP as passed, without running it
for _ in $(seq 150); do [ "$(cat "$work/mnt/control/state")" = paused ] && break; sleep 0.2; done
echo "  state after skip: $(cat "$work/mnt/control/state") (replay holds before the next transaction)"
echo resume >"$work/mnt/control/state"
echo "  cat wait -> $(cat "$work/mnt/wait")"
orders_restored=$(rsql "SELECT COUNT(*), SUM(amount) FROM shop.orders")
customers=$(rsql "SELECT COUNT(*) FROM shop.customers")
unmount_binlogfs

say "6. Result"
echo "  orders: production $orders_expected, restored $orders_restored"
echo "  customers table on the restored server: $customers rows (dropped in production)"
if [ "$orders_restored" = "$orders_expected" ] && [ "$customers" = 4 ]; then
    echo "Every order written after the accident is replayed and the customers table survived."
else
    echo "unexpected result" >&2
    exit 1
fi
