/* binlogfs — the FUSE mount's private interface, shared by mount.c (the
 * command), mount-ops.c (the FUSE operations: routing by path),
 * mount-spool.c (binlogs/, a passthrough onto SPOOL/binlogs) and
 * mount-files.c (the synthetic files: status..., wait, control/).
 *
 * Handlers return 0 or -errno; errors of the engine become errno in one
 * place, fs_errno(). No handler talks to the database: they read session
 * snapshots and send commands (bl_session_*), which never block, except
 * the `wait` file's read, by design.
 */
#ifndef BINLOGFS_FS_MOUNT_H
#define BINLOGFS_FS_MOUNT_H

#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <sys/stat.h>

#include <binlogfs/session.h>

typedef struct FsWriter FsWriter;

typedef struct {
    BlSession *session;
    char *spool;            /* absolute */
    char *binlogs;          /* SPOOL/binlogs, absolute */
    int binlogs_fd;         /* O_DIRECTORY descriptor of binlogs/, for the *at() calls and fsync */
    int incomplete_fd;      /* SPOOL/incomplete: a marker per name being written */
    uid_t uid;              /* owner of the synthetic files: the mounting user */
    gid_t gid;
    struct timespec mounted_at;
    gint64 mounted_us;      /* g_get_monotonic_time() at the mount */
    GMutex lock;            /* guards `writers` and the renames/unlinks/opens of binlogs/ */
    GHashTable *writers;    /* name -> FsWriter*: names open for writing */
} FsMount;

/* The handle kinds behind fuse_file_info.fh; every handle struct starts
 * with an FsHandleKind. */
typedef enum { FS_HANDLE_SPOOL = 1, FS_HANDLE_FILE, FS_HANDLE_DIR } FsHandleKind;

/* ---- mount-ops.c ---- */
const struct fuse_operations *fs_mount_operations(void);
/* The errno for an engine error (BL_ERROR, G_FILE_ERROR, G_IO_ERROR
 * codes); EIO for anything else. */
int fs_errno(const GError *error);
/* The mount of the calling handler (fuse_get_context()->private_data). */
FsMount *fs_mount_current(void);
/* Whether the FUSE loop is ending (unmount, signal): long handlers stop. */
gboolean fs_mount_exiting(void);

/* ---- mount-spool.c: binlogs/ (names are single path components) ---- */
/* Opens SPOOL/binlogs and SPOOL/incomplete (created if missing). */
gboolean fs_spool_open(FsMount *m, GError **error);
void fs_spool_close(FsMount *m);
/* Hands every complete file already in the spool (not a dot-name, not
 * marked incomplete) to the session, in binlog order: a remount resumes
 * with them. Refusals are logged (the session keeps them in its errors). */
void fs_spool_hand_over_existing(FsMount *m);
gboolean fs_spool_valid_name(const char *name);
int fs_spool_getattr(FsMount *m, const char *name, struct stat *st, struct fuse_file_info *fi);
int fs_spool_readdir(FsMount *m, void *buf, fuse_fill_dir_t filler);
int fs_spool_open_file(FsMount *m, const char *name, struct fuse_file_info *fi, gboolean create, mode_t mode);
int fs_spool_read(void *h, char *buf, size_t size, off_t off);
int fs_spool_write(FsMount *m, void *h, const char *buf, size_t size, off_t off);
int fs_spool_truncate(FsMount *m, const char *name, off_t size, void *h);
int fs_spool_fsync(void *h, int datasync);
int fs_spool_release(FsMount *m, void *h);
int fs_spool_rename(FsMount *m, const char *from, const char *to, unsigned int flags);
int fs_spool_unlink(FsMount *m, const char *name);
int fs_spool_utimens(FsMount *m, const char *name, const struct timespec tv[2], void *h);
int fs_spool_statfs(FsMount *m, struct statvfs *st);

/* ---- mount-files.c: the synthetic files, by path ("/status", "/control/state") ---- */
/* Whether `path` is a synthetic file. */
gboolean fs_files_exists(const char *path);
int fs_files_getattr(FsMount *m, const char *path, struct stat *st);
/* Names in "/" (dir "/") or "/control". */
int fs_files_readdir(FsMount *m, const char *dir, void *buf, fuse_fill_dir_t filler);
int fs_files_open(FsMount *m, const char *path, struct fuse_file_info *fi);
int fs_files_read(FsMount *m, void *h, char *buf, size_t size, off_t off);
int fs_files_write(FsMount *m, void *h, const char *buf, size_t size);
/* truncate by path (h NULL) or on an open handle */
int fs_files_truncate(FsMount *m, const char *path, off_t size, void *h);
int fs_files_release(FsMount *m, void *h);
/* the path ("/control/state") of an open synthetic file */
const char *fs_files_handle_path(void *h);
/* attributes shared by the synthetic entries and directories */
void fs_files_fill_stat(FsMount *m, struct stat *st, mode_t mode, off_t size);

#endif
