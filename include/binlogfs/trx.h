/* binlogfs — grouping events into transactions, with what the scheduler
 * needs to know of each: GTID, byte range, commit time, the source's
 * dependency hints, kind, tables, rows and the write set.
 *
 * The builder is fed every event of a stream in order and hands out each
 * transaction when its last event has been fed. It keeps only the
 * transaction's metadata (the write set is bounded by `max_keys`), never
 * the events, so a 1 GiB transaction costs no more than a small one.
 */
#ifndef BINLOGFS_TRX_H
#define BINLOGFS_TRX_H

#include <binlogfs/event.h>
#include <binlogfs/rows.h>

G_BEGIN_DECLS

typedef enum {
    BL_TRX_ROWS,       /* row events only */
    BL_TRX_STATEMENT,  /* statement-based DML */
    BL_TRX_MIXED,      /* rows and statements */
    BL_TRX_DDL,
    BL_TRX_XA_PREPARE, /* XA START .. XA PREPARE */
    BL_TRX_XA_COMMIT,  /* XA COMMIT / XA ROLLBACK of a prepared XA */
    BL_TRX_EMPTY,      /* BEGIN .. COMMIT with nothing in between */
} BlTrxKind;

enum {
    BL_TRXF_NON_TRANSACTIONAL = 1 << 0, /* ends in a Query COMMIT (MyISAM, Aria...) */
    BL_TRXF_THREAD_SPECIFIC = 1 << 1,   /* temporary tables: needs its thread id */
    BL_TRXF_NO_KEYS = 1 << 2,           /* a table without known PK/unique key */
    BL_TRXF_TOO_LARGE = 1 << 3,         /* write set above max_keys: not analysed */
    BL_TRXF_LOAD_DATA = 1 << 4,
    BL_TRXF_ROLLED_BACK = 1 << 5,       /* ends in ROLLBACK */
    BL_TRXF_INCOMPLETE = 1 << 6,        /* cut by a new GTID or end of file: never committed */
    BL_TRXF_UNSAFE = 1 << 7,            /* statement DML whose effect cannot be analysed */
    BL_TRXF_INCIDENT = 1 << 8,          /* an Incident event: the source lost events */
    BL_TRXF_PARTIAL_JSON = 1 << 9,      /* MySQL partial JSON updates */
};

typedef struct {
    guint64 seq;            /* 1, 2, 3... in stream order */
    BlGtid gtid;            /* kind BL_GTID_NONE for files without GTIDs */
    guint64 start_pos;      /* offset of the first event (the GTID event) */
    guint64 end_pos;        /* offset just after the last event */
    guint64 commit_time_us; /* µs since the epoch: MySQL immediate commit
                               timestamp, else the last event's timestamp */
    BlTrxKind kind;
    guint32 flags;
    guint32 thread_id;      /* of the first Query, 0 if none */
    guint n_events;
    guint64 n_rows;
    guint64 bytes;          /* stored bytes of its events */
    GPtrArray *tables;      /* "db.table", distinct; interned strings
                               (g_intern_string): never freed, comparable
                               by pointer */
    GArray *keys;           /* guint64 write-set hashes of rows' keys */
    GArray *table_keys;     /* guint64: bl_table_hash of each table written, low
                               bit set when the whole table is written
                               (exclusive: no usable key), clear when only
                               keyed rows are (shared); distinct */
} BlTrx;

void bl_trx_free(BlTrx *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlTrx, bl_trx_free)

/* The unique keys of a table when the binlog does not carry them: the
 * replay engine answers from the target's information_schema. Returns a
 * borrowed array of BlKeyDef (primary key first), or NULL if unknown. */
typedef const GArray *(*BlKeyLookup)(const BlTableMap *tm, gpointer user_data);

typedef struct {
    guint max_keys;          /* write set bound per transaction; 0 = default */
    BlKeyLookup key_lookup;  /* may be NULL: PK from metadata only */
    gpointer key_lookup_data;
} BlTrxOptions;

typedef struct BlTrxBuilder BlTrxBuilder;

BlTrxBuilder *bl_trx_builder_new(const BlTrxOptions *opt);
void bl_trx_builder_free(BlTrxBuilder *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlTrxBuilder, bl_trx_builder_free)

/* Feeds the next event of reader `r`. Sets *done (owned by the caller)
 * when this event completes a transaction, and *cut when it shows that the
 * open transaction was never completed (a new GTID or FDE inside it; it is
 * flagged INCOMPLETE). Returns FALSE with an error naming file:pos when an
 * event cannot be decoded. */
gboolean bl_trx_builder_feed(BlTrxBuilder *b, const BlReader *r, const BlEvent *ev, BlTrx **done,
                             BlTrx **cut, GError **error);

/* At the end of a file: the transaction still open (INCOMPLETE), or NULL. */
BlTrx *bl_trx_builder_finish(BlTrxBuilder *b);

/* Offset just after the last complete transaction of the current file
 * (4 when none). */
guint64 bl_trx_builder_last_complete(const BlTrxBuilder *b);

/* The open transaction as far as it is known (borrowed), or NULL. */
const BlTrx *bl_trx_builder_current(const BlTrxBuilder *b);

/* Is a transaction open (fed a start but not its end)? */
gboolean bl_trx_builder_in_trx(const BlTrxBuilder *b);

const char *bl_trx_kind_name(BlTrxKind k);

G_END_DECLS

#endif
