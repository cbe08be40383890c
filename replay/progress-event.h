/* binlogfs — the progress row update as binlog row events (see
 * progress-event.c). */
#ifndef BINLOGFS_PROGRESS_EVENT_H
#define BINLOGFS_PROGRESS_EVENT_H

#include <glib.h>

#include <binlogfs/binlog.h>

/* What the progress table must look like for its update to travel as row
 * events: binlogfs's own columns, in its order, with these maximum
 * lengths in bytes of the VARCHAR columns (they depend on the table's
 * character set). */
typedef struct {
    gboolean usable;
    guint16 file_len, gtid_len, wm_file_len;
    /* the server's NOW() minus UTC_TIMESTAMP() when the layout was read:
     * `updated` is written in the server's time zone, as NOW(6) would */
    gint32 utc_offset_s;
} BlProgressLayout;

/* One worker's progress update. */
typedef struct {
    guint16 worker;
    const char *file;
    guint64 pos;
    const char *gtid;
    const char *wm_file;
    guint64 wm_pos;
    gint64 updated_us; /* the DATETIME to store, as microseconds since
                          1970-01-01 00:00:00 of that same calendar (no
                          zone applied: the caller adds utc_offset_s) */
} BlProgressRow;

/* Appends to `out` a Table_map event of db.table and an Update_rows (v1)
 * event setting every column of the row's worker (the before image holds
 * the primary key only), encoded for format `fmt` (header, table id width,
 * checksum). FALSE, with nothing appended, when the layout is not usable,
 * the format cannot carry them, or a value does not fit its column. */
gboolean bl_progress_events(GByteArray *out, const BlProgressLayout *lay, const BlFormat *fmt,
                            guint32 server_id, guint32 timestamp, guint32 log_pos, const char *db,
                            const char *table, const BlProgressRow *row);

#endif
