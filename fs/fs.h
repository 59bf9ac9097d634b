/*
 * fs.h - the FUSE side of runtimefs: the state the operations share and
 * the operations themselves (ops.c).
 */
#ifndef FS_FS_H
#define FS_FS_H

#define FUSE_USE_VERSION 35
#include <fuse.h>
#include <sys/types.h>

#include "../model/model.h"

struct fs {
	const char *db;       /* absolute path of the database */
	struct model_config cfg;
	struct model *m;      /* opened in init, after the daemon forked */
	uid_t uid;            /* owner of every file: the daemon's user */
	gid_t gid;
};

/* The operations (ops.c), and the same wrapped so that whatever a request
 * holds is released when it returns (request.c): mount the latter. */
extern const struct fuse_operations fs_ops_inner;
extern const struct fuse_operations fs_operations;

#endif
