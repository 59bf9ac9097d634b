/*
 * request.c - what one FUSE request holds while it runs (request.h).
 */
#include "fs.h"
#include "cache.h"
#include "request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOLD_MAX 4     /* rename resolves two paths; room to spare */
#define GROUPS_MAX 256

static __thread struct model *held[HOLD_MAX];
static __thread int nheld;
static __thread fuse_req_t current;

static __thread const char *op_name;
static __thread char req_path[1024];
static __thread uint64_t reads_at;
static int counting = -1;          /* RUNTIMEFS_COUNT_READS, read once */

void request_begin(fuse_req_t req, const char *op)
{
	current = req;
	op_name = op;
	req_path[0] = '\0';
	model_errclear();          /* one error context per request */
	if (counting < 0)
		counting = getenv("RUNTIMEFS_COUNT_READS") != NULL;
	if (counting)
		reads_at = model_reads();
}

void request_end(void)
{
	request_release();
	if (counting > 0 && op_name)
		fprintf(stderr, "runtimefs: %s read %llu\n", op_name,
				(unsigned long long)(model_reads() - reads_at));
	current = NULL;
	op_name = NULL;
}

void request_path(const char *path)
{
	/* as MOUNT/events gives paths: from the root, without its '/' */
	snprintf(req_path, sizeof(req_path), "%s",
			path[0] == '/' && path[1] ? path + 1 : path);
}

/* The command name of process `pid`, as the kernel gives it: read once
 * for the pid a thread served last (a shell's loop of writes is one
 * process). */
static void comm_of(pid_t pid, char *out, size_t size)
{
	static __thread pid_t last_pid;
	static __thread char last[32];
	char path[64];
	FILE *f;

	if (pid && pid == last_pid) {
		snprintf(out, size, "%s", last);
		return;
	}
	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (!(f = fopen(path, "re")))
		return;
	if (fgets(out, (int)size, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
	last_pid = pid;
	snprintf(last, sizeof(last), "%s", out);
}

int request_actor(void *ctx, struct model_actor *out)
{
	const struct fuse_ctx *c;

	(void)ctx;
	if (!current)
		return -1;
	c = fuse_req_ctx(current);
	memset(out, 0, sizeof(*out));
	out->uid = c->uid;
	out->gid = c->gid;
	out->pid = c->pid;
	comm_of(c->pid, out->comm, sizeof(out->comm));
	snprintf(out->op, sizeof(out->op), "%s", op_name ? op_name : "");
	snprintf(out->path, sizeof(out->path), "%s", req_path);
	return 0;
}

uid_t request_uid(void)
{
	return current ? fuse_req_ctx(current)->uid : getuid();
}

pid_t request_pid(void)
{
	return current ? fuse_req_ctx(current)->pid : getpid();
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
	for (int i = 0; i < nheld; i++) {
		if (held[i] == snap) {
			model_snapshot_put(snap);
			return 0;
		}
	}
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
