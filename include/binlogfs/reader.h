/* binlogfs — the streaming binlog reader.
 *
 * Opens one binlog file, checks the magic and the Format_description event,
 * then yields events one at a time in file order. Memory is one read buffer
 * plus the largest event seen; it does not grow with the file's size.
 *
 * - CRC32 checksums are verified when the file has them (FDE alg = 1).
 * - MariaDB compressed events (Query and rows) are yielded decompressed:
 *   `type` is the plain type, `orig_type` the compressed one, and `data`
 *   is a complete plain event (header, body, fresh CRC if the file has
 *   checksums) that can be replayed with BINLOG.
 * - A MySQL Transaction_payload is yielded first as itself, then each inner
 *   event with `inner` set (offset = the payload's offset, `inner_offset`
 *   = position inside the uncompressed payload). Inner events have no CRC.
 */
#ifndef BINLOGFS_READER_H
#define BINLOGFS_READER_H

#include <binlogfs/binlog.h>
#include <binlogfs/error.h>

G_BEGIN_DECLS

typedef struct {
    BlEventHeader h;        /* h.type: plain type (after decompression) */
    guint8 orig_type;       /* type as stored in the file */
    gboolean inner;         /* from inside a Transaction_payload */
    guint64 offset;         /* byte offset of the event in the file */
    guint32 inner_offset;   /* for inner events: offset in the payload */
    guint32 stored_size;    /* bytes the event takes in the file */
    const guint8 *data;     /* the whole event, h.size bytes */
    const guint8 *body;     /* data + header length */
    gsize body_len;         /* without header and CRC */
} BlEvent;

typedef struct BlReader BlReader;

/* Opens `path`, checks the magic and reads the Format_description event.
 * Returns NULL with BL_ERROR_IO, _NOT_BINLOG, _TRUNCATED, _CHECKSUM,
 * _CORRUPT or _UNSUPPORTED; messages name the file and offset.
 * `display_name` (may be NULL = path) is the name used in messages. */
BlReader *bl_reader_open(const char *path, const char *display_name, GError **error);

/* The same over an open descriptor, which the reader owns and closes. */
BlReader *bl_reader_open_fd(int fd, const char *display_name, GError **error);

/* Skip checksum verification (default: verify). */
void bl_reader_set_verify_checksums(BlReader *r, gboolean verify);

/* Start reading at `pos`, which must be the offset of an event (used to
 * resume). The FDE has been read already. Fails with BL_ERROR_INVALID if
 * pos is before the first event after the FDE. */
gboolean bl_reader_seek(BlReader *r, guint64 pos, GError **error);

/* Yields the next event. Returns TRUE and sets *ev (valid until the next
 * call or free). At a clean end of file returns FALSE with *error unset.
 * On bad input returns FALSE with an error naming file:offset; the reader
 * then stays failed. The FDE itself is yielded first. */
gboolean bl_reader_next(BlReader *r, const BlEvent **ev, GError **error);

const BlFormat *bl_reader_format(const BlReader *r);
/* The format for decoding `ev`: the inner format for payload events. */
const BlFormat *bl_reader_format_for(const BlReader *r, const BlEvent *ev);
const char *bl_reader_name(const BlReader *r);
/* Offset just after the last complete event yielded (outer events only). */
guint64 bl_reader_position(const BlReader *r);
/* File size when opened (0 if unknown). */
guint64 bl_reader_file_size(const BlReader *r);
/* Largest buffer the reader held, for memory accounting. */
gsize bl_reader_peak_buffer(const BlReader *r);

void bl_reader_free(BlReader *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlReader, bl_reader_free)

/* CRC32 (zlib polynomial) used for event checksums; fast path where the
 * CPU allows. */
guint32 bl_crc32(guint32 crc, const guint8 *buf, gsize len);

G_END_DECLS

#endif
