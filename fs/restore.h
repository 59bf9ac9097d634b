/*
 * restore.h - the mount of `-o restore` (restore.c): an empty tree that a
 * backup is copied into, and that becomes the database at unmount.
 */
#ifndef FS_RESTORE_H
#define FS_RESTORE_H

#include "fs.h"
/* the restore mount keeps libfuse's high-level, path-based API, whatever
 * API the ordinary mount uses */
#include <fuse.h>

/* The operations to mount with -o restore, on an empty database. */
extern const struct fuse_operations fs_restore_operations;

/* The most memory the staged tree may hold, in bytes, counted as
 * allocated (entries, their names, their data): -o restore_max=MIB.
 * Anything that would pass it is refused with ENOSPC. */
#define FS_RESTORE_MAX_DEFAULT ((size_t)1024 << 20)
extern size_t fs_restore_max;

/* Set at unmount when the restore was refused (the database stayed
 * empty): the daemon then exits 1. */
extern int fs_restore_failed;

#endif
