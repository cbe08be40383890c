/* binlogfs — the FUSE operations of the mount (high-level libfuse API):
 * each one routes by path (or by the open handle) to binlogs/
 * (mount-spool.c) or to the synthetic files (mount-files.c).
 *
 * DESIGN: layout (DESIGN.md): "/" and "/control" are read-only
 * directories of synthetic files, "/binlogs" the spool. Handles carry
 * their kind (FsHandleKind first in each handle struct), so operations on
 * an open file never depend on its path, which is NULL for a file
 * unlinked while open (nullpath_ok, hard_remove). fs_errno() is the one
 * place where an engine error becomes an errno.
 */
#define G_LOG_DOMAIN "binlogfs-mount"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statvfs.h>

#include "mount.h"

#include <fuse_lowlevel.h>

typedef enum { R_NONE, R_ROOT, R_CONTROL, R_BINLOGS, R_SPOOL, R_FILE } Route;

static Route route(const char *path, const char **name)
{
    if (!path)
        return R_NONE;
    if (!strcmp(path, "/"))
        return R_ROOT;
    if (!strcmp(path, "/control"))
        return R_CONTROL;
    if (!strcmp(path, "/binlogs"))
        return R_BINLOGS;
    if (g_str_has_prefix(path, "/binlogs/")) {
        const char *n = path + strlen("/binlogs/");
        if (name)
            *name = n;
        return fs_spool_valid_name(n) ? R_SPOOL : R_NONE;
    }
    return fs_files_exists(path) ? R_FILE : R_NONE;
}

static FsHandleKind handle_kind(const struct fuse_file_info *fi)
{
    return fi && fi->fh ? *(FsHandleKind *)(uintptr_t)fi->fh : 0;
}

static void *handle(const struct fuse_file_info *fi)
{
    return (void *)(uintptr_t)fi->fh;
}

/* Directory handles, one per directory: readdir and a setattr on an
 * open directory may be given no path. */
typedef struct {
    FsHandleKind kind; /* FS_HANDLE_DIR */
    Route route;
} DirHandle;

static const DirHandle dir_handles[] = {
    { FS_HANDLE_DIR, R_ROOT },
    { FS_HANDLE_DIR, R_CONTROL },
    { FS_HANDLE_DIR, R_BINLOGS },
};

/* The route and name of a request: from the open handle when there is
 * one (the path is then NULL: nullpath_ok), else from the path. */
static Route route_fi(const char *path, const struct fuse_file_info *fi, const char **name)
{
    switch (handle_kind(fi)) {
    case FS_HANDLE_SPOOL:
        return R_SPOOL;
    case FS_HANDLE_FILE:
        return route(fs_files_handle_path(handle(fi)), name);
    case FS_HANDLE_DIR:
        return ((const DirHandle *)handle(fi))->route;
    default:
        return route(path, name);
    }
}

FsMount *fs_mount_current(void)
{
    return fuse_get_context()->private_data;
}

gboolean fs_mount_exiting(void)
{
    struct fuse_context *c = fuse_get_context();
    return c && c->fuse && fuse_session_exited(fuse_get_session(c->fuse));
}

int fs_errno(const GError *error)
{
    if (!error)
        return -EIO;
    if (error->domain == BL_ERROR) {
        switch ((BlError)error->code) {
        case BL_ERROR_INVALID:
        case BL_ERROR_NOT_BINLOG:
        case BL_ERROR_TRUNCATED:
        case BL_ERROR_CHECKSUM:
        case BL_ERROR_CORRUPT:
        case BL_ERROR_UNSUPPORTED:
        case BL_ERROR_ENCRYPTED:
            return -EINVAL;
        case BL_ERROR_CANCELLED:
            return -ECANCELED;
        case BL_ERROR_IO:
        case BL_ERROR_SERVER:
            return -EIO;
        }
        return -EIO;
    }
    if (error->domain == G_FILE_ERROR) {
        static const struct {
            int code, err;
        } map[] = {
            { G_FILE_ERROR_NOENT, ENOENT },   { G_FILE_ERROR_ACCES, EACCES }, { G_FILE_ERROR_PERM, EPERM },
            { G_FILE_ERROR_EXIST, EEXIST },   { G_FILE_ERROR_NOSPC, ENOSPC }, { G_FILE_ERROR_ISDIR, EISDIR },
            { G_FILE_ERROR_NOTDIR, ENOTDIR }, { G_FILE_ERROR_INVAL, EINVAL }, { G_FILE_ERROR_ROFS, EROFS },
        };
        for (guint i = 0; i < G_N_ELEMENTS(map); i++)
            if (map[i].code == error->code)
                return -map[i].err;
    }
    return -EIO;
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    cfg->nullpath_ok = 1;     /* handles carry everything an open file needs */
    cfg->hard_remove = 1;     /* no .fuse_hidden files in binlogs/ */
    cfg->use_ino = 0;
    cfg->kernel_cache = 0;
    cfg->negative_timeout = 0; /* a file that appears is seen at once */
    if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
        conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
    return fuse_get_context()->private_data;
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    FsMount *m = fs_mount_current();
    const char *name = NULL;
    if (handle_kind(fi) == FS_HANDLE_SPOOL)
        return fs_spool_getattr(m, NULL, st, fi);
    if (handle_kind(fi) == FS_HANDLE_FILE)
        path = fs_files_handle_path(handle(fi));
    switch (route_fi(path, fi, &name)) {
    case R_ROOT:
    case R_CONTROL:
        fs_files_fill_stat(m, st, S_IFDIR | 0555, 0);
        return 0;
    case R_BINLOGS:
        return fstat(m->binlogs_fd, st) < 0 ? -errno : 0;
    case R_SPOOL:
        return fs_spool_getattr(m, name, st, NULL);
    case R_FILE:
        return fs_files_getattr(m, path, st);
    default:
        return -ENOENT;
    }
}

static int op_opendir(const char *path, struct fuse_file_info *fi)
{
    const char *name = NULL;
    Route r = route(path, &name);
    for (guint i = 0; i < G_N_ELEMENTS(dir_handles); i++) {
        if (dir_handles[i].route == r) {
            fi->fh = (uint64_t)(uintptr_t)&dir_handles[i];
            return 0;
        }
    }
    return r == R_NONE ? -ENOENT : -ENOTDIR;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off, struct fuse_file_info *fi,
                      enum fuse_readdir_flags flags)
{
    FsMount *m = fs_mount_current();
    Route r = route_fi(path, fi, NULL);
    if (r == R_BINLOGS)
        return fs_spool_readdir(m, buf, filler);
    if (r != R_ROOT && r != R_CONTROL)
        return r == R_NONE ? -ENOENT : -ENOTDIR;
    struct stat st;
    fs_files_fill_stat(m, &st, S_IFDIR | 0555, 0);
    filler(buf, ".", &st, 0, 0);
    filler(buf, "..", NULL, 0, 0);
    if (r == R_ROOT) {
        if (fstat(m->binlogs_fd, &st) == 0)
            filler(buf, "binlogs", &st, 0, 0);
        fs_files_fill_stat(m, &st, S_IFDIR | 0555, 0);
        filler(buf, "control", &st, 0, 0);
    }
    return fs_files_readdir(m, r == R_ROOT ? "/" : "/control", buf, filler);
}

static int open_common(const char *path, struct fuse_file_info *fi, gboolean create, mode_t mode)
{
    FsMount *m = fs_mount_current();
    const char *name = NULL;
    switch (route(path, &name)) {
    case R_SPOOL:
        return fs_spool_open_file(m, name, fi, create, mode);
    case R_FILE:
        return fs_files_open(m, path, fi);
    case R_ROOT:
    case R_CONTROL:
    case R_BINLOGS:
        return -EISDIR;
    default:
        /* nothing can be created outside binlogs/ */
        return create ? -EACCES : -ENOENT;
    }
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
    return open_common(path, fi, FALSE, 0);
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    return open_common(path, fi, TRUE, mode);
}

static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    switch (handle_kind(fi)) {
    case FS_HANDLE_SPOOL:
        return fs_spool_read(handle(fi), buf, size, off);
    case FS_HANDLE_FILE:
        return fs_files_read(fs_mount_current(), handle(fi), buf, size, off);
    default:
        return -EBADF;
    }
}

static int op_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    switch (handle_kind(fi)) {
    case FS_HANDLE_SPOOL:
        return fs_spool_write(fs_mount_current(), handle(fi), buf, size, off);
    case FS_HANDLE_FILE:
        return fs_files_write(fs_mount_current(), handle(fi), buf, size);
    default:
        return -EBADF;
    }
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    FsMount *m = fs_mount_current();
    const char *name = NULL;
    switch (handle_kind(fi)) {
    case FS_HANDLE_SPOOL:
        return fs_spool_truncate(m, NULL, size, handle(fi));
    case FS_HANDLE_FILE:
        return fs_files_truncate(m, NULL, size, handle(fi));
    default:
        break;
    }
    switch (route(path, &name)) {
    case R_SPOOL:
        return fs_spool_truncate(m, name, size, NULL);
    case R_FILE:
        return fs_files_truncate(m, path, size, NULL);
    case R_NONE:
        return -ENOENT;
    default:
        return -EISDIR;
    }
}

static int op_flush(const char *path, struct fuse_file_info *fi)
{
    return 0; /* data is written through; durability is handled at release */
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    return handle_kind(fi) == FS_HANDLE_SPOOL ? fs_spool_fsync(handle(fi), datasync) : 0;
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
    switch (handle_kind(fi)) {
    case FS_HANDLE_SPOOL:
        return fs_spool_release(fs_mount_current(), handle(fi));
    case FS_HANDLE_FILE:
        return fs_files_release(fs_mount_current(), handle(fi));
    default:
        return 0;
    }
}

static int op_rename(const char *from, const char *to, unsigned int flags)
{
    const char *a = NULL, *b = NULL;
    Route ra = route(from, &a), rb = route(to, &b);
    if (ra == R_SPOOL && rb == R_SPOOL)
        return fs_spool_rename(fs_mount_current(), a, b, flags);
    return ra == R_NONE ? -ENOENT : -EPERM;
}

static int op_unlink(const char *path)
{
    const char *name = NULL;
    Route r = route(path, &name);
    if (r == R_SPOOL)
        return fs_spool_unlink(fs_mount_current(), name);
    return r == R_NONE ? -ENOENT : -EPERM;
}

/* binlogs/ holds plain files only; the synthetic tree is fixed */
static int op_mkdir(const char *path, mode_t mode)
{
    return -EPERM;
}

static int op_rmdir(const char *path)
{
    return -EPERM;
}

static int op_symlink(const char *target, const char *path)
{
    return -EPERM;
}

static int op_link(const char *from, const char *to)
{
    return -EPERM;
}

/* Modes and owners of spool files are kept as binlogfs made them (it must
 * read them); accepting the change keeps cp -p and rsync -a quiet. */
static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    const char *name = NULL;
    Route r = route_fi(path, fi, &name);
    return r == R_SPOOL ? 0 : r == R_NONE ? -ENOENT : -EPERM;
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    return op_chmod(path, 0, fi);
}

static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    FsMount *m = fs_mount_current();
    const char *name = NULL;
    switch (route_fi(path, fi, &name)) {
    case R_SPOOL:
        return fs_spool_utimens(m, name, tv, handle_kind(fi) == FS_HANDLE_SPOOL ? handle(fi) : NULL);
    case R_NONE:
        return -ENOENT;
    default:
        return 0; /* `touch control/state`: nothing to keep */
    }
}

static int op_statfs(const char *path, struct statvfs *st)
{
    return fs_spool_statfs(fs_mount_current(), st);
}

static const struct fuse_operations operations = {
    .init = op_init,
    .getattr = op_getattr,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .open = op_open,
    .create = op_create,
    .read = op_read,
    .write = op_write,
    .truncate = op_truncate,
    .flush = op_flush,
    .fsync = op_fsync,
    .release = op_release,
    .rename = op_rename,
    .unlink = op_unlink,
    .mkdir = op_mkdir,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .link = op_link,
    .chmod = op_chmod,
    .chown = op_chown,
    .utimens = op_utimens,
    .statfs = op_statfs,
};

const struct fuse_operations *fs_mount_operations(void)
{
    return &operations;
}
