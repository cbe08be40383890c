/* binlogfs — column type facts shared by tablemap.c, rows.c and keys.c.
 *
 * All of them read only the BlColumn (type, real_type, meta, max_len) as
 * bl_table_map_decode fills it; none reads row bytes.
 */
#ifndef BINLOGFS_ROWS_PRIVATE_H
#define BINLOGFS_ROWS_PRIVATE_H

#include <binlogfs/rows.h>

G_BEGIN_DECLS

/* Stored size of a non-NULL value when every value of the column has the
 * same size; 0 when the size depends on the value (or the type is unknown). */
guint32 bl_column_fixed_size(const BlColumn *c);

/* Bytes of the length prefix in front of the data of a string-like value
 * (CHAR, VARCHAR, BLOB/TEXT, GEOMETRY, JSON, VECTOR); 0 for other types. */
guint bl_column_length_bytes(const BlColumn *c);

/* Can bl_value_size size values of this column? */
gboolean bl_column_type_known(const BlColumn *c);

/* "VARCHAR", "NEWDECIMAL", ... for messages; "type 77" style for unknown
 * codes is left to the caller (returns NULL). Static string. */
const char *bl_column_type_name(guint8 real_type);

G_END_DECLS

#endif
