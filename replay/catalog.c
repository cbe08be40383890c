/* binlogfs — the target's keys, for write sets: primary key, unique keys
 * and foreign keys of each table, read from information_schema.
 *
 * DESIGN: one connection of its own, used by the feeder only. A table's
 * keys are read once and cached; a DDL transaction invalidates the cache,
 * and the next lookup first waits until that DDL has committed on the
 * target (the feeder runs ahead of the appliers), so keys are never read
 * from a schema older than the rows they describe.
 * Invariant: a table whose columns on the target do not match its
 * Table_map (count) gets no keys (NULL): the caller then treats every
 * write to it as a write to the whole table — slower, never wrong.
 */
#include <string.h>

#include <binlogfs/rows.h>

#include "catalog.h"
#include "conn.h"
#include "engine-private.h"

typedef struct {
    GPtrArray *col_names; /* on the target, in order; NULL = no such table */
    GArray *keys;         /* BlKeyDef; NULL = unknown */
} Entry;

struct BlCatalog {
    BlEngine *e;
    BlConn *conn;
    GHashTable *tables;   /* "db\1table" -> Entry* */
    guint64 wait_for_seq; /* a DDL job that must commit before the next read */
};

static void entry_free(gpointer p)
{
    Entry *en = p;
    if (en->keys)
        g_array_unref(en->keys);
    if (en->col_names)
        g_ptr_array_unref(en->col_names);
    g_free(en);
}

BlCatalog *bl_catalog_new(BlEngine *e, GError **error)
{
    BlConn *c = bl_engine_connect(&e->cfg, error);
    if (!c)
        return NULL;
    BlCatalog *cat = g_new0(BlCatalog, 1);
    cat->e = e;
    cat->conn = c;
    cat->tables = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
    return cat;
}

void bl_catalog_free(BlCatalog *cat)
{
    if (!cat)
        return;
    bl_conn_free(cat->conn);
    g_hash_table_destroy(cat->tables);
    g_free(cat);
}

void bl_catalog_invalidate(BlCatalog *cat, guint64 ddl_seq)
{
    g_hash_table_remove_all(cat->tables);
    cat->wait_for_seq = MAX(cat->wait_for_seq, ddl_seq);
}

/* Runs a query and returns its rows as a GPtrArray of char** (strv);
 * NULL on error. */
static GPtrArray *rows(BlCatalog *cat, const char *sql)
{
    MYSQL *m = bl_conn_mysql(cat->conn);
    if (!m || mysql_real_query(m, sql, strlen(sql)) != 0) {
        g_warning("catalog: %s: ERROR %u: %s", sql, m ? mysql_errno(m) : 0, m ? mysql_error(m) : "closed");
        return NULL;
    }
    MYSQL_RES *res = mysql_store_result(m);
    if (!res)
        return NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    guint n = mysql_num_fields(res);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        char **v = g_new0(char *, n + 1);
        for (guint i = 0; i < n; i++)
            v[i] = g_strdup(row[i] ? row[i] : "");
        g_ptr_array_add(out, v);
    }
    mysql_free_result(res);
    return out;
}

static char *quote(BlCatalog *cat, const char *s)
{
    gsize n = strlen(s);
    char *buf = g_malloc(2 * n + 3);
    buf[0] = '\'';
    unsigned long k = mysql_real_escape_string(bl_conn_mysql(cat->conn), buf + 1, s, (unsigned long)n);
    buf[k + 1] = '\'';
    buf[k + 2] = '\0';
    return buf;
}

static int column_index(GPtrArray *cols, const char *name)
{
    for (guint i = 0; i < cols->len; i++)
        if (g_ascii_strcasecmp(((char **)g_ptr_array_index(cols, i))[0], name) == 0)
            return (int)i;
    return -1;
}

/* Unique keys (PRIMARY first) as BlKeyDef, with their names in `names`. */
static GArray *unique_keys(BlCatalog *cat, const char *qdb, const char *qtb, GPtrArray *cols,
                           GPtrArray *names)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT INDEX_NAME, COLUMN_NAME, IFNULL(SUB_PART, 0) FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s AND NON_UNIQUE=0 "
        "ORDER BY INDEX_NAME<>'PRIMARY', INDEX_NAME, SEQ_IN_INDEX", qdb, qtb);
    g_autoptr(GPtrArray) r = rows(cat, sql);
    if (!r)
        return NULL;
    GArray *keys = g_array_new(FALSE, TRUE, sizeof(BlKeyDef));
    const char *cur = NULL;
    BlKeyDef k = { 0 };
    gboolean bad = FALSE;
    for (guint i = 0; i <= r->len; i++) {
        char **row = i < r->len ? g_ptr_array_index(r, i) : NULL;
        if (!row || (cur && strcmp(cur, row[0]) != 0)) {
            if (cur && !bad && k.n_parts) {
                g_array_append_val(keys, k);
                g_ptr_array_add(names, g_strdup(cur));
            }
            memset(&k, 0, sizeof k);
            bad = FALSE;
        }
        if (!row)
            break;
        cur = row[0];
        int col = column_index(cols, row[1]);
        if (col < 0 || k.n_parts >= BL_MAX_KEY_PARTS) {
            bad = TRUE; /* an expression or too many parts: not a usable key */
            continue;
        }
        k.col[k.n_parts] = (guint16)col;
        k.prefix[k.n_parts] = (guint32)g_ascii_strtoull(row[2], NULL, 10);
        k.n_parts++;
    }
    return keys;
}

static const Entry *lookup(BlCatalog *cat, const char *db, const char *table);

/* Foreign keys of this table, as keys in their parent's key space.
 * FALSE when one cannot be expressed so (it references something else
 * than a whole unique key of its parent): the table then gets no keys. */
static gboolean foreign_keys(BlCatalog *cat, const char *db, const char *table, const char *qdb,
                             const char *qtb, GPtrArray *cols, GArray *keys)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, "
        "REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA=%s "
        "AND TABLE_NAME=%s AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION",
        qdb, qtb);
    g_autoptr(GPtrArray) r = rows(cat, sql);
    if (!r)
        return FALSE;
    for (guint i = 0; i < r->len;) {
        char **first = g_ptr_array_index(r, i);
        guint j = i;
        while (j < r->len && strcmp(((char **)g_ptr_array_index(r, j))[0], first[0]) == 0)
            j++;
        /* the referenced columns must be exactly one unique key of the
         * parent, in the same order, for values to meet its key space */
        const Entry *parent = lookup(cat, first[2], first[3]);
        BlKeyDef fk = { 0 };
        gboolean usable = parent && parent->keys && j - i <= BL_MAX_KEY_PARTS &&
                          !(g_str_equal(first[2], db) && g_str_equal(first[3], table));
        for (guint n = i; usable && n < j; n++) {
            char **row = g_ptr_array_index(r, n);
            int col = column_index(cols, row[1]);
            if (col < 0)
                usable = FALSE;
            else
                fk.col[fk.n_parts++] = (guint16)col;
        }
        if (usable) {
            usable = FALSE;
            for (guint k = 0; k < parent->keys->len && !usable; k++) {
                const BlKeyDef *pk = &g_array_index(parent->keys, BlKeyDef, k);
                if (pk->space || pk->n_parts != fk.n_parts || pk->prefix[0])
                    continue;
                /* compare referenced column names with the parent key's */
                gboolean same = TRUE;
                for (guint n = 0; n < fk.n_parts && same; n++) {
                    char **row = g_ptr_array_index(r, i + n);
                    same = parent->col_names && pk->col[n] < parent->col_names->len &&
                           g_ascii_strcasecmp(g_ptr_array_index(parent->col_names, pk->col[n]), row[4]) == 0;
                }
                if (same) {
                    fk.space = bl_table_hash(first[2], first[3]);
                    fk.space_index = k;
                    usable = TRUE;
                }
            }
        }
        if (!usable)
            return FALSE;
        g_array_append_val(keys, fk);
        i = j;
    }
    return TRUE;
}

static Entry *load(BlCatalog *cat, const char *db, const char *table)
{
    Entry *en = g_new0(Entry, 1);
    g_autofree char *qdb = quote(cat, db);
    g_autofree char *qtb = quote(cat, table);
    g_autofree char *sql = g_strdup_printf(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s "
        "ORDER BY ORDINAL_POSITION", qdb, qtb);
    GPtrArray *cols = rows(cat, sql);
    if (!cols || cols->len == 0) {
        if (cols)
            g_ptr_array_unref(cols);
        /* no such table (col_names NULL): cached too, until a DDL */
        g_hash_table_replace(cat->tables, g_strdup_printf("%s\001%s", db, table), en);
        return en;
    }
    en->col_names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < cols->len; i++)
        g_ptr_array_add(en->col_names, g_strdup(((char **)g_ptr_array_index(cols, i))[0]));
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    GArray *keys = unique_keys(cat, qdb, qtb, cols, names);
    /* Insert the entry before looking at foreign keys: a table that
     * references itself must find itself. */
    g_hash_table_replace(cat->tables, g_strdup_printf("%s\001%s", db, table), en);
    if (keys && keys->len && foreign_keys(cat, db, table, qdb, qtb, cols, keys))
        en->keys = keys;
    else if (keys)
        g_array_unref(keys);
    g_ptr_array_unref(cols);
    return en;
}

static const Entry *lookup(BlCatalog *cat, const char *db, const char *table)
{
    g_autofree char *k = g_strdup_printf("%s\001%s", db, table);
    Entry *en = g_hash_table_lookup(cat->tables, k);
    return en ? en : load(cat, db, table);
}

/* The feeder reads ahead: before reading keys after a DDL, let the DDL
 * commit on the target. */
static void wait_ddl(BlCatalog *cat)
{
    if (!cat->wait_for_seq)
        return;
    BlOrder *o = &cat->e->order;
    g_mutex_lock(&o->lock);
    while (o->committed < cat->wait_for_seq && !(o->failed_seq && o->failed_seq <= cat->wait_for_seq) &&
           !g_atomic_int_get(&cat->e->shutting_down)) {
        o->waiters++;
        g_cond_wait_until(&o->cond, &o->lock, g_get_monotonic_time() + G_USEC_PER_SEC);
        o->waiters--;
    }
    g_mutex_unlock(&o->lock);
    cat->wait_for_seq = 0;
}

const GArray *bl_catalog_keys(const BlTableMap *tm, gpointer data)
{
    BlCatalog *cat = data;
    wait_ddl(cat);
    const Entry *en = lookup(cat, tm->db, tm->table);
    if (!en->col_names || en->col_names->len != tm->n_columns || !en->keys)
        return NULL;
    return en->keys;
}
