/*
 * scratch.h - temporary files that editors and tools make beside a value
 * file, kept in memory only.
 *
 * `sed -i` writes ./sedXXXXXX and renames it over the file; vim makes
 * .spec.swp, 4913 and spec~; `mv` from another filesystem unlinks the
 * target and creates it again.  None of these names is part of the tree,
 * so a directory that holds writable value files accepts them as scratch
 * files: listed, stat-able, readable and writable like any file, capped
 * in number (SCRATCH_FILES) and size (SCRATCH_SIZE), never stored.
 * Renaming one over a value file applies its content as a write would
 * (ops.c); unlinking one forgets it.
 *
 * A value file itself cannot disappear.  Unlinking it (or renaming it
 * away) hides it for SCRATCH_HIDE_SEC seconds, so that the create that
 * follows (mv, vim's rename-over) opens it for writing.
 *
 * Every function takes the table's own lock; a struct scratch stays valid
 * while a reference is held (scratch_open() .. scratch_put()).
 */
#ifndef FS_SCRATCH_H
#define FS_SCRATCH_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"
#include "tree.h"

#define SCRATCH_FILES 16              /* scratch files at once, per mount */
#define SCRATCH_SIZE (256 * 1024)     /* bytes per scratch file */
#define SCRATCH_HIDE_SEC 2            /* how long an unlinked value file hides */

struct scratch;

/* Whether `dir` accepts scratch files: it holds a writable value file. */
int scratch_dir_ok(const struct fs_path *dir);

/* Makes an empty scratch file at `path` with `mode` and opens it (one
 * reference).  -EEXIST, -ENOSPC past SCRATCH_FILES, -ENOMEM. */
int scratch_create(const char *path, mode_t mode, struct scratch **out);
/* Makes a scratch file at `path` holding `data` (not opened). */
int scratch_create_with(const char *path, const void *data, size_t len);

/* Opens the scratch file at `path` (one more reference), NULL if none. */
struct scratch *scratch_open(const char *path);
void scratch_put(struct scratch *s);

/* Attributes; -ENOENT when there is no scratch file at `path`. */
int scratch_stat_path(const char *path, uid_t uid, gid_t gid,
		struct stat *st);
void scratch_stat(struct scratch *s, uid_t uid, gid_t gid, struct stat *st);

int scratch_read(struct scratch *s, char *out, size_t size, off_t off);
/* -EFBIG past SCRATCH_SIZE. */
int scratch_write(struct scratch *s, const char *data, size_t size,
		off_t off);
int scratch_truncate(struct scratch *s, off_t size);
int scratch_chmod(const char *path, mode_t mode);

/* A copy of the content of the scratch file at `path` into `out`. */
int scratch_content(const char *path, struct buf *out);

/* Forgets the scratch file at `path`; -ENOENT if none. */
int scratch_unlink(const char *path);
/* Moves a scratch file to `to`, replacing a scratch file there. */
int scratch_rename(const char *from, const char *to);

/* Forgets every scratch file below the directory `dir` (it was removed). */
void scratch_forget_under(const char *dir);

/* Calls fill() with the name of each scratch file directly in `dir`. */
int scratch_list(const char *dir, fs_fill_fn fill, void *ctx);

/* Hiding value files (see above). */
void scratch_hide(const char *path);
int scratch_hidden(const char *path);
void scratch_unhide(const char *path);
/* The latest moment at which a hidden value file comes back (0: none
 * was ever hidden): a listing made before it may lack that file. */
int64_t scratch_hidden_until(void);

#endif
