/* binlogfs — event descriptions for inspect --events. */
#ifndef BINLOGFS_DESCRIBE_H
#define BINLOGFS_DESCRIBE_H

#include <binlogfs/reader.h>
#include <binlogfs/rows.h>

/* Appends one line (text, or one JSON object) describing ev. `tables`
 * tracks Table_map events so rows events can name their table. On a
 * decoding error the line is still complete and the error names file:pos. */
gboolean bl_describe_event(GString *out, gboolean json, const BlReader *r, const BlEvent *ev,
                           BlTableCache *tables, GError **error);

#endif
