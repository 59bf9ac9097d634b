/*
 * access.c - who may do what: the modes, owners and groups the tree
 * shows, and the daemon's own check of every operation against them.
 *
 * Every file belongs to the daemon's user, the admin: only it may write,
 * create and delete.  Everyone may read the tree but credentials (secret
 * snippets, secret.toml, service_account: 0600).  With -o admin_gid=GID
 * the tree belongs to that group and the owner's rights go to the group
 * too (0775 directories, 0664 value files, 0660 secrets).  MOUNT/heartbeat
 * is 0660 and belongs to the group of -o heartbeat_gid=GID when given
 * (else to the admins' group): the group runtimes run in, which needs
 * nothing else.  A scratch file (scratch.h) belongs to whoever made it.
 *
 * The kernel checks these modes itself only with -o default_permissions;
 * the daemon checks them on every request whatever the mount options, as
 * the kernel's generic_permission() would (root may do anything), so
 * that -o allow_other without default_permissions opens nothing.
 */
#include "fs.h"
#include "request.h"
#include "tree.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

struct fs_access fs_access = { (gid_t)-1, (gid_t)-1, 0, 0 };

mode_t fs_access_mode(const struct fs_path *p, mode_t mode)
{
	if (p->node->kind == FS_HEARTBEAT)
		return (mode & S_IFMT) | 0660;
	if (fs_access.admin_gid != (gid_t)-1)
		mode |= (mode & 0700) >> 3;
	return mode;
}

gid_t fs_access_gid(const struct fs_path *p, gid_t gid)
{
	if (p && p->node->kind == FS_HEARTBEAT &&
	    fs_access.heartbeat_gid != (gid_t)-1)
		return fs_access.heartbeat_gid;
	if (fs_access.admin_gid != (gid_t)-1)
		return fs_access.admin_gid;
	return gid;
}

int fs_access_allows(mode_t mode, uid_t uid, gid_t gid, int mask)
{
	uid_t caller = request_uid();
	int own = (mode >> 6) & 7, group = (mode >> 3) & 7, other = mode & 7;

	mask &= R_OK | W_OK | X_OK;
	if (caller == 0)
		return (mask & X_OK) && !S_ISDIR(mode) && !(mode & 0111) ?
			-EACCES : 0;
	if (caller == uid)
		return (own & mask) == mask ? 0 : -EACCES;
	/* the caller's groups are asked for only when they matter */
	if ((group & mask) == mask && (other & mask) == mask)
		return 0;
	if ((group & mask) != mask && (other & mask) != mask)
		return -EACCES;
	if (request_in_group(gid))
		return (group & mask) == mask ? 0 : -EACCES;
	return (other & mask) == mask ? 0 : -EACCES;
}

int fs_access_check(const struct fs_path *p, int mask)
{
	int ret = fs_access_allows(fs_mode(p), fs_access.owner,
			fs_access_gid(p, fs_access.group), mask);

	if (ret)
		return fs_fail(ret, "only %s may %s this", mask & W_OK ?
				"the owner and the admins" : "the owner, the"
				" admins and those the mode names",
				mask & W_OK ? "change" : "read");
	return 0;
}

int fs_access_owns(uid_t uid)
{
	uid_t caller = request_uid();

	if (caller == 0 || caller == uid)
		return 0;
	return fs_fail(-EPERM, "only the owner of a file may change its"
			" mode, owner or times");
}
