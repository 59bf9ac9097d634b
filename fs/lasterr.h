/*
 * lasterr.h - the last failed operation of each user, for MOUNT/.last_error
 * and the daemon's log.
 */
#ifndef FS_LASTERR_H
#define FS_LASTERR_H

#include <sys/types.h>

#include "buf.h"

/* Records that `op` on `path` by `uid` failed with `err` (-errno) because
 * of `why`, and logs it to standard error (the journal under systemd). */
void lasterr_record(uid_t uid, const char *op, const char *path, int err,
		const char *why);

/* Appends the last failure of `uid` as one line to `out`; nothing if that
 * user has had none. */
int lasterr_show(uid_t uid, struct buf *out);

/* The number of users remembered at most; the oldest entry makes way. */
#define LASTERR_USERS 128

#endif
