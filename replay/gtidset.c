/* binlogfs — GTID sets (--exclude-gtids and the control file's), parsed
 * from what the user typed.
 *
 * DESIGN: a set is a hash from (domain, server) or (uuid, tag) to a sorted
 * array of disjoint seq/gno ranges: membership is one hash lookup and one
 * binary search.
 * Invariant: the parser reads only its NUL-terminated input and never
 * aborts on it; it returns the set, or NULL with BL_ERROR_INVALID and a
 * one-line message quoting the entry.
 */
#include <string.h>

#include <binlogfs/error.h>
#include <binlogfs/spec.h>

#include "spec-private.h"

typedef struct {
    BlGtidKind kind;
    guint32 domain_id, server_id;
    guint8 uuid[16];
    char tag[BL_SPEC_TAG_MAX + 1];
} SetKey;

typedef struct {
    guint64 lo, hi;
} Range;

typedef struct {
    SetKey key;
    GArray *ranges; /* Range, sorted and disjoint once the set is built */
} SetEntry;

struct BlGtidSet {
    GHashTable *entries; /* SetKey* -> SetEntry* (the key lives in the entry) */
};

static guint set_key_hash(gconstpointer p)
{
    const SetKey *k = p;
    guint h = 2166136261u;
#define MIX(b) (h = (h ^ (guint8)(b)) * 16777619u)
    MIX(k->kind);
    if (k->kind == BL_GTID_MARIADB) {
        for (int i = 0; i < 4; i++) {
            MIX(k->domain_id >> (8 * i));
            MIX(k->server_id >> (8 * i));
        }
    } else {
        for (int i = 0; i < 16; i++)
            MIX(k->uuid[i]);
        for (const char *t = k->tag; *t; t++)
            MIX(*t);
    }
#undef MIX
    return h;
}

static gboolean set_key_equal(gconstpointer pa, gconstpointer pb)
{
    const SetKey *a = pa, *b = pb;
    if (a->kind != b->kind)
        return FALSE;
    if (a->kind == BL_GTID_MARIADB)
        return a->domain_id == b->domain_id && a->server_id == b->server_id;
    return memcmp(a->uuid, b->uuid, 16) == 0 && strcmp(a->tag, b->tag) == 0;
}

static void set_entry_free(gpointer p)
{
    SetEntry *e = p;
    g_array_unref(e->ranges);
    g_free(e);
}

static void set_add(BlGtidSet *set, const SetKey *key, guint64 lo, guint64 hi)
{
    SetEntry *e = g_hash_table_lookup(set->entries, key);
    if (!e) {
        e = g_new0(SetEntry, 1);
        e->key = *key;
        e->ranges = g_array_new(FALSE, FALSE, sizeof(Range));
        g_hash_table_insert(set->entries, &e->key, e);
    }
    Range r = { lo, hi };
    g_array_append_val(e->ranges, r);
}

static gint range_cmp(gconstpointer pa, gconstpointer pb)
{
    const Range *a = pa, *b = pb;
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Sorts and merges overlapping or adjacent ranges. */
static void set_entry_normalize(SetEntry *e)
{
    GArray *r = e->ranges;
    if (r->len < 2)
        return;
    g_array_sort(r, range_cmp);
    guint w = 0;
    for (guint i = 1; i < r->len; i++) {
        Range *cur = &g_array_index(r, Range, w), *next = &g_array_index(r, Range, i);
        if (cur->hi == G_MAXUINT64 || next->lo <= cur->hi + 1) {
            cur->hi = MAX(cur->hi, next->hi);
        } else {
            g_array_index(r, Range, ++w) = *next;
        }
    }
    g_array_set_size(r, w + 1);
}

#define SET_FORMS                                                                                \
    "expected D-S-N or D-S-N1-N2 (MariaDB) or UUID[:TAG]:N[-M][:...] (MySQL), "                 \
    "separated by commas"

static gboolean set_entry_invalid(GError **error, const char *entry, const char *reason)
{
    return bl_spec_invalid(error, "GTID set entry", entry, "%s; %s", reason, SET_FORMS);
}

static gboolean parse_set_mariadb(BlGtidSet *set, const char *entry, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(entry, "-", -1);
    guint n = g_strv_length(parts);
    BlGtid g = { 0 };
    guint64 hi;
    if (n != 3 && n != 4)
        return set_entry_invalid(error, entry, "a MariaDB entry is D-S-N or D-S-N1-N2");
    if (!bl_spec_mariadb_parts(entry, "GTID set entry", parts, &g, error))
        return FALSE;
    hi = g.seq_no;
    if (n == 4) {
        if (!bl_spec_all_digits(parts[3], strlen(parts[3])) || !bl_spec_digits_u64(parts[3], strlen(parts[3]), &hi))
            return set_entry_invalid(error, entry, "the range end is not a 64-bit decimal number");
        if (hi < g.seq_no)
            return set_entry_invalid(error, entry, "the range ends before it starts");
    }
    SetKey key = { .kind = BL_GTID_MARIADB, .domain_id = g.domain_id, .server_id = g.server_id };
    set_add(set, &key, g.seq_no, hi);
    return TRUE;
}

/* UUID then ':'-separated intervals "N" / "N-M", with tags between them
 * (MySQL 8.4: "uuid:1-5:mytag:1-3"). */
static gboolean parse_set_mysql(BlGtidSet *set, const char *entry, GError **error)
{
    g_auto(GStrv) segs = g_strsplit(entry, ":", -1);
    SetKey key = { .kind = BL_GTID_MYSQL };
    gboolean tag_pending = FALSE;
    if (!bl_spec_parse_uuid(segs[0], strlen(segs[0]), key.uuid))
        return set_entry_invalid(error, entry, "bad UUID: expected 8-4-4-4-12 hexadecimal digits");
    for (guint i = 1; segs[i]; i++) {
        char *s = g_strstrip(segs[i]);
        if (*s == '\0')
            return set_entry_invalid(error, entry, "empty element between ':'");
        if (!g_ascii_isdigit(*s)) {
            if (tag_pending)
                return set_entry_invalid(error, entry, "a tag must be followed by an interval");
            if (!bl_spec_parse_tag(s, strlen(s), key.tag))
                return set_entry_invalid(error, entry, "bad tag: " BL_SPEC_TAG_FORM);
            tag_pending = TRUE;
            continue;
        }
        const char *dash = strchr(s, '-');
        guint64 lo, hi;
        gsize nlo = dash ? (gsize)(dash - s) : strlen(s);
        if (!bl_spec_parse_gno(entry, "GTID set entry", s, nlo, &lo, error))
            return FALSE;
        hi = lo;
        if (dash && !bl_spec_parse_gno(entry, "GTID set entry", dash + 1, strlen(dash + 1), &hi, error))
            return FALSE;
        if (hi < lo)
            return set_entry_invalid(error, entry, "an interval ends before it starts");
        set_add(set, &key, lo, hi);
        tag_pending = FALSE;
    }
    /* The entry has a ':' so at least one element: an interval or a tag. */
    if (tag_pending)
        return set_entry_invalid(error, entry, "a tag must be followed by an interval");
    return TRUE;
}

BlGtidSet *bl_gtid_set_parse(const char *text, GError **error)
{
    BlGtidSet *set = g_new0(BlGtidSet, 1);
    set->entries = g_hash_table_new_full(set_key_hash, set_key_equal, NULL, set_entry_free);
    g_autofree char *all = g_strstrip(g_strdup(text ? text : ""));
    if (*all == '\0')
        return set;
    g_auto(GStrv) entries = g_strsplit(all, ",", -1);
    for (guint i = 0; entries[i]; i++) {
        char *e = g_strstrip(entries[i]);
        const char *colon = strchr(e, ':');
        gboolean ok;
        if (*e == '\0')
            ok = bl_spec_invalid(error, "GTID set", all,
                                 "an entry is empty (two commas, or a comma at an end)");
        else if (colon && bl_spec_uuid_like(e, (gsize)(colon - e)))
            ok = parse_set_mysql(set, e, error);
        else if (!colon && g_ascii_isdigit(*e) && strspn(e, "0123456789-") == strlen(e))
            ok = parse_set_mariadb(set, e, error);
        else if (!colon && bl_spec_uuid_like(e, strlen(e)))
            ok = set_entry_invalid(error, e, "the UUID has no interval");
        else if (!colon && g_ascii_isdigit(*e))
            ok = parse_set_mariadb(set, e, error);
        else
            ok = set_entry_invalid(error, e, "neither a MariaDB nor a MySQL GTID");
        if (!ok) {
            bl_gtid_set_free(set);
            return NULL;
        }
    }
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, set->entries);
    while (g_hash_table_iter_next(&it, NULL, &v))
        set_entry_normalize(v);
    return set;
}

gboolean bl_gtid_set_contains(const BlGtidSet *set, const BlGtid *g)
{
    SetKey key;
    guint64 x;
    if (!set || !g)
        return FALSE;
    memset(&key, 0, sizeof key);
    key.kind = g->kind;
    if (g->kind == BL_GTID_MARIADB) {
        key.domain_id = g->domain_id;
        key.server_id = g->server_id;
        x = g->seq_no;
    } else if (g->kind == BL_GTID_MYSQL && g->gno > 0) {
        memcpy(key.uuid, g->uuid, 16);
        for (gsize i = 0; i < BL_SPEC_TAG_MAX && g->tag[i]; i++)
            key.tag[i] = g_ascii_tolower(g->tag[i]);
        x = (guint64)g->gno;
    } else {
        return FALSE;
    }
    const SetEntry *e = g_hash_table_lookup(set->entries, &key);
    if (!e)
        return FALSE;
    /* The last range with lo <= x. */
    guint lo = 0, hi = e->ranges->len;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (g_array_index(e->ranges, Range, mid).lo <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && x <= g_array_index(e->ranges, Range, lo - 1).hi;
}

void bl_gtid_set_free(BlGtidSet *set)
{
    if (!set)
        return;
    g_hash_table_unref(set->entries);
    g_free(set);
}

