#!/usr/bin/env bash
# 0010-inspect-offsets — `binlogfs inspect` on real binlogs agrees with
# mariadb-binlog and with the bytes of the file.
#
# One private MariaDB server writes one binlog file (or a few) per case:
# binlog_format ROW/STATEMENT/MIXED, every column type, binlog_row_image
# FULL/MINIMAL/NOBLOB, binlog_row_metadata MINIMAL/FULL, log_bin_compress,
# XA, DDL, temporary tables, LOAD DATA, rotation by size, binlog_checksum
# NONE/CRC32, a file closed by a restart (Stop) and one left open by kill -9.
# Then, for every file in the index:
#   - mariadb-binlog reads it (the oracle works),
#   - `inspect --events` exits 0, and its outer-event offsets are exactly
#     mariadb-binlog's `# at N` list,
#   - each event's type name and size= equal the type code and size in the
#     event header at that offset,
#   - `inspect --events --json` says the same as the text,
#   - `inspect --summary --json` event counts per type equal the counts of
#     mariadb-binlog's event descriptions,
#   - `inspect --transactions --json` lists exactly the GTIDs mariadb-binlog shows.
# Plus: several files in one call (`# FILE` before each file's events), and
# checks that each case really produced what it is meant to cover.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$TEST_ROOT/tests/lib/server.sh"
. "$TEST_ROOT/tests/lib/binlog.sh"
trap 'server_stop_all; tap_cleanup' EXIT

server_require
binlogfs_require

S=src
SDIR=$(server_dir $S)
FILES=$SDIR/files
START_OPTS=(--log-bin="$SDIR/binlog/bin" --server-id=1 --binlog-format=ROW
    --secure-file-priv="$FILES" --innodb-flush-log-at-trx-commit=2
    --max-binlog-size=1073741824 --binlog-row-metadata=MINIMAL)
server_start $S "${START_OPTS[@]}" || bail_out "cannot start the source server"

# ---- the cases --------------------------------------------------------------

declare -A LABEL=()   # binlog base name -> case label
CASE=
CASE_FIRST=

current_binlog() {
    server_sql $S "SHOW MASTER STATUS" | cut -f1
}

# case_begin LABEL: a new binlog file for the case.
case_begin() {
    CASE=$1
    server_sql $S "FLUSH BINARY LOGS"
    CASE_FIRST=$(current_binlog)
}

# case_end: every file from the case's first to the current one gets the label.
case_end() {
    local last f b on=0
    last=$(current_binlog)
    while IFS= read -r f; do
        b=${f##*/}
        [ "$b" != "$CASE_FIRST" ] || on=1
        [ "$on" = 0 ] || LABEL[$b]=$CASE
        [ "$b" != "$last" ] || break
    done < <(server_binlogs $S)
}

# run_sql WHAT: stdin SQL in one session; a failure is a failed test.
run_sql() {
    ok "workload $CASE: $1" server_sql_file $S
}

# types_sql TABLE: a table with every column type and DML on it: extreme
# values, NULLs, large values, multi-row statements, updates, deletes.
types_sql() {
    cat <<SQL
SET NAMES utf8mb4;
SET time_zone = '+00:00';
USE bl;
CREATE TABLE $1 (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED,
  d10 DECIMAL(10,2), d65 DECIMAL(65,30), f FLOAT, dbl DOUBLE,
  b1 BIT(1), b10 BIT(10), b64 BIT(64),
  e ENUM('a','b','ü€'), s SET('x','y','ζ'),
  cu CHAR(10) CHARACTER SET utf8mb4, vu VARCHAR(300) CHARACTER SET utf8mb4, tu TEXT CHARACTER SET utf8mb4,
  cl CHAR(10) CHARACTER SET latin1, vl VARCHAR(300) CHARACTER SET latin1, tl TEXT CHARACTER SET latin1,
  bl BLOB, lb LONGBLOB, bn BINARY(8), vb VARBINARY(300),
  dt DATE,
  t0 TIME(0), t1 TIME(1), t2 TIME(2), t3 TIME(3), t4 TIME(4), t5 TIME(5), t6 TIME(6),
  dt0 DATETIME(0), dt1 DATETIME(1), dt2 DATETIME(2), dt3 DATETIME(3), dt4 DATETIME(4), dt5 DATETIME(5), dt6 DATETIME(6),
  ts0 TIMESTAMP(0) NULL DEFAULT NULL, ts1 TIMESTAMP(1) NULL DEFAULT NULL, ts2 TIMESTAMP(2) NULL DEFAULT NULL,
  ts3 TIMESTAMP(3) NULL DEFAULT NULL, ts4 TIMESTAMP(4) NULL DEFAULT NULL, ts5 TIMESTAMP(5) NULL DEFAULT NULL,
  ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  y YEAR, j JSON, g GEOMETRY, p POINT, ip INET6, u UUID
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO $1 VALUES (NULL,
  127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
  9223372036854775807, 18446744073709551615,
  99999999.99, 99999999999999999999999999999999999.999999999999999999999999999999,
  3.402823e38, 1.7976931348623157e308,
  b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111',
  'ü€', 'x,y,ζ',
  'Grüße🐬日本', 'Grüße 日本語 🐬 ÿ', 'Ünïcödé 🐬 text', 'Grüße ÿ', 'Ärger ÿ ½', 'latin1 ÿÿÿ',
  x'00FF00FF', x'DEADBEEF', x'0102030405060708', x'00',
  '9999-12-31',
  '838:59:59', '838:59:58.9', '838:59:58.99', '838:59:58.999', '838:59:58.9999', '838:59:58.99999',
  '838:59:58.999999',
  '9999-12-31 23:59:59', '9999-12-31 23:59:59.9', '9999-12-31 23:59:59.99', '9999-12-31 23:59:59.999',
  '9999-12-31 23:59:59.9999', '9999-12-31 23:59:59.99999', '9999-12-31 23:59:59.999999',
  '2038-01-19 03:14:07', '2038-01-19 03:14:07.9', '2038-01-19 03:14:07.99', '2038-01-19 03:14:07.999',
  '2038-01-19 03:14:07.9999', '2038-01-19 03:14:07.99999', '2038-01-19 03:14:07.999999',
  2155, '{"a": [1, 2.5, {"b": null}], "ü": "日本", "t": true}',
  ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'), POINT(1.5, -2.5),
  '2001:db8::ff00:42:8329', 'ffffffff-ffff-ffff-ffff-ffffffffffff');
INSERT INTO $1 VALUES (NULL,
  -128, 0, -32768, 0, -8388608, 0, -2147483648, 0,
  -9223372036854775808, 0,
  -99999999.99, -99999999999999999999999999999999999.999999999999999999999999999999,
  -1.175494e-38, -2.2250738585072014e-308,
  b'0', b'0', b'0',
  'a', '',
  '', '', '', '', '', '',
  '', '', x'0000000000000000', '',
  '1000-01-01',
  '-838:59:59', '-838:59:58.1', '-838:59:58.01', '-838:59:58.001', '-838:59:58.0001', '-838:59:58.00001',
  '-838:59:58.000001',
  '1000-01-01 00:00:00', '1000-01-01 00:00:00.1', '1000-01-01 00:00:00.01', '1000-01-01 00:00:00.001',
  '1000-01-01 00:00:00.0001', '1000-01-01 00:00:00.00001', '1000-01-01 00:00:00.000001',
  '1970-01-01 00:00:01', '1970-01-01 00:00:01.1', '1970-01-01 00:00:01.01', '1970-01-01 00:00:01.001',
  '1970-01-01 00:00:01.0001', '1970-01-01 00:00:01.00001', '1970-01-01 00:00:01.000001',
  1901, '[]', ST_GeomFromText('POINT(0 0)'), POINT(0, 0), '::', '00000000-0000-0000-0000-000000000000');
INSERT INTO $1 (id) VALUES (NULL);
INSERT INTO $1 (ti, tu, tl, bl, lb, vu, vb, j) VALUES (7,
  REPEAT('日本語🐬', 5000), REPEAT('ÿ', 60000), REPEAT(x'00FFAA55', 16000),
  REPEAT(x'0123456789ABCDEF', 40000), REPEAT('ü', 300), REPEAT(x'AB', 300),
  CONCAT('[', REPEAT('1234567890,', 3000), '0]'));
INSERT INTO $1 (i, vu, d10, dt6, ip, u)
  SELECT seq, CONCAT('row ', seq), seq / 100, '2020-02-29 12:34:56.123456' + INTERVAL seq SECOND,
         '::ffff:192.0.2.1', CONCAT('00000000-0000-0000-0000-', LPAD(seq, 12, '0'))
  FROM seq_1_to_40;
UPDATE $1 SET ti = 1, tu = 'was NULL', e = 'b', s = 'y', j = '{"k": 1}',
  ts6 = '2001-02-03 04:05:06.7', ip = '::ffff:192.0.2.128' WHERE id = 3;
UPDATE $1 SET vu = CONCAT(IFNULL(vu, ''), ' ✓'), dbl = -0.5 WHERE id <= 2 OR id > 40;
UPDATE $1 SET lb = REPEAT(x'EE', 70000), tu = NULL WHERE id = 4;
UPDATE $1 SET ti = NULL, b64 = NULL, g = NULL WHERE id = 1;
DELETE FROM $1 WHERE id = 2;
DELETE FROM $1 WHERE id = 4;
DELETE FROM $1 WHERE id BETWEEN 20 AND 30;
BEGIN;
INSERT INTO $1 (i, vl) VALUES (1, 'in trx'), (2, 'in trx');
UPDATE $1 SET vl = 'updated in trx' WHERE vl = 'in trx';
DELETE FROM $1 WHERE vl = 'updated in trx' AND i = 1;
COMMIT;
BEGIN;
INSERT INTO $1 (i) VALUES (999);
ROLLBACK;
SQL
}

server_sql $S "CREATE DATABASE bl" || bail_out "cannot create the test database"

# ROW, image FULL, metadata MINIMAL; plus a large transaction.
case_begin row-full
{
    echo "SET SESSION binlog_format=ROW, binlog_row_image=FULL;"
    types_sql t_row_full
    cat <<'SQL'
CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB;
INSERT INTO big SELECT seq, REPEAT('z', 100) FROM seq_1_to_5000;
UPDATE big SET v = 'short' WHERE id % 3 = 0;
DELETE FROM big WHERE id > 2500;
CREATE TABLE my (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=MyISAM;
INSERT INTO my VALUES (1, 'myisam');
BEGIN;
INSERT INTO my VALUES (2, 'mixed trx');
INSERT INTO big VALUES (10001, 'mixed trx');
COMMIT;
SQL
} | run_sql "all column types, binlog_row_image=FULL, binlog_row_metadata=MINIMAL"
case_end

server_sql $S "SET GLOBAL binlog_row_metadata=FULL"
for img in FULL MINIMAL NOBLOB; do
    case_begin "row-$img-meta"
    { echo "SET SESSION binlog_format=ROW, binlog_row_image=$img;"; types_sql "t_row_$img"; } |
        run_sql "all column types, binlog_row_image=$img, binlog_row_metadata=FULL"
    case_end
done

# STATEMENT: context events, temporary tables, LOAD DATA INFILE.
for n in 1 2 3; do printf '%d\tline %d ü\n' "$n" "$n"; done >"$FILES/load.tsv"
seq 1 20000 | awk '{ printf "%d\tload data row %d with some padding to make it longer\n", $1 + 100, $1 }' \
    >"$FILES/big.tsv"
case_begin stmt
{
    echo "SET SESSION binlog_format=STATEMENT;"
    types_sql t_stmt
    cat <<SQL
CREATE TABLE st (id INT AUTO_INCREMENT PRIMARY KEY, a VARCHAR(200), r DOUBLE, ts DATETIME(6)) ENGINE=InnoDB;
INSERT INTO st (a) VALUES ('auto id');
INSERT INTO st (a) VALUES (LAST_INSERT_ID());
INSERT INTO st (a, r) VALUES ('rand', RAND());
SET @v = 'user var ü', @n = 42, @d = 1.5e3, @dec = 12.345, @nul = NULL, @neg = -7;
INSERT INTO st (a) VALUES (CONCAT(@v, @n, @d, @dec, IFNULL(@nul, 'null'), @neg));
INSERT INTO st (a, ts) VALUES ('now6', NOW(6));
SET time_zone = '+02:00', sql_mode = 'STRICT_ALL_TABLES', auto_increment_increment = 5,
    lc_time_names = 'de_DE';
INSERT INTO st (a, ts) VALUES ('session context', NOW());
SET time_zone = DEFAULT, sql_mode = DEFAULT, auto_increment_increment = DEFAULT, lc_time_names = DEFAULT;
CREATE TEMPORARY TABLE tmp1 (x INT) ENGINE=InnoDB;
INSERT INTO tmp1 VALUES (1), (2);
INSERT INTO st (a) SELECT CONCAT('from tmp ', x) FROM tmp1;
DROP TEMPORARY TABLE tmp1;
CREATE TEMPORARY TABLE tmp2 (x INT) ENGINE=MyISAM;
INSERT INTO tmp2 VALUES (3);
CREATE TABLE ld (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB;
LOAD DATA INFILE '$FILES/load.tsv' INTO TABLE ld CHARACTER SET utf8mb4;
LOAD DATA INFILE '$FILES/big.tsv' INTO TABLE ld;
LOAD DATA INFILE '$FILES/load.tsv' REPLACE INTO TABLE ld CHARACTER SET utf8mb4 (id, @x) SET v = UPPER(@x);
CREATE TABLE mys (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20)) ENGINE=MyISAM;
INSERT INTO mys (v) VALUES ('myisam stmt');
BEGIN;
INSERT INTO st (a) VALUES ('t1');
INSERT INTO st (a) VALUES ('t2');
COMMIT;
BEGIN;
INSERT INTO st (a) VALUES ('before savepoint');
SAVEPOINT sp1;
INSERT INTO st (a) VALUES ('rolled back to savepoint');
ROLLBACK TO SAVEPOINT sp1;
COMMIT;
SQL
} | run_sql "binlog_format=STATEMENT, context events, temporary tables, LOAD DATA"
case_end

case_begin mixed
{
    echo "SET SESSION binlog_format=MIXED;"
    types_sql t_mixed
    cat <<'SQL'
CREATE TABLE mx (id INT AUTO_INCREMENT PRIMARY KEY, a VARCHAR(100)) ENGINE=InnoDB;
INSERT INTO mx (a) VALUES ('safe statement');
INSERT INTO mx (a) VALUES (UUID());
INSERT INTO mx (a) SELECT CONCAT('limit ', a) FROM mx LIMIT 1;
UPDATE mx SET a = 'safe update' WHERE id = 1;
UPDATE mx SET a = CONCAT('uuid ', UUID_SHORT()) WHERE id = 2;
DELETE FROM mx WHERE id = 1;
SQL
} | run_sql "binlog_format=MIXED, safe and unsafe statements"
case_end

server_sql $S "SET GLOBAL log_bin_compress=ON, log_bin_compress_min_len=10"
case_begin compress
{
    echo "SET SESSION binlog_format=ROW;"
    types_sql t_compress
    cat <<'SQL'
SET SESSION binlog_format=STATEMENT;
CREATE TABLE cst (id INT PRIMARY KEY, a VARCHAR(200)) ENGINE=InnoDB;
INSERT INTO cst VALUES (1, REPEAT('compressible statement ', 5));
UPDATE cst SET a = 'a short one' WHERE id = 1;
SET SESSION binlog_format=ROW;
INSERT INTO cst VALUES (2, REPEAT('compressible row ', 10));
DELETE FROM cst;
SQL
} | run_sql "log_bin_compress=ON, log_bin_compress_min_len=10"
case_end
server_sql $S "SET GLOBAL log_bin_compress=OFF"

case_begin xa
run_sql "XA PREPARE/COMMIT/ROLLBACK, ONE PHASE, ROW and STATEMENT" <<'SQL'
USE bl;
SET SESSION binlog_format=ROW;
CREATE TABLE xa_t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
XA START 'xa1'; INSERT INTO xa_t VALUES (1, 'one'); XA END 'xa1'; XA PREPARE 'xa1'; XA COMMIT 'xa1';
XA START 'xa2', 'bq', 7; INSERT INTO xa_t VALUES (2, 'two'); UPDATE xa_t SET v = 'uno' WHERE id = 1;
XA END 'xa2', 'bq', 7; XA PREPARE 'xa2', 'bq', 7; XA ROLLBACK 'xa2', 'bq', 7;
XA START X'0102ff', X'', 3; INSERT INTO xa_t VALUES (3, 'three'); XA END X'0102ff', X'', 3;
XA COMMIT X'0102ff', X'', 3 ONE PHASE;
XA START 'xa4'; INSERT INTO xa_t VALUES (4, 'four'); XA END 'xa4'; XA ROLLBACK 'xa4';
SET SESSION binlog_format=STATEMENT;
XA START 'xa5'; INSERT INTO xa_t VALUES (5, 'five'); XA END 'xa5'; XA PREPARE 'xa5'; XA COMMIT 'xa5';
XA START 'xa6'; INSERT INTO xa_t VALUES (6, 'six'); XA END 'xa6'; XA PREPARE 'xa6';
SQL
# A prepared XA transaction survives its session; another session ends it.
run_sql "XA COMMIT from another session" <<'SQL'
XA COMMIT 'xa6';
XA START 'xa7'; INSERT INTO bl.xa_t VALUES (7, 'seven'); XA END 'xa7'; XA PREPARE 'xa7';
SQL
run_sql "XA ROLLBACK from another session" <<'SQL'
XA ROLLBACK 'xa7';
SQL
case_end

case_begin ddl
run_sql "DDL" <<'SQL'
CREATE DATABASE bl_ddl CHARACTER SET latin1;
USE bl_ddl;
CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB;
ALTER TABLE a ADD COLUMN w INT DEFAULT 7, ADD INDEX (v);
CREATE INDEX iw ON a (w);
RENAME TABLE a TO b;
INSERT INTO b (id, v) VALUES (1, 'x');
TRUNCATE TABLE b;
CREATE TABLE c ENGINE=InnoDB AS SELECT seq AS id FROM seq_1_to_5;
CREATE VIEW vb AS SELECT * FROM b;
CREATE SEQUENCE s1;
SELECT NEXTVAL(s1);
DELIMITER //
CREATE PROCEDURE p1() BEGIN INSERT INTO b (id, v) VALUES (2, 'proc'); END//
CREATE TRIGGER tr1 BEFORE INSERT ON b FOR EACH ROW SET NEW.w = 42//
DELIMITER ;
CALL p1();
CREATE TABLE part (id INT PRIMARY KEY) PARTITION BY HASH(id) PARTITIONS 3;
INSERT INTO part VALUES (1), (2), (3);
ALTER TABLE b ENGINE=MyISAM;
INSERT INTO b (id, v) VALUES (3, 'myisam');
OPTIMIZE TABLE c;
ANALYZE TABLE c;
DROP TRIGGER tr1;
DROP PROCEDURE p1;
DROP VIEW vb;
DROP SEQUENCE s1;
DROP TABLE b, c, part;
DROP TABLE IF EXISTS nonexistent;
DROP DATABASE bl_ddl;
SQL
case_end

# Rotation by size: max_binlog_size at its minimum (4096); a transaction
# larger than that still stays in one file.
server_sql $S "SET GLOBAL max_binlog_size=4096"
case_begin rotate
{
    echo "USE bl; CREATE TABLE rot (id INT PRIMARY KEY, v VARCHAR(300)) ENGINE=InnoDB;"
    for n in $(seq 1 40); do echo "INSERT INTO rot VALUES ($n, REPEAT('r', 200));"; done
    echo "INSERT INTO rot SELECT seq + 1000, REPEAT('b', 200) FROM seq_1_to_100;"
    for n in $(seq 41 50); do echo "UPDATE rot SET v = 'updated' WHERE id = $n - 40;"; done
} | run_sql "40 small transactions and a large one with max_binlog_size=4096"
case_end
server_sql $S "SET GLOBAL max_binlog_size=1073741824"

# binlog_checksum=NONE (setting it rotates the binlog by itself).
server_sql $S "SET GLOBAL binlog_checksum=NONE"
case_begin checksum-none
{
    echo "SET SESSION binlog_format=ROW;"
    types_sql t_nocrc
    cat <<'SQL'
SET SESSION binlog_format=STATEMENT;
CREATE TABLE nc (id INT AUTO_INCREMENT PRIMARY KEY, a VARCHAR(20)) ENGINE=InnoDB;
INSERT INTO nc (a) VALUES ('no checksum');
SQL
} | run_sql "binlog_checksum=NONE, ROW and STATEMENT"
case_end
server_sql $S "SET GLOBAL binlog_checksum=CRC32"

# A restart closes the current file with a Stop event.
case_begin restart
run_sql "before a clean restart" <<'SQL'
INSERT INTO bl.rot VALUES (5000, 'before restart');
SQL
ok "clean restart of the server" server_restart $S
case_end

# The last file is left open by kill -9: IN_USE flag, no Rotate or Stop.
CASE=killed
CASE_FIRST=$(current_binlog)
run_sql "before kill -9" <<'SQL'
USE bl;
INSERT INTO rot VALUES (5001, 'before kill');
CREATE TEMPORARY TABLE tk (x INT);
UPDATE rot SET v = 'after restart' WHERE id = 5000;
SQL
case_end
server_kill $S

# ---- the checks, per file ---------------------------------------------------

mapfile -t BINLOGS < <(server_binlogs $S)
cmp_ok "${#BINLOGS[@]}" -ge 15 "the server wrote at least 15 binlog files"

T=$TEST_TMP/check
mkdir -p "$T"
declare -A MBTYPES=()  # base name -> "TYPE COUNT" lines of mariadb-binlog

for f in "${BINLOGS[@]}"; do
    b=${f##*/}
    what="$b (${LABEL[$b]:-between cases})"

    mb_dump "$f" "$T/$b.mb"
    mbrc=$?
    is "$mbrc" 0 "$what: mariadb-binlog reads it" || diag "$(tail -n 5 "$T/$b.mb.err")"
    mb_offsets "$T/$b.mb" >"$T/$b.mb.offsets"
    mb_types "$T/$b.mb" >"$T/$b.mb.types" 2>"$T/$b.mb.types.err"
    MBTYPES[$b]=$(count_by_type <"$T/$b.mb.types")

    # mariadb-binlog prints `# at N` before every event and nothing after the
    # last one; make sure that holds for this file, so that the comparison
    # below compares event offsets and nothing else: the last event must end
    # exactly at the end of the file.
    last=$(tail -n 1 "$T/$b.mb.offsets")
    lastsize=$(echo "$last" | raw_events "$f" | sed -n 's/.* size=//p')
    is "$((last + lastsize))" "$(stat -c %s "$f")" \
        "$what: mariadb-binlog's last \`# at\` is the last event, which ends at the end of the file"

    bl_events "$f" >"$T/$b.bl"
    is "$BL_RC" 0 "$what: inspect --events exits 0" || diag "$(head -c 2000 "$TEST_TMP/bl.err")"
    is "$(head -n 1 "$T/$b.bl")" "# $f" "$what: inspect --events starts with '# FILE'"
    is "$(grep -v '^# ' "$T/$b.bl" | cut -d' ' -f1)" "$(cat "$T/$b.mb.offsets")" \
        "$what: event offsets equal mariadb-binlog's \`# at\` list"
    is "$(grep -v '^# ' "$T/$b.bl")" "$(raw_events "$f" <"$T/$b.mb.offsets")" \
        "$what: type and size of each event equal its header's"

    timeout 60 "$BINLOGFS" inspect --events --json "$f" >"$T/$b.jsonl" 2>/dev/null
    is "$(json_dup_keys "$T/$b.jsonl" | sort -t: -k2 -u | head -n 5)" "" \
        "$what: inspect --events --json objects have no duplicate keys"
    jq -r 'select(has("inner_offset") | not) | "\(.offset) \(.type) size=\(.size) \(.file)"' \
        "$T/$b.jsonl" >"$T/$b.json" 2>"$T/$b.json.err"
    is "$(cat "$T/$b.json")" "$(grep -v '^# ' "$T/$b.bl" | sed "s|\$| $f|")" \
        "$what: inspect --events --json says the same as the text"

    sum=$(timeout 60 "$BINLOGFS" inspect --summary --json "$f" 2>"$T/$b.sum.err" |
        jq -r '.event_types | to_entries[] | "\(.key) \(.value)"' | sort)
    is "$sum" "${MBTYPES[$b]}" "$what: summary event counts per type equal mariadb-binlog's"

    gt=$(timeout 60 "$BINLOGFS" inspect --transactions --json "$f" 2>"$T/$b.trx.err" | jq -r '.gtid')
    is "$gt" "$(mb_gtids "$T/$b.mb")" "$(printf '%s: transactions: the %d GTIDs mariadb-binlog shows' \
        "$what" "$(mb_gtids "$T/$b.mb" | wc -l)")"
done

# ---- the cases produced what they are meant to cover ------------------------

# count_in LABEL TYPE: events of TYPE over the files of a case (mariadb-binlog's view).
count_in() {
    local b n=0 c
    for b in "${!LABEL[@]}"; do
        [ "${LABEL[$b]}" = "$1" ] || continue
        c=$(printf '%s\n' "${MBTYPES[$b]}" | awk -v t="$2" '$1 == t { print $2 }')
        n=$((n + ${c:-0}))
    done
    echo "$n"
}
files_of() {
    local f
    for f in "${BINLOGS[@]}"; do
        [ "${LABEL[${f##*/}]:-}" != "$1" ] || echo "$f"
    done
}

for c in row-full row-FULL-meta row-MINIMAL-meta row-NOBLOB-meta; do
    for t in Table_map Write_rows_v1 Update_rows_v1 Delete_rows_v1 Annotate_rows; do
        cmp_ok "$(count_in "$c" "$t")" -gt 0 "case $c has $t events"
    done
done
cmp_ok "$(count_in row-full Query)" -gt 1 "case row-full has the MyISAM COMMIT Query events"
for t in Intvar RAND User_var Begin_load_query Append_block Execute_load_query; do
    cmp_ok "$(count_in stmt "$t")" -gt 0 "case stmt has $t events"
done
is "$(count_in stmt Table_map)" 0 "case stmt has no row events"
n=0
for f in $(files_of stmt); do
    n=$((n + $(grep -c '^CREATE TEMPORARY TABLE' "$T/${f##*/}.mb")))
done
is "$n" 2 "case stmt has the 2 CREATE TEMPORARY TABLE statements"
cmp_ok "$(count_in ddl Query)" -ge 20 "case ddl has at least 20 Query events"
cmp_ok "$(count_in mixed Table_map)" -gt 0 "case mixed has row events"
cmp_ok "$(count_in mixed Query)" -gt 10 "case mixed has statement events"
for t in Write_rows_compressed_v1 Update_rows_compressed_v1 Delete_rows_compressed_v1 Query_compressed; do
    cmp_ok "$(count_in compress "$t")" -gt 0 "case compress has $t events"
done
cmp_ok "$(count_in xa XA_prepare)" -ge 4 "case xa has XA_prepare events"
cmp_ok "$(files_of rotate | wc -l)" -ge 3 "case rotate spans at least 3 files"
for f in $(files_of checksum-none); do
    fdesize=$(echo 4 | raw_events "$f" | sed -n 's/.* size=//p')
    is "$(od -An -tu1 -j $((4 + fdesize - 5)) -N 1 "$f" | tr -d ' ')" 0 \
        "case checksum-none: the Format_desc of ${f##*/} says checksum alg 0 (NONE)"
    is "$(grep -cE '^#[0-9]{6} .* end_log_pos [0-9]+ CRC32 ' "$T/${f##*/}.mb")" 0 \
        "case checksum-none: mariadb-binlog shows no CRC in ${f##*/}"
done
restart_file=$(files_of restart | head -n 1)
is "$(tail -n 1 "$T/${restart_file##*/}.mb.types" | cut -d' ' -f2)" Stop \
    "case restart: the file ends with a Stop event"
killed=${BINLOGS[${#BINLOGS[@]} - 1]}
is "$(od -An -tu1 -j 21 -N 1 "$killed" | tr -d ' ')" 1 \
    "case killed: the last file's Format_desc has the IN_USE flag"
cmp_ok "$(wc -l <"$T/${killed##*/}.mb.offsets")" -gt 5 "case killed: the last file has events"

# ---- several files in one call ----------------------------------------------

mapfile -t ROT < <(files_of rotate)
bl_events "${ROT[@]}" >"$T/rot.bl"
is "$BL_RC" 0 "inspect --events on the ${#ROT[@]} files of case rotate exits 0"
expected=$(for f in "${ROT[@]}"; do echo "# $f"; grep -v '^# ' "$T/${f##*/}.bl"; done)
is "$(cat "$T/rot.bl")" "$expected" \
    "several files: '# FILE' precedes each file's events, in the order given"
total=0
for f in "${ROT[@]}"; do total=$((total + $(wc -l <"$T/${f##*/}.mb.offsets"))); done
sum=$(timeout 60 "$BINLOGFS" inspect --summary --json "${ROT[@]}" | jq -r '"\(.files) \(.events)"')
is "$sum" "${#ROT[@]} $total" "several files: the summary counts the files and all their events"

done_testing
