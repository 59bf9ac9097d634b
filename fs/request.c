/*
 * request.c - what one FUSE request holds while it runs (request.h).
 */
#include "fs.h"
#include "cache.h"
#include "request.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define HOLD_MAX 4     /* rename resolves two paths; room to spare */
#define GROUPS_MAX 256

static __thread struct model *held[HOLD_MAX];
static __thread int nheld;
static __thread fuse_req_t current;

/* What the request read: a few runtimes and environments, in turn. */
#define MEMO_RUNTIMES 4
#define MEMO_ENVS 2
static __thread struct {
	struct model *m;
	struct model_runtime rt;
} runtimes[MEMO_RUNTIMES];
static __thread struct {
	struct model *m;
	struct model_env e;
} envs[MEMO_ENVS];
static __thread struct {
	struct model *m;
	char env[MODEL_NAME_MAX];
	char runtime[MODEL_NAME_MAX];
	struct model_endpoint e;
} endpoint_memo;
static __thread unsigned next_runtime, next_env;

void request_begin(fuse_req_t req)
{
	current = req;
}

void request_end(void)
{
	request_forget();
	request_release();
	current = NULL;
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

int request_runtime_get(struct model *m, const char *env, const char *name,
		struct model_runtime *out)
{
	unsigned slot;
	int ret;

	for (int i = 0; i < MEMO_RUNTIMES; i++) {
		if (runtimes[i].m == m && !strcmp(runtimes[i].rt.env, env) &&
		    !strcmp(runtimes[i].rt.name, name)) {
			*out = runtimes[i].rt;
			return 0;
		}
	}
	ret = model_runtime_get(m, env, name, out);
	if (!ret) {
		slot = next_runtime++ % MEMO_RUNTIMES;
		runtimes[slot].m = m;
		runtimes[slot].rt = *out;
	}
	return ret;
}

int request_env_get(struct model *m, const char *name, struct model_env *out)
{
	unsigned slot;
	int ret;

	for (int i = 0; i < MEMO_ENVS; i++) {
		if (envs[i].m == m && !strcmp(envs[i].e.name, name)) {
			*out = envs[i].e;
			return 0;
		}
	}
	ret = model_env_get(m, name, out);
	if (!ret) {
		slot = next_env++ % MEMO_ENVS;
		envs[slot].m = m;
		envs[slot].e = *out;
	}
	return ret;
}

int request_endpoint_get(struct model *m, const char *env, const char *name,
		const char *endpoint, struct model_endpoint *out)
{
	int ret;

	if (endpoint_memo.m == m && !strcmp(endpoint_memo.env, env) &&
	    !strcmp(endpoint_memo.runtime, name) &&
	    !strcmp(endpoint_memo.e.name, endpoint)) {
		*out = endpoint_memo.e;
		return 0;
	}
	ret = model_endpoint_get(m, env, name, endpoint, out);
	if (!ret && strlen(env) < MODEL_NAME_MAX &&
	    strlen(name) < MODEL_NAME_MAX) {
		endpoint_memo.m = m;
		strcpy(endpoint_memo.env, env);
		strcpy(endpoint_memo.runtime, name);
		endpoint_memo.e = *out;
	}
	return ret;
}

void request_forget(void)
{
	endpoint_memo.m = NULL;
	for (int i = 0; i < MEMO_RUNTIMES; i++)
		runtimes[i].m = NULL;
	for (int i = 0; i < MEMO_ENVS; i++)
		envs[i].m = NULL;
}
