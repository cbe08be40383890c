#!/usr/bin/env bash
# Replay of every column type, row images, compressed events, LOAD DATA
# and XA transactions, with 1, 4 and 16 workers.
# - ty.all_types has a column of every type: integers signed and unsigned
#   of each size, DECIMAL up to (65,30), FLOAT, DOUBLE, BIT(1..64), ENUM
#   (one of 300 members: 2 bytes), SET (64 members: 8 bytes), CHAR/VARCHAR/
#   TEXT/BLOB of each size in utf8mb4 with multi-byte characters and one
#   CHAR in latin1, CHAR(255) utf8mb4 (over 255 bytes), BINARY/VARBINARY,
#   DATE, TIME/DATETIME/TIMESTAMP with 0, 3 and 6 fractional digits, YEAR,
#   JSON, GEOMETRY and POINT, INET6, UUID. Rows at each type's limits, all
#   NULL, zero dates, random binary bytes, a 1 MiB LONGBLOB, and a 3 MiB
#   one (its FULL update event is larger than 4 MiB) are inserted, updated
#   (a few columns, to NULL and back) and deleted.
# - also: the same columns with the primary key last (so that finding the
#   key in a row image means reading every other column first) in three
#   hot rows that every session updates; a table without a primary key
#   with TEXT/BLOB/JSON columns, a table of 300 columns, a table with
#   VIRTUAL and STORED columns.
# - the same changes are logged with binlog_row_image FULL, MINIMAL and
#   NOBLOB (one session each, at the same time, plus hot rows that all
#   three update), first with log_bin_compress=OFF, then ON.
# - LOAD DATA INFILE in STATEMENT format (secure_file_priv on the test's
#   directory): several blocks, column list with user variables and SET,
#   REPLACE and IGNORE with duplicates, a latin1 file, an empty file,
#   two in one transaction, LOAD DATA LOCAL; and one in ROW format.
# - XA: XA START/END/PREPARE then XA COMMIT later, with other transactions
#   in between, DDL on other tables and a FLUSH BINARY LOGS between
#   PREPARE and COMMIT; XA
#   ROLLBACK of a prepared one; XA COMMIT ONE PHASE; xids with a bqual and
#   formatID, and with quote, backslash and zero bytes; a prepared XA left
#   by a disconnected session and committed by another; XA in STATEMENT
#   format.
# The oracle: every table equals the pipe's result on the same backup, the
# pipe equals the source, and no XA transaction is left prepared.
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

plan 21

enum300=$(for ((i = 0; i < 300; i++)); do printf "'e%d'," $i; done)
enum300="${enum300}'ü日'"
set64=$(for ((i = 0; i < 63; i++)); do printf "'s%d'," $i; done)
set64="${set64}'ß'"
wide_cols=$(for ((i = 1; i < 300; i++)); do printf ', c%d INT' $i; done)

setup_sql() {
    cat <<EOF
SET NAMES utf8mb4;
CREATE DATABASE ty CHARACTER SET utf8mb4;
USE ty;
CREATE TABLE all_types (
    id INT UNSIGNED NOT NULL PRIMARY KEY,
    ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
    mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
    d65 DECIMAL(65,30), d10 DECIMAL(10,2), d18 DECIMAL(18,9), d650 DECIMAL(65,0),
    f FLOAT, dbl DOUBLE,
    b1 BIT(1), b7 BIT(7), b8 BIT(8), b33 BIT(33), b64 BIT(64),
    e ENUM($enum300), st SET($set64),
    c CHAR(10), c255 CHAR(255), cl CHAR(10) CHARACTER SET latin1,
    vcs VARCHAR(60), vc VARCHAR(300), vbin VARCHAR(20) COLLATE utf8mb4_bin,
    tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT,
    bn BINARY(16), vb VARBINARY(300), tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB,
    dt DATE, tm TIME, tm3 TIME(3), tm6 TIME(6),
    dtm DATETIME, dtm3 DATETIME(3), dtm6 DATETIME(6),
    ts TIMESTAMP NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
    y YEAR, j JSON, g GEOMETRY, pt POINT, ip INET6, uu UUID,
    hot INT NOT NULL DEFAULT 0
) ENGINE=InnoDB;
CREATE TABLE pkl LIKE all_types;
ALTER TABLE pkl DROP PRIMARY KEY, ADD COLUMN hk INT NOT NULL DEFAULT 0,
    ADD COLUMN hs VARCHAR(10) NOT NULL DEFAULT 'h', ADD PRIMARY KEY (hk, hs);
CREATE TABLE nopk (a INT, t TEXT, b BLOB, j JSON, n INT NOT NULL DEFAULT 0) ENGINE=InnoDB;
CREATE TABLE wide (id INT PRIMARY KEY $wide_cols) ENGINE=InnoDB;
CREATE TABLE gen (id INT PRIMARY KEY, a INT, s VARCHAR(50),
    v INT AS (a * 2) VIRTUAL, w VARCHAR(60) AS (CONCAT(s, '!')) STORED, b BLOB) ENGINE=InnoDB;
CREATE TABLE ld (id INT AUTO_INCREMENT PRIMARY KEY, a INT, s VARCHAR(100), d DATE,
    n DECIMAL(10,2), t TEXT, UNIQUE KEY (s)) ENGINE=InnoDB;
CREATE TABLE ld_row (id INT PRIMARY KEY, s VARCHAR(100)) ENGINE=InnoDB;
CREATE TABLE ld_stmt (id INT PRIMARY KEY, s VARCHAR(100)) ENGINE=InnoDB;
CREATE TABLE xa (id INT PRIMARY KEY, v VARCHAR(50), n INT NOT NULL DEFAULT 0) ENGINE=InnoDB;
INSERT INTO xa (id, v) SELECT seq, 'init' FROM seq_1_to_40;
EOF
}

cols="id, ti, tiu, si, siu, mi, miu, i, iu, bi, biu, d65, d10, d18, d650, f, dbl,
    b1, b7, b8, b33, b64, e, st, c, c255, cl, vcs, vc, vbin, tt, tx, mt, lt,
    bn, vb, tb, bl, mb, lb, dt, tm, tm3, tm6, dtm, dtm3, dtm6, ts, ts6, y, j, g, pt, ip, uu"

# One row of varied values: gen_row ID I (I in 5..12).
gen_row() {
    local i=$2
    cat <<EOF
INSERT INTO all_types ($cols) VALUES ($1,
    $i - 64, $i * 20, -$i * 1000, $i * 5000, $i * -100000, $i * 1000000, -$i * 100000000, $i * 300000000,
    -$i * 1000000000000000, CAST($i AS UNSIGNED) * 1000000000000000000,
    $i.123456789012345678901234567890, -$i.5, $i.000000001, -$i$i$i$i$i$i$i$i$i$i$i$i$i$i,
    $i.25e-30, -$i.0625e-300,
    $((i % 2)), $i, $((i * 31 % 256)), $i * 500000000, 1 << ($i * 5), 'e$((i * 37 % 300))', 's$i,s$((i + 40)),ß',
    'ñ$i', CONCAT('ü', REPEAT('€', $i * 20)), 'ç$i', 'v$i', CONCAT('ℵ', REPEAT('ह', $i * 20)), 'Mixed$i',
    'tt$i', REPEAT('text$i ', 1000), REPEAT('mt$i', 20000), REPEAT('lt$i', 1000),
    RANDOM_BYTES(16), RANDOM_BYTES($i * 20), RANDOM_BYTES($i * 10), RANDOM_BYTES(1000),
    RANDOM_BYTES(1000), REPEAT(RANDOM_BYTES(1000), $i),
    '2024-0$((i % 9 + 1))-1$((i % 10))', '-$i:0$((i % 10)):00', '1$i:00:00.1$i', '-1$i:59:59.00000$((i % 10))',
    '2000-01-0$((i % 9 + 1)) 12:00:00', '1999-12-31 23:59:5$((i % 10)).123', '2038-01-19 03:14:0$((i % 8)).00000$((i % 10))',
    '2001-01-0$((i % 9 + 1)) 00:00:00', '2037-12-31 23:59:59.$i$i$i', 2000 + $i,
    JSON_OBJECT('i', $i, 'a', JSON_ARRAY($i, 'ü', NULL), 'd', $i.5),
    ST_GeomFromText('LINESTRING($i 0, 0 $i, -$i -$i)'), ST_GeomFromText('POINT($i.5 -$i.25)'),
    '2001:db8::$i', CONCAT('12345678-1234-5678-1234-5678123456', LPAD($i, 2, '0')));
EOF
}

# The rows of one session: ids from BASE, the row image IMAGE.
rows_sql() {
    local base=$1 image=$2 i
    cat <<EOF
SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET SESSION binlog_row_image = $image;
USE ty;
INSERT INTO all_types ($cols) VALUES ($((base + 1)),
    -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
    -99999999999999999999999999999999999.999999999999999999999999999999, -99999999.99,
    -999999999.999999999, -99999999999999999999999999999999999999999999999999999999999999999,
    -3.40282e38, -1.7976931348623157e308,
    b'0', b'0000000', b'00000000', 0, 0, 'e0', '',
    '', '', '', '', '', '', '', '', '', '',
    '', '', '', '', '', '', '1000-01-01', '-838:59:59', '-838:59:59.999', '-838:59:59.999999',
    '1000-01-01 00:00:00', '1000-01-01 00:00:00.000', '1000-01-01 00:00:00.000000',
    '1970-01-01 00:00:01', '1970-01-01 00:00:01.000000', 1901, '{}',
    ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('POINT(-180 -90)'), '::', '00000000-0000-0000-0000-000000000000');
INSERT INTO all_types ($cols) VALUES ($((base + 2)),
    127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
    99999999999999999999999999999999999.999999999999999999999999999999, 99999999.99,
    999999999.999999999, 99999999999999999999999999999999999999999999999999999999999999999,
    3.40282e38, 1.7976931348623157e308,
    b'1', b'1111111', b'11111111', 8589934591, 18446744073709551615, 'ü日', '$(echo "$set64" | tr -d "'")',
    '日本語テキストです！', REPEAT('😀', 255), 'àéîõüÿ', REPEAT('ä', 60), REPEAT('𝄞', 300), 'CaseSensitive',
    REPEAT('ж', 63), REPEAT('语', 21845), REPEAT('x', 100000), REPEAT('🐬', 50000),
    UNHEX('00FF27225C0A0D1A00FF27225C0A0D1A'), RANDOM_BYTES(300), RANDOM_BYTES(255), RANDOM_BYTES(1024),
    REPEAT(RANDOM_BYTES(1024), 100), REPEAT(RANDOM_BYTES(1024), 1024),
    '9999-12-31', '838:59:59', '838:59:59.999', '838:59:59.999999',
    '9999-12-31 23:59:59', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.999999',
    '2038-01-19 03:14:07', '2038-01-19 03:14:07.999999', 2155,
    '{"a": [1, 2.5, "ü\\\\"\\\\n", null, true, {"b": {"c": []}}], "k\\\\u00e9": -0.0e0, "big": 18446744073709551615}',
    ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1, 2 0), POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 3 2, 3 3, 2 2)))'),
    ST_GeomFromText('POINT(179.999999 89.999999)'), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    'ffffffff-ffff-ffff-ffff-ffffffffffff');
INSERT INTO all_types (id) VALUES ($((base + 3)));
INSERT INTO all_types (id, dt, dtm, dtm6, ts, y, tm, vbin) VALUES ($((base + 4)),
    '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', 0,
    '00:00:00', '');
EOF
    for ((i = 5; i <= 12; i++)); do
        gen_row $((base + i)) $i
    done
    # Updates: a few columns (MINIMAL logs only them), to NULL and back, a
    # blob (NOBLOB logs it only when it changes), the hot rows that the
    # other sessions update too; then deletes.
    for ((i = 1; i <= 12; i++)); do
        local id=$((base + i))
        cat <<EOF
UPDATE all_types SET ti = IFNULL(ti, 0) DIV 2, vc = CONCAT(LEFT(IFNULL(vc, ''), 299), '✓') WHERE id = $id;
UPDATE all_types SET tx = NULL, dbl = NULL, j = NULL, g = NULL, ip = NULL WHERE id = $id;
UPDATE all_types SET tx = 'back', dbl = -0.5, j = '[1]', g = ST_GeomFromText('POINT(1 1)'), ip = '::1' WHERE id = $id;
UPDATE all_types SET bl = RANDOM_BYTES(500), hot = hot + 1 WHERE id = $id;
UPDATE all_types SET b64 = b64 ^ 1, st = 's1,s2', e = 'e299', uu = UUID(), ts6 = '2020-02-29 12:00:00.5' WHERE id = $id;
UPDATE all_types SET hot = hot + 1 WHERE id IN (900, 901, 902);
UPDATE pkl SET hot = hot + 1, vc = CONCAT(LEFT(vc, 290), '$i✓'), bl = RANDOM_BYTES($i * 7), d65 = d65 + 1,
    b33 = b33 ^ $i, e = 'e$i', st = 's$i,ß', j = JSON_ARRAY($i, '$image'), tm6 = ADDTIME(tm6, '00:00:01.5'),
    bi = bi - 1, dtm6 = dtm6 + INTERVAL 1 SECOND WHERE hk = $((i % 3 + 1)) AND hs = 'h';
INSERT INTO nopk VALUES ($i, REPEAT('t', $i * 100), RANDOM_BYTES($i), JSON_ARRAY($i), 0);
UPDATE nopk SET n = n + 1 WHERE a = $((i % 4));
UPDATE nopk SET b = RANDOM_BYTES(20) WHERE a = $((i % 5)) ORDER BY a, n LIMIT 1;
UPDATE wide SET c$((250 + i)) = c$((250 + i)) + $i, c$i = -$i WHERE id = $((i % 5 + 1));
UPDATE gen SET a = a + $i, s = CONCAT(s, '$i') WHERE id = $((i % 5 + 1));
EOF
    done
    cat <<EOF
UPDATE all_types SET lb = REPEAT(RANDOM_BYTES(1024), 1024) WHERE id = $((base + 2));
UPDATE all_types SET lb = REPEAT(RANDOM_BYTES(1024), 3072), hot = hot + 1 WHERE id = $((base + 2));
UPDATE all_types SET i = 7 WHERE id = $((base + 2));
DELETE FROM all_types WHERE id IN ($((base + 5)), $((base + 7)));
DELETE FROM nopk WHERE a = 3 ORDER BY a, n LIMIT 1;
DELETE FROM gen WHERE id = $((base / 100 + 10));
EOF
}

hot_setup_sql() {
    echo "SET NAMES utf8mb4; SET time_zone = '+00:00'; USE ty;"
    local i
    for ((i = 5; i <= 7; i++)); do gen_row $((985 + i)) $i; done
    echo "INSERT INTO pkl SELECT *, id - 989, 'h' FROM all_types WHERE id BETWEEN 990 AND 992;"
    echo "UPDATE pkl SET mt = LEFT(mt, 100), lt = LEFT(lt, 50), mb = LEFT(mb, 100), lb = LEFT(lb, 100);"
    echo "INSERT INTO all_types (id, hot) VALUES (900, 0), (901, 0), (902, 0);"
    echo "INSERT INTO wide (id) SELECT seq FROM seq_1_to_5;"
    echo "UPDATE wide SET c1 = id, c299 = -id;"
    echo "INSERT INTO gen (id, a, s, b) SELECT seq, seq, CONCAT('g', seq), RANDOM_BYTES(10) FROM seq_1_to_20;"
}

# LOAD DATA files: several blocks; lines that the LOAD DATA statements
# turn into duplicates (REPLACE/IGNORE); a latin1 file; an empty file.
make_load_files() {
    local d=$1 i pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
    {
        echo "a,s,d,n,t"
        for ((i = 1; i <= 3000; i++)); do
            printf '%d,"s%d ünï, \\"q\\"",2024-01-%02d,%d.%02d,"text %d with a\\\\ backslash, a \\"quote\\" and 日本 %s"\n' \
                $i $i $((i % 28 + 1)) $i $((i % 100)) $i "${pad:0:$((i % 50))}"
        done
        echo '\N,"null-a",\N,\N,\N'
    } >"$d/data1.csv"
    {
        for ((i = 1; i <= 50; i++)); do
            printf '%d\ts%d ünï, "q"\t2025-02-%02d\t%d\treplaced %d\n' $((i * 7)) $((i * 2)) $((i % 28 + 1)) $i $i
        done
    } >"$d/data2.tsv"
    printf 'caf\xe9\t1\nna\xefve\t2\n' >"$d/latin1.tsv"
    : >"$d/empty.tsv"
    for ((i = 1; i <= 20; i++)); do printf '%d\tlocal %d\n' $((5000 + i)) $i; done >"$d/local.tsv"
}

load_sql() {
    local d=$1
    cat <<EOF
SET NAMES utf8mb4;
SET SESSION binlog_format = STATEMENT;
USE ty;
LOAD DATA INFILE '$d/data1.csv' INTO TABLE ld CHARACTER SET utf8mb4
    FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'
    IGNORE 1 LINES (@a, s, d, n, t) SET a = @a * 2;
LOAD DATA INFILE '$d/data2.tsv' REPLACE INTO TABLE ld CHARACTER SET utf8mb4 (a, s, d, n, t);
LOAD DATA INFILE '$d/data2.tsv' IGNORE INTO TABLE ld CHARACTER SET utf8mb4 (@skip, s, d, n, t) SET a = -1;
LOAD DATA INFILE '$d/latin1.tsv' INTO TABLE ld CHARACTER SET latin1 (s, a);
LOAD DATA INFILE '$d/empty.tsv' INTO TABLE ld (s, a);
BEGIN;
LOAD DATA INFILE '$d/data2.tsv' INTO TABLE ld_stmt CHARACTER SET utf8mb4 (id, s, @d, @n, @t);
LOAD DATA INFILE '$d/latin1.tsv' INTO TABLE ld_stmt CHARACTER SET latin1 (s, id) SET id = id + 1000;
UPDATE ld_stmt SET s = CONCAT(s, '!') WHERE id < 20;
COMMIT;
UPDATE ld SET t = CONCAT(IFNULL(t, ''), '+') WHERE id % 100 = 0;
SET SESSION binlog_format = ROW;
LOAD DATA INFILE '$d/local.tsv' INTO TABLE ld_row (id, s);
EOF
}

opts=(--log-bin="$TEST_TMP/src/binlog/bin" --server-id=1 --binlog-format=ROW
    --max-binlog-size=1M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0
    --secure-file-priv="$TEST_TMP/src/files" --innodb-lock-wait-timeout=10)
server_start src "${opts[@]}" || bail_out "cannot start the source"
{ setup_sql; hot_setup_sql; } | server_sql_file src || bail_out "the schema cannot be created"
replay_backup src backup || bail_out "cannot take the backup"
files_dir=$TEST_TMP/src/files
make_load_files "$files_dir"

# Row images, compression off then on; LOAD DATA alongside the first round.
d=$TEST_TMP/sessions
mkdir -p "$d"
r=0
for round in 0 1; do
    rows_sql $((round * 300 + 0)) FULL >"$d/$round-full.sql"
    rows_sql $((round * 300 + 100)) MINIMAL >"$d/$round-minimal.sql"
    rows_sql $((round * 300 + 200)) NOBLOB >"$d/$round-noblob.sql"
done
load_sql "$files_dir" >"$d/0-load.sql"
out=$(run_sessions -f src "$d"/0-*.sql) || { r=1; diag "$out"; }
"$MARIADB_CLIENT" --no-defaults --socket="$(server_sock src)" -uroot --local-infile=1 \
    -e "SET SESSION binlog_format = STATEMENT; LOAD DATA LOCAL INFILE '$files_dir/local.tsv'
        INTO TABLE ty.ld (a, s)" 2>"$d/local.err" || { r=1; diag "$(cat "$d/local.err")"; }
server_sql src "SET GLOBAL log_bin_compress = ON" || r=1
out=$(run_sessions -f src "$d"/1-*.sql) || { r=1; diag "$out"; }
check $r "the row, image and LOAD DATA sessions run"

# XA, driven step by step.
r=0
session_open src X1 && session_open src X2 && session_open src X3 && session_open src X4 || r=1
session_sql X1 "USE ty" "XA START 'x1'" "UPDATE xa SET v = 'x1', n = n + 1 WHERE id <= 5" \
    "INSERT INTO xa VALUES (101, 'x1-new', 0)" "XA END 'x1'" "XA PREPARE 'x1'" || r=1
session_sync X1 || r=1
session_sql X2 "USE ty" "XA START 'gtrid-2', 'bqual-2', 7" "UPDATE xa SET v = 'x2' WHERE id BETWEEN 11 AND 15" \
    "XA END 'gtrid-2', 'bqual-2', 7" "XA PREPARE 'gtrid-2', 'bqual-2', 7" || r=1
session_sync X2 || r=1
server_sql src "UPDATE ty.xa SET n = n + 10 WHERE id BETWEEN 31 AND 35" || r=1
# DDL while x1 and gtrid-2 are prepared (on other tables: theirs are locked).
server_sql src "CREATE TABLE ty.xa_ddl (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
    INSERT INTO ty.xa_ddl VALUES (1, 1); ALTER TABLE ty.ld_row ADD COLUMN z INT NOT NULL DEFAULT 5" || r=1
server_sql src "FLUSH BINARY LOGS" || r=1
session_sql X3 "USE ty" "XA START X'00ff27', X'5c22', 3" "INSERT INTO xa VALUES (102, 'x3-binary-xid', 0)" \
    "XA END X'00ff27', X'5c22', 3" "XA PREPARE X'00ff27', X'5c22', 3" || r=1
session_sync X3 || r=1
session_sql X1 "XA COMMIT 'x1'" || r=1
session_sql X2 "XA ROLLBACK 'gtrid-2', 'bqual-2', 7" || r=1
session_sync X1 && session_sync X2 || r=1
# X3 disconnects with its XA prepared; another session commits it.
session_close X3 || r=1
server_sql src "UPDATE ty.xa SET n = n + 100 WHERE id = 40" || r=1
server_sql src "XA COMMIT X'00ff27', X'5c22', 3" || r=1
session_sql X4 "USE ty" "XA START 'x4'" "UPDATE xa SET v = 'one-phase' WHERE id = 20" \
    "XA END 'x4'" "XA COMMIT 'x4' ONE PHASE" \
    "SET SESSION binlog_format = STATEMENT" \
    "XA START 'x5'" "UPDATE xa SET v = 'statement', n = n + 1 WHERE id BETWEEN 21 AND 25" \
    "INSERT INTO xa SELECT id + 200, CONCAT('copy-', v), n FROM xa WHERE id BETWEEN 21 AND 23" \
    "XA END 'x5'" "XA PREPARE 'x5'" || r=1
session_sync X4 || r=1
server_sql src "UPDATE ty.xa SET n = n + 1000 WHERE id = 39" || r=1
session_sql X4 "XA COMMIT 'x5'" || r=1
session_sync X4 || r=1
session_close X4 || r=1
session_close X2 || r=1
session_close X1 || r=1
check $r "the XA steps run"

server_sql src "FLUSH BINARY LOGS"
src_state=$(db_state src)
src_gtids=$(server_sql src "SELECT @@gtid_binlog_state")
server_stop src
mapfile -t files < <(replay_binlogs src)
ok "the workload spans several binlog files (${#files[@]})" test "${#files[@]}" -ge 3

# The test means something only if the binlogs hold what it is about.
"$BINLOGFS" inspect --summary "${files[@]}" >"$TEST_TMP/summary" 2>&1
ev=$(mariadb-binlog --no-defaults --base64-output=decode-rows "${files[@]}" 2>/dev/null)
like "$(grep -E '(Write|Update|Delete)_compressed_rows' <<<"$ev" | head -n 1)" . \
    "the binlogs hold compressed rows events"
like "$(grep -E 'Begin_load_query|Execute_load_query' <<<"$ev" | head -n 2)" 'Execute_load_query' \
    "the binlogs hold LOAD DATA events"
cmp_ok "$(grep -c '^XA PREPARE' <<<"$ev")" -ge 4 "the binlogs hold XA PREPARE events"
unset ev

# What the pipe left prepared, for the hook.
xa_prepared() {
    server_sql "$1" "XA RECOVER" | wc -l
}
xa_hook() {
    is "$(xa_prepared "$1")" 0 "$2 workers: no XA transaction is left prepared"
}

pipe=$(pipe_state backup pipe "${files[@]}")
ok "the pipe applies every event" test $? = 0
is "$pipe" "$src_state" "the pipe reproduces the source"

REPLAY_HOOK=xa_hook replay_check types backup "$pipe" "${files[@]}"
# onto a target that keeps a binlog in gtid_strict_mode: no GTID of binlogfs's own
REPLAY_WORKERS=4 REPLAY_BINLOG_STATE=$src_gtids REPLAY_HOOK=xa_hook \
    replay_check "types binlogged" backup "$pipe" "${files[@]}"
done_testing
