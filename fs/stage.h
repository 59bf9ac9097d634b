/*
 * stage.h - the staged tree of a restore mount (-o restore): plain
 * directories, files and links kept in memory as tar, cp -a or rsync -a
 * write them, in any order, served by the one front end (ops.c) as a
 * mode of the tree, until they become the database at unmount.
 *
 * Each entry has an id, never reused, that its inode keeps (kind
 * FS_STAGED, inode.h), and the node kind of the tree it stands for,
 * found from its directory's kind and its name (backup.h): a name that
 * cannot be part of a runtimefs tree is refused when it is made (EPERM,
 * or EINVAL for a name the rules of names refuse).  Names starting with
 * '.' (the temporary files of cp and rsync) and what a backup leaves out
 * (README, heartbeat, snapshots/) are staged and never checked.  The
 * root's .last_error is the caller's last error, as in the live tree; a
 * tool may remove it and make it again, and what it writes there goes
 * nowhere.
 *
 * Every file is checked on its own when it is closed (and a file renamed
 * under its new name), so that the tool sees a bad value.  Setting the
 * times of the root, which tar, cp -a and rsync -a do last, checks the
 * whole restore as staged then; the commit at unmount checks it again
 * (backup.h).
 *
 * Who: only root, the daemon's user and the -o admin_gid group change
 * anything (EACCES; EPERM for chmod and chown), with or without
 * default_permissions; reads follow the modes shown, in which the admin
 * group has the owner's rights and key material (what the tree shows
 * 0600) is the admins' whatever mode the tool gave it.
 *
 * Memory: everything staged (entries, names, data, counted as
 * allocated) is capped at -o restore_max; past it, ENOSPC.
 *
 * Functions return 0 (or a count) or -errno with the reason in
 * fs_errmsg(); each takes the stage's lock.
 */
#ifndef FS_STAGE_H
#define FS_STAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "tree.h"

#define STAGE_ROOT 1                        /* the id of the root */
#define STAGE_MAX_DEFAULT ((size_t)1024 << 20)  /* -o restore_max= */
#define STAGE_FILE_MAX (256 * 1024)         /* one staged file at most */

struct fs;
struct stage;

/* A stage for the restore of `fs`, holding at most `max` bytes. */
int stage_new(struct stage **out, struct fs *fs, size_t max);
void stage_free(struct stage *s);

/* Whether entry `id` is staged; the id of child `name` of `dir`, 0 if
 * none. */
int stage_exists(struct stage *s, uint64_t id);
uint64_t stage_lookup(struct stage *s, uint64_t dir, const char *name);

/* The attributes of entry `id`; *volatile_attr set when they change by
 * themselves (.last_error), so that the kernel keeps none. */
int stage_stat(struct stage *s, uint64_t id, struct stat *st,
		int *volatile_attr);
/* The names in directory `dir` with their types (S_IFDIR, ...). */
int stage_list(struct stage *s, uint64_t dir,
		int (*fill)(void *ctx, const char *name, mode_t type),
		void *ctx);
/* access(2): whether the caller may `mask` entry `id`. */
int stage_access(struct stage *s, uint64_t id, int mask);

/* Opening, reading and writing a staged file; flush checks it. */
int stage_open(struct stage *s, uint64_t id, int flags);
int stage_read(struct stage *s, uint64_t id, char *out, size_t size,
		off_t off);
int stage_write(struct stage *s, uint64_t id, const char *data, size_t size,
		off_t off);
int stage_flush(struct stage *s, uint64_t id);
int stage_truncate(struct stage *s, uint64_t id, off_t size);
int stage_readlink(struct stage *s, uint64_t id, char *out, size_t size);

/* Making, removing and renaming entries. */
int stage_mkdir(struct stage *s, uint64_t dir, const char *name,
		mode_t mode);
int stage_create(struct stage *s, uint64_t dir, const char *name,
		mode_t mode, uint64_t *id);
int stage_symlink(struct stage *s, uint64_t dir, const char *name,
		const char *target);
int stage_unlink(struct stage *s, uint64_t dir, const char *name);
int stage_rmdir(struct stage *s, uint64_t dir, const char *name);
int stage_rename(struct stage *s, uint64_t dir, const char *name,
		uint64_t newdir, const char *newname, unsigned int flags);

/* Times (tv as utimensat(2) takes them: UTIME_NOW, UTIME_OMIT); those of
 * the root check the whole restore.  Modes; owners stay the daemon's. */
int stage_utimens(struct stage *s, uint64_t id, const struct timespec tv[2]);
int stage_chmod(struct stage *s, uint64_t id, mode_t mode);
int stage_chown(struct stage *s, uint64_t id, uid_t uid, gid_t gid);

/* Unmounting: what is staged now becomes the database, or nothing does
 * (backup.h); says which in the log.  0, or -errno when it was refused. */
int stage_commit(struct stage *s);

/* Adds `path` ("environments/prod/critical") as ops.c would stage it for
 * root, with its directories: for tests and the fuzzer.  `type` is 'd',
 * 'f' or 'l'; `data` a file's bytes or a link's target; `mtime_ns` 0 for
 * now; *id (may be NULL) its id, for stage_flush(). */
int stage_put(struct stage *s, const char *path, char type, mode_t mode,
		const char *data, size_t len, int64_t mtime_ns, uint64_t *id);

/* What stage_walk() shows of an entry: `p` is where it stands in the
 * tree, when `kind` is a node kind (FS_IGNORED: staged and never read;
 * a file where a link goes is tar's placeholder for it). */
#define FS_IGNORED (-1)
struct stage_item {
	const char *path;          /* from the root, no leading '/' */
	const char *name;
	char type;                 /* 'd', 'f' or 'l' */
	int kind;
	const struct fs_path *p;
	const char *data;          /* a file's bytes, a link's target */
	size_t len;
	int64_t mtime_ns;
};

/* Calls enter() for each entry from the root down, depth first, and
 * leave() once its children have been; either may be NULL.  A non-zero
 * return stops the walk and is returned. */
int stage_walk(struct stage *s,
		int (*enter)(void *ctx, const struct stage_item *it),
		int (*leave)(void *ctx, const struct stage_item *it),
		void *ctx);
/* Whether an entry is staged at `path` ("environments/prod"). */
int stage_has(struct stage *s, const char *path);
/* How many entries are staged, the root aside. */
size_t stage_count(struct stage *s);

#endif
