/*
 * errmsg.c - why the last operation failed, one message per thread
 * (errmsg.h).
 */
#include "errmsg.h"

#include <stdio.h>
#include <string.h>

#define ERRMSG_MAX 512

static __thread char message[ERRMSG_MAX];

int errmsg_vset(int err, const char *fmt, va_list ap)
{
	char next[ERRMSG_MAX];

	/* formatted apart first: an argument may point into `message` */
	vsnprintf(next, sizeof(next), fmt, ap);
	memcpy(message, next, sizeof(message));
	return err;
}

int errmsg_set(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errmsg_vset(err, fmt, ap);
	va_end(ap);
	return err;
}

const char *errmsg(void)
{
	return message;
}

void errmsg_clear(void)
{
	message[0] = '\0';
}
