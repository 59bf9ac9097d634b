/*
 * access.c - who may do what: the modes and groups the tree shows, which
 * the kernel enforces when mounted with -o default_permissions.
 *
 * Every file belongs to the daemon's user, the admin: only it may write,
 * create and delete.  Everyone may read the tree but the secret snippets
 * (0600).  With -o admin_gid=GID the tree belongs to that group and the
 * owner's rights go to the group too (0775 directories, 0664 value files,
 * 0660 secrets).  MOUNT/heartbeat is 0660 and belongs to the group of
 * -o heartbeat_gid=GID when given (else to the admins' group): the group
 * runtimes run in, which needs nothing else.
 */
#include "fs.h"
#include "request.h"
#include "tree.h"

#include <sys/stat.h>

struct fs_access fs_access = { (gid_t)-1, (gid_t)-1 };

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
	if (p->node->kind == FS_HEARTBEAT &&
	    fs_access.heartbeat_gid != (gid_t)-1)
		return fs_access.heartbeat_gid;
	if (fs_access.admin_gid != (gid_t)-1)
		return fs_access.admin_gid;
	return gid;
}

int fs_access_may_open(const struct fs_path *p, uid_t owner)
{
	uid_t caller = request_uid();

	if ((fs_mode(p) & 0004) || caller == 0 || caller == owner ||
	    request_in_group(fs_access.admin_gid))
		return 1;
	return p->node->kind == FS_HEARTBEAT &&
		request_in_group(fs_access.heartbeat_gid);
}
