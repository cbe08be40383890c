/* binlogfs — the streaming binlog reader.
 *
 * DESIGN: one read buffer holds the bytes of the file from `base` on; an
 * event is yielded from inside it when it is complete, so memory is the
 * buffer (1 MiB reads) plus the largest event. Invariants:
 *  - buf[start..end) are the file's bytes at offsets base+start..base+end;
 *  - nothing is yielded before its length and (when the file has them) its
 *    CRC32 have been checked;
 *  - after an error the reader stays failed and says so again.
 * MariaDB compressed events are rebuilt as plain events in `plain`; the
 * events of a MySQL Transaction_payload come from payload.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader-private.h"

#define READ_CHUNK (1u << 20)
/* No server writes an event above 1 GiB (max_allowed_packet); a header
 * that claims more is corrupt, not a reason to allocate. */
#define MAX_EVENT_SIZE ((guint32)1 << 30) + (1u << 20)

static gboolean fail(BlReader *r, GError **error, BlError code, guint64 off, const char *fmt, ...)
    G_GNUC_PRINTF(5, 6);

static gboolean fail(BlReader *r, GError **error, BlError code, guint64 off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    r->failed = TRUE;
    g_set_error(error, BL_ERROR, code, "%s:%" G_GUINT64_FORMAT ": %s", r->name, off, msg);
    if (!r->error_message)
        r->error_message = g_strdup_printf("%s:%" G_GUINT64_FORMAT ": %s", r->name, off, msg);
    return FALSE;
}

/* Makes at least `need` bytes available from buf[start]. Returns the
 * number available (may be less at end of file) or -1 on a read error. */
static gssize fill(BlReader *r, gsize need, GError **error)
{
    while (r->end - r->start < need && !r->eof) {
        if (r->start > 0 && (r->cap - r->end < READ_CHUNK || r->cap - r->start < need)) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->base += r->start;
            r->end -= r->start;
            r->start = 0;
        }
        gsize want = MAX(need, (gsize)READ_CHUNK);
        if (r->cap - r->end < want && r->cap < need + READ_CHUNK) {
            r->cap = MAX(r->cap * 2, need + READ_CHUNK);
            r->buf = g_realloc(r->buf, r->cap);
            r->peak = MAX(r->peak, r->cap);
        }
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail(r, error, BL_ERROR_IO, r->base + r->end, "read failed: %s", g_strerror(errno));
            return -1;
        }
        if (n == 0)
            r->eof = TRUE;
        r->end += (gsize)n;
    }
    return (gssize)(r->end - r->start);
}

static gboolean check_crc(BlReader *r, const guint8 *ev, guint32 size, guint64 off, GError **error)
{
    guint32 stored = bl_u32(ev + size - BL_CRC_LEN);
    guint32 crc;
    if (ev[4] == BL_FORMAT_DESCRIPTION_EVENT && (ev[17] & BL_F_BINLOG_IN_USE)) {
        /* The FDE's CRC is computed with the IN_USE flag clear. */
        guint8 flags[2] = { ev[17] & ~BL_F_BINLOG_IN_USE, ev[18] };
        crc = bl_crc32(0, ev, 17);
        crc = bl_crc32(crc, flags, 2);
        crc = bl_crc32(crc, ev + 19, size - 19 - BL_CRC_LEN);
    } else {
        crc = bl_crc32(0, ev, size - BL_CRC_LEN);
    }
    if (crc != stored)
        return fail(r, error, BL_ERROR_CHECKSUM, off,
                    "checksum mismatch in %s event of %u bytes (stored %08x, computed %08x): "
                    "the file is damaged",
                    bl_event_type_name(ev[4]) ? bl_event_type_name(ev[4]) : "unknown", size, stored,
                    crc);
    return TRUE;
}

static gboolean read_fde(BlReader *r, GError **error)
{
    gssize got = fill(r, BL_MAGIC_LEN + BL_HEADER_LEN, error);
    if (got < 0)
        return FALSE;
    if (got == 0)
        return fail(r, error, BL_ERROR_NOT_BINLOG, 0, "empty file, not a binlog");
    if ((gsize)got >= BL_MAGIC_LEN && memcmp(r->buf, "\xfd" "bin", BL_MAGIC_LEN) == 0)
        return fail(r, error, BL_ERROR_ENCRYPTED, 0,
                    "MySQL encrypted binary log (binlog_encryption=ON): binlogfs cannot decrypt "
                    "it; decrypt it first with the server that wrote it");
    if (g_str_has_suffix(r->name, ".ibb"))
        return fail(r, error, BL_ERROR_UNSUPPORTED, 0,
                    "MariaDB InnoDB-based binary log (binlog_storage_engine=innodb, *.ibb) is not "
                    "supported: have the server stream classic binlog files with `mariadb-binlog "
                    "--read-from-remote-server --raw` and use those");
    if ((gsize)got < BL_MAGIC_LEN || memcmp(r->buf, BL_MAGIC, BL_MAGIC_LEN) != 0)
        return fail(r, error, BL_ERROR_NOT_BINLOG, 0,
                    "not a binary log: the file does not start with the binlog magic fe 62 69 6e");
    r->start = BL_MAGIC_LEN;
    if ((gsize)got < BL_MAGIC_LEN + BL_HEADER_LEN)
        return fail(r, error, BL_ERROR_TRUNCATED, 4,
                    "file ends inside the first event header (%zd bytes in the file)", got);
    BlEventHeader h;
    bl_header_decode(r->buf + r->start, &h);
    if (h.type != BL_FORMAT_DESCRIPTION_EVENT) {
        if (h.type == BL_START_EVENT_V3)
            return fail(r, error, BL_ERROR_UNSUPPORTED, 4,
                        "binlog format v1/v3 (MySQL before 5.0) is not supported");
        return fail(r, error, BL_ERROR_NOT_BINLOG, 4,
                    "the first event is type %u, not a Format_description event", h.type);
    }
    if (h.size < BL_HEADER_LEN + 57 || h.size > 65536)
        return fail(r, error, BL_ERROR_CORRUPT, 4,
                    "Format_description event has an impossible size %u", h.size);
    got = fill(r, h.size, error);
    if (got < 0)
        return FALSE;
    if ((gsize)got < h.size)
        return fail(r, error, BL_ERROR_TRUNCATED, 4,
                    "file ends inside the Format_description event (%u bytes, %zd present)", h.size,
                    got);
    return TRUE;
}

static BlReader *reader_new(int fd, const char *name)
{
    BlReader *r = g_new0(BlReader, 1);
    r->fd = fd;
    r->name = g_strdup(name);
    r->verify = TRUE;
    r->cap = 2 * READ_CHUNK;
    r->buf = g_malloc(r->cap);
    r->peak = r->cap;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        r->file_size = (guint64)st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    return r;
}

BlReader *bl_reader_open_fd(int fd, const char *display_name, GError **error)
{
    BlReader *r = reader_new(fd, display_name ? display_name : "(binlog)");
    if (!read_fde(r, error)) {
        bl_reader_free(r);
        return NULL;
    }
    /* The FDE is decoded and checked when it is yielded by next(); decode
     * it here too so that the format is known right after open. */
    BlEventHeader h;
    bl_header_decode(r->buf + r->start, &h);
    GError *e = NULL;
    if (!bl_format_decode(r->buf + r->start, h.size, &r->fmt, &e)) {
        fail(r, error, e->code, 4, "%s", e->message);
        g_error_free(e);
        bl_reader_free(r);
        return NULL;
    }
    return r;
}

BlReader *bl_reader_open(const char *path, const char *display_name, GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "%s: cannot open: %s",
                    display_name ? display_name : path, g_strerror(err));
        return NULL;
    }
    return bl_reader_open_fd(fd, display_name ? display_name : path, error);
}

void bl_reader_set_verify_checksums(BlReader *r, gboolean verify)
{
    r->verify = verify;
}

gboolean bl_reader_seek(BlReader *r, guint64 pos, GError **error)
{
    if (r->failed)
        return fail(r, error, BL_ERROR_INVALID, pos, "reader already failed");
    if (pos < BL_MAGIC_LEN) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "%s: position %" G_GUINT64_FORMAT
                    " is before the first event", r->name, pos);
        return FALSE;
    }
    bl_payload_reset(r);
    if (pos >= r->base && pos <= r->base + r->end) {
        r->start = (gsize)(pos - r->base);
    } else {
        if (lseek(r->fd, (off_t)pos, SEEK_SET) < 0)
            return fail(r, error, BL_ERROR_IO, pos, "cannot seek: %s", g_strerror(errno));
        r->base = pos;
        r->start = r->end = 0;
        r->eof = FALSE;
    }
    r->fde_done = TRUE;
    return TRUE;
}

static gboolean check_type(BlReader *r, const BlEventHeader *h, guint64 off, GError **error)
{
    if (h->type == BL_START_ENCRYPTION_EVENT)
        return fail(r, error, BL_ERROR_ENCRYPTED, off,
                    "the binlog is encrypted (MariaDB encrypt_binlog); binlogfs cannot decrypt "
                    "it: decrypt it first with the server that wrote it");
    if (bl_event_type_name(h->type) == NULL && !(h->flags & BL_F_IGNORABLE))
        return fail(r, error, BL_ERROR_UNSUPPORTED, off,
                    "unknown event type %u (%u bytes) without the ignorable flag: the binlog "
                    "comes from a newer server than binlogfs knows",
                    h->type, h->size);
    return TRUE;
}

/* Reads, checks and yields the next event stored in the file. */
static gboolean next_outer(BlReader *r, const BlEvent **out, GError **error)
{
    guint64 off = r->base + r->start;
    gssize got = fill(r, BL_HEADER_LEN, error);
    if (got < 0)
        return FALSE;
    if (got == 0)
        return FALSE; /* clean end */
    if ((gsize)got < BL_HEADER_LEN)
        return fail(r, error, BL_ERROR_TRUNCATED, off,
                    "file ends inside an event header (%zd of 19 bytes present)", got);
    BlEventHeader h;
    bl_header_decode(r->buf + r->start, &h);
    gsize min = BL_HEADER_LEN + (r->fmt.checksum_alg == BL_CHECKSUM_CRC32 ? BL_CRC_LEN : 0);
    if (h.type == BL_FORMAT_DESCRIPTION_EVENT)
        min = BL_HEADER_LEN + 57;
    if (h.size < min || h.size > MAX_EVENT_SIZE)
        return fail(r, error, BL_ERROR_CORRUPT, off,
                    "event header is damaged: type %u, size %u is impossible", h.type, h.size);
    if (r->file_size && off + h.size > r->file_size) {
        /* Never grow the buffer for an event the file cannot hold (a
         * damaged size field): the memory bound stays the largest real
         * event. The file may have grown since it was opened. */
        struct stat st;
        if (fstat(r->fd, &st) == 0 && (guint64)st.st_size > r->file_size)
            r->file_size = (guint64)st.st_size;
        if (off + h.size > r->file_size)
            return fail(r, error, BL_ERROR_TRUNCATED, off,
                        "file ends inside a %s event: it has %u bytes, only %" G_GUINT64_FORMAT " are present",
                        bl_event_type_name(h.type) ? bl_event_type_name(h.type) : "unknown", h.size,
                        r->file_size - off);
    }
    got = fill(r, h.size, error);
    if (got < 0)
        return FALSE;
    if ((gsize)got < h.size)
        return fail(r, error, BL_ERROR_TRUNCATED, off,
                    "file ends inside a %s event: it has %u bytes, only %zd are present",
                    bl_event_type_name(h.type) ? bl_event_type_name(h.type) : "unknown", h.size,
                    got);
    const guint8 *ev = r->buf + r->start;
    gboolean is_fde = h.type == BL_FORMAT_DESCRIPTION_EVENT;
    gboolean has_crc = r->fmt.checksum_alg == BL_CHECKSUM_CRC32;
    if (is_fde) {
        /* A checksum-capable FDE always ends with alg + CRC, even for alg 0. */
        BlFormat f;
        GError *e = NULL;
        if (!bl_format_decode(ev, h.size, &f, &e)) {
            fail(r, error, e->code, off, "%s", e->message);
            g_error_free(e);
            return FALSE;
        }
        has_crc = f.checksum_alg != BL_CHECKSUM_UNDEF;
        if (has_crc && r->verify && !check_crc(r, ev, h.size, off, error))
            return FALSE;
        r->fmt = f;
        bl_format_inner(&f, &r->inner_fmt);
    } else {
        if (!check_type(r, &h, off, error))
            return FALSE;
        if (has_crc && r->verify && !check_crc(r, ev, h.size, off, error))
            return FALSE;
    }
    r->start += h.size;
    r->pos = off + h.size;
    BlEvent *e = &r->ev;
    memset(e, 0, sizeof *e);
    e->h = h;
    e->orig_type = h.type;
    e->offset = off;
    e->stored_size = h.size;
    e->data = ev;
    e->body = ev + r->fmt.header_len;
    gsize crc_len = has_crc ? BL_CRC_LEN : 0;
    e->body_len = h.size >= r->fmt.header_len + crc_len ? h.size - r->fmt.header_len - crc_len : 0;
    if (bl_event_uncompressed_type(h.type) != h.type) {
        if (!bl_uncompress_mariadb(r, e, error))
            return FALSE;
    } else if (h.type == BL_TRANSACTION_PAYLOAD_EVENT) {
        if (!bl_payload_begin(r, e, error))
            return FALSE;
    }
    *out = e;
    return TRUE;
}

gboolean bl_reader_next(BlReader *r, const BlEvent **ev, GError **error)
{
    if (r->failed) {
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "%s",
                    r->error_message ? r->error_message : "reader failed");
        return FALSE;
    }
    if (bl_payload_active(r)) {
        GError *e = NULL;
        if (bl_payload_next(r, ev, &e))
            return TRUE;
        if (e) {
            g_propagate_error(error, e);
            return FALSE;
        }
    }
    return next_outer(r, ev, error);
}

const BlFormat *bl_reader_format(const BlReader *r)
{
    return &r->fmt;
}

const BlFormat *bl_reader_format_for(const BlReader *r, const BlEvent *ev)
{
    return ev->inner ? &r->inner_fmt : &r->fmt;
}

const char *bl_reader_name(const BlReader *r)
{
    return r->name;
}

guint64 bl_reader_position(const BlReader *r)
{
    return r->pos ? r->pos : BL_MAGIC_LEN;
}

guint64 bl_reader_file_size(const BlReader *r)
{
    return r->file_size;
}

gsize bl_reader_peak_buffer(const BlReader *r)
{
    return r->peak + r->plain_cap + bl_payload_peak(r);
}

void bl_reader_free(BlReader *r)
{
    if (!r)
        return;
    bl_payload_reset(r);
    if (r->fd >= 0)
        close(r->fd);
    g_free(r->buf);
    g_free(r->plain);
    g_free(r->name);
    g_free(r->error_message);
    g_free(r);
}
