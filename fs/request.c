/*
 * request.c - what one FUSE request holds while it runs (request.h).
 */
#include "fs.h"
#include "cache.h"
#include "request.h"

#include <errno.h>
#include <unistd.h>

#define HOLD_MAX 4     /* rename resolves two paths; room to spare */
#define GROUPS_MAX 256

static __thread struct model *held[HOLD_MAX];
static __thread int nheld;
static __thread fuse_req_t current;

void request_begin(fuse_req_t req)
{
	current = req;
}

void request_end(void)
{
	request_release();
	cache_busy(0, 0);
	current = NULL;
}

uid_t request_uid(void)
{
	return current ? fuse_req_ctx(current)->uid : getuid();
}

gid_t request_gid(void)
{
	return current ? fuse_req_ctx(current)->gid : getgid();
}

int request_in_group(gid_t gid)
{
	gid_t groups[GROUPS_MAX];
	int n;

	if (gid == (gid_t)-1)
		return 0;
	if (request_gid() == gid)
		return 1;
	n = current ? fuse_req_getgroups(current, GROUPS_MAX, groups) : 0;
	for (int i = 0; i < n && i < GROUPS_MAX; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

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
