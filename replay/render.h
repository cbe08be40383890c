/* binlogfs — SQL text for jobs, per connection (see render.c). */
#ifndef BINLOGFS_RENDER_H
#define BINLOGFS_RENDER_H

#include "job.h"

/* The connection's default database, as far as known. */
typedef enum {
    BL_DB_UNKNOWN = 0, /* a new connection (option files may name one), or
                          after a statement that may have dropped it */
    BL_DB_NONE,        /* none: DATABASE() is NULL */
    BL_DB_NAMED,       /* ctx.db */
} BlDbState;

/* What one connection's session has been told so far. */
/* The isolation level a session runs transactions at: row transactions at
 * READ COMMITTED (no gap locks between parallel appliers), everything else
 * at the server's default, as the pipe would. */
typedef enum {
    BL_ISO_UNKNOWN = 0, /* after a (re)connect or reset: set before use */
    BL_ISO_DEFAULT,     /* @@global's */
    BL_ISO_READ_COMMITTED,
} BlIsolation;

typedef struct {
    gboolean valid;   /* ctx holds what the session has (but ctx.db: db) */
    BlDbState db;
    QueryCtx ctx;
    GBytes *fde;      /* the FDE sent with BINLOG, NULL before */
    BlIsolation isolation; /* the session's transaction isolation */
    GByteArray *open_maps; /* Table_maps of the SQL statement whose rows
                              events are being sent (see bl_render_rows) */
} BlSession;

void bl_session_reset(BlSession *s);
void bl_base64_append(GString *out, const guint8 *data, gsize len);
/* BINLOG '<fde>' if the session has not seen this FDE yet; TRUE when it
 * appended that statement. */
gboolean bl_render_fde(GString *out, BlSession *s, GBytes *fde);
/* BINLOG statements for a run of raw row events; each must be the last
 * statement of a batch: the offset after each is appended to `ends`. */
void bl_render_rows(GString *out, GArray *ends, BlSession *s, const guint8 *data, gsize len, gsize max);
/* USE, SET ... and the statement. collation_names: charset name by
 * collation id (65536 entries) or NULL. A statement logged without a
 * default database runs in whatever the session has: the caller clears it
 * first when needed (bl_query_needs_no_db). */
void bl_render_query(GString *out, BlSession *s, const QueryCtx *c, const char *sql, gsize len,
                     const char *const *collation_names, gboolean target_mariadb);
/* The same, appending to `ends` (of gsize; may be NULL) the offset in out
 * after each statement: the context's (USE, SET), the query's last. */
void bl_render_query_ends(GString *out, GArray *ends, BlSession *s, const QueryCtx *c, const char *sql,
                          gsize len, const char *const *collation_names, gboolean target_mariadb);

/* Must the session have no default database to run this Query part? A
 * statement logged without one must see DATABASE() NULL, as it did on the
 * source (mariadb-binlog then prints no `use`, and a pipe runs it in the
 * database of the statement before). */
gboolean bl_query_needs_no_db(const BlSession *s, const QueryCtx *c);

#endif
