/* binlogfs — dependencies between transactions (see depend.h).
 *
 * DESIGN: the write-set history is one open-addressing table of
 * (key hash, last writer seq) with a fixed capacity: memory is bounded
 * whatever the stream's length. When it is half full it is cleared and a
 * barrier is placed at the current transaction, which is conservative
 * (later transactions wait for more than they need), never wrong.
 * Invariant: dep < seq, and dep never decreases below the last barrier.
 */
#include <string.h>

#include <binlogfs/depend.h>

const char *bl_trx_barrier_reason(const BlTrx *t)
{
    if (t->kind == BL_TRX_DDL)
        return "ddl";
    if (t->kind == BL_TRX_XA_PREPARE || t->kind == BL_TRX_XA_COMMIT)
        return "xa";
    if (t->flags & BL_TRXF_INCIDENT)
        return "incident";
    if (t->kind == BL_TRX_STATEMENT || t->kind == BL_TRX_MIXED || (t->flags & BL_TRXF_UNSAFE))
        return "statement";
    if (t->flags & BL_TRXF_THREAD_SPECIFIC)
        return "temporary-table";
    if (t->flags & BL_TRXF_LOAD_DATA)
        return "load-data";
    if (t->flags & BL_TRXF_NON_TRANSACTIONAL)
        return "non-transactional";
    if (t->flags & BL_TRXF_TOO_LARGE)
        return "too-large";
    return NULL;
}

gboolean bl_trx_is_barrier(const BlTrx *t)
{
    return bl_trx_barrier_reason(t) != NULL;
}

typedef struct {
    guint64 key;
    guint64 seq; /* 0 = empty slot */
} Slot;

typedef struct {
    guint64 any;  /* last transaction writing the table at all */
    guint64 excl; /* last transaction writing the whole table */
} TableWriters;

struct BlDepTracker {
    GHashTable *tables; /* table hash -> TableWriters (one per table: bounded) */
    Slot *slots;
    guint64 mask;
    guint64 used, limit;
    guint64 barrier;  /* everything after waits for this seq */
};

BlDepTracker *bl_dep_new(guint capacity)
{
    BlDepTracker *d = g_new0(BlDepTracker, 1);
    guint64 n = 1024;
    while (n < (guint64)capacity * 2)
        n <<= 1;
    d->slots = g_new0(Slot, n);
    d->mask = n - 1;
    d->limit = n / 2;
    d->tables = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    return d;
}

void bl_dep_free(BlDepTracker *d)
{
    if (!d)
        return;
    g_free(d->slots);
    g_hash_table_destroy(d->tables);
    g_free(d);
}

static Slot *find(BlDepTracker *d, guint64 key)
{
    guint64 i = (key ^ (key >> 29)) & d->mask;
    while (d->slots[i].seq && d->slots[i].key != key)
        i = (i + 1) & d->mask;
    return &d->slots[i];
}

guint64 bl_dep_add(BlDepTracker *d, const BlTrx *t)
{
    if (bl_trx_is_barrier(t)) {
        guint64 dep = t->seq - 1;
        d->barrier = t->seq;
        return dep;
    }
    if (d->used + t->keys->len > d->limit) {
        memset(d->slots, 0, (d->mask + 1) * sizeof(Slot));
        d->used = 0;
        d->barrier = t->seq - 1;
    }
    guint64 dep = d->barrier;
    /* tables: rows with keys share a table, a write of the whole table
     * (no usable key) excludes every other writer of it */
    for (guint i = 0; t->table_keys && i < t->table_keys->len; i++) {
        guint64 tk = g_array_index(t->table_keys, guint64, i);
        guint64 base = tk & ~G_GUINT64_CONSTANT(1);
        TableWriters *w = g_hash_table_lookup(d->tables, &base);
        if (!w) {
            guint64 *key = g_new(guint64, 1);
            *key = base;
            w = g_new0(TableWriters, 1);
            g_hash_table_insert(d->tables, key, w);
        }
        guint64 before = (tk & 1) ? MAX(w->any, w->excl) : w->excl;
        if (before < t->seq)
            dep = MAX(dep, before);
        w->any = t->seq;
        if (tk & 1)
            w->excl = t->seq;
    }
    const guint64 *k = (const guint64 *)(gconstpointer)t->keys->data;
    for (guint i = 0; i < t->keys->len; i++) {
        Slot *s = find(d, k[i]);
        if (s->seq) {
            if (s->seq > dep && s->seq < t->seq)
                dep = s->seq;
        } else {
            s->key = k[i];
            d->used++;
        }
        s->seq = t->seq;
    }
    return dep;
}

void bl_hint_init(BlHintTracker *h)
{
    memset(h, 0, sizeof *h);
}

guint64 bl_hint_dep(BlHintTracker *h, const BlTrx *t, gboolean new_file)
{
    guint64 serial = t->seq - 1;
    const BlGtid *g = &t->gtid;
    guint64 dep = serial;
    if ((g->kind == BL_GTID_MYSQL || g->kind == BL_GTID_ANONYMOUS) && g->has_logical_clock &&
        g->sequence_number > 0 && g->last_committed >= 0 && g->last_committed < g->sequence_number) {
        /* sequence_number counts from 1 in each file: map it to our seq.
         * A restart of the clock (new file) depends on all before it. */
        guint64 sn = (guint64)g->sequence_number;
        if (new_file || g->sequence_number <= h->prev_sequence_number || sn > t->seq)
            h->base = sn <= t->seq ? t->seq - sn : serial;
        if (h->base + sn == t->seq) /* numbering without gaps: the hint maps */
            dep = MAX(h->base, MIN(serial, h->base + (guint64)g->last_committed));
        h->prev_sequence_number = g->sequence_number;
    } else if (g->kind == BL_GTID_MARIADB && (g->flags2 & BL_FL_GROUP_COMMIT_ID) &&
               !(g->flags2 & BL_FL_DDL)) {
        if (h->prev_has_commit_id && g->commit_id == h->prev_commit_id && h->prev_seq == serial &&
            !new_file)
            dep = h->group_dep;
        else
            h->group_dep = serial;
        h->prev_commit_id = g->commit_id;
        h->prev_has_commit_id = TRUE;
    } else {
        h->prev_has_commit_id = FALSE;
    }
    h->prev_seq = t->seq;
    return dep;
}

#define RING (1u << 20)

struct BlLevels {
    guint32 *prefix_max; /* prefix max level at seq, seq % RING */
    guint64 last_seq;
    guint32 max;
};

BlLevels *bl_levels_new(void)
{
    BlLevels *l = g_new0(BlLevels, 1);
    l->prefix_max = g_new0(guint32, RING);
    return l;
}

void bl_levels_free(BlLevels *l)
{
    if (!l)
        return;
    g_free(l->prefix_max);
    g_free(l);
}

void bl_levels_add(BlLevels *l, guint64 seq, guint64 dep)
{
    g_assert(seq == l->last_seq + 1 && dep < seq);
    guint32 base;
    if (dep == 0)
        base = 0;
    else if (seq - dep < RING)
        base = l->prefix_max[dep % RING];
    else /* older than the window: the oldest kept value is an upper bound */
        base = l->prefix_max[(seq - RING + 1) % RING];
    guint32 level = base + 1;
    if (level > l->max)
        l->max = level;
    l->prefix_max[seq % RING] = l->max;
    l->last_seq = seq;
}

guint64 bl_levels_critical_path(const BlLevels *l)
{
    return l->max;
}
