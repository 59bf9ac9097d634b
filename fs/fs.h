/*
 * fs.h - the FUSE side of runtimefs: the state the operations share and
 * the operations themselves (ops.c), on libfuse's low-level, inode-based
 * API, so that the kernel may cache names and attributes per file and be
 * told exactly what changed (cache.h).
 */
#ifndef FS_FS_H
#define FS_FS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/types.h>

#include "../model/model.h"

struct stage;
struct https;

struct fs {
	const char *locator;  /* where the store is (store.h): for SQLite, an absolute path */
	const char *shown;    /* the locator as messages show it: no password */
	struct model_config cfg;
	struct model *m;      /* opened in init, after the daemon forked */
	uid_t uid;            /* owner of every file: the daemon's user */
	gid_t gid;
	double cache_timeout; /* -o cache_timeout=SECS (cache.h) */
	struct fuse_session *se;
	int failed;           /* something was lost at unmount: exit 1 */
	/* -o restore: the tree is a staging tree (stage.h), made in init,
	 * committed at unmount; at most restore_max bytes */
	int restore;
	size_t restore_max;
	struct stage *stage;
	/* -o icp_listen: ICP's runtime API (icp_http.h), bound before the
	 * daemon forks, serving from init to destroy */
	struct https *icp;
};

/* The operations; `userdata` of the session is the struct fs. */
extern const struct fuse_lowlevel_ops fs_operations;

/* Serves `se` on a pool of up to `max_threads` threads, `max_idle` of
 * them kept idle, one polling the device for `spin_us` microseconds after
 * each request (0: none) before it sleeps (loop.c); ends when the mount
 * is gone or a signal handler ended the session: 0, or -1 when it could
 * not start or reading the device failed (not 1, which is SIGHUP's number
 * in libfuse's loops, a clean stop). */
int fs_loop(struct fuse_session *se, unsigned max_threads,
		unsigned max_idle, unsigned spin_us);

#endif
