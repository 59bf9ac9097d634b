/*
 * scratch.h - temporary files that editors and tools make beside a value
 * file, kept in memory only.
 *
 * `sed -i` writes ./sedXXXXXX and renames it over the file; vim makes
 * .spec.swp, 4913 and spec~; rsync writes .spec.XXXXXX; `mv` from another
 * filesystem unlinks the target and creates it again.  None of these
 * names is part of the tree, so a directory that holds writable value
 * files accepts the names such tools use (scratch_name_ok()) as scratch
 * files: listed, stat-able, readable and writable like any file, capped
 * in number (SCRATCH_FILES) and size (SCRATCH_SIZE), never stored: they
 * are gone at unmount and are in no snapshot.  Any other new name is
 * refused: a file the tree does not know would be a write accepted and
 * lost.  Renaming one over a value file applies its content as a write
 * would (ops.c); unlinking one forgets it.
 *
 * A scratch file belongs to the user who made it, and to the directory
 * object it was made in (`dir_id`, the identity of that environment,
 * runtime, endpoint or integration: ops.c): when the object goes, or a new
 * one of the same name takes its place, its scratch files go too.
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
/* Whether `name` is one that editors and tools give their temporary
 * files: vim's .NAME.swp (.swo, ...) and 4913 (any number), backups
 * NAME~, sed's sedXXXXXX, rsync's .NAME.XXXXXX, emacs's #NAME#, and
 * NAME.tmp, NAME.new, Python's tmpXXXXXXXX. */
int scratch_name_ok(const char *name);

/* Who a scratch file belongs to. */
struct scratch_owner {
	uint64_t dir_id;           /* the identity of its directory's object */
	uid_t uid;
	gid_t gid;
};

/* Tells whether the directory `dir` still holds the object `dir_id`, to
 * reclaim the slots of scratch files whose object went (called without
 * the table's lock). */
typedef int (*scratch_valid_fn)(const char *dir, uint64_t dir_id);
void scratch_set_validator(scratch_valid_fn fn);

/* Makes an empty scratch file at `path` with `mode` and opens it (one
 * reference).  -EEXIST, -ENOSPC past SCRATCH_FILES, -ENOMEM. */
int scratch_create(const char *path, const struct scratch_owner *o,
		mode_t mode, struct scratch **out);
/* Makes a scratch file at `path` holding `data` (not opened). */
int scratch_create_with(const char *path, const struct scratch_owner *o,
		mode_t mode, const void *data, size_t len);

/* Opens the scratch file at `path` of the directory object `dir_id` (one
 * more reference), NULL if none; one of another object is forgotten. */
struct scratch *scratch_open(const char *path, uint64_t dir_id);
void scratch_put(struct scratch *s);

/* Attributes; -ENOENT when there is no scratch file at `path`. */
int scratch_stat_path(const char *path, uint64_t dir_id, struct stat *st);
void scratch_stat(struct scratch *s, struct stat *st);

int scratch_read(struct scratch *s, char *out, size_t size, off_t off);
/* -EFBIG past SCRATCH_SIZE. */
int scratch_write(struct scratch *s, const char *data, size_t size,
		off_t off);
int scratch_truncate(struct scratch *s, off_t size);
/* Changes the mode or the owner (-1: unchanged) of the scratch file at
 * `path`; -ENOENT if none. */
int scratch_chmod(const char *path, uint64_t dir_id, mode_t mode);
int scratch_chown(const char *path, uint64_t dir_id, uid_t uid, gid_t gid);

/* A copy of the content of the scratch file at `path` into `out`. */
int scratch_content(const char *path, uint64_t dir_id, struct buf *out);

/* Forgets the scratch file at `path`; -ENOENT if none. */
int scratch_unlink(const char *path, uint64_t dir_id);
/* Moves a scratch file to `to`, replacing a scratch file there. */
int scratch_rename(const char *from, const char *to, uint64_t to_dir_id);

/* Forgets every scratch file below the directory `dir` (it was removed). */
void scratch_forget_under(const char *dir);

/* Calls fill() with the name of each scratch file directly in `dir`. */
int scratch_list(const char *dir, uint64_t dir_id, fs_fill_fn fill,
		void *ctx);

/* Hiding value files (see above). */
void scratch_hide(const char *path);
int scratch_hidden(const char *path);
void scratch_unhide(const char *path);
/* The latest moment at which a hidden value file comes back (0: none
 * was ever hidden): a listing made before it may lack that file. */
int64_t scratch_hidden_until(void);

#endif
