/* binlogfs — binlogs/ in the mount: a passthrough onto SPOOL/binlogs,
 * and the rule that decides when a file is complete.
 *
 * DESIGN: what the user drops in is written straight to the spool (the
 * durable copy); the session hears of a file only when it is complete:
 *  - when the last handle open for writing on its name is released (cp,
 *    dd, `cat > f`, `cat >> f`), if it was created, written or truncated
 *    meanwhile: the data and the directory are fsynced first;
 *  - when it is renamed from a name beginning with "." to one that does
 *    not (rsync's temporary files), the directory fsynced first;
 *  - names beginning with "." are never handed over.
 * Names open for writing are tracked in FsMount.writers (one FsWriter per
 * name, counting its writable handles); the session is told
 * (bl_session_receiving) when a name starts and stops being written, so
 * that `wait` never says idle in the middle of a copy. A rename moves the
 * FsWriter to its new name; an unlink, or a rename over it, orphans it
 * (its file is gone from the namespace: never handed over).
 * Namespace changes (open/create, rename, unlink), the table and the
 * session calls they cause happen together under FsMount.lock, so that
 * the session hears of them in the order they happened (a RELEASE and a
 * RENAME of one rsync file arrive on different FUSE threads); data fsyncs
 * run outside it, directory fsyncs of renames and unlinks inside.
 * While a name (not a dot-name) is being written, an empty marker
 * SPOOL/incomplete/NAME exists (created durably before the first write):
 * if binlogfs stops in the middle of a copy (kill -9, a crash), the next
 * mount does not take the partial file for a complete one; it says so
 * in the errors, and a new copy (or rm) clears the marker.
 * A refused file (bl_session_add_file fails) stays in the spool: the
 * user may read it back or remove it; the close itself succeeds, the data
 * being durable.
 */
#define G_LOG_DOMAIN "binlogfs-mount"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <binlogfs/spec.h>

#include "mount.h"


struct FsWriter {
    char *name;       /* current name; NULL once orphaned */
    guint handles;    /* writable handles open */
    gboolean dirty;   /* created, written or truncated */
};

typedef struct {
    FsHandleKind kind; /* FS_HANDLE_SPOOL */
    int fd;
    FsWriter *w;       /* NULL for a read-only handle */
    gboolean wrote;    /* this handle changed the data: fsync at release */
} SpoolHandle;

static gboolean is_dot(const char *name)
{
    return name[0] == '.';
}

gboolean fs_spool_valid_name(const char *name)
{
    return name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..") && strlen(name) < 256;
}

gboolean fs_spool_open(FsMount *m, GError **error)
{
    m->binlogs = g_build_filename(m->spool, "binlogs", NULL);
    if (g_mkdir(m->binlogs, 0750) < 0 && errno != EEXIST) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "cannot create %s: %s", m->binlogs, g_strerror(e));
        return FALSE;
    }
    m->binlogs_fd = open(m->binlogs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m->binlogs_fd < 0) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "cannot open %s: %s", m->binlogs, g_strerror(e));
        return FALSE;
    }
    g_autofree char *incomplete = g_build_filename(m->spool, "incomplete", NULL);
    if ((g_mkdir(incomplete, 0700) < 0 && errno != EEXIST) ||
        (m->incomplete_fd = open(incomplete, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "cannot make %s: %s", incomplete, g_strerror(e));
        return FALSE;
    }
    g_mutex_init(&m->lock);
    m->writers = g_hash_table_new(g_str_hash, g_str_equal);
    return TRUE;
}

void fs_spool_close(FsMount *m)
{
    if (m->writers) {
        /* the FUSE loop has ended (a signal, or the kernel gone) with files
         * open for writing: their copies were cut short */
        GHashTableIter it;
        gpointer name;
        g_hash_table_iter_init(&it, m->writers);
        while (g_hash_table_iter_next(&it, &name, NULL))
            g_warning("%s: still being written at the unmount: not replayed until copied again", (char *)name);
        g_hash_table_destroy(m->writers);
        m->writers = NULL;
        g_mutex_clear(&m->lock);
    }
    if (m->binlogs_fd >= 0)
        close(m->binlogs_fd);
    if (m->incomplete_fd >= 0)
        close(m->incomplete_fd);
    m->binlogs_fd = m->incomplete_fd = -1;
    g_clear_pointer(&m->binlogs, g_free);
}

static void sync_dir(FsMount *m)
{
    if (fsync(m->binlogs_fd) < 0)
        g_warning("fsync %s: %s", m->binlogs, g_strerror(errno));
}

/* SPOOL/incomplete/NAME: made durably before NAME is first written;
 * removed once it is complete (or gone). Dot-names have none: they are
 * never handed over. */
static void mark_incomplete(FsMount *m, const char *name, gboolean on)
{
    if (is_dot(name))
        return;
    if (on) {
        int fd = openat(m->incomplete_fd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 || fsync(m->incomplete_fd) < 0)
            g_warning("%s: cannot mark it incomplete in %s/incomplete: %s", name, m->spool, g_strerror(errno));
        if (fd >= 0)
            close(fd);
    } else if (unlinkat(m->incomplete_fd, name, 0) < 0 && errno != ENOENT) {
        g_warning("%s: cannot remove its marker in %s/incomplete: %s", name, m->spool, g_strerror(errno));
    }
}

static void hand_over(FsMount *m, const char *name)
{
    g_autofree char *path = g_build_filename(m->binlogs, name, NULL);
    GError *error = NULL;
    if (bl_session_add_file(m->session, path, &error)) {
        g_message("%s: complete, handed to replay", name);
    } else {
        /* already in the session's errors; the file stays in the spool */
        g_warning("%s: refused: %s", name, error->message);
        g_error_free(error);
    }
}

static gint name_cmp(gconstpointer a, gconstpointer b)
{
    return bl_binlog_name_cmp(*(char *const *)a, *(char *const *)b);
}

void fs_spool_hand_over_existing(FsMount *m)
{
    g_autoptr(GDir) dir = g_dir_open(m->binlogs, 0, NULL);
    if (!dir)
        return;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(dir))) {
        struct stat st;
        if (is_dot(name) || fstatat(m->binlogs_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (faccessat(m->incomplete_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
            bl_session_record_error(m->session,
                                    "%s: binlogfs stopped while it was being copied: not replayed; copy it again "
                                    "(or remove it)", name);
            g_warning("%s: its copy was cut short by the end of an earlier mount: not replayed", name);
            continue;
        }
        g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, name_cmp);
    for (guint i = 0; i < names->len; i++)
        hand_over(m, g_ptr_array_index(names, i));
}

/* ---- writers (m->lock held) ---- */

static FsWriter *writer_acquire_locked(FsMount *m, const char *name, gboolean dirty, gboolean *first)
{
    FsWriter *w = g_hash_table_lookup(m->writers, name);
    *first = !w;
    if (!w) {
        w = g_new0(FsWriter, 1);
        w->name = g_strdup(name);
        g_hash_table_insert(m->writers, w->name, w);
    }
    w->handles++;
    w->dirty |= dirty;
    return w;
}

/* The file of `name` leaves the namespace (unlinked, renamed over): its
 * writer, if any, is orphaned: never handed over, no longer received. */
static void orphan_locked(FsMount *m, const char *name)
{
    FsWriter *w = g_hash_table_lookup(m->writers, name);
    if (!w)
        return;
    g_hash_table_remove(m->writers, name);
    bl_session_receiving(m->session, name, FALSE);
    g_clear_pointer(&w->name, g_free);
}

/* ---- operations ---- */

int fs_spool_getattr(FsMount *m, const char *name, struct stat *st, struct fuse_file_info *fi)
{
    SpoolHandle *h = fi ? (SpoolHandle *)(uintptr_t)fi->fh : NULL;
    int rc = h ? fstat(h->fd, st) : fstatat(m->binlogs_fd, name, st, AT_SYMLINK_NOFOLLOW);
    return rc < 0 ? -errno : 0;
}

int fs_spool_readdir(FsMount *m, void *buf, fuse_fill_dir_t filler)
{
    int fd = openat(m->binlogs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st = { 0 };
        st.st_ino = de->d_ino;
        st.st_mode = (mode_t)DTTOIF(de->d_type);
        if (filler(buf, de->d_name, &st, 0, 0))
            break;
    }
    closedir(d);
    return 0;
}

int fs_spool_open_file(FsMount *m, const char *name, struct fuse_file_info *fi, gboolean create, mode_t mode)
{
    int flags = fi->flags;
    gboolean writable = (flags & O_ACCMODE) != O_RDONLY;
    int oflags = (flags & (O_ACCMODE | O_APPEND | O_TRUNC | O_EXCL | O_SYNC | O_DSYNC)) | O_NOFOLLOW | O_CLOEXEC;
    if (create)
        oflags |= O_CREAT;
    if (!writable)
        oflags &= ~O_TRUNC;
    SpoolHandle *h = g_new0(SpoolHandle, 1);
    h->kind = FS_HANDLE_SPOOL;
    gboolean first = FALSE;
    g_mutex_lock(&m->lock);
    /* our own files must stay readable by us, whatever mode cp asks for */
    h->fd = openat(m->binlogs_fd, name, oflags, (mode & 0777) | 0600);
    int e = errno;
    if (h->fd >= 0 && writable) {
        h->w = writer_acquire_locked(m, name, create || (oflags & O_TRUNC), &first);
        if (first) {
            mark_incomplete(m, name, TRUE);
            bl_session_receiving(m->session, name, TRUE);
        }
    }
    g_mutex_unlock(&m->lock);
    if (h->fd < 0) {
        g_free(h);
        return -e;
    }
    h->wrote = h->w && (create || (oflags & O_TRUNC));
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

int fs_spool_read(void *hp, char *buf, size_t size, off_t off)
{
    SpoolHandle *h = hp;
    ssize_t n = pread(h->fd, buf, size, off);
    return n < 0 ? -errno : (int)n;
}

static void mark_dirty(FsMount *m, SpoolHandle *h)
{
    if (h->wrote)
        return;
    h->wrote = TRUE;
    g_mutex_lock(&m->lock);
    h->w->dirty = TRUE;
    g_mutex_unlock(&m->lock);
}

int fs_spool_write(FsMount *m, void *hp, const char *buf, size_t size, off_t off)
{
    SpoolHandle *h = hp;
    if (!h->w)
        return -EBADF;
    mark_dirty(m, h);
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(h->fd, buf + done, size - done, off + (off_t)done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return done ? (int)done : -errno;
        }
        done += (size_t)n;
    }
    return (int)done;
}

int fs_spool_truncate(FsMount *m, const char *name, off_t size, void *hp)
{
    SpoolHandle *h = hp;
    if (h) {
        if (!h->w)
            return -EBADF;
        mark_dirty(m, h);
        return ftruncate(h->fd, size) < 0 ? -errno : 0;
    }
    /* by path: a file being written is handed over at its last close;
     * a complete file truncated in place is complete again at once */
    g_mutex_lock(&m->lock);
    int fd = openat(m->binlogs_fd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    int rc = fd < 0 || ftruncate(fd, size) < 0 ? -errno : 0;
    FsWriter *w = g_hash_table_lookup(m->writers, name);
    if (rc == 0 && w) {
        w->dirty = TRUE;
    } else if (rc == 0) {
        if (fsync(fd) < 0)
            g_warning("fsync %s: %s", name, g_strerror(errno));
        sync_dir(m);
        if (!is_dot(name))
            hand_over(m, name);
    }
    g_mutex_unlock(&m->lock);
    if (fd >= 0)
        close(fd);
    return rc;
}

int fs_spool_fsync(void *hp, int datasync)
{
    SpoolHandle *h = hp;
    int rc = datasync ? fdatasync(h->fd) : fsync(h->fd);
    return rc < 0 ? -errno : 0;
}

int fs_spool_release(FsMount *m, void *hp)
{
    SpoolHandle *h = hp;
    FsWriter *w = h->w;
    gboolean wrote = h->wrote;
    if (wrote && fsync(h->fd) < 0)
        g_warning("fsync of a file in %s: %s", m->binlogs, g_strerror(errno));
    close(h->fd);
    g_free(h);
    if (!w)
        return 0;
    if (wrote)
        sync_dir(m); /* its name is durable before it is handed over */
    g_mutex_lock(&m->lock);
    if (--w->handles == 0) {
        if (w->name) {
            g_hash_table_remove(m->writers, w->name);
            mark_incomplete(m, w->name, FALSE);
            if (w->dirty && !is_dot(w->name))
                hand_over(m, w->name);
            bl_session_receiving(m->session, w->name, FALSE);
        }
        g_free(w->name);
        g_free(w);
    }
    g_mutex_unlock(&m->lock);
    return 0;
}

int fs_spool_rename(FsMount *m, const char *from, const char *to, unsigned int flags)
{
    if (flags & ~(unsigned int)RENAME_NOREPLACE)
        return -EINVAL; /* RENAME_EXCHANGE, RENAME_WHITEOUT */
    g_mutex_lock(&m->lock);
    int rc = flags ? renameat2(m->binlogs_fd, from, m->binlogs_fd, to, flags)
                   : renameat(m->binlogs_fd, from, m->binlogs_fd, to);
    int e = errno;
    if (rc == 0 && strcmp(from, to)) {
        orphan_locked(m, to);
        mark_incomplete(m, to, FALSE); /* whatever was there is replaced */
        FsWriter *w = g_hash_table_lookup(m->writers, from);
        if (w) {
            /* still being written: handed over at its last close, under its new name */
            g_hash_table_remove(m->writers, from);
            g_free(w->name);
            w->name = g_strdup(to);
            g_hash_table_insert(m->writers, w->name, w);
            mark_incomplete(m, from, FALSE);
            mark_incomplete(m, to, TRUE);
            bl_session_receiving(m->session, to, TRUE);
            bl_session_receiving(m->session, from, FALSE);
        }
        /* a file left incomplete by an earlier mount stays incomplete */
        gboolean partial = !w && faccessat(m->incomplete_fd, from, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        if (partial) {
            mark_incomplete(m, from, FALSE);
            mark_incomplete(m, to, TRUE);
        }
        sync_dir(m);
        if (!w) {
            if (!is_dot(from))
                bl_session_remove_file(m->session, from);
            if (!is_dot(to) && !partial)
                hand_over(m, to);
        }
    }
    g_mutex_unlock(&m->lock);
    return rc < 0 ? -e : 0;
}

int fs_spool_unlink(FsMount *m, const char *name)
{
    g_mutex_lock(&m->lock);
    int rc = unlinkat(m->binlogs_fd, name, 0);
    int e = errno;
    if (rc == 0) {
        sync_dir(m);
        orphan_locked(m, name);
        mark_incomplete(m, name, FALSE);
        if (!is_dot(name))
            bl_session_remove_file(m->session, name);
    }
    g_mutex_unlock(&m->lock);
    return rc < 0 ? -e : 0;
}

int fs_spool_utimens(FsMount *m, const char *name, const struct timespec tv[2], void *hp)
{
    SpoolHandle *h = hp;
    int rc = h ? futimens(h->fd, tv) : utimensat(m->binlogs_fd, name, tv, AT_SYMLINK_NOFOLLOW);
    return rc < 0 ? -errno : 0;
}

int fs_spool_statfs(FsMount *m, struct statvfs *st)
{
    return fstatvfs(m->binlogs_fd, st) < 0 ? -errno : 0;
}
