/* binlogfs — the mount's read-only files rendered as text: status,
 * status.json, progress, errors and metrics (formats: DESIGN.md, mount
 * layout). Pure functions of a snapshot: no I/O, no locks, no session,
 * so they are unit-tested without a server (tests/unit/test-status.c). */
#ifndef BINLOGFS_FS_STATUS_H
#define BINLOGFS_FS_STATUS_H

#include <binlogfs/engine.h>

/* Everything a rendering may show; only `snap` is required. */
typedef struct {
    const BlSnapshot *snap;
    GPtrArray *errors;     /* char* lines "YYYY-MM-DD HH:MM:SS message", oldest first; NULL = none */
    const char *start_at;  /* the settings' text; NULL or "" = unset */
    const char *stop_at;
    gint64 uptime_s;       /* seconds since the mount started; -1 = unknown */
} FsStatusView;

/* Each returns a new string (g_free), ending in "\n". Numbers are
 * written with '.' whatever the locale. */

/* The human summary: one "key: value" line each, then the files. */
char *fs_status_text(const FsStatusView *v);

/* One JSON object: state, workers, position{file,pos,gtid},
 * transactions{applied,skipped,retried,failed,read}, bytes{applied,total},
 * rate{transactions_per_s,bytes_per_s}, eta_s (null when unknown),
 * waiting_for (null unless waiting), files[{name,size,state,error}],
 * last_error (null when none), and the extensions held{file,start,end,gtid}
 * (null when not held), start_at, stop_at (null when unset), errors (count). */
char *fs_status_json(const FsStatusView *v);

/* One line: "PCT% APPLIED/TOTAL trx RATE trx/s ETA HH:MM:SS" where PCT is
 * the share of bytes applied (one decimal), APPLIED counts transactions
 * applied or skipped, TOTAL those read so far, RATE is rounded, and the
 * ETA is "--:--:--" when unknown. */
char *fs_status_progress(const BlSnapshot *s);

/* The error lines, one a line (embedded newlines become spaces). */
char *fs_status_errors(GPtrArray *errors);

/* Prometheus text exposition format (0.0.4), metric names binlogfs_*. */
char *fs_status_metrics(const FsStatusView *v);

/* "HH:MM:SS" (hours may exceed 99), "--:--:--" for s < 0. */
void fs_format_hms(gint64 s, char *buf, gsize len);

#endif
