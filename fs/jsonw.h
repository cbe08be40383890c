/* binlogfs — a minimal JSON writer into a GString, for output that must be
 * produced fast and line by line (inspect --json). Strings are escaped to
 * valid JSON; bytes that are not valid UTF-8 become \u00XX. */
#ifndef BINLOGFS_JSONW_H
#define BINLOGFS_JSONW_H

#include <glib.h>

/* Appends "s" (quoted, escaped); len -1 = NUL-terminated. */
void jw_str(GString *out, const char *s, gssize len);
/* Appends ,"key": (the comma when `first` is FALSE). */
void jw_key(GString *out, const char *key, gboolean first);
void jw_kstr(GString *out, const char *key, const char *s, gssize len);
void jw_kuint(GString *out, const char *key, guint64 v);
void jw_kint(GString *out, const char *key, gint64 v);
void jw_kdouble(GString *out, const char *key, double v);
void jw_kbool(GString *out, const char *key, gboolean v);

#endif
