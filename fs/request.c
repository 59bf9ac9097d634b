/*
 * request.c - the FUSE operations as mounted: each one of ops.c, then the
 * release of whatever the request held (request.h).
 */
#include "fs.h"
#include "request.h"

#include <errno.h>

#define HOLD_MAX 4     /* rename resolves two paths; room to spare */

static __thread struct model *held[HOLD_MAX];
static __thread int nheld;

int request_hold(struct model *snap)
{
	if (nheld == HOLD_MAX) {
		model_snapshot_put(snap);
		return -EBUSY;
	}
	held[nheld++] = snap;
	return 0;
}

void request_release(void)
{
	while (nheld > 0)
		model_snapshot_put(held[--nheld]);
}

/* A wrapper for operation `op` with parameters `params` called as `args`. */
#define WRAP(op, params, args)					\
	static int wrap_##op params				\
	{							\
		int ret = fs_ops_inner.op args;			\
								\
		request_release();				\
		return ret;					\
	}

WRAP(getattr, (const char *p, struct stat *st, struct fuse_file_info *fi),
	(p, st, fi))
WRAP(readdir, (const char *p, void *buf, fuse_fill_dir_t fill, off_t off,
	struct fuse_file_info *fi, enum fuse_readdir_flags fl),
	(p, buf, fill, off, fi, fl))
WRAP(open, (const char *p, struct fuse_file_info *fi), (p, fi))
WRAP(read, (const char *p, char *b, size_t n, off_t off,
	struct fuse_file_info *fi), (p, b, n, off, fi))
WRAP(write, (const char *p, const char *b, size_t n, off_t off,
	struct fuse_file_info *fi), (p, b, n, off, fi))
WRAP(release, (const char *p, struct fuse_file_info *fi), (p, fi))
WRAP(truncate, (const char *p, off_t n, struct fuse_file_info *fi),
	(p, n, fi))
WRAP(mkdir, (const char *p, mode_t m), (p, m))
WRAP(rmdir, (const char *p), (p))
WRAP(unlink, (const char *p), (p))
WRAP(symlink, (const char *t, const char *p), (t, p))
WRAP(readlink, (const char *p, char *b, size_t n), (p, b, n))
WRAP(create, (const char *p, mode_t m, struct fuse_file_info *fi),
	(p, m, fi))
WRAP(rename, (const char *a, const char *b, unsigned int fl), (a, b, fl))
WRAP(utimens, (const char *p, const struct timespec tv[2],
	struct fuse_file_info *fi), (p, tv, fi))
WRAP(chmod, (const char *p, mode_t m, struct fuse_file_info *fi),
	(p, m, fi))
WRAP(statfs, (const char *p, struct statvfs *st), (p, st))
WRAP(chown, (const char *p, uid_t u, gid_t g, struct fuse_file_info *fi),
	(p, u, g, fi))
WRAP(flush, (const char *p, struct fuse_file_info *fi), (p, fi))

static void *wrap_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	return fs_ops_inner.init(conn, cfg);
}

static void wrap_destroy(void *data)
{
	fs_ops_inner.destroy(data);
}

/* Every operation of fs_ops_inner, wrapped: one added there goes here. */
const struct fuse_operations fs_operations = {
	.init = wrap_init,
	.destroy = wrap_destroy,
	.getattr = wrap_getattr,
	.readdir = wrap_readdir,
	.open = wrap_open,
	.read = wrap_read,
	.write = wrap_write,
	.release = wrap_release,
	.truncate = wrap_truncate,
	.mkdir = wrap_mkdir,
	.rmdir = wrap_rmdir,
	.unlink = wrap_unlink,
	.symlink = wrap_symlink,
	.readlink = wrap_readlink,
	.create = wrap_create,
	.rename = wrap_rename,
	.utimens = wrap_utimens,
	.chmod = wrap_chmod,
	.statfs = wrap_statfs,
	.chown = wrap_chown,
	.flush = wrap_flush,
};
