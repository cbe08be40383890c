/* binlogfs — ThreadSanitizer annotations for glib's synchronisation, linked
 * into the `make tsan` binaries only (never into a normal build).
 *
 * WHY: glib (Debian's, not built with -fsanitize=thread) implements GMutex
 * and GCond with its own atomics and futex(2), and GAsyncQueue on top of
 * them. TSan sees none of it, so every access guarded by a GMutex or handed
 * over through a GAsyncQueue looks unsynchronised: a plain `make tsan`
 * reports ~100 races per replay, nearly all in binlogfs frames (the engine
 * lock, the commit order, jobs passed feeder -> scheduler -> applier).
 * Suppressing those would mean suppressing the engine itself, real races
 * included. Instead this file tells TSan what glib does, with the public
 * annotation interface (<sanitizer/tsan_interface.h>), so that TSan checks
 * binlogfs against the synchronisation glib actually provides:
 *  - g_mutex_lock/trylock/unlock: a mutex (as TSan's pthread_mutex_*
 *    interceptors model it: happens-before, lock sets, lock order);
 *  - g_cond_wait/g_cond_wait_until: the mutex is released during the wait
 *    and held again on return (as TSan's pthread_cond_wait interceptor);
 *  - g_async_queue_push -> a pop that returns an element: release/acquire
 *    on the queue (everything before a push happens before whatever follows
 *    a pop of the same queue);
 *  - g_once_init_leave -> g_once_init_enter: what the initialising thread
 *    did happens before whatever a thread that finds the location set does.
 *    glib's macro tests the location with an inline atomic load (an acquire
 *    TSan sees) and calls the function only while it is 0; the store that
 *    sets it is inside glib, hence the release here, made before it;
 *  - g_bytes_unref: every unref of a GBytes happens before the one that
 *    frees it (glib's atomic reference count orders them; binlogfs shares
 *    a file's Format_description, a GBytes, between its jobs and the
 *    appliers' sessions, and whichever applier lets go last frees it).
 *
 * HOW: a binlogfs binary calls these functions through its own definitions
 * here, which annotate and call glib's through dlsym(RTLD_NEXT). glib's
 * calls to itself are bound inside libglib and do not come here (nor need
 * to: TSan does not see glib's own memory accesses).
 * Only the functions binlogfs uses are wrapped (grep g_mutex_, g_cond_,
 * g_async_queue_, g_once_, g_bytes_unref in replay/ fs/ tests/unit/).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>
#include <sanitizer/tsan_interface.h>

static void *resolve(void **slot, const char *name)
{
    void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (p)
        return p;
    p = dlsym(RTLD_NEXT, name);
    if (!p) {
        fprintf(stderr, "tests/tsan/glib-sync.c: %s not found in glib\n", name);
        abort();
    }
    __atomic_store_n(slot, p, __ATOMIC_RELEASE);
    return p;
}

/* glib's function NAME, of type TYPE. Resolved at the first call (libraries'
 * constructors call some of these before this binary's could run); threads
 * racing for it store the same value, atomically. */
#define REAL(type, name)                                                                            \
    ({                                                                                              \
        static void *slot_;                                                                         \
        (type)resolve(&slot_, #name);                                                               \
    })

void g_mutex_lock(GMutex *m)
{
    __tsan_mutex_pre_lock(m, 0);
    REAL(void (*)(GMutex *), g_mutex_lock)(m);
    __tsan_mutex_post_lock(m, 0, 0);
}

gboolean g_mutex_trylock(GMutex *m)
{
    __tsan_mutex_pre_lock(m, __tsan_mutex_try_lock);
    gboolean ok = REAL(gboolean (*)(GMutex *), g_mutex_trylock)(m);
    __tsan_mutex_post_lock(m, __tsan_mutex_try_lock | (ok ? 0 : __tsan_mutex_try_lock_failed), 0);
    return ok;
}

void g_mutex_unlock(GMutex *m)
{
    __tsan_mutex_pre_unlock(m, 0);
    REAL(void (*)(GMutex *), g_mutex_unlock)(m);
    __tsan_mutex_post_unlock(m, 0);
}

/* The wait releases the mutex and takes it again before it returns. */
static void wait_unlocks(GMutex *m)
{
    __tsan_mutex_pre_unlock(m, 0);
    __tsan_mutex_post_unlock(m, 0);
}

static void wait_relocks(GMutex *m)
{
    __tsan_mutex_pre_lock(m, 0);
    __tsan_mutex_post_lock(m, 0, 0);
}

void g_cond_wait(GCond *c, GMutex *m)
{
    wait_unlocks(m);
    REAL(void (*)(GCond *, GMutex *), g_cond_wait)(c, m);
    wait_relocks(m);
}

gboolean g_cond_wait_until(GCond *c, GMutex *m, gint64 end_time)
{
    wait_unlocks(m);
    gboolean r = REAL(gboolean (*)(GCond *, GMutex *, gint64), g_cond_wait_until)(c, m, end_time);
    wait_relocks(m);
    return r;
}

void g_async_queue_push(GAsyncQueue *q, gpointer data)
{
    __tsan_release(q);
    REAL(void (*)(GAsyncQueue *, gpointer), g_async_queue_push)(q, data);
}

gpointer g_async_queue_pop(GAsyncQueue *q)
{
    gpointer d = REAL(gpointer (*)(GAsyncQueue *), g_async_queue_pop)(q);
    __tsan_acquire(q);
    return d;
}

gpointer g_async_queue_try_pop(GAsyncQueue *q)
{
    gpointer d = REAL(gpointer (*)(GAsyncQueue *), g_async_queue_try_pop)(q);
    if (d)
        __tsan_acquire(q);
    return d;
}

gpointer g_async_queue_timeout_pop(GAsyncQueue *q, guint64 timeout)
{
    gpointer d = REAL(gpointer (*)(GAsyncQueue *, guint64), g_async_queue_timeout_pop)(q, timeout);
    if (d)
        __tsan_acquire(q);
    return d;
}

/* In parentheses: glib.h also defines these names as macros. */
gboolean(g_once_init_enter)(volatile void *location)
{
    gboolean first = REAL(gboolean (*)(volatile void *), g_once_init_enter)(location);
    if (!first) /* another thread initialised it (and called leave) meanwhile */
        __tsan_acquire((void *)location);
    return first;
}

void(g_once_init_leave)(volatile void *location, gsize result)
{
    __tsan_release((void *)location);
    REAL(void (*)(volatile void *, gsize), g_once_init_leave)(location, result);
}

/* The unref that frees a GBytes must have acquired what every earlier unref
 * of it released, but only glib knows which one frees. So the unrefs are
 * put in one order (a lock) and each one, before it decrements, acquires
 * what the earlier ones released and releases for the later ones: the last
 * has acquired from all. The lock is taken with glib's own functions, not
 * the annotated ones above, so that TSan sees no synchronisation between
 * threads that unref unrelated GBytes. glib does not call this wrapper from
 * inside an unref (its calls to itself stay in libglib): no recursion. */
void g_bytes_unref(GBytes *b)
{
    static GMutex order; /* a static GMutex needs no g_mutex_init */
    REAL(void (*)(GMutex *), g_mutex_lock)(&order);
    if (b) {
        __tsan_acquire(b);
        __tsan_release(b);
    }
    REAL(void (*)(GBytes *), g_bytes_unref)(b);
    REAL(void (*)(GMutex *), g_mutex_unlock)(&order);
}
