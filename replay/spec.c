/* binlogfs — SPECs (start/stop points) and binlog name order, parsed from
 * what the user typed or wrote to a control file; the lexers and messages
 * shared with GTID sets (gtidset.c) and --rewrite-db (rewrite.c).
 *
 * DESIGN: the shape of a trimmed SPEC decides its kind before any value is
 * checked (date, then UUID prefix, then whitespace = backup info, then
 * D-S-N, then FILE:POS), so an out-of-range value is reported against the
 * form the user meant.
 * Invariant: parsers read only their NUL-terminated input and never abort
 * on it; they either fill the result and return TRUE, or leave it empty and
 * set BL_ERROR_INVALID with a one-line message quoting the input.
 */
#include <stdarg.h>
#include <string.h>

#include <binlogfs/error.h>
#include <binlogfs/spec.h>

#include "spec-private.h"

#define UUID_LEN 36
#define GNO_MAX ((guint64)G_MAXINT64)
#define QUOTE_MAX 120

/* ---- messages ---------------------------------------------------------- */

/* The input as one printable line: control characters and invalid UTF-8
 * escaped, cut (at a character boundary) after QUOTE_MAX bytes. */
static char *quote_input(const char *s)
{
    GString *q = g_string_new(NULL);
    gboolean utf8 = g_utf8_validate(s, -1, NULL);
    for (const guchar *p = (const guchar *)s; *p; p++) {
        if (q->len >= QUOTE_MAX && (!utf8 || (*p & 0xc0) != 0x80)) {
            g_string_append(q, "...");
            break;
        }
        if (*p == '\n')
            g_string_append(q, "\\n");
        else if (*p == '\t')
            g_string_append(q, "\\t");
        else if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8))
            g_string_append_printf(q, "\\x%02x", *p);
        else
            g_string_append_c(q, (char)*p);
    }
    return g_string_free(q, FALSE);
}

/* Sets "'<text>' is not a valid <what>: <reason>" and returns FALSE. */
gboolean bl_spec_invalid(GError **error, const char *what, const char *text, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *q = quote_input(text);
    g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "'%s' is not a valid %s: %s", q, what, reason);
    return FALSE;
}

#define EXPECTED_FORMS "expected FILE:POS, YYYY-MM-DD HH:MM:SS, a GTID (D-S-N or UUID:N)"

static gboolean generic(GError **error, const char *text, gboolean allow_backup_info)
{
    return bl_spec_invalid(error, "SPEC", text, "%s%s", EXPECTED_FORMS,
                           allow_backup_info ? ", or a backup's binlog info" : "");
}

/* ---- small lexers ------------------------------------------------------- */

/* n > 0 decimal digits exactly, without overflow. */
gboolean bl_spec_digits_u64(const char *s, gsize n, guint64 *out)
{
    guint64 v = 0;
    if (n == 0)
        return FALSE;
    for (gsize i = 0; i < n; i++) {
        if (!g_ascii_isdigit(s[i]))
            return FALSE;
        guint d = (guint)(s[i] - '0');
        if (v > (G_MAXUINT64 - d) / 10)
            return FALSE;
        v = v * 10 + d;
    }
    *out = v;
    return TRUE;
}

gboolean bl_spec_all_digits(const char *s, gsize n)
{
    if (n == 0)
        return FALSE;
    for (gsize i = 0; i < n; i++)
        if (!g_ascii_isdigit(s[i]))
            return FALSE;
    return TRUE;
}

static gsize count_digits(const char *s)
{
    gsize n = 0;
    while (g_ascii_isdigit(s[n]))
        n++;
    return n;
}

static gboolean uuid_dash_at(gsize i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

/* Strictly 8-4-4-4-12 hex digits, either case. */
gboolean bl_spec_parse_uuid(const char *s, gsize n, guint8 uuid[16])
{
    int k = 0;
    if (n != UUID_LEN)
        return FALSE;
    for (gsize i = 0; i < n; i++) {
        if (uuid_dash_at(i) != (s[i] == '-'))
            return FALSE;
        if (uuid_dash_at(i))
            continue;
        if (!g_ascii_isxdigit(s[i]))
            return FALSE;
        int v = g_ascii_xdigit_value(s[i]);
        if (k % 2 == 0)
            uuid[k / 2] = (guint8)(v << 4);
        else
            uuid[k / 2] |= (guint8)v;
        k++;
    }
    return k == 32;
}

/* A first segment (before ':') meant as a UUID, so validated as one rather
 * than taken for a file name: 36 characters with the dashes of 8-4-4-4-12,
 * or 32 or more hex digits and dashes. */
gboolean bl_spec_uuid_like(const char *s, gsize n)
{
    gboolean layout = n == UUID_LEN, hex = n >= 32, dash = FALSE;
    for (gsize i = 0; i < n; i++) {
        if (s[i] == '-')
            dash = TRUE;
        else if (!g_ascii_isxdigit(s[i]))
            hex = FALSE;
        if (layout && uuid_dash_at(i) != (s[i] == '-'))
            layout = FALSE;
    }
    return layout || (hex && dash);
}

/* [a-z_][a-z0-9_]{0,31}, case-insensitive; stored lower-case. */
gboolean bl_spec_parse_tag(const char *s, gsize n, char tag[BL_SPEC_TAG_MAX + 1])
{
    if (n == 0 || n > BL_SPEC_TAG_MAX || !(g_ascii_isalpha(s[0]) || s[0] == '_'))
        return FALSE;
    for (gsize i = 0; i < n; i++) {
        if (!(g_ascii_isalnum(s[i]) || s[i] == '_'))
            return FALSE;
        tag[i] = g_ascii_tolower(s[i]);
    }
    tag[n] = '\0';
    return TRUE;
}

/* A binlog base name: 1..255 bytes, no '/', no whitespace or control
 * characters, not "." or "..". */
static const char *file_name_problem(const char *s, gsize n)
{
    if (n == 0)
        return "the file name is empty";
    if (n > 255)
        return "the file name is longer than 255 bytes";
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return "the file name must be a binlog's base name";
    for (gsize i = 0; i < n; i++) {
        if (s[i] == '/')
            return "the file name must be a base name, without '/'";
        if ((guchar)s[i] <= ' ' || s[i] == 0x7f)
            return "the file name contains a space or control character";
    }
    return NULL;
}

/* ---- datetimes ---------------------------------------------------------- */

static gboolean leap_year(gint64 y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(gint64 y, int m)
{
    static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && leap_year(y) ? 29 : dim[m - 1];
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant). */
static gint64 days_from_civil(gint64 y, int m, int d)
{
    y -= m <= 2;
    gint64 era = (y >= 0 ? y : y - 399) / 400;
    gint64 yoe = y - era * 400;
    gint64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    gint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Date-shaped: YYYY-M+-D+ followed by 'T', ' ' or the end. At the end it
 * is a date only when the month or day has a leading zero, which no GTID
 * is printed with ("2014-01-17" is a date lacking its time, "2014-1-17" a
 * MariaDB GTID). */
static gboolean date_shaped(const char *s)
{
    if (count_digits(s) != 4 || s[4] != '-')
        return FALSE;
    const char *m = s + 5;
    gsize nm = count_digits(m);
    if (nm == 0 || m[nm] != '-')
        return FALSE;
    const char *d = m + nm + 1;
    gsize nd = count_digits(d);
    if (nd == 0)
        return FALSE;
    char c = d[nd];
    if (c == 'T' || c == 't' || c == ' ')
        return TRUE;
    return c == '\0' && ((nm > 1 && m[0] == '0') || (nd > 1 && d[0] == '0'));
}

static gboolean two_digits(const char *p, int *out)
{
    if (!g_ascii_isdigit(p[0]) || !g_ascii_isdigit(p[1]))
        return FALSE;
    *out = (p[0] - '0') * 10 + (p[1] - '0');
    return TRUE;
}

static gint32 offset_at(GTimeZone *tz, gint64 utc)
{
    return g_time_zone_get_offset(tz, g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, utc));
}

static void format_offset(char *buf, gsize len, gint32 off)
{
    gint32 a = off < 0 ? -off : off;
    g_snprintf(buf, len, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
}

/* Local wall-clock seconds (counted as if UTC) to the UTC instant, through
 * the process's local time zone. A time skipped or repeated by a
 * daylight-saving change is refused: the user must say which is meant. */
static gboolean local_to_utc(const char *text, gint64 wall, gint64 *utc, GError **error)
{
    GTimeZone *tz = g_time_zone_new_local();
    gint64 found[8];
    gint32 found_off[8];
    int n_found = 0;
    /* Every offset in force within two days either side; DST shifts are
     * at most a few hours, so the instant, if any, uses one of them. */
    for (gint64 probe = wall - 2 * 86400; probe <= wall + 2 * 86400; probe += 6 * 3600) {
        gint32 off = offset_at(tz, probe);
        gint64 u = wall - off;
        if (offset_at(tz, u) != off)
            continue;
        gboolean dup = FALSE;
        for (int i = 0; i < n_found; i++)
            dup |= found[i] == u;
        if (!dup && n_found < 8) {
            found_off[n_found] = off;
            found[n_found++] = u;
        }
    }
    const char *zone = g_time_zone_get_identifier(tz);
    gboolean ok = TRUE;
    char a[16], b[16];
    if (n_found == 0) {
        format_offset(a, sizeof a, offset_at(tz, wall - 2 * 86400));
        format_offset(b, sizeof b, offset_at(tz, wall + 2 * 86400));
        ok = bl_spec_invalid(error, "SPEC", text,
                             "this time does not exist in the local time zone (%s), skipped at a "
                             "daylight-saving change; add the offset meant (%s or %s)",
                             zone, a, b);
    } else if (n_found > 1) {
        format_offset(a, sizeof a, found_off[0]);
        format_offset(b, sizeof b, found_off[1]);
        ok = bl_spec_invalid(error, "SPEC", text,
                             "this time occurs twice in the local time zone (%s), at a daylight-saving "
                             "change; add the offset meant (%s or %s)",
                             zone, a, b);
    } else {
        *utc = found[0];
    }
    g_time_zone_unref(tz);
    return ok;
}

static gboolean parse_time(const char *text, BlSpec *out, GError **error)
{
    const char *p = text;
    int mon, day, hour, min, sec;
    gint64 year = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    p += 5;
    if (count_digits(p) != 2 || p[2] != '-' || !two_digits(p, &mon))
        return bl_spec_invalid(error, "SPEC", text, "the month must have two digits (YYYY-MM-DD HH:MM:SS)");
    p += 3;
    if (count_digits(p) != 2 || !two_digits(p, &day))
        return bl_spec_invalid(error, "SPEC", text, "the day must have two digits (YYYY-MM-DD HH:MM:SS)");
    p += 2;
    if (year == 0)
        return bl_spec_invalid(error, "SPEC", text, "year 0000 out of range (0001..9999)");
    if (mon < 1 || mon > 12)
        return bl_spec_invalid(error, "SPEC", text, "month %02d out of range (01..12)", mon);
    if (day < 1 || day > days_in_month(year, mon))
        return bl_spec_invalid(error, "SPEC", text,
                               "day %02d out of range for %04" G_GINT64_FORMAT "-%02d (01..%02d)", day,
                               year, mon, days_in_month(year, mon));
    if (*p == '\0' || p[1] == '\0')
        return bl_spec_invalid(error, "SPEC", text, "the time is missing (YYYY-MM-DD HH:MM:SS)");
    p++; /* 'T', 't' or ' ' */
    if (count_digits(p) != 2 || p[2] != ':' || count_digits(p + 3) != 2 || p[5] != ':'
        || count_digits(p + 6) != 2)
        return bl_spec_invalid(error, "SPEC", text, "expected the time as HH:MM:SS after the date");
    two_digits(p, &hour);
    two_digits(p + 3, &min);
    two_digits(p + 6, &sec);
    p += 8;
    if (hour > 23)
        return bl_spec_invalid(error, "SPEC", text, "hour %02d out of range (00..23)", hour);
    if (min > 59)
        return bl_spec_invalid(error, "SPEC", text, "minute %02d out of range (00..59)", min);
    if (sec > 59)
        return bl_spec_invalid(error, "SPEC", text, "second %02d out of range (00..59)", sec);
    gint64 frac_us = 0;
    if (*p == '.') {
        gsize nf = count_digits(++p);
        if (nf < 1 || nf > 6)
            return bl_spec_invalid(error, "SPEC", text, "fractional seconds must have 1 to 6 digits");
        for (gsize i = 0; i < 6; i++)
            frac_us = frac_us * 10 + (i < nf ? p[i] - '0' : 0);
        p += nf;
    }
    gint64 wall = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
    gint64 utc = 0;
    if (*p == 'Z' || *p == 'z') {
        utc = wall;
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (count_digits(p + 1) != 2 || p[3] != ':' || count_digits(p + 4) != 2
            || !two_digits(p + 1, &oh) || !two_digits(p + 4, &om))
            return bl_spec_invalid(error, "SPEC", text, "the time zone must be Z, +hh:mm or -hh:mm");
        if (oh > 23 || om > 59)
            return bl_spec_invalid(error, "SPEC", text, "time zone offset %.6s out of range", p);
        gint64 off = (gint64)oh * 3600 + om * 60;
        utc = *p == '+' ? wall - off : wall + off;
        p += 6;
    } else {
        if (*p != '\0') {
            g_autofree char *q = quote_input(p);
            return bl_spec_invalid(error, "SPEC", text,
                                   "unexpected '%s' after the time (expected .ffffff, Z, +hh:mm or -hh:mm)",
                                   q);
        }
        if (!local_to_utc(text, wall, &utc, error))
            return FALSE;
    }
    if (*p != '\0') {
        g_autofree char *q = quote_input(p);
        return bl_spec_invalid(error, "SPEC", text, "unexpected '%s' after the time zone", q);
    }
    out->kind = BL_SPEC_TIME;
    out->time_us = utc * G_USEC_PER_SEC + frac_us;
    return TRUE;
}

/* ---- GTIDs ------------------------------------------------------------- */

/* D-S-N in parts[0..2]. */
gboolean bl_spec_mariadb_parts(const char *text, const char *what, char **parts, BlGtid *g,
                               GError **error)
{
    static const char *const names[] = { "domain id", "server id", "sequence number" };
    guint64 v[3];
    for (int i = 0; i < 3; i++) {
        g_autofree char *q = quote_input(parts[i]);
        if (!bl_spec_all_digits(parts[i], strlen(parts[i])))
            return bl_spec_invalid(error, what, text, "the %s '%s' is not a decimal number (D-S-N)",
                                   names[i], q);
        if (!bl_spec_digits_u64(parts[i], strlen(parts[i]), &v[i]) || (i < 2 && v[i] > G_MAXUINT32))
            return bl_spec_invalid(error, what, text, "the %s %s is out of range (0..%s)", names[i], q,
                                   i < 2 ? "4294967295" : "18446744073709551615");
    }
    g->kind = BL_GTID_MARIADB;
    g->domain_id = (guint32)v[0];
    g->server_id = (guint32)v[1];
    g->seq_no = v[2];
    return TRUE;
}

/* A GTID number or interval end: 1..2^63-1. */
gboolean bl_spec_parse_gno(const char *text, const char *what, const char *s, gsize n,
                           guint64 *out, GError **error)
{
    g_autofree char *raw = g_strndup(s, n);
    g_autofree char *tok = quote_input(raw);
    if (!bl_spec_all_digits(s, n))
        return bl_spec_invalid(error, what, text, "the GTID number '%s' is not a decimal number", tok);
    if (!bl_spec_digits_u64(s, n, out) || *out < 1 || *out > GNO_MAX)
        return bl_spec_invalid(error, what, text,
                               "the GTID number %s is out of range (1..%" G_GUINT64_FORMAT ")", tok,
                               GNO_MAX);
    return TRUE;
}

/* UUID:N or UUID:TAG:N; text starts with something uuid_like. */
static gboolean parse_mysql_gtid(const char *text, BlSpec *out, GError **error)
{
    const char *colon = strchr(text, ':');
    BlGtid *g = &out->gtid;
    if (!bl_spec_parse_uuid(text, (gsize)(colon - text), g->uuid))
        return bl_spec_invalid(error, "SPEC", text,
                               "bad UUID: expected 8-4-4-4-12 hexadecimal digits (UUID:N or UUID:TAG:N)");
    const char *rest = colon + 1;
    const char *last = strrchr(rest, ':');
    if (last) {
        if (!bl_spec_parse_tag(rest, (gsize)(last - rest), g->tag))
            return bl_spec_invalid(error, "SPEC", text, "bad tag: %s", BL_SPEC_TAG_FORM);
        rest = last + 1;
    }
    guint64 gno;
    if (!bl_spec_parse_gno(text, "SPEC", rest, strlen(rest), &gno, error))
        return FALSE;
    g->kind = BL_GTID_MYSQL;
    g->gno = (gint64)gno;
    out->kind = BL_SPEC_GTID;
    return TRUE;
}

static gboolean parse_mariadb_gtid(const char *text, BlSpec *out, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text, "-", -1);
    if (g_strv_length(parts) != 3)
        return bl_spec_invalid(error, "SPEC", text,
                               "a MariaDB GTID is three numbers D-S-N "
                               "(domain, server id, sequence number)");
    if (!bl_spec_mariadb_parts(text, "SPEC", parts, &out->gtid, error))
        return FALSE;
    out->kind = BL_SPEC_GTID;
    return TRUE;
}

/* ---- positions --------------------------------------------------------- */

static gboolean set_position(const char *text, const char *file, gsize nfile, const char *pos,
                             gsize npos, BlSpec *out, GError **error)
{
    const char *problem = file_name_problem(file, nfile);
    if (problem)
        return bl_spec_invalid(error, "SPEC", text, "%s (FILE:POS)", problem);
    g_autofree char *ptok = g_strndup(pos, npos);
    if (!bl_spec_all_digits(pos, npos))
        return bl_spec_invalid(error, "SPEC", text, "the position '%s' is not a decimal number (FILE:POS)",
                               ptok);
    if (!bl_spec_digits_u64(pos, npos, &out->pos))
        return bl_spec_invalid(error, "SPEC", text, "the position %s is too large", ptok);
    if (out->pos < 4)
        return bl_spec_invalid(error, "SPEC", text,
                               "position %" G_GUINT64_FORMAT
                               " is below 4, where a binlog's first event starts",
                               out->pos);
    memcpy(out->file, file, nfile);
    out->file[nfile] = '\0';
    out->kind = BL_SPEC_POSITION;
    return TRUE;
}

static gboolean parse_file_pos(const char *text, BlSpec *out, GError **error)
{
    const char *colon = strrchr(text, ':');
    return set_position(text, text, (gsize)(colon - text), colon + 1, strlen(colon + 1), out,
                        error);
}

/* "FILE<TAB or spaces>POS[<TAB>GTID...]" then maybe more lines: the GTID
 * part is not needed and not checked. The file may be written "./name"
 * (xtrabackup_binlog_pos_innodb): its base name is taken. Returns FALSE
 * without an error when the first line does not have that shape. */
static gboolean parse_backup_info(const char *text, BlSpec *out, gboolean *shaped, GError **error)
{
    const char *p = text, *file, *pos;
    gsize nfile, npos;
    *shaped = FALSE;
    file = p;
    while (*p && !g_ascii_isspace(*p))
        p++;
    nfile = (gsize)(p - file);
    if (*p != ' ' && *p != '\t')
        return FALSE;
    while (*p == ' ' || *p == '\t')
        p++;
    pos = p;
    while (*p && !g_ascii_isspace(*p))
        p++;
    npos = (gsize)(p - pos);
    if (!g_ascii_isdigit(pos[0]))
        return FALSE;
    *shaped = TRUE;
    const char *slash = g_strrstr_len(file, (gssize)nfile, "/");
    if (slash) {
        nfile -= (gsize)(slash + 1 - file);
        file = slash + 1;
    }
    return set_position(text, file, nfile, pos, npos, out, error);
}

/* ---- SPEC -------------------------------------------------------------- */

static void copy_display(char *dst, gsize size, const char *src)
{
    gsize n = strlen(src);
    if (n >= size) {
        n = size - 1;
        if (g_utf8_validate(src, -1, NULL))
            while (n > 0 && ((guchar)src[n] & 0xc0) == 0x80)
                n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static gboolean parse_trimmed(const char *t, gboolean allow_backup_info, BlSpec *out,
                              GError **error)
{
    const char *colon = strchr(t, ':');
    if (date_shaped(t))
        return parse_time(t, out, error);
    if (colon && bl_spec_uuid_like(t, (gsize)(colon - t)))
        return parse_mysql_gtid(t, out, error);
    if (strpbrk(t, " \t\r\n\v\f")) {
        gboolean shaped;
        GError *local = NULL;
        if (!parse_backup_info(t, out, &shaped, &local)) {
            if (!shaped)
                return generic(error, t, allow_backup_info);
            g_propagate_error(error, local);
            return FALSE;
        }
        if (allow_backup_info)
            return TRUE;
        g_autofree char *q = quote_input(t);
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                    "'%s' is not a valid SPEC: a backup's binlog info is accepted by start-at "
                    "only; write %s:%" G_GUINT64_FORMAT " instead",
                    q, out->file, out->pos);
        return FALSE;
    }
    if (!colon && g_ascii_isdigit(t[0]) && strspn(t, "0123456789-") == strlen(t))
        return parse_mariadb_gtid(t, out, error);
    if (colon)
        return parse_file_pos(t, out, error);
    if (strchr(t, '.') && !file_name_problem(t, strlen(t)))
        return bl_spec_invalid(error, "SPEC", t, "a file name needs its position: FILE:POS");
    return generic(error, t, allow_backup_info);
}

gboolean bl_spec_parse(const char *text, gboolean allow_backup_info, BlSpec *out, GError **error)
{
    memset(out, 0, sizeof *out);
    g_autofree char *t = g_strstrip(g_strdup(text ? text : ""));
    if (*t == '\0')
        return TRUE;
    BlSpec s;
    memset(&s, 0, sizeof s);
    if (!parse_trimmed(t, allow_backup_info, &s, error))
        return FALSE;
    copy_display(s.text, sizeof s.text, t);
    *out = s;
    return TRUE;
}

static int sign64(gint64 d)
{
    return d < 0 ? -1 : d > 0;
}

static gboolean gtid_equal(const BlGtid *a, const BlGtid *b)
{
    if (a->kind != b->kind)
        return FALSE;
    if (a->kind == BL_GTID_MARIADB)
        return a->domain_id == b->domain_id && a->server_id == b->server_id
            && a->seq_no == b->seq_no;
    if (a->kind == BL_GTID_MYSQL)
        return memcmp(a->uuid, b->uuid, 16) == 0 && a->gno == b->gno
            && g_ascii_strncasecmp(a->tag, b->tag, sizeof a->tag) == 0;
    return FALSE;
}

int bl_spec_compare(const BlSpec *s, const char *file, const BlTrx *t)
{
    switch (s->kind) {
    case BL_SPEC_POSITION: {
        int c = bl_binlog_name_cmp(file ? file : "", s->file);
        if (c != 0)
            return c;
        return t->start_pos < s->pos ? -1 : t->start_pos > s->pos;
    }
    case BL_SPEC_TIME: {
        if (s->time_us < 0)
            return 1;
        guint64 at = (guint64)s->time_us;
        return t->commit_time_us < at ? -1 : t->commit_time_us > at;
    }
    case BL_SPEC_GTID:
        return gtid_equal(&s->gtid, &t->gtid) ? 0 : -1;
    case BL_SPEC_NONE:
    default:
        return 1; /* no point: everything is after it; callers test kind first */
    }
}

/* ---- binlog names ------------------------------------------------------ */

/* Name = base "." digits, or (no such split) the whole name as base. */
static void split_name(const char *s, gsize *nbase, const char **num)
{
    const char *dot = strrchr(s, '.');
    if (dot && bl_spec_all_digits(dot + 1, strlen(dot + 1))) {
        *nbase = (gsize)(dot - s);
        *num = dot + 1;
    } else {
        *nbase = strlen(s);
        *num = NULL;
    }
}

/* A total order: (base, has number, numeric value, text of the number). */
int bl_binlog_name_cmp(const char *a, const char *b)
{
    gsize na, nb;
    const char *xa, *xb;
    split_name(a, &na, &xa);
    split_name(b, &nb, &xb);
    int c = memcmp(a, b, MIN(na, nb));
    if (c != 0 || na != nb)
        return c != 0 ? (c < 0 ? -1 : 1) : (na < nb ? -1 : 1);
    if (!xa || !xb)
        return (xa != NULL) - (xb != NULL);
    const char *ta = xa, *tb = xb;
    while (*ta == '0' && ta[1])
        ta++;
    while (*tb == '0' && tb[1])
        tb++;
    gsize la = strlen(ta), lb = strlen(tb);
    if (la != lb)
        return la < lb ? -1 : 1;
    c = strcmp(ta, tb);
    if (c == 0)
        c = strcmp(xa, xb);
    return sign64(c);
}
