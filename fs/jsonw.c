/* binlogfs — minimal JSON writer (see jsonw.h). */
#include <math.h>
#include <string.h>

#include "jsonw.h"

void jw_str(GString *out, const char *s, gssize len)
{
    if (len < 0)
        len = (gssize)strlen(s);
    const char *end = s + len;
    g_string_append_c(out, '"');
    while (s < end) {
        guchar c = (guchar)*s;
        if (c == '"' || c == '\\') {
            g_string_append_c(out, '\\');
            g_string_append_c(out, (char)c);
            s++;
        } else if (c == '\n') {
            g_string_append(out, "\\n");
            s++;
        } else if (c == '\t') {
            g_string_append(out, "\\t");
            s++;
        } else if (c == '\r') {
            g_string_append(out, "\\r");
            s++;
        } else if (c < 0x20) {
            g_string_append_printf(out, "\\u%04x", c);
            s++;
        } else if (c < 0x80) {
            g_string_append_c(out, (char)c);
            s++;
        } else {
            const char *next = NULL;
            gunichar u = g_utf8_get_char_validated(s, end - s);
            if (u == (gunichar)-1 || u == (gunichar)-2) {
                g_string_append_printf(out, "\\u%04x", c);
                s++;
            } else {
                next = g_utf8_next_char(s);
                g_string_append_len(out, s, next - s);
                s = next;
            }
        }
    }
    g_string_append_c(out, '"');
}

void jw_key(GString *out, const char *key, gboolean first)
{
    if (!first)
        g_string_append_c(out, ',');
    jw_str(out, key, -1);
    g_string_append_c(out, ':');
}

void jw_kstr(GString *out, const char *key, const char *s, gssize len)
{
    jw_key(out, key, FALSE);
    jw_str(out, s, len);
}

void jw_kuint(GString *out, const char *key, guint64 v)
{
    jw_key(out, key, FALSE);
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, v);
}

void jw_kint(GString *out, const char *key, gint64 v)
{
    jw_key(out, key, FALSE);
    g_string_append_printf(out, "%" G_GINT64_FORMAT, v);
}

void jw_kdouble(GString *out, const char *key, double v)
{
    jw_key(out, key, FALSE);
    if (isfinite(v))
        g_string_append_printf(out, "%.3f", v);
    else
        g_string_append(out, "null");
}

void jw_kbool(GString *out, const char *key, gboolean v)
{
    jw_key(out, key, FALSE);
    g_string_append(out, v ? "true" : "false");
}
