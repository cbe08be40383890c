/* binlogfs — Table_map events, rows events, row images and key values.
 *
 * A rows event is walked row by row; each image yields one BlValue per
 * column of the table (present or not, NULL or not) pointing into the
 * event's data. Key values are hashed into 64-bit write-set keys.
 */
#ifndef BINLOGFS_ROWS_H
#define BINLOGFS_ROWS_H

#include <binlogfs/reader.h>

G_BEGIN_DECLS

/* MYSQL_TYPE_* codes as stored in Table_map events. */
enum {
    BL_T_DECIMAL = 0, BL_T_TINY = 1, BL_T_SHORT = 2, BL_T_LONG = 3, BL_T_FLOAT = 4,
    BL_T_DOUBLE = 5, BL_T_NULL = 6, BL_T_TIMESTAMP = 7, BL_T_LONGLONG = 8, BL_T_INT24 = 9,
    BL_T_DATE = 10, BL_T_TIME = 11, BL_T_DATETIME = 12, BL_T_YEAR = 13, BL_T_NEWDATE = 14,
    BL_T_VARCHAR = 15, BL_T_BIT = 16, BL_T_TIMESTAMP2 = 17, BL_T_DATETIME2 = 18,
    BL_T_TIME2 = 19, BL_T_TYPED_ARRAY = 20, BL_T_VECTOR = 242, BL_T_JSON = 245,
    BL_T_NEWDECIMAL = 246, BL_T_ENUM = 247, BL_T_SET = 248, BL_T_TINY_BLOB = 249,
    BL_T_MEDIUM_BLOB = 250, BL_T_LONG_BLOB = 251, BL_T_BLOB = 252, BL_T_VAR_STRING = 253,
    BL_T_STRING = 254, BL_T_GEOMETRY = 255,
};

#define BL_MAX_KEY_PARTS 32

typedef struct {
    guint8 type;       /* as in the map */
    guint8 real_type;  /* STRING resolved to ENUM/SET/STRING; else = type */
    guint16 meta;      /* raw metadata (up to 2 bytes, first byte low) */
    guint32 max_len;   /* STRING/VARCHAR max bytes; BLOB pack length; ... */
    gboolean nullable;
    gint8 is_unsigned; /* 1 unsigned, 0 signed, -1 unknown (no SIGNEDNESS) */
    guint16 collation; /* 0 = unknown */
    const char *name;  /* NULL without COLUMN_NAME metadata */
    guint32 size;      /* stored size of a non-NULL value when it is the same
                        * for every value (numbers, temporals, DECIMAL, BIT,
                        * ENUM/SET); 0 = depends on the value */
    gboolean invisible; /* COLUMN_VISIBILITY says INVISIBLE (FALSE if unknown) */
} BlColumn;

typedef struct {
    guint n_parts;
    guint16 col[BL_MAX_KEY_PARTS];
    /* 0 = whole column; else the number of leading data bytes hashed.
     * PRIMARY_KEY_WITH_PREFIX gives the prefix in characters, which is
     * never more bytes than the key compares: hashing it can only make
     * more values collide, never separate equal ones. */
    guint32 prefix[BL_MAX_KEY_PARTS];
    /* A foreign key: its values are hashed in the key space of the
     * referenced table (space = bl_table_hash of it, space_index = the
     * number of the referenced unique key there), so that a child row and
     * the parent row it references share a write-set key. 0 = own key. */
    guint64 space;
    guint space_index;
} BlKeyDef;

typedef struct {
    guint64 table_id;
    guint16 flags;
    char *db;
    char *table;
    guint n_columns;
    BlColumn *columns;
    /* From optional metadata (binlog_row_metadata=FULL): the primary key. */
    gboolean has_pk;
    BlKeyDef pk;
    gboolean has_optional_metadata;
    guint n_json;         /* columns of type JSON (245): PARTIAL_UPDATE bitmap width */
    guint64 table_hash;   /* bl_table_hash(db, table); 0 = not computed */
} BlTableMap;

/* Decodes a Table_map event. Returns a new map; free with bl_table_map_free. */
BlTableMap *bl_table_map_decode(const BlEvent *ev, const BlFormat *fmt, GError **error);
void bl_table_map_free(BlTableMap *tm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlTableMap, bl_table_map_free)

/* The table_id -> map registry of one stream. Table_map events repeat
 * before every statement; an identical one is recognised and not decoded
 * again. */
typedef struct BlTableCache BlTableCache;
BlTableCache *bl_table_cache_new(void);
void bl_table_cache_free(BlTableCache *c);
/* Feeds a Table_map event; returns the (borrowed) map, or NULL on error. */
const BlTableMap *bl_table_cache_put(BlTableCache *c, const BlEvent *ev, const BlFormat *fmt,
                                     GError **error);
/* The map for a rows event's table_id, or NULL if none was seen. */
const BlTableMap *bl_table_cache_get(BlTableCache *c, guint64 table_id);
/* Forget everything (new file). */
void bl_table_cache_clear(BlTableCache *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlTableCache, bl_table_cache_free)

typedef struct {
    guint8 type;           /* plain (uncompressed) type */
    gboolean is_update;    /* UPDATE v1/v2 or PARTIAL_UPDATE */
    gboolean is_delete;
    gboolean is_partial;   /* PARTIAL_UPDATE_ROWS */
    guint64 table_id;
    guint16 flags;         /* 0x01 STMT_END_F, ... */
    guint n_columns;
    const guint8 *cols_before; /* bitmap of n_columns bits */
    const guint8 *cols_after;  /* update only; = cols_before otherwise */
    const guint8 *rows;        /* first row */
    const guint8 *rows_end;
} BlRows;

enum { BL_ROWS_STMT_END_F = 0x01, BL_ROWS_NO_FK_CHECKS_F = 0x02, BL_ROWS_RELAXED_UNIQUE_F = 0x04 };

gboolean bl_rows_decode(const BlEvent *ev, const BlFormat *fmt, BlRows *out, GError **error);

typedef struct {
    const guint8 *p;   /* value bytes as stored (with length prefix) */
    guint32 len;       /* stored length */
    gboolean present;  /* column in this image */
    gboolean is_null;
} BlValue;

/* Walks the rows of one event. */
typedef struct {
    const BlRows *rows;
    const BlTableMap *tm;
    const guint8 *p;
    guint index;
    guint n_before;    /* set bits in rows->cols_before */
    guint n_after;     /* set bits in rows->cols_after */
} BlRowIter;

void bl_row_iter_init(BlRowIter *it, const BlRows *rows, const BlTableMap *tm);
/* Fills before/after (arrays of tm->n_columns values; either may be NULL
 * if the caller does not need it). For WRITE only `after` is filled, for
 * DELETE only `before`, for UPDATE both. Returns FALSE at the end (error
 * unset) or on malformed data (error set, message names the row number and
 * column). */
gboolean bl_row_iter_next(BlRowIter *it, BlValue *before, BlValue *after, GError **error);

/* Stored size of one non-NULL value of column `c` starting at p (at most
 * `avail` bytes). Returns FALSE if it does not fit or the type is unknown. */
gboolean bl_value_size(const BlColumn *c, const guint8 *p, gsize avail, guint32 *size);

/* The 64-bit write-set key of key `k` (number `key_index` of the table) in
 * one row image. Returns FALSE (no key) when a key part is not present in
 * the image or is NULL: NULLs never conflict in a unique key. Strings of
 * non-binary collations are folded (ASCII case, trailing spaces) so that
 * values a case-insensitive key treats as equal hash the same; a string
 * column whose collation is unknown (0) is folded too. Only ASCII case is
 * folded: values equal under a collation's accent or non-ASCII case rules
 * may hash differently. */
gboolean bl_key_hash(const BlTableMap *tm, guint key_index, const BlKeyDef *k, const BlValue *vals,
                     guint64 *hash);

/* A hash of db.table alone: the key of a table-level dependency. */
guint64 bl_table_hash(const char *db, const char *table);

G_END_DECLS

#endif
