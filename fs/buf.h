/*
 * buf.h - a growing byte buffer with a hard cap, so that no input can make
 * the daemon grow without bound (after curl's dynbuf).
 */
#ifndef FS_BUF_H
#define FS_BUF_H

#include <stddef.h>

struct buf {
	char *data;      /* NUL-terminated while len < cap */
	size_t len;
	size_t alloc;
	size_t cap;      /* the most it may ever hold */
};

/* An empty buffer that will refuse to grow past `cap` bytes. */
void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);

/* Appends; -EFBIG when the cap would be passed, -ENOMEM. */
int buf_add(struct buf *b, const void *data, size_t len)
	__attribute__((warn_unused_result));
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), warn_unused_result));

/* The size of the allocation `b` would have once it holds `len` bytes:
 * its present one when it has room, else what buf_put() would grow it to
 * (0 when `len` passes the cap). */
size_t buf_alloc_for(const struct buf *b, size_t len);

/* Writes `len` bytes at offset `off`, zero-filling any gap. */
int buf_put(struct buf *b, size_t off, const void *data, size_t len)
	__attribute__((warn_unused_result));

#endif
