/* binlogfs — SPEC parsing (every form, valid and invalid), time zones,
 * bl_spec_compare on hand-made transactions, binlog name order, GTID sets
 * at range edges and at size, --rewrite-db. No server, no files; every
 * test that depends on the local time zone sets TZ itself. */
#include <string.h>
#include <time.h>

#include <binlogfs/error.h>
#include <binlogfs/spec.h>

#define UUID_A "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define UUID_A_UP "3E11FA47-71CA-11E1-9E33-C80AA9429562"
#define UUID_B "feedface-0000-4000-8000-00000000beef"
#define SEC(n) (G_GINT64_CONSTANT(n) * G_USEC_PER_SEC)

static const guint8 uuid_a_bytes[16] = { 0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                         0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62 };

static void set_tz(const char *tz)
{
    g_setenv("TZ", tz, TRUE);
    tzset();
}

static BlSpec parse_ok(const char *text, gboolean allow_backup_info)
{
    BlSpec s;
    GError *error = NULL;
    if (!bl_spec_parse(text, allow_backup_info, &s, &error))
        g_error("'%s' should parse: %s", text, error->message);
    g_assert_no_error(error);
    return s;
}

/* Parses `text`, expects BL_ERROR_INVALID with `part` in the message;
 * returns the message (caller frees). */
static char *parse_bad(const char *text, gboolean allow_backup_info, const char *part)
{
    BlSpec s;
    GError *error = NULL;
    memset(&s, 0x5a, sizeof s);
    if (bl_spec_parse(text, allow_backup_info, &s, &error))
        g_error("'%s' should be refused, got kind %d", text, s.kind);
    g_assert_error(error, BL_ERROR, BL_ERROR_INVALID);
    g_assert_cmpint(s.kind, ==, BL_SPEC_NONE);
    g_assert_true(g_str_has_prefix(error->message, "'"));
    g_assert_nonnull(strstr(error->message, "' is not a valid SPEC: "));
    g_assert_null(strchr(error->message, '\n'));
    if (part && !strstr(error->message, part))
        g_error("'%s': message \"%s\" lacks \"%s\"", text, error->message, part);
    char *msg = g_strdup(error->message);
    g_error_free(error);
    return msg;
}

static void expect_bad(const char *text, gboolean allow_backup_info, const char *part)
{
    g_free(parse_bad(text, allow_backup_info, part));
}

static gint64 time_us_of(const char *text)
{
    BlSpec s = parse_ok(text, FALSE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_TIME);
    return s.time_us;
}

/* ---- forms ------------------------------------------------------------- */

static void test_empty(void)
{
    const char *blanks[] = { "", " ", "\n", " \t\r\n ", NULL };
    for (int i = 0; blanks[i]; i++) {
        BlSpec s = parse_ok(blanks[i], TRUE);
        g_assert_cmpint(s.kind, ==, BL_SPEC_NONE);
        g_assert_cmpstr(s.text, ==, "");
        s = parse_ok(blanks[i], FALSE);
        g_assert_cmpint(s.kind, ==, BL_SPEC_NONE);
    }
    BlSpec s = parse_ok(NULL, FALSE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_NONE);
}

static void test_position(void)
{
    BlSpec s = parse_ok("mysql-bin.000003:385", FALSE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_POSITION);
    g_assert_cmpstr(s.file, ==, "mysql-bin.000003");
    g_assert_cmpuint(s.pos, ==, 385);
    g_assert_cmpstr(s.text, ==, "mysql-bin.000003:385");

    s = parse_ok("  mysql-bin.000003:4\n", FALSE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_POSITION);
    g_assert_cmpuint(s.pos, ==, 4);
    g_assert_cmpstr(s.text, ==, "mysql-bin.000003:4");

    s = parse_ok("mysql-bin.000001:18446744073709551615", FALSE);
    g_assert_cmpuint(s.pos, ==, G_MAXUINT64);

    /* Split at the last ':'. */
    s = parse_ok("host:bin.000001:120", FALSE);
    g_assert_cmpstr(s.file, ==, "host:bin.000001");
    g_assert_cmpuint(s.pos, ==, 120);

    /* A 255-byte name is the most. */
    g_autofree char *name255 = g_strnfill(255, 'b');
    g_autofree char *ok = g_strconcat(name255, ":4", NULL);
    s = parse_ok(ok, FALSE);
    g_assert_cmpstr(s.file, ==, name255);
    g_autofree char *bad = g_strconcat(name255, "b:4", NULL);
    expect_bad(bad, FALSE, "longer than 255");

    expect_bad("mysql-bin.000003:3", FALSE, "below 4");
    expect_bad("mysql-bin.000003:0", FALSE, "below 4");
    expect_bad(":385", FALSE, "file name is empty");
    expect_bad("mysql-bin.000003:", FALSE, "not a decimal number");
    expect_bad("mysql-bin.000003:12x", FALSE, "not a decimal number");
    expect_bad("mysql-bin.000003:-5", FALSE, "not a decimal number");
    expect_bad("mysql-bin.000003:+5", FALSE, "not a decimal number");
    expect_bad("mysql-bin.000003:18446744073709551616", FALSE, "too large");
    expect_bad("/var/lib/mysql/mysql-bin.000003:385", FALSE, "without '/'");
    expect_bad("..:385", FALSE, "base name");
    expect_bad("mysql-bin.000003", FALSE, "FILE:POS");
    expect_bad("garbage", TRUE, NULL);
}

static void test_datetime_forms(void)
{
    set_tz("UTC");
    const gint64 t = SEC(1389923940); /* 2014-01-17T01:59:00Z */
    g_assert_cmpint(time_us_of("2014-01-17T01:59:00"), ==, t);
    g_assert_cmpint(time_us_of("2014-01-17 01:59:00"), ==, t);
    g_assert_cmpint(time_us_of("2014-01-17t01:59:00z"), ==, t);
    g_assert_cmpint(time_us_of("2014-01-17T01:59:00Z"), ==, t);
    g_assert_cmpint(time_us_of(" 2014-01-17T01:59:00Z\n"), ==, t);
    g_assert_cmpint(time_us_of("2014-01-17T01:59:00.5"), ==, t + 500000);
    g_assert_cmpint(time_us_of("2014-01-17T01:59:00.000001Z"), ==, t + 1);
    g_assert_cmpint(time_us_of("2014-01-17T01:59:00.123456+00:00"), ==, t + 123456);
    g_assert_cmpint(time_us_of("2014-01-17T03:59:00+02:00"), ==, t);
    g_assert_cmpint(time_us_of("2014-01-16T20:29:00-05:30"), ==, t);
    g_assert_cmpint(time_us_of("2014-01-17T01:59:00-00:00"), ==, t);
    /* Leap years, month ends, the extremes. */
    g_assert_cmpint(time_us_of("2012-02-29 00:00:00Z"), ==, SEC(1330473600));
    time_us_of("2000-02-29 12:00:00Z");
    time_us_of("2014-12-31 23:59:59.999999Z");
    g_assert_cmpint(time_us_of("9999-12-31T23:59:59Z"), ==, SEC(253402300799));
    g_assert_cmpint(time_us_of("0001-01-01T00:00:00Z"), ==, SEC(-62135596800));
    g_assert_cmpint(time_us_of("1970-01-01 00:00:00"), ==, 0);

    BlSpec s = parse_ok("2014-01-17 01:59:00\n", FALSE);
    g_assert_cmpstr(s.text, ==, "2014-01-17 01:59:00");
}

static void test_datetime_invalid(void)
{
    set_tz("UTC");
    expect_bad("2014-02-30 00:00:00", FALSE, "day 30 out of range for 2014-02");
    expect_bad("2014-02-29 00:00:00", FALSE, "day 29 out of range");
    expect_bad("2100-02-29 00:00:00", FALSE, "day 29 out of range");
    expect_bad("2014-04-31 00:00:00", FALSE, "day 31 out of range");
    expect_bad("2014-01-32 00:00:00", FALSE, "day 32 out of range");
    expect_bad("2014-01-00 00:00:00", FALSE, "day 00 out of range");
    expect_bad("2014-13-01 00:00:00", FALSE, "month 13 out of range");
    expect_bad("2014-00-01 00:00:00", FALSE, "month 00 out of range");
    expect_bad("0000-01-01 00:00:00", FALSE, "year 0000");
    expect_bad("2014-01-17 25:00:00", FALSE, "hour 25 out of range");
    expect_bad("2014-01-17 24:00:00", FALSE, "hour 24 out of range");
    expect_bad("2014-01-17 01:60:00", FALSE, "minute 60 out of range");
    expect_bad("2014-01-17 01:59:60", FALSE, "second 60 out of range");
    /* Missing or malformed parts. */
    expect_bad("2014-01-17", FALSE, "time is missing");
    expect_bad("2014-01-17T", FALSE, "time is missing");
    expect_bad("2014-01-17 01:59", FALSE, "HH:MM:SS");
    expect_bad("2014-01-17 1:59:00", FALSE, "HH:MM:SS");
    expect_bad("2014-01-17  01:59:00", FALSE, "HH:MM:SS");
    expect_bad("2014-01-17 01:59:0", FALSE, "HH:MM:SS");
    expect_bad("2014-01-17 015900", FALSE, "HH:MM:SS");
    expect_bad("2014-1-17 01:59:00", FALSE, "two digits");
    expect_bad("2014-01-7 01:59:00", FALSE, "two digits");
    expect_bad("2014-001-17 01:59:00", FALSE, "two digits");
    expect_bad("2014-01-17 01:59:00.", FALSE, "1 to 6 digits");
    expect_bad("2014-01-17 01:59:00.1234567", FALSE, "1 to 6 digits");
    expect_bad("2014-01-17 01:59:00+2:00", FALSE, "+hh:mm");
    expect_bad("2014-01-17 01:59:00+02", FALSE, "+hh:mm");
    expect_bad("2014-01-17 01:59:00+0200", FALSE, "+hh:mm");
    expect_bad("2014-01-17 01:59:00+24:00", FALSE, "out of range");
    expect_bad("2014-01-17 01:59:00+02:60", FALSE, "out of range");
    expect_bad("2014-01-17 01:59:00Zx", FALSE, "after the time zone");
    expect_bad("2014-01-17 01:59:00 UTC", FALSE, "after the time");
    expect_bad("2014-01-17 01:59:00x", FALSE, "after the time");
    expect_bad("2014-01-17 01:59:00+02:00:00", FALSE, "after the time zone");
    /* The quoted text keeps the line readable. */
    g_autofree char *msg = parse_bad("2014-01-17 01:59:00\nextra", FALSE, "\\nextra");
    g_assert_true(g_str_has_prefix(msg, "'2014-01-17 01:59:00\\nextra' is not a valid SPEC: "));
}

/* The same instant as Z, as +02:00, and as local time in two zones; the
 * zone is read when the SPEC is parsed, so changing TZ changes the result. */
static void test_timezones(void)
{
    const gint64 summer = SEC(1404216000); /* 2014-07-01T12:00:00Z */
    const gint64 winter = SEC(1389923940); /* 2014-01-17T01:59:00Z */
    if (!g_file_test("/usr/share/zoneinfo/Europe/Paris", G_FILE_TEST_EXISTS)) {
        g_test_skip("no tzdata for Europe/Paris");
        return;
    }
    set_tz("UTC");
    g_assert_cmpint(time_us_of("2014-07-01T12:00:00"), ==, summer);
    g_assert_cmpint(time_us_of("2014-07-01T12:00:00Z"), ==, summer);
    g_assert_cmpint(time_us_of("2014-07-01T14:00:00+02:00"), ==, summer);

    set_tz("Europe/Paris");
    g_assert_cmpint(time_us_of("2014-07-01T14:00:00"), ==, summer); /* CEST */
    g_assert_cmpint(time_us_of("2014-07-01 14:00:00.000000"), ==, summer);
    g_assert_cmpint(time_us_of("2014-01-17 02:59:00"), ==, winter); /* CET */
    /* A zone given: TZ plays no part. */
    g_assert_cmpint(time_us_of("2014-07-01T12:00:00Z"), ==, summer);
    g_assert_cmpint(time_us_of("2014-07-01T14:00:00+02:00"), ==, summer);
    /* The hour skipped in spring, and the hour lived twice in autumn. */
    g_autofree char *gap = parse_bad("2014-03-30 02:30:00", FALSE, "does not exist in the local");
    g_assert_nonnull(strstr(gap, "+01:00 or +02:00"));
    g_autofree char *msg = parse_bad("2014-10-26 02:30:00", FALSE, "occurs twice");
    g_assert_nonnull(strstr(msg, "+02:00"));
    g_assert_nonnull(strstr(msg, "+01:00"));
    g_assert_cmpint(time_us_of("2014-10-26 02:30:00+02:00"), ==, SEC(1414283400));
    g_assert_cmpint(time_us_of("2014-10-26 02:30:00+01:00"), ==, SEC(1414287000));
    /* Just around the changes, times are unambiguous. */
    g_assert_cmpint(time_us_of("2014-10-26 01:59:59"), ==, SEC(1414281599));
    g_assert_cmpint(time_us_of("2014-10-26 03:00:00"), ==, SEC(1414288800));
    g_assert_cmpint(time_us_of("2014-03-30 03:00:00"), ==, SEC(1396141200));

    /* A POSIX rule, without tzdata: UTC-5, no DST. */
    set_tz("EST5");
    g_assert_cmpint(time_us_of("2014-07-01 07:00:00"), ==, summer);

    set_tz("UTC");
    g_assert_cmpint(time_us_of("2014-07-01 12:00:00"), ==, summer);
}

static void test_gtid_mariadb(void)
{
    BlSpec s = parse_ok("0-1-5", FALSE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_GTID);
    g_assert_cmpint(s.gtid.kind, ==, BL_GTID_MARIADB);
    g_assert_cmpuint(s.gtid.domain_id, ==, 0);
    g_assert_cmpuint(s.gtid.server_id, ==, 1);
    g_assert_cmpuint(s.gtid.seq_no, ==, 5);
    g_assert_cmpstr(s.text, ==, "0-1-5");

    s = parse_ok("  0-1-5\n", TRUE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_GTID);
    g_assert_cmpuint(s.gtid.seq_no, ==, 5);
    g_assert_cmpstr(s.text, ==, "0-1-5");

    s = parse_ok("4294967295-4294967295-18446744073709551615", FALSE);
    g_assert_cmpuint(s.gtid.domain_id, ==, G_MAXUINT32);
    g_assert_cmpuint(s.gtid.server_id, ==, G_MAXUINT32);
    g_assert_cmpuint(s.gtid.seq_no, ==, G_MAXUINT64);

    /* Four digits, then numbers without leading zeros: a GTID, not a date. */
    s = parse_ok("2014-1-17", FALSE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_GTID);
    g_assert_cmpuint(s.gtid.domain_id, ==, 2014);
    g_assert_cmpuint(s.gtid.seq_no, ==, 17);

    expect_bad("4294967296-1-5", FALSE, "domain id 4294967296 is out of range");
    expect_bad("0-4294967296-5", FALSE, "server id 4294967296 is out of range");
    expect_bad("0-1-18446744073709551616", FALSE, "sequence number");
    expect_bad("0-1", FALSE, "D-S-N");
    expect_bad("0-1-5-6", FALSE, "D-S-N");
    expect_bad("0--5", FALSE, "server id '' is not a decimal number");
    expect_bad("0-1-", FALSE, "sequence number '' is not a decimal number");
    expect_bad("0-1-5x", FALSE, NULL);
    expect_bad("-0-1-5", FALSE, NULL);
    expect_bad("0 1 5", FALSE, NULL);
}

static void test_gtid_mysql(void)
{
    BlSpec s = parse_ok(UUID_A ":23", FALSE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_GTID);
    g_assert_cmpint(s.gtid.kind, ==, BL_GTID_MYSQL);
    g_assert_cmpmem(s.gtid.uuid, 16, uuid_a_bytes, 16);
    g_assert_cmpstr(s.gtid.tag, ==, "");
    g_assert_cmpint(s.gtid.gno, ==, 23);

    s = parse_ok(UUID_A_UP ":23\n", FALSE);
    g_assert_cmpmem(s.gtid.uuid, 16, uuid_a_bytes, 16);
    g_assert_cmpint(s.gtid.gno, ==, 23);
    g_assert_cmpstr(s.text, ==, UUID_A_UP ":23");

    s = parse_ok(UUID_A ":My_Tag9:7", FALSE);
    g_assert_cmpstr(s.gtid.tag, ==, "my_tag9");
    g_assert_cmpint(s.gtid.gno, ==, 7);
    s = parse_ok(UUID_A ":_:1", FALSE);
    g_assert_cmpstr(s.gtid.tag, ==, "_");
    g_autofree char *tag32 = g_strnfill(32, 'T');
    g_autofree char *t32 = g_strconcat(UUID_A ":", tag32, ":9223372036854775807", NULL);
    s = parse_ok(t32, FALSE);
    g_assert_cmpuint(strlen(s.gtid.tag), ==, 32);
    g_assert_cmpint(s.gtid.gno, ==, G_MAXINT64);

    g_autofree char *t33 = g_strconcat(UUID_A ":", tag32, "x:1", NULL);
    expect_bad(t33, FALSE, "bad tag");
    expect_bad(UUID_A ":0", FALSE, "GTID number 0 is out of range");
    expect_bad(UUID_A ":9223372036854775808", FALSE, "out of range");
    expect_bad(UUID_A ":", FALSE, "not a decimal number");
    expect_bad(UUID_A ":-1", FALSE, "not a decimal number");
    expect_bad(UUID_A ":1-5", FALSE, "not a decimal number");
    expect_bad(UUID_A ":tag:", FALSE, "not a decimal number");
    expect_bad(UUID_A ":1tag:5", FALSE, "bad tag");
    expect_bad(UUID_A ":my-tag:5", FALSE, "bad tag");
    expect_bad(UUID_A ":a:b:5", FALSE, "bad tag");
    expect_bad(UUID_A "::5", FALSE, "bad tag");
    /* Bad UUIDs are reported as such, not taken for file names. */
    expect_bad("3e11fa47-71ca-11e1-9e33-c80aa94295zz:5", FALSE, "bad UUID");
    expect_bad("3e11fa47-71ca-11e1-9e33-c80aa942956:5", FALSE, "bad UUID");
    expect_bad("3e11fa47-71ca-11e1-9e33-c80aa94295622:5", FALSE, "bad UUID");
    expect_bad("3e11fa4771ca-11e1-9e33-c80aa9429562a:5", FALSE, "bad UUID");
    expect_bad("3e11fa47-71ca-11e1-9e33c80aa9429562:5", FALSE, "bad UUID");
    /* Not UUID-shaped: a file name, by the FILE:POS rule. */
    s = parse_ok("3e11fa47_71ca_11e1_9e33_c80aa9429562:5", FALSE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_POSITION);
}

static void test_backup_info(void)
{
    /* mariadb_backup_binlog_info */
    BlSpec s = parse_ok("mariadb-bin.000096\t568\t0-1-2\n", TRUE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_POSITION);
    g_assert_cmpstr(s.file, ==, "mariadb-bin.000096");
    g_assert_cmpuint(s.pos, ==, 568);
    /* as the MariaDB documentation shows it, with spaces */
    s = parse_ok("mariadb-bin.000096 568 0-1-2", TRUE);
    g_assert_cmpstr(s.file, ==, "mariadb-bin.000096");
    g_assert_cmpuint(s.pos, ==, 568);
    /* MySQL: gtid_executed over several lines */
    s = parse_ok("binlog.000003\t156\t" UUID_A ":1-5,\n" UUID_B ":1-3:tag:1-2\n", TRUE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_POSITION);
    g_assert_cmpstr(s.file, ==, "binlog.000003");
    g_assert_cmpuint(s.pos, ==, 156);
    /* without GTIDs, and a stray trailing tab */
    s = parse_ok("mysql-bin.000001\t4\n", TRUE);
    g_assert_cmpstr(s.file, ==, "mysql-bin.000001");
    g_assert_cmpuint(s.pos, ==, 4);
    s = parse_ok("mysql-bin.000001\t120\t\n", TRUE);
    g_assert_cmpuint(s.pos, ==, 120);
    s = parse_ok("mysql-bin.000001\t120\r\n", TRUE);
    g_assert_cmpuint(s.pos, ==, 120);
    /* xtrabackup_binlog_pos_innodb writes "./name" */
    s = parse_ok("./mysql-bin.000001\t3252710\n", TRUE);
    g_assert_cmpstr(s.file, ==, "mysql-bin.000001");
    g_assert_cmpuint(s.pos, ==, 3252710);
    /* FILE:POS and the other forms still work with backup info allowed */
    s = parse_ok("mysql-bin.000002:77", TRUE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_POSITION);
    s = parse_ok("2014-01-17 01:59:00Z", TRUE);
    g_assert_cmpint(s.kind, ==, BL_SPEC_TIME);

    /* stop-at refuses it, and says what to write */
    expect_bad("mariadb-bin.000096\t568\t0-1-2\n", FALSE,
               "start-at only; write mariadb-bin.000096:568");
    expect_bad("mysql-bin.000001\t3\n", TRUE, "below 4");
    expect_bad("mysql-bin.000001\t12x\n", TRUE, "not a decimal number");
    expect_bad("mysql-bin.000001\n4\n", TRUE, "backup's binlog info");
    expect_bad("hello world", TRUE, "or a backup's binlog info");
    g_autofree char *msg = parse_bad("hello world", FALSE, NULL);
    g_assert_null(strstr(msg, "backup"));
}

static void test_messages(void)
{
    GError *error = NULL;
    BlSpec s;
    g_assert_false(bl_spec_parse("garbage\n", TRUE, &s, &error));
    g_assert_error(error, BL_ERROR, BL_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "'garbage' is not a valid SPEC: expected FILE:POS, YYYY-MM-DD HH:MM:SS, a GTID "
                    "(D-S-N or UUID:N), or a backup's binlog info");
    g_clear_error(&error);
    g_assert_false(bl_spec_parse("garbage", FALSE, &s, &error));
    g_assert_cmpstr(error->message, ==,
                    "'garbage' is not a valid SPEC: expected FILE:POS, YYYY-MM-DD HH:MM:SS, a GTID "
                    "(D-S-N or UUID:N)");
    g_clear_error(&error);
    /* Long, binary or multi-line input stays one readable line. */
    g_autofree char *lng = g_strnfill(5000, 'x');
    g_autofree char *m1 = parse_bad(lng, TRUE, "...' is not a valid SPEC");
    g_assert_cmpuint(strlen(m1), <, 400);
    g_autofree char *m2 = parse_bad("a\x01\xff b", TRUE, "'a\\x01\\xff b'");
    (void)m2;
    /* A long valid SPEC is kept for display, cut at a character boundary. */
    GString *big = g_string_new("binlog.000001\t4\t");
    for (int i = 0; i < 200; i++)
        g_string_append(big, "é");
    s = parse_ok(big->str, TRUE);
    g_assert_cmpuint(strlen(s.text), <, sizeof s.text);
    g_assert_true(g_utf8_validate(s.text, -1, NULL));
    g_assert_true(g_str_has_prefix(s.text, "binlog.000001\t4\té"));
    g_string_free(big, TRUE);
}

/* ---- compare ----------------------------------------------------------- */

static BlTrx trx_at(guint64 start_pos, guint64 commit_us)
{
    BlTrx t;
    memset(&t, 0, sizeof t);
    t.start_pos = start_pos;
    t.end_pos = start_pos + 100;
    t.commit_time_us = commit_us;
    return t;
}

static void test_compare_position(void)
{
    BlSpec s = parse_ok("mysql-bin.000010:500", FALSE);
    BlTrx t = trx_at(400, 0);
    g_assert_cmpint(bl_spec_compare(&s, "mysql-bin.000009", &t), <, 0);
    t.start_pos = 999999;
    g_assert_cmpint(bl_spec_compare(&s, "mysql-bin.000009", &t), <, 0);
    t.start_pos = 400;
    g_assert_cmpint(bl_spec_compare(&s, "mysql-bin.000010", &t), <, 0);
    t.start_pos = 499;
    g_assert_cmpint(bl_spec_compare(&s, "mysql-bin.000010", &t), <, 0);
    t.start_pos = 500;
    g_assert_cmpint(bl_spec_compare(&s, "mysql-bin.000010", &t), ==, 0);
    t.start_pos = 501;
    g_assert_cmpint(bl_spec_compare(&s, "mysql-bin.000010", &t), >, 0);
    t.start_pos = 4;
    g_assert_cmpint(bl_spec_compare(&s, "mysql-bin.000011", &t), >, 0);
    g_assert_cmpint(bl_spec_compare(&s, "mysql-bin.000100", &t), >, 0);
    g_assert_cmpint(bl_spec_compare(&s, "mysql-bin.1000000", &t), >, 0);
    /* A transaction that starts before the spec but ends after it is before. */
    t.start_pos = 450;
    t.end_pos = 900;
    g_assert_cmpint(bl_spec_compare(&s, "mysql-bin.000010", &t), <, 0);
}

static void test_compare_time(void)
{
    set_tz("UTC");
    BlSpec s = parse_ok("2014-01-17T01:59:00.250000Z", FALSE);
    const guint64 at = G_GUINT64_CONSTANT(1389923940) * G_USEC_PER_SEC + 250000;
    BlTrx t = trx_at(4, at - 1);
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), <, 0);
    t.commit_time_us = at;
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), ==, 0);
    t.commit_time_us = at + 1;
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), >, 0);
    /* The file plays no part. */
    g_assert_cmpint(bl_spec_compare(&s, NULL, &t), >, 0);
    t.commit_time_us = 0;
    g_assert_cmpint(bl_spec_compare(&s, "zzz", &t), <, 0);
    /* Before the epoch: everything is after. */
    s = parse_ok("1969-12-31T23:59:59Z", FALSE);
    g_assert_cmpint(s.time_us, ==, -G_USEC_PER_SEC);
    g_assert_cmpint(bl_spec_compare(&s, NULL, &t), >, 0);
}

static void test_compare_gtid(void)
{
    BlSpec s = parse_ok("0-1-5", FALSE);
    BlTrx t = trx_at(4, 0);
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), <, 0); /* no GTID */
    t.gtid.kind = BL_GTID_MARIADB;
    t.gtid.domain_id = 0;
    t.gtid.server_id = 1;
    t.gtid.seq_no = 5;
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), ==, 0);
    t.gtid.seq_no = 4;
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), <, 0);
    t.gtid.seq_no = 6; /* past it: still not equal; the caller keeps "reached" */
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), <, 0);
    t.gtid.seq_no = 5;
    t.gtid.server_id = 2;
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), <, 0);
    t.gtid.server_id = 1;
    t.gtid.domain_id = 1;
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), <, 0);
    t.gtid.domain_id = 0;
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), ==, 0);

    /* MySQL */
    s = parse_ok(UUID_A ":23", FALSE);
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), <, 0); /* a MariaDB trx */
    memset(&t.gtid, 0, sizeof t.gtid);
    t.gtid.kind = BL_GTID_MYSQL;
    memcpy(t.gtid.uuid, uuid_a_bytes, 16);
    t.gtid.gno = 23;
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), ==, 0);
    t.gtid.gno = 22;
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), <, 0);
    t.gtid.gno = 23;
    g_strlcpy(t.gtid.tag, "mytag", sizeof t.gtid.tag);
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), <, 0); /* tagged vs untagged */
    s = parse_ok(UUID_A_UP ":MyTag:23", FALSE);
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), ==, 0);
    t.gtid.tag[0] = '\0';
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), <, 0);
    g_strlcpy(t.gtid.tag, "mytag", sizeof t.gtid.tag);
    t.gtid.uuid[15] ^= 1;
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), <, 0);
    t.gtid.kind = BL_GTID_ANONYMOUS;
    g_assert_cmpint(bl_spec_compare(&s, "x.000001", &t), <, 0);
}

/* ---- binlog names ------------------------------------------------------ */

static int sgn(int v)
{
    return (v > 0) - (v < 0);
}

static void test_name_order(void)
{
    g_assert_cmpint(bl_binlog_name_cmp("mysql-bin.000009", "mysql-bin.000010"), <, 0);
    g_assert_cmpint(bl_binlog_name_cmp("mysql-bin.000010", "mysql-bin.000100"), <, 0);
    g_assert_cmpint(bl_binlog_name_cmp("mysql-bin.000100", "mysql-bin.000009"), >, 0);
    g_assert_cmpint(bl_binlog_name_cmp("mysql-bin.000010", "mysql-bin.000010"), ==, 0);
    g_assert_cmpint(bl_binlog_name_cmp("mysql-bin.999999", "mysql-bin.1000000"), <, 0);
    g_assert_cmpint(bl_binlog_name_cmp("mysql-bin.9", "mysql-bin.000010"), <, 0);
    /* Past 64 bits the digits still compare by value. */
    g_assert_cmpint(bl_binlog_name_cmp("b.99999999999999999999", "b.100000000000000000000"), <, 0);
    /* Same value, different spelling: not equal, but ordered both ways. */
    g_assert_cmpint(sgn(bl_binlog_name_cmp("b.010", "b.10")), ==,
                    -sgn(bl_binlog_name_cmp("b.10", "b.010")));
    g_assert_cmpint(bl_binlog_name_cmp("b.010", "b.10"), !=, 0);
    /* Different base names compare as strings. */
    g_assert_cmpint(bl_binlog_name_cmp("mariadb-bin.000009", "mysql-bin.000001"), <, 0);
    g_assert_cmpint(bl_binlog_name_cmp("mysql-bin.000001", "mariadb-bin.000009"), >, 0);
    g_assert_cmpint(bl_binlog_name_cmp("a.000001", "b.000001"), <, 0);
    g_assert_cmpint(bl_binlog_name_cmp("mysql-bin.index", "mysql-bin.index"), ==, 0);
    g_assert_cmpint(bl_binlog_name_cmp("", ""), ==, 0);

    /* A total order over awkward names: antisymmetric and transitive. */
    const char *names[] = { "x.10", "x.9", "x.1z", "x.09", "x", "x.", "x.index", "x.10.5",
                            "x.0", "y.1", "x-bin.2", "x.a.1", ".5", "5", "x.00", "x.000010",
                            "mysql-bin.000009", "mysql-bin.000010", "mysql-bin.000100", NULL };
    guint n = g_strv_length((char **)names);
    for (guint a = 0; a < n; a++) {
        g_assert_cmpint(bl_binlog_name_cmp(names[a], names[a]), ==, 0);
        for (guint b = 0; b < n; b++) {
            int ab = sgn(bl_binlog_name_cmp(names[a], names[b]));
            g_assert_cmpint(ab, ==, -sgn(bl_binlog_name_cmp(names[b], names[a])));
            if (a != b)
                g_assert_cmpint(ab, !=, 0);
            for (guint c = 0; c < n; c++) {
                int bc = sgn(bl_binlog_name_cmp(names[b], names[c]));
                if (ab < 0 && bc < 0 && bl_binlog_name_cmp(names[a], names[c]) >= 0)
                    g_error("not transitive: %s < %s < %s", names[a], names[b], names[c]);
            }
        }
    }
}

/* ---- GTID sets --------------------------------------------------------- */

static BlGtidSet *set_ok(const char *text)
{
    GError *error = NULL;
    BlGtidSet *set = bl_gtid_set_parse(text, &error);
    if (!set)
        g_error("'%s' should parse: %s", text, error->message);
    g_assert_no_error(error);
    return set;
}

static void set_bad(const char *text, const char *part)
{
    GError *error = NULL;
    BlGtidSet *set = bl_gtid_set_parse(text, &error);
    if (set)
        g_error("GTID set '%s' should be refused", text);
    g_assert_error(error, BL_ERROR, BL_ERROR_INVALID);
    g_assert_null(strchr(error->message, '\n'));
    if (part && !strstr(error->message, part))
        g_error("'%s': message \"%s\" lacks \"%s\"", text, error->message, part);
    g_error_free(error);
}

static gboolean has_maria(const BlGtidSet *set, guint32 d, guint32 s, guint64 n)
{
    BlGtid g;
    memset(&g, 0, sizeof g);
    g.kind = BL_GTID_MARIADB;
    g.domain_id = d;
    g.server_id = s;
    g.seq_no = n;
    return bl_gtid_set_contains(set, &g);
}

static gboolean has_mysql(const BlGtidSet *set, const guint8 *uuid, const char *tag, gint64 gno)
{
    BlGtid g;
    memset(&g, 0, sizeof g);
    g.kind = BL_GTID_MYSQL;
    memcpy(g.uuid, uuid, 16);
    g_strlcpy(g.tag, tag, sizeof g.tag);
    g.gno = gno;
    return bl_gtid_set_contains(set, &g);
}

static void test_set_mariadb(void)
{
    g_autoptr(BlGtidSet) set = set_ok("0-1-5, 0-1-10-20,\n 1-2-3\n");
    g_assert_true(has_maria(set, 0, 1, 5));
    g_assert_false(has_maria(set, 0, 1, 4));
    g_assert_false(has_maria(set, 0, 1, 6));
    g_assert_false(has_maria(set, 0, 1, 9));
    g_assert_true(has_maria(set, 0, 1, 10));
    g_assert_true(has_maria(set, 0, 1, 15));
    g_assert_true(has_maria(set, 0, 1, 20));
    g_assert_false(has_maria(set, 0, 1, 21));
    g_assert_false(has_maria(set, 0, 2, 5)); /* other server */
    g_assert_false(has_maria(set, 1, 1, 5)); /* other domain */
    g_assert_true(has_maria(set, 1, 2, 3));
    g_assert_false(has_maria(set, 1, 2, 2));
    g_assert_false(has_maria(set, 1, 2, 4));
    BlGtid none = { 0 };
    g_assert_false(bl_gtid_set_contains(set, &none));
    g_assert_false(bl_gtid_set_contains(NULL, &none));

    /* Overlapping and adjacent ranges merge; extremes. */
    g_autoptr(BlGtidSet) m = set_ok("0-1-1-5,0-1-3-4,0-1-6-10,"
                                    "0-1-18446744073709551614-18446744073709551615,"
                                    "0-1-12,0-1-0");
    for (guint64 i = 0; i <= 10; i++)
        g_assert_true(has_maria(m, 0, 1, i));
    g_assert_false(has_maria(m, 0, 1, 11));
    g_assert_true(has_maria(m, 0, 1, 12));
    g_assert_false(has_maria(m, 0, 1, 13));
    g_assert_false(has_maria(m, 0, 1, G_MAXUINT64 - 2));
    g_assert_true(has_maria(m, 0, 1, G_MAXUINT64 - 1));
    g_assert_true(has_maria(m, 0, 1, G_MAXUINT64));

    g_autoptr(BlGtidSet) e = set_ok(" \n");
    g_assert_false(has_maria(e, 0, 1, 1));
    g_autoptr(BlGtidSet) e2 = set_ok(NULL);
    g_assert_false(has_maria(e2, 0, 1, 1));

    set_bad("0-1-20-10", "ends before it starts");
    set_bad("0-1", "D-S-N");
    set_bad("0-1-2-3-4", "D-S-N");
    set_bad("0-1-x", "not a decimal number");
    set_bad("0-1-5-x", "range end");
    set_bad("4294967296-1-5", "out of range");
    set_bad("0-1-5,,0-1-6", "empty");
    set_bad("0-1-5,", "empty");
    set_bad(",0-1-5", "empty");
    set_bad("x", "neither");
    set_bad("0-1-\n5", "'\\n5'");
}

static void test_set_mysql(void)
{
    static const guint8 uuid_b[16] = { 0xfe, 0xed, 0xfa, 0xce, 0, 0, 0x40, 0,
                                       0x80, 0, 0, 0, 0, 0, 0xbe, 0xef };
    g_autoptr(BlGtidSet) set =
        set_ok(UUID_A_UP ":1-5:7:mytag:1-3:10,\n  " UUID_B ":10:Other:2-4\n");
    g_assert_false(has_mysql(set, uuid_a_bytes, "", 0));
    g_assert_true(has_mysql(set, uuid_a_bytes, "", 1));
    g_assert_true(has_mysql(set, uuid_a_bytes, "", 5));
    g_assert_false(has_mysql(set, uuid_a_bytes, "", 6));
    g_assert_true(has_mysql(set, uuid_a_bytes, "", 7));
    g_assert_false(has_mysql(set, uuid_a_bytes, "", 8));
    g_assert_false(has_mysql(set, uuid_a_bytes, "", 10)); /* 10 is tagged */
    g_assert_false(has_mysql(set, uuid_a_bytes, "", -1));
    g_assert_true(has_mysql(set, uuid_a_bytes, "mytag", 1));
    g_assert_true(has_mysql(set, uuid_a_bytes, "mytag", 3));
    g_assert_false(has_mysql(set, uuid_a_bytes, "mytag", 4));
    g_assert_true(has_mysql(set, uuid_a_bytes, "mytag", 10));
    g_assert_true(has_mysql(set, uuid_a_bytes, "MyTag", 10)); /* tags are case-insensitive */
    g_assert_false(has_mysql(set, uuid_a_bytes, "other", 3));
    g_assert_true(has_mysql(set, uuid_b, "", 10));
    g_assert_false(has_mysql(set, uuid_b, "", 9));
    g_assert_false(has_mysql(set, uuid_b, "", 11));
    g_assert_true(has_mysql(set, uuid_b, "other", 2));
    g_assert_true(has_mysql(set, uuid_b, "other", 4));
    g_assert_false(has_mysql(set, uuid_b, "other", 1));
    g_assert_false(has_mysql(set, uuid_b, "other", 5));
    g_assert_false(has_maria(set, 0, 1, 5));

    g_autoptr(BlGtidSet) big = set_ok(UUID_A ":9223372036854775806-9223372036854775807");
    g_assert_true(has_mysql(big, uuid_a_bytes, "", G_MAXINT64));
    g_assert_false(has_mysql(big, uuid_a_bytes, "", G_MAXINT64 - 2));

    /* MariaDB and MySQL entries may share a set. */
    g_autoptr(BlGtidSet) mixed = set_ok("0-1-5," UUID_A ":5");
    g_assert_true(has_maria(mixed, 0, 1, 5));
    g_assert_true(has_mysql(mixed, uuid_a_bytes, "", 5));

    set_bad(UUID_A, "no interval");
    set_bad(UUID_A ":", "empty element");
    set_bad(UUID_A ":1-5:", "empty element");
    set_bad(UUID_A "::1", "empty element");
    set_bad(UUID_A ":tag", "followed by an interval");
    set_bad(UUID_A ":1:tag", "followed by an interval");
    set_bad(UUID_A ":a:b:1", "followed by an interval");
    set_bad(UUID_A ":5-3", "ends before it starts");
    set_bad(UUID_A ":0", "out of range");
    set_bad(UUID_A ":0-5", "out of range");
    set_bad(UUID_A ":1-9223372036854775808", "out of range");
    set_bad(UUID_A ":1-", "not a decimal number");
    set_bad(UUID_A ":1x", "not a decimal number");
    set_bad(UUID_A ":9tag:1", "not a decimal number");
    set_bad(UUID_A ":bad-tag:1", "bad tag");
    set_bad("3e11fa47-71ca-11e1-9e33-c80aa94295zz:1", "bad UUID");
    set_bad("3e11fa47-71ca-11e1-9e33-c80aa942956:1", "bad UUID");
}

/* Thousands of entries: every range edge is checked, inside and out. */
static void test_set_large(void)
{
    GString *maria = g_string_new(NULL);
    GString *mysql = g_string_new(UUID_A);
    for (guint i = 0; i < 5000; i++) {
        /* server i, seqs 10i+1 .. 10i+5, listed in reverse to test sorting */
        guint s = 4999 - i;
        g_string_append_printf(maria, "%s7-%u-%u-%u", i ? ",\n" : "", s, 10 * s + 1, 10 * s + 5);
        /* gnos 3k+1 .. 3k+2 for k < 5000, the third gno of each left out */
        g_string_append_printf(mysql, ":%u-%u", 3 * i + 1, 3 * i + 2);
    }
    g_autoptr(BlGtidSet) m = set_ok(maria->str);
    g_autoptr(BlGtidSet) y = set_ok(mysql->str);
    for (guint s = 0; s < 5000; s++) {
        g_assert_false(has_maria(m, 7, s, 10 * s));
        g_assert_true(has_maria(m, 7, s, 10 * s + 1));
        g_assert_true(has_maria(m, 7, s, 10 * s + 5));
        g_assert_false(has_maria(m, 7, s, 10 * s + 6));
        g_assert_false(has_maria(m, 6, s, 10 * s + 1));
    }
    g_assert_false(has_mysql(y, uuid_a_bytes, "", 0));
    for (guint k = 0; k < 5000; k++) {
        g_assert_true(has_mysql(y, uuid_a_bytes, "", 3 * k + 1));
        g_assert_true(has_mysql(y, uuid_a_bytes, "", 3 * k + 2));
        g_assert_false(has_mysql(y, uuid_a_bytes, "", 3 * k + 3));
    }
    /* A million lookups must be quick (a linear scan would not be). */
    gint64 t0 = g_get_monotonic_time();
    guint hits = 0, want = 0;
    for (guint i = 0; i < 1000000; i++) {
        hits += has_mysql(y, uuid_a_bytes, "", i % 15000 + 1);
        want += (i % 15000 + 1) % 3 != 0;
    }
    g_assert_cmpuint(hits, ==, want);
    g_test_message("1e6 lookups in %" G_GINT64_FORMAT " ms", (g_get_monotonic_time() - t0) / 1000);
    g_string_free(maria, TRUE);
    g_string_free(mysql, TRUE);
}

/* ---- --rewrite-db ------------------------------------------------------ */

static void test_rewrite(void)
{
    BlRewrite r = { 0 };
    GError *error = NULL;
    g_assert_true(bl_rewrite_parse("sales->sales_restore\n", &r, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(r.from, ==, "sales");
    g_assert_cmpstr(r.to, ==, "sales_restore");
    bl_rewrite_clear(&r);
    g_assert_null(r.from);
    g_assert_null(r.to);
    bl_rewrite_clear(&r);

    g_assert_true(bl_rewrite_parse("a b -> c$d", &r, &error));
    g_assert_cmpstr(r.from, ==, "a b");
    g_assert_cmpstr(r.to, ==, "c$d");
    bl_rewrite_clear(&r);

    g_autofree char *n64 = g_strnfill(64, 'd');
    g_autofree char *ok64 = g_strconcat(n64, "->", n64, NULL);
    g_assert_true(bl_rewrite_parse(ok64, &r, &error));
    bl_rewrite_clear(&r);
    GString *u = g_string_new(NULL); /* 64 characters, 128 bytes */
    for (int i = 0; i < 64; i++)
        g_string_append(u, "é");
    g_string_append(u, "->x");
    g_assert_true(bl_rewrite_parse(u->str, &r, &error));
    bl_rewrite_clear(&r);
    g_string_free(u, TRUE);

    g_autofree char *bad65 = g_strconcat(n64, "d->x", NULL);
    const char *bad[] = { "", "a", "a-b", "->b", "a->", " -> ", "a->b->c", "`a`->b", "a->`b`",
                          "a\x01->b", "a->\xff", bad65, NULL };
    for (int i = 0; bad[i]; i++) {
        r.from = r.to = (char *)"junk";
        if (bl_rewrite_parse(bad[i], &r, &error))
            g_error("--rewrite-db '%s' should be refused", bad[i]);
        g_assert_error(error, BL_ERROR, BL_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "is not a valid --rewrite-db"));
        g_assert_null(r.from);
        g_assert_null(r.to);
        g_clear_error(&error);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/spec/empty", test_empty);
    g_test_add_func("/spec/position", test_position);
    g_test_add_func("/spec/datetime-forms", test_datetime_forms);
    g_test_add_func("/spec/datetime-invalid", test_datetime_invalid);
    g_test_add_func("/spec/timezones", test_timezones);
    g_test_add_func("/spec/gtid-mariadb", test_gtid_mariadb);
    g_test_add_func("/spec/gtid-mysql", test_gtid_mysql);
    g_test_add_func("/spec/backup-info", test_backup_info);
    g_test_add_func("/spec/messages", test_messages);
    g_test_add_func("/spec/compare-position", test_compare_position);
    g_test_add_func("/spec/compare-time", test_compare_time);
    g_test_add_func("/spec/compare-gtid", test_compare_gtid);
    g_test_add_func("/spec/name-order", test_name_order);
    g_test_add_func("/spec/gtid-set-mariadb", test_set_mariadb);
    g_test_add_func("/spec/gtid-set-mysql", test_set_mysql);
    g_test_add_func("/spec/gtid-set-large", test_set_large);
    g_test_add_func("/spec/rewrite-db", test_rewrite);
    return g_test_run();
}
