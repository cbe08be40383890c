/* binlogfs — one error domain for the whole engine.
 *
 * Every engine function that can fail takes `GError **error` last and sets
 * it in BL_ERROR with one of the codes below. Messages name the file and
 * byte offset ("mysql-bin.000003:4711: ...") where there is one.
 */
#ifndef BINLOGFS_ERROR_H
#define BINLOGFS_ERROR_H

#include <glib.h>

G_BEGIN_DECLS

#define BL_ERROR (bl_error_quark())
GQuark bl_error_quark(void);

typedef enum {
    BL_ERROR_IO,          /* open/read/write failed (errno in the message) */
    BL_ERROR_NOT_BINLOG,  /* no binlog magic, not format v4 */
    BL_ERROR_TRUNCATED,   /* the file ends inside an event */
    BL_ERROR_CHECKSUM,    /* CRC32 of an event does not match */
    BL_ERROR_CORRUPT,     /* an event's fields are inconsistent */
    BL_ERROR_UNSUPPORTED, /* valid binlog, but a feature binlogfs refuses */
    BL_ERROR_ENCRYPTED,   /* MariaDB encrypted binlog */
    BL_ERROR_INVALID,     /* a bad argument or SPEC from the user */
    BL_ERROR_SERVER,      /* the target server answered with an error */
    BL_ERROR_CANCELLED,   /* stopped on request */
} BlError;

G_END_DECLS

#endif
