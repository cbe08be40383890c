/* binlogfs — jobs and their parts (see job.h). */
#include <string.h>
#include <unistd.h>

#include "job.h"

Job *bl_job_new(void)
{
    Job *j = g_new0(Job, 1);
    j->parts = g_ptr_array_new_with_free_func((GDestroyNotify)bl_part_free);
    return j;
}

void bl_job_free(Job *j)
{
    if (!j)
        return;
    g_ptr_array_unref(j->parts);
    if (j->head)
        g_ptr_array_unref(j->head);
    bl_trx_free(j->trx);
    if (j->stream) {
        Part *p;
        while ((p = g_async_queue_try_pop(j->stream)) != NULL)
            bl_part_free(p);
        g_async_queue_unref(j->stream);
    }
    g_free(j->file);
    g_free(j->annotate);
    if (j->fde)
        g_bytes_unref(j->fde);
    g_free(j);
}

Part *bl_part_new(PartKind kind)
{
    Part *p = g_new0(Part, 1);
    p->kind = kind;
    p->data = g_byte_array_new();
    return p;
}

void bl_part_free(Part *p)
{
    if (!p)
        return;
    g_byte_array_unref(p->data);
    if (p->load_file) {
        unlink(p->load_file);
        g_free(p->load_file);
    }
    g_free(p);
}

void bl_job_add_rows(Job *j, const guint8 *data, gsize len)
{
    Part *last = j->parts->len ? g_ptr_array_index(j->parts, j->parts->len - 1) : NULL;
    if (!last || last->kind != PART_ROWS) {
        last = bl_part_new(PART_ROWS);
        g_ptr_array_add(j->parts, last);
    }
    g_byte_array_append(last->data, data, (guint)len);
    if (j->streaming)
        j->stream_pending += len;
    else
        j->bytes += len;
}

Part *bl_job_add_sql(Job *j, const char *sql, gssize len)
{
    Part *p = bl_part_new(PART_SQL);
    g_byte_array_append(p->data, (const guint8 *)sql, (guint)(len < 0 ? (gssize)strlen(sql) : len));
    g_ptr_array_add(j->parts, p);
    if (j->streaming)
        j->stream_pending += p->data->len + sizeof *p;
    else
        j->bytes += p->data->len;
    return p;
}

Part *bl_job_add_query(Job *j, const QueryCtx *ctx, const char *sql, gsize len)
{
    Part *p = bl_part_new(PART_QUERY);
    p->ctx = *ctx;
    g_byte_array_append(p->data, (const guint8 *)sql, (guint)len);
    g_ptr_array_add(j->parts, p);
    if (j->streaming)
        j->stream_pending += len + sizeof *p;
    else
        j->bytes += len + sizeof *p;
    return p;
}

gboolean bl_job_batchable(const Job *j)
{
    if (!j->trx || j->kind_hint != BL_TRX_ROWS || j->streaming || j->barrier || j->standalone ||
        j->xa_prepare || j->non_transactional || j->pinned || j->rollback || j->abort)
        return FALSE;
    for (guint i = 0; i < j->parts->len; i++)
        if (((const Part *)g_ptr_array_index(j->parts, i))->kind != PART_ROWS)
            return FALSE;
    return TRUE;
}
