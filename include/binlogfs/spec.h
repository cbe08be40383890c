/* binlogfs — SPECs (start and stop points), GTID sets and database
 * rewrites, as the interface contract defines them (DESIGN.md):
 *
 *   FILE:POS                        a binlog file name and byte offset
 *   YYYY-MM-DDTHH:MM:SS[Z|+hh:mm]   or with a space for the T; local time
 *                                   unless a zone is given; compared with
 *                                   each transaction's commit time
 *   D-S-N                           a MariaDB GTID
 *   UUID:N, UUID:TAG:N              a MySQL GTID
 *   and for start-at, the content of a backup's binlog info file
 *   (xtrabackup_binlog_info, mariadb_backup_binlog_info): "FILE\tPOS[\tGTID...]"
 *   which means FILE:POS.
 *
 * Pure functions, no I/O: the frontends validate control-file writes with
 * the same parser the engine uses.
 */
#ifndef BINLOGFS_SPEC_H
#define BINLOGFS_SPEC_H

#include <binlogfs/event.h>
#include <binlogfs/trx.h>

G_BEGIN_DECLS

typedef enum {
    BL_SPEC_NONE,
    BL_SPEC_POSITION, /* file + pos */
    BL_SPEC_TIME,     /* time_us */
    BL_SPEC_GTID,     /* gtid */
} BlSpecKind;

typedef struct {
    BlSpecKind kind;
    char file[256];
    guint64 pos;
    gint64 time_us;   /* µs since the epoch, UTC */
    BlGtid gtid;      /* kind MARIADB (domain, server, seq) or MYSQL (uuid, tag, gno) */
    char text[300];   /* the SPEC as given, trimmed, for display */
} BlSpec;

/* Parses a SPEC. `allow_backup_info`: accept a backup binlog info file's
 * content (start-at only). Empty or blank text gives kind NONE. Fails with
 * BL_ERROR_INVALID and a message saying which forms are accepted. */
gboolean bl_spec_parse(const char *text, gboolean allow_backup_info, BlSpec *out, GError **error);

/* Where a transaction stands relative to a spec:
 * <0 before the point, 0 at it, >0 after it. For POSITION: compares
 * (file sequence, start_pos) with (spec file sequence, pos) — files are
 * compared by bl_binlog_name_cmp; a transaction of the spec's file at
 * start_pos >= pos is at or after. For TIME: commit_time_us >= time_us is
 * at or after. For GTID: 0 when the GTID is equal, else <0 (a GTID spec
 * matches one transaction; the caller keeps the state "reached"). */
int bl_spec_compare(const BlSpec *s, const char *file, const BlTrx *t);

/* Compares binlog file names by base name and numeric extension:
 * "mysql-bin.000009" < "mysql-bin.000010"; different base names compare
 * as strings. */
int bl_binlog_name_cmp(const char *a, const char *b);

/* A set of GTIDs: MariaDB "D-S-N,D-S-N1-N2" (each entry one GTID or a
 * range of seq_no for one domain-server), MySQL "UUID:1-5:7,UUID:tag:3-4". */
typedef struct BlGtidSet BlGtidSet;
BlGtidSet *bl_gtid_set_parse(const char *text, GError **error);
gboolean bl_gtid_set_contains(const BlGtidSet *set, const BlGtid *g);
void bl_gtid_set_free(BlGtidSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlGtidSet, bl_gtid_set_free)

/* --rewrite-db=FROM->TO, may be given several times. */
typedef struct {
    char *from;
    char *to;
} BlRewrite;
/* Parses "FROM->TO" (names without backquotes; both non-empty, at most 64
 * characters). */
gboolean bl_rewrite_parse(const char *text, BlRewrite *out, GError **error);
void bl_rewrite_clear(BlRewrite *r);

G_END_DECLS

#endif
