/*
 * cache.c - the kernel's caches of the tree, kept exact (cache.h).
 */
#include "fs.h"
#include "cache.h"
#include "inode.h"
#include "request.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define EXPIRE_EARLY_NS 20000000LL    /* 20 ms: the kernel counts jiffies */

static struct fuse_session *session;
static struct model *model;
static double timeout;
static _Atomic uint64_t generation = 1;
static __thread uint64_t busy[2];

double cache_entry_timeout(const struct fs_path *p)
{
	return p ? timeout : 0;
}

double cache_attr_timeout(const struct fs_path *p, const struct fs_value *v)
{
	struct timespec ts;
	int64_t now, left;

	if (!p || p->node->kind == FS_LAST_ERROR)
		return 0;
	if (!v->until_ns)
		return timeout;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	left = v->until_ns - now - EXPIRE_EARLY_NS;
	if (left <= 0)
		return 0;
	return (double)left / 1e9 < timeout ? (double)left / 1e9 : timeout;
}

uint64_t cache_generation(void)
{
	return atomic_load(&generation);
}

void cache_busy(uint64_t dir1, uint64_t dir2)
{
	busy[0] = dir1;
	busy[1] = dir2;
}

/* The attributes and the pages (or listing) of `ino`.  Safe while a
 * request runs: the kernel locks no page across a request here, as
 * writes go straight through (ops.c, open_flags()). */
static void forget_value(uint64_t ino)
{
	fuse_lowlevel_notify_inval_inode(session, ino, 0, 0);
}

static void forget_name(const struct inode_seen *s)
{
	if (!s->parent || s->parent == busy[0] || s->parent == busy[1])
		return;
	fuse_lowlevel_notify_inval_entry(session, s->parent, s->name,
			strlen(s->name));
}

/* Whether `path` is still there.  What a snapshot holds never changes:
 * only a snapshot itself can go.  (A snapshot resolved here is held until
 * the request ends, as any other.) */
static int still_there(const char *path)
{
	struct fs_path p;

	if (!strncmp(path, "/snapshots/", 11) && strchr(path + 11, '/'))
		return 1;
	return fs_resolve(model, path, &p) == 0;
}

/* Whether `rel`, a path below a runtime, is a name that can go while the
 * runtime stays: a version, an endpoint, the bound secret. */
static int may_go(const char *rel)
{
	const char *name = NULL;

	if (!strncmp(rel, "/versions/", 10))
		name = rel + 10;
	else if (!strncmp(rel, "/endpoints/", 11))
		name = rel + 11;
	else
		return !strcmp(rel, "/secret") || !strcmp(rel, "/secret.toml");
	return !strchr(name, '/');
}

struct runtime_walk {
	size_t root_len;
};

static void runtime_seen(void *ctx, const struct inode_seen *s)
{
	struct runtime_walk *w = ctx;
	const char *rel = s->path + w->root_len;

	if (may_go(rel) && !still_there(s->path))
		forget_name(s);
	else
		forget_value(s->ino);
}

static void attrs_seen(void *ctx, const struct inode_seen *s)
{
	(void)ctx;
	forget_value(s->ino);
}

static void gone_seen(void *ctx, const struct inode_seen *s)
{
	(void)ctx;
	if (!still_there(s->path))
		forget_name(s);
}

static void any_seen(void *ctx, const struct inode_seen *s)
{
	(void)ctx;
	if (still_there(s->path))
		forget_value(s->ino);
	else
		forget_name(s);
}

/* A heartbeat that only moves time (MODEL_EV_LIVENESS) leaves the status
 * as it was: a change of status comes as MODEL_EV_RUNTIME. */
static void liveness(const char *env, const char *name)
{
	static const char *const files[] = { "", "/last_heartbeat",
		"/runtime.json" };
	char path[512];
	uint64_t ino;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "/environments/%s/runtimes/%s%s",
				env, name, files[i]);
		if ((ino = inode_find(path)))
			forget_value(ino);
	}
}

static void on_change(void *ctx, const struct model_event *ev)
{
	struct runtime_walk rw;
	char path[512];

	(void)ctx;
	request_forget();
	if (!session || timeout <= 0)
		return;
	if (ev->kind != MODEL_EV_LIVENESS)
		atomic_fetch_add(&generation, 1);
	switch (ev->kind) {
	case MODEL_EV_CHANGED:
		break;
	case MODEL_EV_LIVENESS:
		liveness(ev->a, ev->b);
		break;
	case MODEL_EV_RUNTIME:
		rw.root_len = (size_t)snprintf(path, sizeof(path),
				"/environments/%s/runtimes/%s", ev->a, ev->b);
		inode_walk_below(path, 0, runtime_seen, &rw);
		break;
	case MODEL_EV_ENV:
		snprintf(path, sizeof(path), "/environments/%s", ev->a);
		inode_walk_below(path, 1, attrs_seen, NULL);
		break;
	case MODEL_EV_INTEGRATION:
		snprintf(path, sizeof(path), "/projects/%s/integrations/%s",
				ev->a, ev->b);
		inode_walk_below(path, 1, attrs_seen, NULL);
		break;
	case MODEL_EV_GONE:
		inode_walk_named(ev->b, gone_seen, NULL);
		break;
	case MODEL_EV_ALL:
		inode_walk_all(any_seen, NULL);
		break;
	}
}

void cache_start(struct fuse_session *se, struct model *m, double t)
{
	session = se;
	model = m;
	timeout = t;
	model_watch(m, on_change, NULL);
}

void cache_stop(void)
{
	if (model)
		model_watch(model, NULL, NULL);
	session = NULL;
	model = NULL;
}
