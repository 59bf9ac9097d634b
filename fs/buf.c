/*
 * buf.c - the capped growing buffer of buf.h.
 */
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b, b->cap);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

size_t buf_alloc_for(const struct buf *b, size_t need)
{
	size_t n;

	if (need > b->cap)
		return 0;
	if (need + 1 <= b->alloc)
		return b->alloc;
	n = b->alloc ? b->alloc : 64;
	while (n < need + 1)
		n *= 2;
	return n > b->cap + 1 ? b->cap + 1 : n;
}

/* Makes room for `need` bytes plus a NUL. */
static int buf_grow(struct buf *b, size_t need)
{
	size_t n = buf_alloc_for(b, need);
	char *p;

	if (!n)
		return -EFBIG;
	if (n == b->alloc)
		return 0;
	p = realloc(b->data, n);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->alloc = n;
	return 0;
}

int buf_put(struct buf *b, size_t off, const void *data, size_t len)
{
	int ret;

	if (off > b->cap || len > b->cap - off)
		return -EFBIG;
	ret = buf_grow(b, off + len);
	if (ret)
		return ret;
	if (off > b->len)
		memset(b->data + b->len, 0, off - b->len);
	if (len)
		memcpy(b->data + off, data, len);
	if (off + len > b->len)
		b->len = off + len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	return buf_put(b, b->len, data, len);
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	ret = buf_grow(b, b->len + (size_t)n);
	if (ret)
		return ret;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}
