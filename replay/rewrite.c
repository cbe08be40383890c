/* binlogfs — --rewrite-db=FROM->TO, parsed from what the user typed.
 *
 * Invariant: the parser reads only its NUL-terminated input; it fills the
 * result and returns TRUE, or leaves it empty and sets BL_ERROR_INVALID.
 */
#include <string.h>

#include <binlogfs/error.h>
#include <binlogfs/spec.h>

#include "spec-private.h"

static const char *db_name_problem(const char *s)
{
    if (*s == '\0')
        return "a database name is empty";
    if (!g_utf8_validate(s, -1, NULL))
        return "a database name is not valid UTF-8";
    if (g_utf8_strlen(s, -1) > 64)
        return "a database name is longer than 64 characters";
    for (const guchar *p = (const guchar *)s; *p; p++) {
        if (*p == '`')
            return "a database name contains a backquote (write names without quoting)";
        if (*p < 0x20 || *p == 0x7f)
            return "a database name contains a control character";
    }
    return NULL;
}

gboolean bl_rewrite_parse(const char *text, BlRewrite *out, GError **error)
{
    out->from = out->to = NULL;
    g_autofree char *t = g_strstrip(g_strdup(text ? text : ""));
    const char *arrow = strstr(t, "->");
    if (!arrow || strstr(arrow + 2, "->"))
        return bl_spec_invalid(error, "--rewrite-db", t, "expected FROM->TO with one '->'");
    g_autofree char *from = g_strstrip(g_strndup(t, (gsize)(arrow - t)));
    g_autofree char *to = g_strstrip(g_strdup(arrow + 2));
    const char *problem = db_name_problem(from);
    if (!problem)
        problem = db_name_problem(to);
    if (problem)
        return bl_spec_invalid(error, "--rewrite-db", t, "%s (FROM->TO, names of 1 to 64 characters)",
                               problem);
    out->from = g_steal_pointer(&from);
    out->to = g_steal_pointer(&to);
    return TRUE;
}

void bl_rewrite_clear(BlRewrite *r)
{
    if (!r)
        return;
    g_clear_pointer(&r->from, g_free);
    g_clear_pointer(&r->to, g_free);
}
