/*
 * cache.c - the kernel's caches of the tree, kept exact (cache.h): the
 * model's changes are queued by the request that made them and told to
 * the kernel by a notifier thread of their own.
 */
#include "events.h"
#include "fs.h"
#include "cache.h"
#include "clock.h"
#include "inode.h"
#include "notifyq.h"
#include "request.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define EXPIRE_EARLY_NS 20000000LL    /* 20 ms: the kernel counts jiffies */
#define QUEUE_MAX 4096                /* more: everything held is told */
#define BARRIER_WAIT_NS 1000000000LL
#define PRUNE_MAX 512                 /* node ids in one prune notification */

/* Two notifications of FUSE 7.44 and 7.45 (Linux 6.16, 6.18) that
 * libfuse 3.14 does not know: both take no lock the kernel could wait on
 * (cache.h), so they are written to the device here, as libfuse writes
 * the others. */
#define NOTIFY_INC_EPOCH 8            /* every name is looked up again */
#define NOTIFY_PRUNE 9                /* unused names of these inodes go */

struct notify_header {                /* struct fuse_out_header */
	uint32_t len;
	int32_t error;                /* the notification's code */
	uint64_t unique;              /* 0: a notification */
};

struct notify_prune {                 /* struct fuse_notify_prune_out */
	uint32_t count;
	uint32_t padding;
	uint64_t spare;
};

static struct fuse_session *session;
static struct model *model;
static double timeout;
static int no_prune, no_epoch;        /* the kernel refused them once */

static struct notifyq *queue;         /* to the notifier (notifyq.h) */

double cache_entry_timeout(const struct fs_path *p)
{
	return p ? timeout : 0;
}

double cache_attr_timeout(const struct fs_path *p, const struct fs_value *v)
{
	int64_t left;

	if (!p || p->node->kind == FS_LAST_ERROR || p->node->stream)
		return 0;
	if (!v->until_ns)
		return timeout;
	/* the kernel counts on the real clock, not on a test's */
	if (fs_clock_is_test())
		return 0;
	left = v->until_ns - fs_now_ns() - EXPIRE_EARLY_NS;
	if (left <= 0)
		return 0;
	return (double)left / 1e9 < timeout ? (double)left / 1e9 : timeout;
}

/* -- the notifier ------------------------------------------------------- */

/* The attributes of `ino`, and nothing else: no page, no name, so that
 * the kernel takes no lock a request in flight may hold (cache.h). */
static void forget_attrs(uint64_t ino)
{
	fuse_lowlevel_notify_inval_inode(session, ino, -1, 0);
}

static void attrs_seen(void *ctx, const struct inode_seen *s)
{
	(void)ctx;
	forget_attrs(s->ino);
}

/* Writes a notification of `code` with `len` bytes of `data` to the
 * device; -errno when the kernel refuses it. */
static int notify_raw(int32_t code, const void *data, size_t len)
{
	struct notify_header h = { (uint32_t)(sizeof(h) + len), code, 0 };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)data, len } };
	ssize_t n = writev(fuse_session_fd(session), iov, len ? 2 : 1);

	return n < 0 ? -errno : 0;
}

/* Names that went: the kernel forgets the unused ones of `n` inodes (the
 * deepest first: a directory's name is in use while its children's are),
 * or, on a kernel without prune, looks every name up again. */
static void forget_names(const uint64_t *ino, size_t n)
{
	struct {
		struct notify_prune p;
		uint64_t ids[PRUNE_MAX];
	} msg;

	while (n > 0 && !no_prune) {
		uint32_t k = n < PRUNE_MAX ? (uint32_t)n : PRUNE_MAX;

		memset(&msg.p, 0, sizeof(msg.p));
		msg.p.count = k;
		for (uint32_t i = 0; i < k; i++)
			msg.ids[i] = ino[n - 1 - i];
		if (notify_raw(NOTIFY_PRUNE, &msg, sizeof(msg.p) +
				k * sizeof(uint64_t)) == -EINVAL)
			no_prune = 1;
		else
			n -= k;
	}
	if (n > 0 && !no_epoch && notify_raw(NOTIFY_INC_EPOCH, NULL, 0))
		no_epoch = 1;
}

/* -- what a change touched ----------------------------------------------- */

/* What the notifier told the kernel, for RUNTIMEFS_COUNT_READS (request.h):
 * attributes forgotten, listings marked changed, names pruned. */
static struct told {
	unsigned attrs, listings, pruned;
} told;

static void forget(uint64_t ino)
{
	if (ino) {
		forget_attrs(ino);
		told.attrs++;
	}
}

/* The kernel's listing of directory `ino` is no longer true. */
static void relist(uint64_t ino)
{
	if (ino) {
		inode_listing_changed(ino);
		told.listings++;
	}
}

/* What a removal took: the inodes held at or below an entry. */
struct gone {
	uint64_t *ino;
	size_t n, cap;
};

static void gone_seen(void *ctx, const struct inode_seen *s)
{
	struct gone *g = ctx;

	forget_attrs(s->ino);
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		uint64_t *p = realloc(g->ino, cap * sizeof(*p));

		if (!p)
			return;
		g->ino = p;
		g->cap = cap;
	}
	g->ino[g->n++] = s->ino;
}

/* The object of entry `ino` went: the kernel forgets its name and every
 * name below it. */
static void prune(uint64_t ino)
{
	struct gone g = { NULL, 0, 0 };

	if (!ino)
		return;
	inode_walk_under(ino, 0, gone_seen, &g);
	forget_names(g.ino, g.n);
	told.pruned += (unsigned)g.n;
	free(g.ino);
}

/* The entry the kernel holds at the way `names[0..n)` from the root (the
 * fixed names of the node table and the names of objects), with what it
 * names in `obj` (NULL: not wanted); 0 if the kernel holds none. */
static uint64_t held(const char *const *names, int n, struct inode_obj *obj)
{
	uint64_t ino = FUSE_ROOT_ID;

	for (int i = 0; i < n && ino; i++)
		ino = inode_child(ino, names[i], i == n - 1 ? obj : NULL);
	return ino;
}

#define NAME(kind) (fs_nodes[kind].name)
#define HELD(...) held((const char *const[]){ __VA_ARGS__ }, \
		sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *), \
		NULL)

/* Child `name` of `dir`, 0 if the kernel holds none (or `dir` is 0). */
static uint64_t child(uint64_t dir, const char *name)
{
	return dir ? inode_child(dir, name, NULL) : 0;
}

/* The children the kernel holds of `dir`. */
struct kids {
	uint64_t *ino;
	size_t n, cap;
	uint64_t dir;
};

static void kid_seen(void *ctx, const struct inode_seen *s)
{
	struct kids *k = ctx;

	if (s->ino == k->dir)
		return;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		uint64_t *p = realloc(k->ino, cap * sizeof(*p));

		if (!p)
			return;
		k->ino = p;
		k->cap = cap;
	}
	k->ino[k->n++] = s->ino;
}

static struct kids kids_of(uint64_t dir)
{
	struct kids k = { NULL, 0, 0, dir };

	if (dir)
		inode_walk_under(dir, 1, kid_seen, &k);
	return k;
}

/* Directory `dir`, of node kind `kind`, and its fixed children show
 * `what` of a runtime: each that shows some of it (its node's depends and
 * lists, its attribute's depends) is told, and nothing else. */
static void runtime_nodes(uint64_t dir, enum fs_kind kind, unsigned what)
{
	if (fs_nodes[kind].depends & what)
		forget(dir);
	if (fs_nodes[kind].lists & what)
		relist(dir);
	for (int k = 0; k < FS_KIND_COUNT; k++) {
		const struct fs_node *n = &fs_nodes[k];

		if (n->parent != kind || !n->name ||
		    !((n->depends | n->lists) & what))
			continue;
		uint64_t ino = child(dir, n->name);
		if (n->depends & what)
			forget(ino);
		if (n->lists & what)
			relist(ino);
	}
	if (kind != FS_RUNTIME)
		return;
	for (const struct fs_attr *a = fs_runtime_attrs; a->name; a++)
		if (a->depends & what)
			forget(child(dir, a->name));
}

/* An entry below a runtime whose node shows `*ctx` of it is told. */
static void below_seen(void *ctx, const struct inode_seen *s)
{
	unsigned what = *(const unsigned *)ctx;
	const struct fs_node *n;

	if (s->obj.kind < 0 || s->obj.kind >= FS_KIND_COUNT)
		return;
	n = &fs_nodes[s->obj.kind];
	if (n->depends & what)
		forget(s->ino);
	if (n->lists & what)
		relist(s->ino);
}

static void tell_runtime(const struct model_event *ev)
{
	struct inode_obj o;
	uint64_t rt = held((const char *const[]){ NAME(FS_ENVS), ev->a,
			NAME(FS_ENV_RUNTIMES), ev->b }, 4, &o);
	uint64_t dir;

	/* a runtime the kernel does not hold, or holds as one made before */
	if (!rt || o.kind != FS_RUNTIME || (ev->id && o.id != ev->id))
		return;
	if (ev->what & MODEL_RT_GONE) {
		prune(rt);
		return;
	}
	runtime_nodes(rt, FS_RUNTIME, ev->what);
	/* the artifacts it reported, kinds and names of its own: what the
	 * kernel holds of them is told; one that went answers ENOENT when
	 * the kernel asks for its attributes again */
	if ((ev->what & MODEL_RT_ARTIFACTS) &&
	    (dir = child(rt, NAME(FS_ARTIFACTS)))) {
		unsigned what = MODEL_RT_ARTIFACTS;

		inode_walk_under(dir, 0, below_seen, &what);
	}
	if ((ev->what & MODEL_RT_VERSIONS) && (ev->what & MODEL_RT_DROPPED))
		prune(child(child(rt, NAME(FS_VERSIONS)), ev->c));
	if (!(ev->what & (MODEL_RT_ENDPOINTS | MODEL_RT_ENDPOINT_NAMES)) ||
	    !(dir = child(rt, NAME(FS_ENDPOINTS))))
		return;
	if (*ev->c && (ev->what & MODEL_RT_DROPPED)) {
		prune(child(dir, ev->c));
	} else if (*ev->c) {
		runtime_nodes(child(dir, ev->c), FS_ENDPOINT, ev->what);
	} else {
		struct kids k = kids_of(dir);

		for (size_t i = 0; i < k.n; i++)
			runtime_nodes(k.ino[i], FS_ENDPOINT,
					MODEL_RT_ENDPOINTS);
		free(k.ino);
	}
}

/* A view that lists environments: its listing changed, and, when
 * environment `env` went (`gone`), its entry of that name. */
static void view_of_envs(uint64_t view, const char *env, int gone)
{
	relist(view);
	if (gone)
		prune(child(view, env));
}

/* Environments came or went (`gone`: environment `env` went): the
 * listings of environments and of every view of the projects the kernel
 * holds, which list environments too. */
static void envs_changed(const char *env, int gone)
{
	struct kids projects = kids_of(HELD(NAME(FS_PROJECTS)));

	relist(HELD(NAME(FS_ENVS)));
	for (size_t i = 0; i < projects.n; i++) {
		struct kids ins = kids_of(child(projects.ino[i],
				NAME(FS_INTEGRATIONS)));

		view_of_envs(child(projects.ino[i], NAME(FS_PROJECT_RUNTIMES)),
				env, gone);
		for (size_t j = 0; j < ins.n; j++) {
			view_of_envs(child(ins.ino[j],
					NAME(FS_INTEGRATION_RUNTIMES)), env,
					gone);
			view_of_envs(child(ins.ino[j],
					NAME(FS_INTEGRATION_SECRETS)), env,
					gone);
		}
		free(ins.ino);
	}
	free(projects.ino);
}

static void tell_env(const struct model_event *ev)
{
	uint64_t env = HELD(NAME(FS_ENVS), ev->a), dir;

	if (ev->what & (MODEL_OBJ_MADE | MODEL_OBJ_GONE))
		envs_changed(ev->a, !!(ev->what & MODEL_OBJ_GONE));
	if (ev->what & MODEL_OBJ_GONE) {
		prune(env);
		return;
	}
	if (ev->what & MODEL_OBJ_VALUES)
		forget(child(env, NAME(FS_ENV_CRITICAL)));
	if (ev->what & MODEL_OBJ_MEMBERS)
		relist(child(env, NAME(FS_ENV_RUNTIMES)));
	if (ev->what & MODEL_OBJ_SECRETS) {
		relist(dir = child(env, NAME(FS_ENV_SECRETS)));
		if (*ev->c)
			prune(child(dir, ev->c));
	}
}

static void tell_project(const struct model_event *ev)
{
	uint64_t project = HELD(NAME(FS_PROJECTS), ev->a);

	if (ev->what & (MODEL_OBJ_MADE | MODEL_OBJ_GONE))
		relist(HELD(NAME(FS_PROJECTS)));
	if (ev->what & MODEL_OBJ_GONE)
		prune(project);
	else if (ev->what & MODEL_OBJ_MEMBERS)
		relist(child(project, NAME(FS_INTEGRATIONS)));
}

static void tell_integration(const struct model_event *ev)
{
	uint64_t in = HELD(NAME(FS_PROJECTS), ev->a, NAME(FS_INTEGRATIONS),
			ev->b), dir;

	if (ev->what & MODEL_OBJ_GONE) {
		prune(in);
		return;
	}
	if (ev->what & MODEL_OBJ_VALUES)
		forget(child(in, NAME(FS_INTEGRATION_TYPE)));
	if (ev->what & MODEL_OBJ_SECRETS) {
		relist(dir = child(child(in, NAME(FS_INTEGRATION_SECRETS)),
				ev->c));
		if (*ev->d)
			prune(child(dir, ev->d));
	}
}

/* The links project a and its integration b show under environment c. */
static void tell_view(const struct model_event *ev)
{
	uint64_t dirs[2] = {
		HELD(NAME(FS_PROJECTS), ev->a, NAME(FS_PROJECT_RUNTIMES),
				ev->c),
		HELD(NAME(FS_PROJECTS), ev->a, NAME(FS_INTEGRATIONS), ev->b,
				NAME(FS_INTEGRATION_RUNTIMES), ev->c),
	};

	for (int i = 0; i < 2; i++) {
		relist(dirs[i]);
		if (*ev->d)
			prune(child(dirs[i], ev->d));
	}
}

static void tell_snapshot(const struct model_event *ev)
{
	relist(HELD(NAME(FS_SNAPSHOTS)));
	if (ev->what & MODEL_OBJ_GONE)
		prune(HELD(NAME(FS_SNAPSHOTS), ev->a));
}

/* Anything may have changed, names too. */
static void tell_all(void)
{
	inode_walk_all(attrs_seen, NULL);
	inode_listings_changed();
	if (!no_epoch && notify_raw(NOTIFY_INC_EPOCH, NULL, 0))
		no_epoch = 1;
}

static int counting;                  /* RUNTIMEFS_COUNT_READS: say it */

static void tell(const struct model_event *ev)
{
	static const char *const kinds[] = { "runtime", "env", "project",
		"integration", "view", "snapshot", "events", "all" };

	memset(&told, 0, sizeof(told));
	switch (ev->kind) {
	case MODEL_EV_RUNTIME:
		tell_runtime(ev);
		break;
	case MODEL_EV_ENV:
		tell_env(ev);
		break;
	case MODEL_EV_PROJECT:
		tell_project(ev);
		break;
	case MODEL_EV_INTEGRATION:
		tell_integration(ev);
		break;
	case MODEL_EV_VIEW:
		tell_view(ev);
		break;
	case MODEL_EV_SNAPSHOT:
		tell_snapshot(ev);
		break;
	case MODEL_EV_EVENTS:
		fs_events_wake();    /* no invalidation: nothing to count */
		return;
	case MODEL_EV_ALL:
		tell_all();
		fs_events_wake();
		break;
	}
	if (counting)
		fprintf(stderr, "runtimefs: told %s %#x: %u attrs, %u listings,"
				" %u pruned\n", kinds[ev->kind], ev->what,
				told.attrs, told.listings, told.pruned);
}

/* The notifier's side of the queue. */
static void tell_ev(void *ctx, const struct model_event *ev)
{
	(void)ctx;
	tell(ev);
}

/* Whether a change of runtime `ev` can matter to the kernel: not when
 * it is only the runtime's heartbeat time and the kernel holds no entry
 * of that runtime (then the notifier would find nothing to tell, and
 * whatever the kernel looks up later reads the new time). */
static int runtime_noticed(const struct model_event *ev)
{
	struct inode_obj o;

	if (ev->kind != MODEL_EV_RUNTIME || ev->what != MODEL_RT_HEARD)
		return 1;
	return held((const char *const[]){ NAME(FS_ENVS), ev->a,
			NAME(FS_ENV_RUNTIMES), ev->b }, 4, &o) != 0;
}

/* The model's watcher, on the thread that made the change: it only
 * queues the change for the notifier, and of a heartbeat only when the
 * kernel holds that runtime. */
static void on_change(void *ctx, const struct model_event *ev)
{
	(void)ctx;
	/* the log grew: news for the reads waiting at its end only */
	if (ev->kind == MODEL_EV_EVENTS && !fs_events_waiting())
		return;
	if (session && timeout > 0 && queue && runtime_noticed(ev))
		notifyq_put(queue, ev);
	else if (ev->kind == MODEL_EV_EVENTS || ev->kind == MODEL_EV_ALL)
		fs_events_wake();      /* no notifier: waiting reads, now */
}

void cache_barrier(void)
{
	if (queue)
		notifyq_barrier(queue, BARRIER_WAIT_NS);
}

int cache_start(struct fuse_session *se, struct model *m, double t)
{
	int err;

	session = se;
	model = m;
	timeout = t;
	counting = getenv("RUNTIMEFS_COUNT_READS") != NULL;
	err = notifyq_start(&queue, QUEUE_MAX, tell_ev, NULL);
	if (err)
		return err;
	model_watch(m, on_change, NULL);
	return 0;
}

void cache_stop(void)
{
	if (model)
		model_watch(model, NULL, NULL);
	notifyq_stop(queue);
	queue = NULL;
	session = NULL;
	model = NULL;
}
