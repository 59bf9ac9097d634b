/*
 * errmsg.h - why the last operation failed, in words: one message per
 * thread, and so one per request (the front end clears it when a request
 * begins: fs/request.c).
 *
 * Every layer writes the same message: the store when the database
 * refuses ("commit: disk full"), the model when a rule does ("runtime
 * 'chat' is RUNNING; stop it first"), the tree when a name or an
 * operation is not allowed there.  The layer that refuses last has the
 * last word, and a layer that passes a failure up keeps the words below
 * it or prefixes them, so the front end reads one place for .last_error
 * and the log, never guessing which layer spoke.  It lives at the bottom
 * of fs -> model -> store so that each layer may write it; it knows
 * nothing of any of them.
 */
#ifndef STORE_ERRMSG_H
#define STORE_ERRMSG_H

#include <stdarg.h>

/* Sets the message (an argument may be the message itself, as when a
 * layer prefixes what the one below said) and returns `err`. */
int errmsg_set(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int errmsg_vset(int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* The message; "" when nothing failed since errmsg_clear(). */
const char *errmsg(void);
void errmsg_clear(void);

#endif
