/* binlogfs — the scheduler thread: the one place that decides which job
 * runs when, and on which applier.
 *
 * DESIGN: jobs arrive from the feeder in seq order and wait in `pending`.
 * The head may start when every job it depends on has committed
 * (dep <= committed) and an applier is free (for a pinned job — temporary
 * tables — the applier that owns its source thread); when none is free,
 * it is queued behind the running job that will be done first (at most
 * one job waits so per applier), so appliers go from one job to the next
 * without a round trip through this thread. Jobs start in seq order;
 * they commit in seq order too (the appliers wait for their turn on
 * BlOrder), so the target always holds a prefix of the source's history.
 * (The earliest job not committed is always the one its applier runs, so
 * queueing never blocks the commit order.)
 * Where the target keeps no binlog, an applier is given a batch: the head
 * and the consecutive jobs after it that are ready by the time the batch
 * runs them (job.h), committed as one target transaction; one message
 * comes back per batch, as per job.
 * Invariants: only this thread assigns jobs and changes the state; it
 * never talks to the server; it learns everything from its inbox.
 */
#include <string.h>

#include "applier.h"
#include "engine-private.h"

/* Units (jobs or batches) an applier holds at once: the one it runs and
 * the next, so that it starts the next without waiting for this thread. */
#define QUEUE_DEPTH 2

typedef struct {
    BlEngine *e;
    GQueue pending;            /* Job*, seq order */
    guint load[BL_MAX_WORKERS];  /* units given to each applier, not done */
    guint64 last_seq[BL_MAX_WORKERS]; /* the last job given to each */
    guint in_flight;
    GHashTable *pins;          /* source thread id -> applier index + 1 */
    gboolean feed_ended;
    gboolean failed;
} Sched;

void bl_sched_send(BlEngine *e, MsgKind kind, Job *job, guint worker, const char *error)
{
    Msg *m = g_new0(Msg, 1);
    m->kind = kind;
    m->job = job;
    m->worker = worker;
    m->error = g_strdup(error);
    g_async_queue_push(e->sched_inbox, m);
}

static guint64 committed(BlEngine *e)
{
    g_mutex_lock(&e->order.lock);
    guint64 c = e->order.committed;
    g_mutex_unlock(&e->order.lock);
    return c;
}

/* Makes sure appliers 0..wanted-1 exist (connection errors are recorded
 * and leave the applier missing). */
static void ensure_appliers(Sched *s, guint wanted)
{
    BlEngine *e = s->e;
    for (guint i = 0; i < wanted; i++) {
        if (e->appliers[i])
            continue;
        GError *error = NULL;
        /* published atomically: appliers at work read the array (to
         * wake each other) */
        g_atomic_pointer_set(&e->appliers[i], bl_applier_new(e, i, &error));
        if (!e->appliers[i]) {
            bl_engine_record_error(e, "worker %u: %s", i, error->message);
            g_error_free(error);
            break;
        }
    }
}

static int pick_applier(Sched *s, Job *j)
{
    BlEngine *e = s->e;
    guint wanted = MIN(e->workers_wanted, BL_MAX_WORKERS);
    if (j->pinned) {
        gpointer v = g_hash_table_lookup(s->pins, GUINT_TO_POINTER(j->pin_thread));
        if (v) {
            guint i = GPOINTER_TO_UINT(v) - 1;
            return s->load[i] ? -1 : (int)i;
        }
    }
    for (guint i = 0; i < wanted; i++) {
        if (e->appliers[i] && !s->load[i]) {
            if (j->pinned)
                g_hash_table_insert(s->pins, GUINT_TO_POINTER(j->pin_thread), GUINT_TO_POINTER(i + 1));
            return (int)i;
        }
    }
    if (j->pinned)
        return -1;
    /* none idle: queue it behind the job that will be done first */
    int best = -1;
    for (guint i = 0; i < wanted; i++)
        if (e->appliers[i] && s->load[i] < QUEUE_DEPTH && (best < 0 || s->last_seq[i] < s->last_seq[best]))
            best = (int)i;
    return best;
}

/* Appends to `first` (just taken from pending) the pending jobs that may
 * join it in one target transaction (job.h), at most max in all: each
 * batchable, of the same file format, and ready once the jobs before it
 * in the batch have run: every job it depends on outside the batch has
 * committed (c). Bounded in bytes too. */
static void take_batch(Sched *s, Job *first, guint max, guint64 c)
{
    if (max <= 1 || !bl_job_batchable(first))
        return;
    Job *last = first;
    gsize bytes = first->bytes;
    for (guint n = 1; n < max && !g_queue_is_empty(&s->pending); n++) {
        Job *k = g_queue_peek_head(&s->pending);
        if (!bl_job_batchable(k) || k->seq != last->seq + 1 || bytes + k->bytes > BL_BATCH_MAX_BYTES ||
            !(k->fde == first->fde || (k->fde && first->fde && g_bytes_equal(k->fde, first->fde))))
            break;
        /* k needs every job <= k->dep committed: those from first on run
         * before it in the batch */
        if (k->dep > c && first->seq - 1 > c)
            break;
        g_queue_pop_head(&s->pending);
        last->batch_next = k;
        last = k;
        bytes += k->bytes;
    }
}

static void dispatch(Sched *s)
{
    BlEngine *e = s->e;
    if (s->failed)
        return;
    g_mutex_lock(&e->lock);
    gboolean paused = e->paused, down = e->shutting_down;
    g_mutex_unlock(&e->lock);
    if (paused || down)
        return;
    guint64 c = committed(e);
    while (!g_queue_is_empty(&s->pending)) {
        Job *j = g_queue_peek_head(&s->pending);
        if (j->dep > c)
            break;
        int i = pick_applier(s, j);
        if (i < 0)
            break;
        g_queue_pop_head(&s->pending);
        take_batch(s, j, bl_applier_batch_max(e->appliers[i]), c);
        s->load[i]++;
        s->last_seq[i] = j->seq;
        s->in_flight++;
        bl_applier_push(e->appliers[i], j);
    }
}

static void update_state(Sched *s)
{
    BlEngine *e = s->e;
    BlEngineState st;
    g_mutex_lock(&e->lock);
    gboolean quiet = s->in_flight == 0 && g_queue_is_empty(&s->pending);
    if (s->failed)
        st = s->in_flight == 0 ? BL_STATE_FAILED : BL_STATE_RUNNING;
    else if (e->paused)
        st = BL_STATE_PAUSED;
    else if (quiet && s->feed_ended)
        st = e->feed_end_state;
    else if (quiet && e->feeder_waiting)
        st = e->waiting_for ? BL_STATE_WAITING : BL_STATE_IDLE;
    else
        st = BL_STATE_RUNNING;
    if (st != e->state) {
        e->state = st;
        g_cond_broadcast(&e->changed);
    }
    g_mutex_unlock(&e->lock);
}

/* Makes the appliers that wait for their turn with jobs after `seq` roll
 * back: `seq` will never commit. */
static void abort_after(BlEngine *e, guint64 seq)
{
    g_mutex_lock(&e->order.lock);
    e->order.abort_from = seq;
    e->order.abort_gen++;
    e->order.failed_seq = seq;
    g_cond_broadcast(&e->order.cond);
    g_mutex_unlock(&e->order.lock);
    bl_applier_wake(e);
}

static void handle(Sched *s, Msg *m)
{
    BlEngine *e = s->e;
    switch (m->kind) {
    case MSG_JOB:
        g_queue_push_tail(&s->pending, m->job);
        break;
    case MSG_DONE:
        s->load[m->worker]--;
        s->in_flight--;
        break;
    case MSG_FAILED:
        s->load[m->worker]--;
        s->in_flight--;
        if (m->error) {
            s->failed = TRUE;
            abort_after(e, m->job->seq);
            bl_engine_hold(e, m->job);
            bl_engine_record_error(e, "%s", m->error);
        }
        bl_engine_release(e, m->job);
        bl_job_free(m->job);
        break;
    case MSG_FEED_END:
        s->feed_ended = TRUE;
        if (m->error) {
            g_mutex_lock(&e->lock);
            gboolean failed_feed = e->feed_end_state == BL_STATE_FAILED;
            g_mutex_unlock(&e->lock);
            if (failed_feed)
                bl_engine_record_error(e, "%s", m->error);
        }
        break;
    case MSG_IDLE_WORKER:
    case MSG_WAKE:
        break;
    }
}

gpointer bl_scheduler_main(gpointer data)
{
    Sched s = { .e = data };
    BlEngine *e = s.e;
    g_queue_init(&s.pending);
    s.pins = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (;;) {
        /* the messages waiting (a bounded number: the feeder may keep
         * sending), then one decision: a batch's commits arrive as one
         * message per job */
        guint n = 0;
        for (Msg *m = g_async_queue_timeout_pop(e->sched_inbox, 200 * 1000); m;
             m = ++n < 256 ? g_async_queue_try_pop(e->sched_inbox) : NULL) {
            handle(&s, m);
            g_free(m->error);
            g_free(m);
        }
        g_mutex_lock(&e->lock);
        guint wanted = e->workers_wanted;
        gboolean down = e->shutting_down;
        g_mutex_unlock(&e->lock);
        if (down && s.in_flight == 0)
            break;
        ensure_appliers(&s, wanted);
        dispatch(&s);
        update_state(&s);
    }
    Job *j;
    while ((j = g_queue_pop_head(&s.pending)) != NULL) {
        bl_engine_release(e, j);
        bl_job_free(j);
    }
    g_hash_table_destroy(s.pins);
    return NULL;
}
