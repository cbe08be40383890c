/* binlogfs — decoders for the non-row events.
 *
 * Each bl_decode_* takes an event yielded by the reader and the format that
 * applies to it, and fills a plain struct whose pointers point into the
 * event's data (valid as long as the event is). They fail with
 * BL_ERROR_CORRUPT and a message without file name (the caller adds
 * "file:pos: ").
 */
#ifndef BINLOGFS_EVENT_H
#define BINLOGFS_EVENT_H

#include <binlogfs/reader.h>

G_BEGIN_DECLS

/* ---- GTIDs ---------------------------------------------------------- */

typedef enum {
    BL_GTID_NONE,
    BL_GTID_MARIADB,   /* domain-server-seq */
    BL_GTID_MYSQL,     /* uuid:gno or uuid:tag:gno */
    BL_GTID_ANONYMOUS, /* MySQL gtid_mode=OFF */
} BlGtidKind;

/* MariaDB GTID flags2 */
enum {
    BL_FL_STANDALONE = 0x01,
    BL_FL_GROUP_COMMIT_ID = 0x02,
    BL_FL_TRANSACTIONAL = 0x04,
    BL_FL_ALLOW_PARALLEL = 0x08,
    BL_FL_WAITED = 0x10,
    BL_FL_DDL = 0x20,
    BL_FL_PREPARED_XA = 0x40,
    BL_FL_COMPLETED_XA = 0x80,
};
/* MariaDB GTID flags_extra */
enum {
    BL_FLX_MULTI_ENGINE = 0x01,
    BL_FLX_START_ALTER = 0x02,
    BL_FLX_COMMIT_ALTER = 0x04,
    BL_FLX_ROLLBACK_ALTER = 0x08,
    BL_FLX_THREAD_ID = 0x10,
};

typedef struct {
    guint32 format_id;
    guint8 gtrid_len, bqual_len;
    guint8 data[128];
} BlXid;

typedef struct {
    BlGtidKind kind;
    /* MariaDB */
    guint32 domain_id;
    guint32 server_id;
    guint64 seq_no;
    guint8 flags2;
    guint8 flags_extra;
    guint64 commit_id;   /* valid if flags2 & FL_GROUP_COMMIT_ID */
    guint64 sa_seq_no;   /* start-alter seq_no for COMMIT/ROLLBACK ALTER */
    guint32 thread_id;   /* valid if flags_extra & FLX_THREAD_ID */
    gboolean has_xid;
    BlXid xid;
    /* MySQL */
    guint8 uuid[16];
    char tag[33];        /* empty when untagged */
    gint64 gno;
    guint8 mysql_flags;  /* bit 0: may have SBR */
    gboolean has_logical_clock;
    gint64 last_committed;
    gint64 sequence_number;
    guint64 immediate_commit_us;
    guint64 original_commit_us;
    guint64 transaction_length;
    guint32 immediate_server_version;
    guint32 original_server_version;
} BlGtid;

/* Decodes a MariaDB GTID (162), MySQL GTID/ANONYMOUS_GTID (33/34) or
 * GTID_TAGGED (42) event. */
gboolean bl_decode_gtid(const BlEvent *ev, const BlFormat *fmt, BlGtid *out, GError **error);

/* The GTID as text: "0-1-42", "3e11fa47-71ca-11e1-9e33-c80aa9429562:23",
 * "uuid:tag:23", "ANONYMOUS" or "" for none. buf of at least 96 bytes. */
const char *bl_gtid_format(const BlGtid *g, char *buf, gsize len);

/* XID as mariadb-binlog prints it: X'gtrid',X'bqual',formatID. */
char *bl_xid_format(const BlXid *x);

/* ---- Query ---------------------------------------------------------- */

enum {
    BL_Q_FLAGS2 = 0, BL_Q_SQL_MODE = 1, BL_Q_CATALOG = 2, BL_Q_AUTO_INCREMENT = 3,
    BL_Q_CHARSET = 4, BL_Q_TIME_ZONE = 5, BL_Q_CATALOG_NZ = 6, BL_Q_LC_TIME_NAMES = 7,
    BL_Q_CHARSET_DATABASE = 8, BL_Q_TABLE_MAP_FOR_UPDATE = 9, BL_Q_MASTER_DATA_WRITTEN = 10,
    BL_Q_INVOKER = 11, BL_Q_UPDATED_DB_NAMES = 12, BL_Q_MICROSECONDS = 13,
    BL_Q_COMMIT_TS = 14, BL_Q_COMMIT_TS2 = 15, BL_Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP = 16,
    BL_Q_DDL_LOGGED_WITH_XID = 17, BL_Q_DEFAULT_COLLATION_FOR_UTF8MB4 = 18,
    BL_Q_SQL_REQUIRE_PRIMARY_KEY = 19, BL_Q_DEFAULT_TABLE_ENCRYPTION = 20,
    BL_Q_HRNOW = 128, BL_Q_XID = 129, BL_Q_GTID_FLAGS3 = 130,
    BL_Q_CHARACTER_SET_COLLATIONS = 131,
};

/* Which status variables were present (bit = code, codes > 63 mapped to
 * bits 40.. as code - 128 + 40). */
#define BL_QHAS(q, code) (((q)->present >> ((code) >= 128 ? (code) - 128 + 40 : (code))) & 1)

typedef struct {
    guint32 thread_id;
    guint32 exec_time;
    guint16 error_code;
    guint64 present;
    guint32 flags2;
    guint64 sql_mode;
    guint16 auto_increment_increment, auto_increment_offset;
    guint16 charset_client, collation_connection, collation_server;
    const char *time_zone; guint8 time_zone_len;
    guint16 lc_time_names;
    guint16 charset_database;
    guint64 table_map_for_update;
    const char *invoker_user; guint8 invoker_user_len;
    const char *invoker_host; guint8 invoker_host_len;
    guint8 n_updated_dbs;  /* 254 = too many */
    const guint8 *updated_dbs; /* NUL-separated names */
    guint32 microseconds;  /* from MICROSECONDS or HRNOW */
    guint8 explicit_defaults_for_timestamp;
    guint64 ddl_xid;       /* MySQL DDL_LOGGED_WITH_XID or MariaDB XID */
    guint16 default_collation_for_utf8mb4;
    guint8 sql_require_primary_key, default_table_encryption;
    guint8 gtid_flags3; guint64 sa_seq_no;
    const char *db; gsize db_len;
    const char *sql; gsize sql_len; /* not NUL-terminated */
    /* EXECUTE_LOAD_QUERY only */
    guint32 file_id, fn_pos_start, fn_pos_end;
    guint8 dup_handling;
} BlQuery;

/* Decodes a Query (2) or Execute_load_query (18) event; a Query_compressed
 * event is yielded decompressed by the reader, so it arrives as type 2. */
gboolean bl_decode_query(const BlEvent *ev, const BlFormat *fmt, BlQuery *out, GError **error);

/* Classifies a statement's text (leading comments and spaces skipped). */
typedef enum {
    BL_SQL_OTHER,     /* DML or anything not below */
    BL_SQL_BEGIN,     /* BEGIN, START TRANSACTION */
    BL_SQL_COMMIT,
    BL_SQL_ROLLBACK,  /* ROLLBACK (not ROLLBACK TO) */
    BL_SQL_XA_START, BL_SQL_XA_END, BL_SQL_XA_PREPARE, BL_SQL_XA_COMMIT, BL_SQL_XA_ROLLBACK,
    BL_SQL_SAVEPOINT, /* SAVEPOINT, ROLLBACK TO, RELEASE SAVEPOINT */
    BL_SQL_DDL,       /* CREATE/ALTER/DROP/RENAME/TRUNCATE/GRANT/... */
    BL_SQL_DML,       /* INSERT/UPDATE/DELETE/REPLACE/LOAD */
} BlSqlKind;
BlSqlKind bl_sql_classify(const char *sql, gsize len);

/* ---- Small events ----------------------------------------------------- */

typedef struct { guint64 position; const char *name; gsize name_len; } BlRotate;
gboolean bl_decode_rotate(const BlEvent *ev, const BlFormat *fmt, BlRotate *out, GError **error);

gboolean bl_decode_xid(const BlEvent *ev, const BlFormat *fmt, guint64 *xid, GError **error);

typedef struct { guint8 kind; guint64 value; } BlIntvar; /* 1 LAST_INSERT_ID, 2 INSERT_ID */
gboolean bl_decode_intvar(const BlEvent *ev, const BlFormat *fmt, BlIntvar *out, GError **error);

typedef struct { guint64 seed1, seed2; } BlRand;
gboolean bl_decode_rand(const BlEvent *ev, const BlFormat *fmt, BlRand *out, GError **error);

typedef struct {
    const char *name; guint32 name_len;
    gboolean is_null;
    guint8 type;      /* 0 STRING, 1 REAL, 2 INT, 4 DECIMAL */
    guint32 charset;
    const guint8 *value; guint32 value_len;
    guint8 flags;     /* 1 = UNSIGNED */
} BlUserVar;
gboolean bl_decode_user_var(const BlEvent *ev, const BlFormat *fmt, BlUserVar *out, GError **error);

typedef struct { gboolean one_phase; BlXid xid; } BlXaPrepare;
gboolean bl_decode_xa_prepare(const BlEvent *ev, const BlFormat *fmt, BlXaPrepare *out, GError **error);

typedef struct { guint32 domain_id, server_id; guint64 seq_no; } BlGtidListEntry;
/* Fills *out with a new array the caller frees (may be empty). */
gboolean bl_decode_gtid_list(const BlEvent *ev, const BlFormat *fmt, GArray **out, GError **error);

/* PREVIOUS_GTIDS as text ("uuid:1-5,uuid2:tag:1-2"); caller frees. */
gboolean bl_decode_previous_gtids(const BlEvent *ev, const BlFormat *fmt, char **out, GError **error);

/* BEGIN_LOAD_QUERY / APPEND_BLOCK: file id and the data block. */
typedef struct { guint32 file_id; const guint8 *data; gsize len; } BlLoadBlock;
gboolean bl_decode_load_block(const BlEvent *ev, const BlFormat *fmt, BlLoadBlock *out, GError **error);

typedef struct { guint16 incident; const char *msg; gsize msg_len; } BlIncident;
gboolean bl_decode_incident(const BlEvent *ev, const BlFormat *fmt, BlIncident *out, GError **error);

/* The SQL text of ANNOTATE_ROWS (160) or ROWS_QUERY (29). */
gboolean bl_decode_annotate(const BlEvent *ev, const BlFormat *fmt, const char **sql, gsize *len,
                            GError **error);

/* BINLOG_CHECKPOINT file name. */
gboolean bl_decode_checkpoint(const BlEvent *ev, const BlFormat *fmt, const char **name, gsize *len,
                              GError **error);

/* MySQL Transaction_payload header. */
typedef struct { guint64 payload_size, uncompressed_size; guint64 compression; const guint8 *payload; } BlPayload;
gboolean bl_decode_payload(const BlEvent *ev, const BlFormat *fmt, BlPayload *out, GError **error);

G_END_DECLS

#endif
