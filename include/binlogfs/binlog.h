/* binlogfs — binary log format v4: constants, the common header and the
 * Format_description event. Reference: ../shared/docs/binlog-format.md.
 *
 * Pure data and decoding of fixed layouts; no I/O.
 */
#ifndef BINLOGFS_BINLOG_H
#define BINLOGFS_BINLOG_H

#include <glib.h>

G_BEGIN_DECLS

#define BL_MAGIC "\xfe" "bin"
#define BL_MAGIC_LEN 4
#define BL_HEADER_LEN 19
#define BL_CRC_LEN 4

typedef enum {
    BL_UNKNOWN_EVENT = 0,
    BL_START_EVENT_V3 = 1,
    BL_QUERY_EVENT = 2,
    BL_STOP_EVENT = 3,
    BL_ROTATE_EVENT = 4,
    BL_INTVAR_EVENT = 5,
    BL_LOAD_EVENT = 6,
    BL_SLAVE_EVENT = 7,
    BL_CREATE_FILE_EVENT = 8,
    BL_APPEND_BLOCK_EVENT = 9,
    BL_EXEC_LOAD_EVENT = 10,
    BL_DELETE_FILE_EVENT = 11,
    BL_NEW_LOAD_EVENT = 12,
    BL_RAND_EVENT = 13,
    BL_USER_VAR_EVENT = 14,
    BL_FORMAT_DESCRIPTION_EVENT = 15,
    BL_XID_EVENT = 16,
    BL_BEGIN_LOAD_QUERY_EVENT = 17,
    BL_EXECUTE_LOAD_QUERY_EVENT = 18,
    BL_TABLE_MAP_EVENT = 19,
    BL_PRE_GA_WRITE_ROWS_EVENT = 20,
    BL_PRE_GA_UPDATE_ROWS_EVENT = 21,
    BL_PRE_GA_DELETE_ROWS_EVENT = 22,
    BL_WRITE_ROWS_EVENT_V1 = 23,
    BL_UPDATE_ROWS_EVENT_V1 = 24,
    BL_DELETE_ROWS_EVENT_V1 = 25,
    BL_INCIDENT_EVENT = 26,
    BL_HEARTBEAT_EVENT = 27,
    BL_IGNORABLE_EVENT = 28,
    BL_ROWS_QUERY_EVENT = 29,
    BL_WRITE_ROWS_EVENT = 30,
    BL_UPDATE_ROWS_EVENT = 31,
    BL_DELETE_ROWS_EVENT = 32,
    BL_GTID_EVENT = 33,
    BL_ANONYMOUS_GTID_EVENT = 34,
    BL_PREVIOUS_GTIDS_EVENT = 35,
    BL_TRANSACTION_CONTEXT_EVENT = 36,
    BL_VIEW_CHANGE_EVENT = 37,
    BL_XA_PREPARE_EVENT = 38,
    BL_PARTIAL_UPDATE_ROWS_EVENT = 39,
    BL_TRANSACTION_PAYLOAD_EVENT = 40,
    BL_HEARTBEAT_EVENT_V2 = 41,
    BL_GTID_TAGGED_EVENT = 42,
    BL_ANNOTATE_ROWS_EVENT = 160,
    BL_BINLOG_CHECKPOINT_EVENT = 161,
    BL_MARIA_GTID_EVENT = 162,
    BL_GTID_LIST_EVENT = 163,
    BL_START_ENCRYPTION_EVENT = 164,
    BL_QUERY_COMPRESSED_EVENT = 165,
    BL_WRITE_ROWS_COMPRESSED_EVENT_V1 = 166,
    BL_UPDATE_ROWS_COMPRESSED_EVENT_V1 = 167,
    BL_DELETE_ROWS_COMPRESSED_EVENT_V1 = 168,
    BL_WRITE_ROWS_COMPRESSED_EVENT = 169,
    BL_UPDATE_ROWS_COMPRESSED_EVENT = 170,
    BL_DELETE_ROWS_COMPRESSED_EVENT = 171,
    BL_PARTIAL_ROW_DATA_EVENT = 172,
} BlEventType;

/* Common header flags. */
enum {
    BL_F_BINLOG_IN_USE = 0x0001,
    BL_F_THREAD_SPECIFIC = 0x0004,
    BL_F_SUPPRESS_USE = 0x0008,
    BL_F_ARTIFICIAL = 0x0020,
    BL_F_RELAY_LOG = 0x0040,
    BL_F_IGNORABLE = 0x0080,
    BL_F_SKIP_REPLICATION = 0x8000,
};

typedef enum {
    BL_CHECKSUM_OFF = 0,
    BL_CHECKSUM_CRC32 = 1,
    BL_CHECKSUM_UNDEF = 255, /* pre-checksum server: no alg byte in the FDE */
} BlChecksumAlg;

typedef enum {
    BL_FLAVOR_MYSQL,
    BL_FLAVOR_MARIADB,
} BlFlavor;

/* The decoded common header of one event. */
typedef struct {
    guint32 timestamp;
    guint8 type;
    guint32 server_id;
    guint32 size; /* whole event, header and CRC included */
    guint32 log_pos;
    guint16 flags;
} BlEventHeader;

/* Format_description: how to decode the rest of the file. */
typedef struct {
    guint16 binlog_version;
    char server_version[51];
    BlFlavor flavor;
    guint version; /* e.g. 101119 for 10.11.19, 80040 for 8.0.40 */
    guint32 create_timestamp;
    guint8 header_len;
    guint n_types;               /* entries in post_header_len */
    guint8 post_header_len[256]; /* index = event type; 0 when absent */
    BlChecksumAlg checksum_alg;
} BlFormat;

/* Little-endian readers; the caller has checked the bounds. */
static inline guint16 bl_u16(const guint8 *p) { return (guint16)(p[0] | p[1] << 8); }
static inline guint32 bl_u24(const guint8 *p) { return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16; }
static inline guint32 bl_u32(const guint8 *p)
{
    return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}
static inline guint64 bl_u48(const guint8 *p) { return (guint64)bl_u32(p) | (guint64)bl_u16(p + 4) << 32; }
static inline guint64 bl_u64(const guint8 *p) { return (guint64)bl_u32(p) | (guint64)bl_u32(p + 4) << 32; }

/* Decodes the 19-byte common header at p. */
void bl_header_decode(const guint8 *p, BlEventHeader *h);

/* Ends an event written from b->data[start] to the end of b: stores its
 * size in its header and, with `crc`, appends its CRC32 (counted in the
 * size). */
void bl_event_seal(GByteArray *b, guint start, gboolean crc);

/* Decodes a Format_description event (whole raw event, `len` bytes).
 * Fails with BL_ERROR_CORRUPT or BL_ERROR_UNSUPPORTED (binlog_version != 4);
 * the message has no file name: the caller prefixes it. */
gboolean bl_format_decode(const guint8 *ev, gsize len, BlFormat *fmt, GError **error);

/* A format for the events inside a MySQL Transaction_payload: same as the
 * outer one but without checksums. */
void bl_format_inner(const BlFormat *outer, BlFormat *inner);

/* The event type's name as mysqlbinlog prints it ("Query", "Write_rows_v1"),
 * or NULL for a type this version of binlogfs does not know. Static string. */
const char *bl_event_type_name(guint8 type);

/* Is this a rows event (any version, compressed or not)? */
gboolean bl_event_is_rows(guint8 type);

/* For MariaDB compressed types: the plain type they decompress to; else
 * the type itself. */
guint8 bl_event_uncompressed_type(guint8 type);

/* Reads a packed (length-encoded) integer at *p, not past end. Advances *p.
 * Returns FALSE when it does not fit. */
gboolean bl_lenenc(const guint8 **p, const guint8 *end, guint64 *out);

G_END_DECLS

#endif
