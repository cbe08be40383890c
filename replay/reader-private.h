/* binlogfs — the reader's state, shared by reader.c, uncompress.c and
 * payload.c only. */
#ifndef BINLOGFS_READER_PRIVATE_H
#define BINLOGFS_READER_PRIVATE_H

#include <binlogfs/reader.h>

typedef struct BlPayloadState BlPayloadState;

struct BlReader {
    int fd;
    char *name;
    gboolean verify;
    gboolean failed;
    char *error_message;
    guint64 file_size;
    BlFormat fmt;
    BlFormat inner_fmt;
    gboolean fde_done;

    guint8 *buf;     /* file bytes from offset `base` */
    gsize cap, start, end;
    guint64 base;
    gboolean eof;
    gsize peak;
    guint64 pos;     /* end of the last outer event yielded */

    guint8 *plain;   /* a decompressed MariaDB event, rebuilt */
    gsize plain_cap;

    BlPayloadState *payload; /* non-NULL while inside a Transaction_payload */
    BlEvent ev;
};

/* uncompress.c: replaces e's data with the plain event. */
gboolean bl_uncompress_mariadb(BlReader *r, BlEvent *e, GError **error);

/* payload.c */
gboolean bl_payload_begin(BlReader *r, const BlEvent *outer, GError **error);
gboolean bl_payload_active(const BlReader *r);
/* Returns FALSE with error unset when the payload is exhausted. */
gboolean bl_payload_next(BlReader *r, const BlEvent **ev, GError **error);
void bl_payload_reset(BlReader *r);
gsize bl_payload_peak(const BlReader *r);

#endif
