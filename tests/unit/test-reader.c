/* Unit tests of the reader, the event decoders and the transaction
 * builder, on the real binlogs in ../shared/fixtures (BL_FIXTURES: see the
 * Makefile; no server). */
#include <string.h>
#include <unistd.h>

#include <binlogfs/depend.h>
#include <binlogfs/event.h>
#include <binlogfs/reader.h>
#include <binlogfs/trx.h>

#define FIX BL_FIXTURES

typedef struct {
    guint64 types[256];
    guint64 inner_types[256];
    guint64 events;
    gboolean ok;
    char *error;
    gint error_code;
} Counts;

static Counts *count_file(const char *path, gboolean verify)
{
    Counts *c = g_new0(Counts, 1);
    GError *error = NULL;
    BlReader *r = bl_reader_open(path, NULL, &error);
    if (!r) {
        c->error = g_strdup(error->message);
        c->error_code = error->code;
        g_error_free(error);
        return c;
    }
    bl_reader_set_verify_checksums(r, verify);
    const BlEvent *ev;
    while (bl_reader_next(r, &ev, &error)) {
        c->events++;
        if (ev->inner)
            c->inner_types[ev->h.type]++;
        else
            c->types[ev->orig_type]++;
    }
    c->ok = error == NULL;
    if (error) {
        c->error = g_strdup(error->message);
        c->error_code = error->code;
        g_error_free(error);
    }
    bl_reader_free(r);
    return c;
}

static void counts_free(Counts *c)
{
    g_free(c->error);
    g_free(c);
}

static void test_mariadb_generated(void)
{
    Counts *c = count_file(FIX "mariadb/generated/fmt-bin.000001", TRUE);
    g_assert_null(c->error);
    g_assert_true(c->ok);
    /* Counts from the fixture's README (an independent decoder). */
    g_assert_cmpuint(c->types[BL_FORMAT_DESCRIPTION_EVENT], ==, 1);
    g_assert_cmpuint(c->types[BL_GTID_LIST_EVENT], ==, 1);
    g_assert_cmpuint(c->types[BL_MARIA_GTID_EVENT], ==, 42);
    g_assert_cmpuint(c->types[BL_QUERY_EVENT], ==, 30);
    g_assert_cmpuint(c->types[BL_ANNOTATE_ROWS_EVENT], ==, 19);
    g_assert_cmpuint(c->types[BL_TABLE_MAP_EVENT], ==, 19);
    g_assert_cmpuint(c->types[BL_WRITE_ROWS_EVENT_V1], ==, 15);
    g_assert_cmpuint(c->types[BL_INTVAR_EVENT], ==, 5);
    g_assert_cmpuint(c->types[BL_XA_PREPARE_EVENT], ==, 1);
    g_assert_cmpuint(c->types[BL_WRITE_ROWS_COMPRESSED_EVENT_V1], ==, 1);
    g_assert_cmpuint(c->types[BL_UPDATE_ROWS_COMPRESSED_EVENT_V1], ==, 1);
    g_assert_cmpuint(c->types[BL_XID_EVENT], ==, 18);
    g_assert_cmpuint(c->types[BL_ROTATE_EVENT], ==, 1);
    counts_free(c);
}

static void test_compressed_rebuilt(void)
{
    GError *error = NULL;
    g_autoptr(BlReader) r = bl_reader_open(FIX "mariadb/generated/fmt-bin.000002", NULL, &error);
    g_assert_no_error(error);
    const BlEvent *ev;
    guint compressed = 0;
    while (bl_reader_next(r, &ev, &error)) {
        if (ev->orig_type == ev->h.type)
            continue;
        compressed++;
        /* The rebuilt plain event is self-consistent: its size field and a
         * valid CRC over the new bytes. */
        g_assert_cmpuint(bl_u32(ev->data + 9), ==, ev->h.size);
        g_assert_cmpuint(ev->data[4], ==, bl_event_uncompressed_type(ev->orig_type));
        guint32 crc = bl_crc32(0, ev->data, ev->h.size - 4);
        g_assert_cmpuint(crc, ==, bl_u32(ev->data + ev->h.size - 4));
        if (ev->h.type == BL_QUERY_EVENT) {
            BlQuery q;
            g_assert_true(bl_decode_query(ev, bl_reader_format(r), &q, &error));
            g_assert_true(g_strstr_len(q.sql, (gssize)q.sql_len, "INSERT") != NULL);
        }
    }
    g_assert_no_error(error);
    g_assert_cmpuint(compressed, ==, 4); /* 3 rows + 1 query (README) */
}

static void test_checksum_none(void)
{
    Counts *c = count_file(FIX "mariadb/generated/fmt-bin.000004", TRUE);
    g_assert_null(c->error);
    g_assert_cmpuint(c->types[BL_WRITE_ROWS_EVENT_V1], ==, 1);
    g_assert_cmpuint(c->types[BL_XID_EVENT], ==, 1);
    counts_free(c);
}

static void test_encrypted(void)
{
    Counts *c = count_file(FIX "mariadb/generated/fmt-bin.000006", TRUE);
    g_assert_nonnull(c->error);
    g_assert_cmpint(c->error_code, ==, BL_ERROR_ENCRYPTED);
    g_assert_true(strstr(c->error, "fmt-bin.000006:") != NULL);
    g_assert_true(strstr(c->error, "encrypt") != NULL);
    counts_free(c);
}

static void test_payload(void)
{
    Counts *c = count_file(FIX "mysql8/mdev35643_mysql_80_binlog.000001", TRUE);
    g_assert_null(c->error);
    g_assert_cmpuint(c->types[BL_TRANSACTION_PAYLOAD_EVENT], ==, 1);
    g_assert_cmpuint(c->types[BL_ANONYMOUS_GTID_EVENT], ==, 9);
    g_assert_cmpuint(c->types[BL_PARTIAL_UPDATE_ROWS_EVENT], ==, 1);
    g_assert_cmpuint(c->inner_types[BL_QUERY_EVENT], ==, 1);
    g_assert_cmpuint(c->inner_types[BL_TABLE_MAP_EVENT], ==, 100);
    g_assert_cmpuint(c->inner_types[BL_WRITE_ROWS_EVENT], ==, 100);
    g_assert_cmpuint(c->inner_types[BL_XID_EVENT], ==, 1);
    counts_free(c);
    c = count_file(FIX "mysql8/transaction_compression.000001", TRUE);
    g_assert_null(c->error);
    g_assert_cmpuint(c->inner_types[BL_WRITE_ROWS_EVENT], ==, 1);
    counts_free(c);
}

/* Every fixture reads to its end (the encrypted one excepted). */
static void test_all_fixtures(void)
{
    const char *files[] = {
        "mariadb/mariadb-10.5.15-bin.000001", "mariadb/mariadb-11.8.5-sysbench-repl-bin.000005",
        "mysql8/binlog-invisible-columns.000001", "mysql8/binlog_transaction_with_GTID_TAG.000001",
        "mysql8/json.binlog.000001", "mysql8/mysql-enum-string-set.000001",
        "mysql8/mysql_type_bit.000001", "mysql8/rpl_unfiltered_hidden_gcol.000001",
        "mysql8/time_issue.000001", "mysql8/minimal_row_metadata.000001",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *p = g_strconcat(FIX, files[i], NULL);
        Counts *c = count_file(p, TRUE);
        if (c->error)
            g_test_message("%s: %s", files[i], c->error);
        g_assert_null(c->error);
        g_assert_cmpuint(c->events, >, 3);
        counts_free(c);
    }
}

static void test_tagged_gtid(void)
{
    GError *error = NULL;
    g_autoptr(BlReader) r =
        bl_reader_open(FIX "mysql8/binlog_transaction_with_GTID_TAG.000001", NULL, &error);
    g_assert_no_error(error);
    const BlEvent *ev;
    gboolean seen = FALSE;
    while (bl_reader_next(r, &ev, &error)) {
        if (ev->h.type == BL_GTID_TAGGED_EVENT) {
            BlGtid g;
            char buf[128];
            g_assert_true(bl_decode_gtid(ev, bl_reader_format(r), &g, &error));
            g_assert_cmpstr(bl_gtid_format(&g, buf, sizeof buf), ==,
                            "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3");
            g_assert_cmpint(g.sequence_number, ==, 1);
            g_assert_cmpuint(g.transaction_length, ==, 296);
            g_assert_cmpuint(g.immediate_server_version, ==, 90600);
            seen = TRUE;
        }
        if (ev->h.type == BL_PREVIOUS_GTIDS_EVENT) {
            g_autofree char *s = NULL;
            g_assert_true(bl_decode_previous_gtids(ev, bl_reader_format(r), &s, &error));
            g_assert_true(strstr(s, "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13") != NULL);
            g_assert_true(strstr(s, ":mytag:1-2") != NULL);
        }
    }
    g_assert_no_error(error);
    g_assert_true(seen);
}

/* Copies a fixture, lets `mutate` change the bytes, reads it back. */
static Counts *count_mutated(const char *fixture, void (*mutate)(GByteArray *))
{
    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(fixture, &data, &len, NULL));
    GByteArray *b = g_byte_array_new_take((guint8 *)data, len);
    mutate(b);
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "bl-test-XXXXXX", NULL);
    int fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, b->data, b->len), ==, (gssize)b->len);
    close(fd);
    g_byte_array_unref(b);
    Counts *c = count_file(path, TRUE);
    unlink(path);
    return c;
}

static void flip_middle(GByteArray *b) { b->data[b->len / 2] ^= 0x40; }
static void cut_middle(GByteArray *b) { g_byte_array_set_size(b, b->len / 2 + 3); }
static void bad_magic(GByteArray *b) { b->data[1] = 'X'; }
static void cut_header(GByteArray *b) { g_byte_array_set_size(b, 10); }

static void test_bad_input(void)
{
    const char *f = FIX "mariadb/generated/fmt-bin.000001";
    Counts *c = count_mutated(f, flip_middle);
    g_assert_cmpint(c->error_code, ==, BL_ERROR_CHECKSUM);
    g_assert_true(strstr(c->error, "checksum mismatch") != NULL);
    counts_free(c);
    c = count_mutated(f, cut_middle);
    g_assert_cmpint(c->error_code, ==, BL_ERROR_TRUNCATED);
    g_assert_true(strstr(c->error, "file ends inside") != NULL);
    counts_free(c);
    c = count_mutated(f, bad_magic);
    g_assert_cmpint(c->error_code, ==, BL_ERROR_NOT_BINLOG);
    g_assert_true(strstr(c->error, ":0: not a binary log") != NULL);
    counts_free(c);
    c = count_mutated(f, cut_header);
    g_assert_cmpint(c->error_code, ==, BL_ERROR_TRUNCATED);
    counts_free(c);
}

typedef struct {
    guint n, complete, incomplete;
    guint kinds[8];
    guint with_cid;
    guint barriers;
} TrxCounts;

static void count_trx(const char *path, TrxCounts *tc)
{
    memset(tc, 0, sizeof *tc);
    GError *error = NULL;
    g_autoptr(BlReader) r = bl_reader_open(path, NULL, &error);
    g_assert_no_error(error);
    g_autoptr(BlTrxBuilder) b = bl_trx_builder_new(NULL);
    const BlEvent *ev;
    guint64 prev_end = 0;
    while (bl_reader_next(r, &ev, &error)) {
        BlTrx *done, *cut;
        g_assert_true(bl_trx_builder_feed(b, r, ev, &done, &cut, &error));
        g_assert_null(cut);
        if (!done)
            continue;
        tc->n++;
        tc->kinds[done->kind]++;
        if (done->gtid.flags2 & BL_FL_GROUP_COMMIT_ID)
            tc->with_cid++;
        if (bl_trx_is_barrier(done))
            tc->barriers++;
        g_assert_cmpuint(done->start_pos, >=, prev_end);
        g_assert_cmpuint(done->end_pos, >, done->start_pos);
        prev_end = done->end_pos;
        bl_trx_free(done);
    }
    g_assert_no_error(error);
    BlTrx *open_trx = bl_trx_builder_finish(b);
    g_assert_null(open_trx);
}

static void test_transactions(void)
{
    TrxCounts tc;
    count_trx(FIX "mariadb/generated/fmt-bin.000001", &tc);
    g_assert_cmpuint(tc.n, ==, 42);   /* one per GTID */
    g_assert_cmpuint(tc.with_cid, ==, 3);
    g_assert_cmpuint(tc.kinds[BL_TRX_XA_PREPARE], ==, 1);
    g_assert_cmpuint(tc.kinds[BL_TRX_XA_COMMIT], ==, 1);
    g_assert_cmpuint(tc.kinds[BL_TRX_DDL], >, 5);
    count_trx(FIX "mariadb/mariadb-11.8.5-sysbench-repl-bin.000005", &tc);
    g_assert_cmpuint(tc.n, ==, 87);
    g_assert_cmpuint(tc.kinds[BL_TRX_STATEMENT], ==, 87);
    count_trx(FIX "mysql8/mdev35643_mysql_80_binlog.000001", &tc);
    g_assert_cmpuint(tc.n, ==, 9);
    count_trx(FIX "mysql8/mysql-enum-string-set.000001", &tc);
    g_assert_cmpuint(tc.n, ==, 5);
    g_assert_cmpuint(tc.kinds[BL_TRX_ROWS], ==, 3);
}

/* A truncated file: the open transaction is reported as incomplete and
 * the last complete one is known. */
static void test_last_complete(void)
{
    const char *f = FIX "mariadb/mariadb-11.8.5-sysbench-repl-bin.000005";
    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(f, &data, &len, NULL));
    /* cut in the middle of the file, then read: collect transactions */
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "bl-test-XXXXXX", NULL);
    int fd = g_mkstemp(path);
    g_assert_cmpint(write(fd, data, len / 2), ==, (gssize)(len / 2));
    close(fd);
    g_free(data);
    GError *error = NULL;
    g_autoptr(BlReader) r = bl_reader_open(path, NULL, &error);
    g_autoptr(BlTrxBuilder) b = bl_trx_builder_new(NULL);
    const BlEvent *ev;
    guint64 last_end = 0;
    while (bl_reader_next(r, &ev, &error)) {
        BlTrx *done, *cut;
        g_assert_true(bl_trx_builder_feed(b, r, ev, &done, &cut, &error));
        if (done) {
            last_end = done->end_pos;
            bl_trx_free(done);
        }
    }
    unlink(path);
    g_assert_nonnull(error);
    g_assert_cmpint(error->code, ==, BL_ERROR_TRUNCATED);
    g_error_free(error);
    g_assert_cmpuint(bl_trx_builder_last_complete(b), ==, last_end);
    g_assert_cmpuint(last_end, >, 4);
    g_assert_true(bl_trx_builder_in_trx(b) || bl_trx_builder_last_complete(b) == last_end);
}

static void test_sql_classify(void)
{
#define C(s) bl_sql_classify(s, strlen(s))
    g_assert_cmpint(C("BEGIN"), ==, BL_SQL_BEGIN);
    g_assert_cmpint(C("  /* x */ START TRANSACTION"), ==, BL_SQL_BEGIN);
    g_assert_cmpint(C("COMMIT"), ==, BL_SQL_COMMIT);
    g_assert_cmpint(C("ROLLBACK"), ==, BL_SQL_ROLLBACK);
    g_assert_cmpint(C("ROLLBACK TO SAVEPOINT a"), ==, BL_SQL_SAVEPOINT);
    g_assert_cmpint(C("ROLLBACK WORK TO a"), ==, BL_SQL_SAVEPOINT);
    g_assert_cmpint(C("XA END X'31',X'',1"), ==, BL_SQL_XA_END);
    g_assert_cmpint(C("XA COMMIT X'31',X'',1"), ==, BL_SQL_XA_COMMIT);
    g_assert_cmpint(C("create table t (a int)"), ==, BL_SQL_DDL);
    g_assert_cmpint(C("/*!40000 ALTER TABLE t DISABLE KEYS */"), ==, BL_SQL_DDL);
    g_assert_cmpint(C("insert into t values (1)"), ==, BL_SQL_DML);
    g_assert_cmpint(C("BEGINNING"), ==, BL_SQL_OTHER);
#undef C
}

static void test_levels(void)
{
    g_autoptr(BlLevels) l = bl_levels_new();
    /* 1 <- 2, 3 independent of 2 (dep 1), 4 depends on 3 */
    bl_levels_add(l, 1, 0);
    bl_levels_add(l, 2, 1);
    bl_levels_add(l, 3, 1);
    bl_levels_add(l, 4, 3);
    g_assert_cmpuint(bl_levels_critical_path(l), ==, 3);
    g_autoptr(BlLevels) m = bl_levels_new();
    for (guint64 i = 1; i <= 100; i++)
        bl_levels_add(m, i, 0);
    g_assert_cmpuint(bl_levels_critical_path(m), ==, 1);
}

static BlTrx *mk_trx(guint64 seq, BlTrxKind kind, const guint64 *keys, guint nk, const guint64 *tk, guint nt)
{
    BlTrx *t = g_new0(BlTrx, 1);
    t->seq = seq;
    t->kind = kind;
    t->tables = g_ptr_array_new();
    t->keys = g_array_new(FALSE, FALSE, sizeof(guint64));
    t->table_keys = g_array_new(FALSE, FALSE, sizeof(guint64));
    g_array_append_vals(t->keys, keys, nk);
    g_array_append_vals(t->table_keys, tk, nt);
    return t;
}

/* Write-set dependencies: shared keys, exclusive tables, barriers. */
static void test_dep_writesets(void)
{
    g_autoptr(BlDepTracker) d = bl_dep_new(1024);
    const guint64 T = 0x1000, U = 0x2000, TX = 0x1001; /* table T shared, U shared, T exclusive */
    const guint64 k1 = 11, k2 = 22, k3 = 33;
    struct { guint64 keys[2]; guint nk; guint64 tk; BlTrxKind kind; guint64 want; } steps[] = {
        { { k1 }, 1, T, BL_TRX_ROWS, 0 },      /* 1: first writer */
        { { k2 }, 1, T, BL_TRX_ROWS, 0 },      /* 2: other row, same table: independent */
        { { k1 }, 1, T, BL_TRX_ROWS, 1 },      /* 3: same row as 1 */
        { { k3 }, 1, U, BL_TRX_ROWS, 0 },      /* 4: other table */
        { { 0 }, 0, TX, BL_TRX_ROWS, 3 },      /* 5: whole table T: after every writer of T */
        { { k2 }, 1, T, BL_TRX_ROWS, 5 },      /* 6: after the whole-table write */
        { { k3 }, 1, U, BL_TRX_DDL, 5 },       /* 7: barrier: after everything */
        { { 99 }, 1, U, BL_TRX_ROWS, 7 },      /* 8: after the barrier */
    };
    for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
        BlTrx *t = mk_trx(i + 1, steps[i].kind, steps[i].keys, steps[i].nk, &steps[i].tk, 1);
        guint64 dep = bl_dep_add(d, t);
        if (steps[i].kind == BL_TRX_DDL)
            g_assert_cmpuint(dep, ==, i);
        else
            g_assert_cmpuint(dep, ==, steps[i].want);
        bl_trx_free(t);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reader/mariadb-generated", test_mariadb_generated);
    g_test_add_func("/reader/compressed-rebuilt", test_compressed_rebuilt);
    g_test_add_func("/reader/checksum-none", test_checksum_none);
    g_test_add_func("/reader/encrypted", test_encrypted);
    g_test_add_func("/reader/payload", test_payload);
    g_test_add_func("/reader/all-fixtures", test_all_fixtures);
    g_test_add_func("/reader/tagged-gtid", test_tagged_gtid);
    g_test_add_func("/reader/bad-input", test_bad_input);
    g_test_add_func("/trx/counts", test_transactions);
    g_test_add_func("/trx/last-complete", test_last_complete);
    g_test_add_func("/query/classify", test_sql_classify);
    g_test_add_func("/depend/levels", test_levels);
    g_test_add_func("/depend/writesets", test_dep_writesets);
    return g_test_run();
}
