/* binlogfs — write-set keys: 64-bit hashes of table names and key values.
 *
 * Invariant: values that a key treats as equal because they differ only
 * in ASCII letter case or trailing spaces (non-binary strings), in bytes
 * past the key's prefix length, or in the sign of a floating-point zero
 * hash the same; everything else hashes its stored bytes. Folding never
 * separates equal values, it can only make unequal ones collide, which
 * costs parallelism, not correctness. Only the bytes a BlValue points to
 * are read.
 *
 * The hash is a wyhash-style multiply-mix over 16-byte blocks (own code,
 * no library); each part is length-prefixed so parts cannot run together.
 */
#include <string.h>

#include "rows-private.h"

#define K0 0xa0761d6478bd642fULL
#define K1 0xe7037ed1a0b428dbULL
#define K2 0x8ebc6af09c88c6e3ULL
#define K3 0x589965cc75374cc3ULL

#define BINARY_COLLATION 63

static inline guint64 mum(guint64 a, guint64 b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (guint64)r ^ (guint64)(r >> 64);
}

static inline guint64 load64(const guint8 *p)
{
    guint64 v;
    memcpy(&v, p, 8);
    return v;
}

/* ASCII 'A'..'Z' -> 'a'..'z' in each of 8 bytes; bytes >= 0x80 untouched. */
static inline guint64 fold8(guint64 x)
{
    const guint64 hi = 0x8080808080808080ULL;
    guint64 low7 = x & 0x7f7f7f7f7f7f7f7fULL;
    guint64 ge_a = low7 + 0x3f3f3f3f3f3f3f3fULL; /* high bit: low7 >= 'A' */
    guint64 gt_z = low7 + 0x2525252525252525ULL; /* high bit: low7 > 'Z' */
    guint64 upper = ge_a & ~gt_z & ~x & hi;
    return x | (upper >> 2);
}

/* Mixes n bytes (and n itself) into h. */
static guint64 absorb(guint64 h, const guint8 *p, gsize n, gboolean fold)
{
    h = mum(h ^ K0, (guint64)n ^ K1);
    for (; n >= 16; p += 16, n -= 16) {
        guint64 a = load64(p), b = load64(p + 8);
        if (fold) {
            a = fold8(a);
            b = fold8(b);
        }
        h = mum(a ^ K2, b ^ h);
    }
    guint8 tail[16] = { 0 };
    memcpy(tail, p, n);
    guint64 a = load64(tail), b = load64(tail + 8);
    if (fold) {
        a = fold8(a);
        b = fold8(b);
    }
    return mum(a ^ K2, b ^ h);
}

static guint64 finish(guint64 h)
{
    h = mum(h ^ K3, h ^ K1);
    return h ? h : 1; /* 0 means "not computed" in BlTableMap.table_hash */
}

guint64 bl_table_hash(const char *db, const char *table)
{
    g_return_val_if_fail(db != NULL && table != NULL, 0);
    guint64 h = absorb(K3, (const guint8 *)db, strlen(db), FALSE);
    return finish(absorb(h, (const guint8 *)table, strlen(table), FALSE));
}

/* Does the column compare as case-insensitive text (or might it)? */
static gboolean folds(const BlColumn *c)
{
    switch (c->real_type) {
    case BL_T_STRING: case BL_T_VAR_STRING: case BL_T_VARCHAR:
    case BL_T_TINY_BLOB: case BL_T_MEDIUM_BLOB: case BL_T_LONG_BLOB: case BL_T_BLOB:
        return c->collation != BINARY_COLLATION; /* 0 = unknown: assume it folds */
    default:
        return FALSE;
    }
}

/* -0.0 and +0.0 are equal keys: hash both as +0.0. */
static gboolean is_float_zero(const BlColumn *c, const guint8 *p, gsize n)
{
    if ((c->real_type != BL_T_FLOAT || n != 4) && (c->real_type != BL_T_DOUBLE || n != 8))
        return FALSE;
    for (gsize i = 0; i + 1 < n; i++)
        if (p[i])
            return FALSE;
    return (p[n - 1] & 0x7f) == 0;
}

static guint64 hash_part(guint64 h, const BlColumn *c, const BlValue *v, guint32 prefix)
{
    static const guint8 zero[8] = { 0 };
    const guint8 *d = v->p;
    gsize n = v->len, lb = MIN((gsize)bl_column_length_bytes(c), n);
    if (lb == 0) {
        if (is_float_zero(c, d, n))
            d = zero;
        return absorb(h, d, n, FALSE);
    }
    d += lb;
    n -= lb;
    if (prefix && n > prefix)
        n = prefix;
    gboolean fold = folds(c);
    if (fold)
        while (n > 0 && d[n - 1] == ' ')
            n--;
    return absorb(h, d, n, fold);
}

gboolean bl_key_hash(const BlTableMap *tm, guint key_index, const BlKeyDef *k, const BlValue *vals,
                     guint64 *hash)
{
    g_return_val_if_fail(tm != NULL && k != NULL && vals != NULL, FALSE);
    g_return_val_if_fail(k->n_parts >= 1 && k->n_parts <= BL_MAX_KEY_PARTS, FALSE);
    guint64 h = k->space ? k->space : tm->table_hash ? tm->table_hash : bl_table_hash(tm->db, tm->table);
    h = mum(h ^ K0, (guint64)(k->space ? k->space_index : key_index) ^ K2);
    for (guint i = 0; i < k->n_parts; i++) {
        guint col = k->col[i];
        g_return_val_if_fail(col < tm->n_columns, FALSE);
        const BlValue *v = &vals[col];
        if (!v->present || v->is_null)
            return FALSE;
        h = hash_part(h, &tm->columns[col], v, k->prefix[i]);
    }
    *hash = finish(h);
    return TRUE;
}
