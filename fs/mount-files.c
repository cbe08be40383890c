/* binlogfs — the mount's synthetic files: status, status.json, progress,
 * errors, metrics, wait and control/{state,workers,start-at,stop-at}
 * (contract: DESIGN.md, mount layout).
 *
 * DESIGN: a file's content is rendered when it is opened, from one
 * session snapshot (status.c), and kept in the handle, so that reads at
 * any offset see one consistent text; handles are direct_io, so every
 * open shows fresh content whatever the kernel cached. getattr renders
 * too, to report the current size. Nothing here waits for the database
 * except a read of `wait`, which blocks (a FUSE thread) until the session
 * settles, checking for an interrupt or an unmount several times a
 * second.
 * A write to a control file is one complete value (trimmed, so `echo`'s
 * newline does not matter), applied at once: the write fails with EINVAL
 * when the session refuses it, and the session has added the reason to
 * `errors`. Truncation is accepted (`echo x > control/state` opens with
 * O_TRUNC); truncating start-at or stop-at without writing (`: > f`)
 * clears the setting.
 */
#define G_LOG_DOMAIN "binlogfs-mount"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "mount.h"
#include "status.h"


#define WAIT_TICK_US (250 * 1000)
#define CONTROL_MAX 4096

static int apply(FsMount *m, int node, const char *value);

typedef enum {
    N_STATUS,
    N_STATUS_JSON,
    N_PROGRESS,
    N_ERRORS,
    N_METRICS,
    N_WAIT,
    N_STATE,
    N_WORKERS,
    N_START_AT,
    N_STOP_AT,
    N_COUNT
} Node;

static const struct {
    const char *path;
    mode_t mode;
} nodes[N_COUNT] = {
    [N_STATUS] = { "/status", 0444 },
    [N_STATUS_JSON] = { "/status.json", 0444 },
    [N_PROGRESS] = { "/progress", 0444 },
    [N_ERRORS] = { "/errors", 0444 },
    [N_METRICS] = { "/metrics", 0444 },
    [N_WAIT] = { "/wait", 0444 },
    [N_STATE] = { "/control/state", 0644 },
    [N_WORKERS] = { "/control/workers", 0644 },
    [N_START_AT] = { "/control/start-at", 0644 },
    [N_STOP_AT] = { "/control/stop-at", 0644 },
};

typedef struct {
    FsHandleKind kind; /* FS_HANDLE_FILE */
    Node node;
    GMutex lock;       /* a `wait` read fills `text` once */
    char *text;        /* the rendered content; NULL for `wait` until read */
    gsize len;
    gboolean truncated, written;
} FileHandle;

static int lookup(const char *path)
{
    for (int i = 0; i < N_COUNT; i++)
        if (!strcmp(path, nodes[i].path))
            return i;
    return -1;
}

static gboolean is_control(Node n)
{
    return n >= N_STATE;
}

gboolean fs_files_exists(const char *path)
{
    return lookup(path) >= 0;
}

void fs_files_fill_stat(FsMount *m, struct stat *st, mode_t mode, off_t size)
{
    memset(st, 0, sizeof *st);
    st->st_mode = mode;
    st->st_nlink = S_ISDIR(mode) ? 2 : 1;
    st->st_uid = m->uid;
    st->st_gid = m->gid;
    st->st_size = size;
    st->st_blksize = 4096;
    st->st_atim = m->mounted_at;
    if (S_ISDIR(mode)) {
        st->st_mtim = st->st_ctim = m->mounted_at;
    } else {
        /* the content is made at each open: it is always new */
        clock_gettime(CLOCK_REALTIME, &st->st_mtim);
        st->st_ctim = st->st_mtim;
    }
}

/* ---- rendering ---- */

static char *render(FsMount *m, Node node)
{
    BlSession *s = m->session;
    switch (node) {
    case N_STATE: {
        g_autoptr(BlSnapshot) snap = bl_session_snapshot(s);
        return g_strconcat(bl_engine_state_name(snap->state), "\n", NULL);
    }
    case N_WORKERS: {
        g_autoptr(BlSnapshot) snap = bl_session_snapshot(s);
        return g_strdup_printf("%u\n", snap->workers);
    }
    case N_START_AT: {
        g_autofree char *v = bl_session_start_at(s);
        return g_strconcat(v, "\n", NULL);
    }
    case N_STOP_AT: {
        g_autofree char *v = bl_session_stop_at(s);
        return g_strconcat(v, "\n", NULL);
    }
    case N_PROGRESS: {
        g_autoptr(BlSnapshot) snap = bl_session_snapshot(s);
        return fs_status_progress(snap);
    }
    case N_ERRORS: {
        g_autoptr(GPtrArray) errors = bl_session_errors(s);
        return fs_status_errors(errors);
    }
    case N_WAIT:
        return g_strdup("");
    default:
        break;
    }
    g_autoptr(BlSnapshot) snap = bl_session_snapshot(s);
    g_autoptr(GPtrArray) errors = bl_session_errors(s);
    g_autofree char *start_at = bl_session_start_at(s);
    g_autofree char *stop_at = bl_session_stop_at(s);
    FsStatusView v = {
        .snap = snap,
        .errors = errors,
        .start_at = start_at,
        .stop_at = stop_at,
        .uptime_s = (g_get_monotonic_time() - m->mounted_us) / G_USEC_PER_SEC,
    };
    if (node == N_STATUS)
        return fs_status_text(&v);
    if (node == N_STATUS_JSON)
        return fs_status_json(&v);
    g_assert(node == N_METRICS);
    return fs_status_metrics(&v);
}

const char *fs_files_handle_path(void *hp)
{
    return nodes[((FileHandle *)hp)->node].path;
}

int fs_files_getattr(FsMount *m, const char *path, struct stat *st)
{
    int n = lookup(path);
    if (n < 0)
        return -ENOENT;
    g_autofree char *text = render(m, (Node)n);
    fs_files_fill_stat(m, st, S_IFREG | nodes[n].mode, (off_t)strlen(text));
    return 0;
}

int fs_files_readdir(FsMount *m, const char *dir, void *buf, fuse_fill_dir_t filler)
{
    gsize dlen = strlen(dir);
    for (int i = 0; i < N_COUNT; i++) {
        const char *p = nodes[i].path;
        /* the entries directly in `dir` ("/" + name, or "/control/" + name) */
        const char *rest = dlen == 1 ? p + 1 : (!strncmp(p, dir, dlen) && p[dlen] == '/' ? p + dlen + 1 : NULL);
        if (!rest || strchr(rest, '/'))
            continue;
        struct stat st;
        fs_files_fill_stat(m, &st, S_IFREG | nodes[i].mode, 0);
        if (filler(buf, rest, &st, 0, 0))
            break;
    }
    return 0;
}

int fs_files_open(FsMount *m, const char *path, struct fuse_file_info *fi)
{
    int n = lookup(path);
    if (n < 0)
        return -ENOENT;
    if ((fi->flags & O_ACCMODE) != O_RDONLY && !is_control((Node)n))
        return -EACCES;
    FileHandle *h = g_new0(FileHandle, 1);
    h->kind = FS_HANDLE_FILE;
    h->node = (Node)n;
    g_mutex_init(&h->lock);
    if (h->node != N_WAIT) {
        h->text = render(m, h->node);
        h->len = strlen(h->text);
    }
    h->truncated = (fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY;
    fi->direct_io = 1;
    fi->keep_cache = 0;
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

/* Blocks until the session is idle (nothing being received or queued
 * either), stopped or failed; NULL when interrupted or unmounting (*rc
 * set). */
static char *wait_settled(FsMount *m, int *rc)
{
    for (;;) {
        BlEngineState st;
        if (bl_session_wait(m->session, WAIT_TICK_US, &st))
            return g_strconcat(bl_engine_state_name(st), "\n", NULL);
        if (fuse_interrupted()) {
            *rc = -EINTR;
            return NULL;
        }
        if (fs_mount_exiting()) {
            *rc = -ENOTCONN;
            return NULL;
        }
    }
}

int fs_files_read(FsMount *m, void *hp, char *buf, size_t size, off_t off)
{
    FileHandle *h = hp;
    g_mutex_lock(&h->lock);
    if (!h->text) {
        int rc = 0;
        h->text = wait_settled(m, &rc);
        if (!h->text) {
            g_mutex_unlock(&h->lock);
            return rc;
        }
        h->len = strlen(h->text);
    }
    size_t n = 0;
    if (off >= 0 && (gsize)off < h->len) {
        n = MIN(size, h->len - (gsize)off);
        memcpy(buf, h->text + off, n);
    }
    g_mutex_unlock(&h->lock);
    return (int)n;
}

/* `: > control/stop-at`: clears a point that is set (clearing one that
 * is not would restart replay for nothing) */
static int clear_point(FsMount *m, Node node)
{
    g_autofree char *now = node == N_START_AT ? bl_session_start_at(m->session) : bl_session_stop_at(m->session);
    return *now ? apply(m, node, "") : 0;
}

static int apply(FsMount *m, int node, const char *value)
{
    BlSession *s = m->session;
    GError *error = NULL;
    gboolean ok = FALSE;
    switch (node) {
    case N_STATE:
        ok = bl_session_command(s, value, &error);
        break;
    case N_WORKERS: {
        guint64 n;
        if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT, &n, NULL)) {
            bl_session_record_error(s, "control/workers: '%s' is not a number of workers (1..%d)", value,
                                    BL_MAX_WORKERS);
            g_message("control/workers: refused '%s'", value);
            return -EINVAL;
        }
        ok = bl_session_set_workers(s, (guint)n, &error);
        break;
    }
    case N_START_AT:
        ok = bl_session_set_start_at(s, value, &error);
        break;
    case N_STOP_AT:
        ok = bl_session_set_stop_at(s, value, &error);
        break;
    default:
        g_assert_not_reached();
    }
    const char *name = nodes[node].path + 1;
    if (ok) {
        g_message("%s: '%s'", name, value);
        return 0;
    }
    g_message("%s: refused '%s': %s", name, value, error->message);
    int rc = fs_errno(error);
    g_error_free(error);
    return rc;
}

int fs_files_write(FsMount *m, void *hp, const char *buf, size_t size)
{
    FileHandle *h = hp;
    if (!is_control(h->node))
        return -EBADF;
    h->written = TRUE;
    if (size > CONTROL_MAX || memchr(buf, '\0', size)) {
        bl_session_record_error(m->session, "%s: a value must be one line of text (at most %d bytes)",
                                nodes[h->node].path + 1, CONTROL_MAX);
        return -EINVAL;
    }
    g_autofree char *value = g_strstrip(g_strndup(buf, size));
    int rc = apply(m, h->node, value);
    return rc < 0 ? rc : (int)size;
}

int fs_files_truncate(FsMount *m, const char *path, off_t size, void *hp)
{
    FileHandle *h = hp;
    int n = h ? (int)h->node : lookup(path);
    if (n < 0)
        return -ENOENT;
    if (!is_control((Node)n))
        return -EACCES;
    if (h) {
        h->truncated = TRUE;
        return 0;
    }
    if (size == 0 && (n == N_START_AT || n == N_STOP_AT))
        return clear_point(m, (Node)n);
    return 0;
}

int fs_files_release(FsMount *m, void *hp)
{
    FileHandle *h = hp;
    if (h->truncated && !h->written && (h->node == N_START_AT || h->node == N_STOP_AT))
        clear_point(m, h->node);
    g_mutex_clear(&h->lock);
    g_free(h->text);
    g_free(h);
    return 0;
}
