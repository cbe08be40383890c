#!/usr/bin/env bash
# Replay of DDL in the middle of concurrent DML (binlog_format=ROW) with 1,
# 4 and 16 workers. Each DDL step runs while three sessions keep inserting,
# updating and deleting rows, some of them hot rows that every session
# updates (so that a replay that misses a dependency across the DDL, or
# keeps using the keys or column positions a table had before it, ends
# with other values or fails): ALTER TABLE ADD COLUMN (also FIRST), ADD
# INDEX, DROP COLUMN, MODIFY to another type, ADD UNIQUE KEY, change of the
# primary key, a table rebuild; CREATE TABLE, DROP TABLE and CREATE again
# with other columns, CREATE TABLE ... SELECT (a table without a key, given
# one later), a CREATE TABLE with explicit_defaults_for_timestamp=0 (its
# TIMESTAMP columns get NOT NULL and defaults), RENAME TABLE swapping two
# tables, TRUNCATE TABLE, a DDL
# that implicitly commits an open transaction, and a SEQUENCE (NOCACHE:
# every NEXTVAL is logged) created, used by the sessions, and restarted. The first half of the steps
# is logged with binlog_row_metadata at its default (NO_LOG), the second
# with FULL.
# The oracle: every table and its definition equal the pipe's result on the
# same backup; the pipe equals the source.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/server.sh"
. "$here/../lib/oracle.sh"
. "$here/../lib/replay.sh"
trap tap_cleanup EXIT
server_require
command -v mariadb-binlog >/dev/null || skip_all "mariadb-binlog is not installed"
BINLOGFS=${BINLOGFS:-$here/../../binlogfs}

M=${DDL_ITERATIONS:-15}   # iterations of each DML session per DDL step
plan 12

DDL=(
    [1]="ALTER TABLE t1 ADD COLUMN d INT NOT NULL DEFAULT 7"
    [2]="ALTER TABLE t1 ADD INDEX ia (a); CREATE SEQUENCE sq START WITH 1 INCREMENT BY 3 NOCACHE"
    [3]="ALTER TABLE t2 ADD COLUMN e VARCHAR(20) NOT NULL DEFAULT 'e' FIRST"
    [4]="ALTER TABLE t1 DROP COLUMN b"
    [5]="BEGIN; INSERT INTO t3 (a, k) VALUES (-1, 9); CREATE TABLE t5 (id INT PRIMARY KEY, v INT NOT NULL)"
    [6]="ALTER TABLE t2 MODIFY a BIGINT NOT NULL DEFAULT 0"
    [7]="RENAME TABLE t4 TO t4_old, t4_new TO t4"
    [8]="TRUNCATE TABLE t3"
    [9]="ALTER TABLE t1 ADD COLUMN u INT NULL, ADD UNIQUE KEY uu (u)"
    [10]="DROP TABLE t5"
    [11]="CREATE TABLE t5 (id INT PRIMARY KEY, w VARCHAR(10), z INT NOT NULL DEFAULT 1)"
    [12]="CREATE TABLE t6 ENGINE=InnoDB AS SELECT id, a FROM t1 WHERE id <= 50;
        SET explicit_defaults_for_timestamp = 0;
        CREATE TABLE t7 (id INT PRIMARY KEY, ts TIMESTAMP, ts2 TIMESTAMP) ENGINE=InnoDB"
    [13]="ALTER TABLE t6 ADD PRIMARY KEY (id)"
    [14]="ALTER TABLE t2 DROP COLUMN e, DROP COLUMN note"
    [15]="ALTER TABLE t1 DROP PRIMARY KEY, ADD PRIMARY KEY (id, d)"
    [16]="ALTER TABLE t2 ENGINE=InnoDB, ALGORITHM=COPY; ALTER SEQUENCE sq RESTART WITH 1000000"
    [17]="ALTER TABLE t1 DROP INDEX ia, ADD INDEX iad (a, d)"
)
NSTEPS=17

setup_sql() {
    cat <<'EOF'
CREATE DATABASE dd CHARACTER SET utf8mb4;
USE dd;
CREATE TABLE t1 (id INT PRIMARY KEY, a INT NOT NULL DEFAULT 0, b VARCHAR(50) DEFAULT 'b',
    c DATETIME DEFAULT '2020-01-01 00:00:00') ENGINE=InnoDB;
INSERT INTO t1 (id, a, b) SELECT seq, seq, CONCAT('b', seq) FROM seq_1_to_200;
CREATE TABLE t2 (id INT PRIMARY KEY, a INT NOT NULL DEFAULT 0, note VARCHAR(50) DEFAULT 'n') ENGINE=InnoDB;
INSERT INTO t2 (id, a) SELECT seq, seq * 2 FROM seq_1_to_200;
CREATE TABLE t3 (id INT AUTO_INCREMENT PRIMARY KEY, a INT, k INT) ENGINE=InnoDB;
CREATE TABLE t4 (id INT PRIMARY KEY, a INT NOT NULL DEFAULT 0) ENGINE=InnoDB;
CREATE TABLE t4_new (extra VARCHAR(10) DEFAULT 'x', id INT PRIMARY KEY, a INT NOT NULL DEFAULT 0) ENGINE=InnoDB;
INSERT INTO t4_new (id, a) SELECT seq, 100 FROM seq_1_to_5;
EOF
}

# The DML of session S during DDL step K: only tables and columns that
# exist both before and after DDL K.
dml() {
    local k=$1 s=$2 i
    echo "USE dd;"
    for ((i = 1; i <= M; i++)); do
        local hot=$(((i + s) % 8 + 1)) new=$((10000 + k * 1000 + s * 100 + i))
        local old=$((10000 + (k - 1) * 1000 + s * 100 + i))
        if ((i % 5 == 0)); then echo "BEGIN;"; fi
        cat <<EOF
UPDATE t1 SET a = (a * 2 + $s) % 100003 WHERE id = $hot;
UPDATE t2 SET a = a + $s * $k WHERE id = $hot;
INSERT INTO t1 (id, a) VALUES ($new, $i);
INSERT INTO t3 (a, k) VALUES ($i, $s);
INSERT INTO t4 (id, a) VALUES ($hot, 1) ON DUPLICATE KEY UPDATE a = a + 1;
EOF
        if ((k > 1 && i % 3 == 0)); then echo "DELETE FROM t1 WHERE id = $old;"; fi
        if ((k > 2)); then echo "INSERT INTO t3 (a, k) VALUES (NEXTVAL(sq), -$s);"; fi
        if ((i % 4 == 0)); then echo "UPDATE t3 SET a = a + 1 WHERE k = $s ORDER BY id DESC LIMIT 3;"; fi
        if ((k > 5 && k < 10)); then
            echo "INSERT INTO t5 (id, v) VALUES ($hot, $s) ON DUPLICATE KEY UPDATE v = (v * 3 + $s) % 1000003;"
        fi
        if ((k > 11)); then
            echo "INSERT INTO t5 (id, w) VALUES ($hot, 'w$s') ON DUPLICATE KEY UPDATE z = (z * 2 + $s) % 1000003, w = 'u$s';"
        fi
        if ((k > 9)); then echo "UPDATE t1 SET u = id + $k * 100000 WHERE id = $((hot + 10 * s));"; fi
        if ((k > 12)); then echo "UPDATE t6 SET a = (a * 3 + $s) % 1000003 WHERE id = $hot;"; fi
        if ((k > 12)); then echo "INSERT INTO t7 (id) VALUES ($new);"; fi
        if ((k > 3 && k < 14)); then echo "UPDATE t2 SET e = 'e$s$i' WHERE id = $((hot + 20));"; fi
        if ((i % 5 == 0)); then echo "COMMIT;"; fi
    done
}

opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW
    --max-binlog-size=65536 --innodb-flush-log-at-trx-commit=2 --sync-binlog=0)
server_start src "${opts[@]}" || bail_out "cannot start the source"
setup_sql | server_sql_file src || bail_out "the schema cannot be created"
replay_backup src backup || bail_out "cannot take the backup"

r=0
errs=0
for ((k = 1; k <= NSTEPS + 1; k++)); do
    d=$TEST_TMP/step$k
    mkdir -p "$d"
    for s in 1 2 3; do dml "$k" "$s" >"$d/$s.sql"; done
    run_sessions -f src "$d"/[123].sql >"$d/result" &
    pid=$!
    # From step 9 on, Table_map events carry the columns' names and the
    # primary key (binlog_row_metadata=FULL): both ways of learning a
    # table's keys meet the DDL.
    if ((k == 9)); then server_sql src "SET GLOBAL binlog_row_metadata = FULL" || r=1; fi
    if ((k <= NSTEPS)); then
        sleep 0.2
        server_sql src "USE dd; ${DDL[$k]}" || { r=1; diag "DDL $k failed: ${DDL[$k]}"; }
    fi
    wait $pid || { r=1; diag "step $k: $(cat "$d/result")"; }
    errs=$((errs + $(sed -n 's/^# \([0-9]*\) tolerated errors/\1/p' "$d/result")))
done
check $r "the DDL steps and the concurrent DML run (deadlocks aside)"
cmp_ok "$errs" -le 50 "few statements were lost to deadlocks ($errs)"

server_sql src "FLUSH BINARY LOGS"
src_state=$(db_state src)
server_stop src
mapfile -t files < <(replay_binlogs src)
ok "the workload spans several binlog files (${#files[@]})" test "${#files[@]}" -ge 3
ddl_count=$(mariadb-binlog --no-defaults "${files[@]}" 2>/dev/null | grep -ciE '^(ALTER|CREATE|DROP|RENAME|TRUNCATE) TABLE')
cmp_ok "$ddl_count" -ge "$NSTEPS" "the binlogs hold the DDL statements ($ddl_count)"

pipe=$(pipe_state backup pipe "${files[@]}")
ok "the pipe applies every event" test $? = 0
is "$pipe" "$src_state" "the pipe reproduces the source"

replay_check ddl backup "$pipe" "${files[@]}"
done_testing
