/* binlogfs — what spec.c shares with gtidset.c and rewrite.c: the
 * lexers of SPEC parts and the one form of a parse error. Private to the
 * engine.
 */
#ifndef BINLOGFS_SPEC_PRIVATE_H
#define BINLOGFS_SPEC_PRIVATE_H

#include <glib.h>

#include <binlogfs/event.h>

#define BL_SPEC_TAG_MAX 32
#define BL_SPEC_TAG_FORM "expected a letter or '_' then up to 31 letters, digits or '_'"

/* Sets BL_ERROR_INVALID "'TEXT' is not a valid WHAT: FMT..." (TEXT quoted
 * as one printable line, cut after 120 bytes) and returns FALSE. */
G_GNUC_PRINTF(4, 5)
gboolean bl_spec_invalid(GError **error, const char *what, const char *text, const char *fmt, ...);

/* s[0..n) as decimal digits only / as a 64-bit decimal number. */
gboolean bl_spec_all_digits(const char *s, gsize n);
gboolean bl_spec_digits_u64(const char *s, gsize n, guint64 *out);

/* A UUID of 8-4-4-4-12 hexadecimal digits; a MySQL 8.4 GTID tag. */
gboolean bl_spec_parse_uuid(const char *s, gsize n, guint8 uuid[16]);
gboolean bl_spec_parse_tag(const char *s, gsize n, char tag[BL_SPEC_TAG_MAX + 1]);

/* s[0..n) is meant as a UUID (so validated as one, not taken for a file
 * name): the 8-4-4-4-12 layout, or 32 or more hex digits and dashes. */
gboolean bl_spec_uuid_like(const char *s, gsize n);

/* MariaDB D-S-N from its '-'-split parts into g; a MySQL GNO (1 to
 * 2^63-1). Errors name WHAT and quote TEXT. */
gboolean bl_spec_mariadb_parts(const char *text, const char *what, char **parts, BlGtid *g,
                               GError **error);
gboolean bl_spec_parse_gno(const char *text, const char *what, const char *s, gsize n, guint64 *out,
                           GError **error);

#endif
