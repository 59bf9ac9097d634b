/*
 * cache.c - the kernel's caches of the tree, kept exact (cache.h): the
 * model's changes are queued by the request that made them and told to
 * the kernel by a notifier thread of their own.
 */
#include "fs.h"
#include "cache.h"
#include "inode.h"
#include "request.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stdatomic.h>
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
static _Atomic uint64_t generation = 1;
static int no_prune, no_epoch;        /* the kernel refused them once */

/* The queue between the requests and the notifier.  `queued` counts the
 * events ever queued, `sent` those the notifier has told the kernel; a
 * barrier waits for `sent` to reach the `queued` it saw. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;          /* the notifier: something to do */
	pthread_cond_t done;          /* barriers: `sent` moved */
	struct model_event ring[QUEUE_MAX];
	unsigned head, n;
	int overflow;                 /* too much queued: tell everything */
	uint64_t queued, sent;
	int running, stop;
	pthread_t thread;
} q = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
};

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double cache_entry_timeout(const struct fs_path *p)
{
	return p ? timeout : 0;
}

double cache_attr_timeout(const struct fs_path *p, const struct fs_value *v)
{
	int64_t left;

	if (!p || p->node->kind == FS_LAST_ERROR)
		return 0;
	if (!v->until_ns)
		return timeout;
	left = v->until_ns - clock_ns(CLOCK_REALTIME) - EXPIRE_EARLY_NS;
	if (left <= 0)
		return 0;
	return (double)left / 1e9 < timeout ? (double)left / 1e9 : timeout;
}

uint64_t cache_generation(void)
{
	return atomic_load(&generation);
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

/* What a removal took: the inodes held at or below a path. */
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

/* Every inode held at a path named `name`, and below it: what a removal
 * may have taken (an object, its view's link, a snapshot). */
static void named_seen(void *ctx, const struct inode_seen *s)
{
	inode_walk_below(s->path, 0, gone_seen, ctx);
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
			forget_attrs(ino);
	}
}

/* Anything may have changed, names too. */
static void tell_all(void)
{
	inode_walk_all(attrs_seen, NULL);
	if (!no_epoch && notify_raw(NOTIFY_INC_EPOCH, NULL, 0))
		no_epoch = 1;
}

static void tell(const struct model_event *ev)
{
	struct gone g = { NULL, 0, 0 };
	char path[512];

	switch (ev->kind) {
	case MODEL_EV_CHANGED:
		break;
	case MODEL_EV_LIVENESS:
		liveness(ev->a, ev->b);
		break;
	case MODEL_EV_RUNTIME:
		snprintf(path, sizeof(path), "/environments/%s/runtimes/%s",
				ev->a, ev->b);
		inode_walk_below(path, 0, attrs_seen, NULL);
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
		inode_walk_named(ev->b, named_seen, &g);
		forget_names(g.ino, g.n);
		free(g.ino);
		break;
	case MODEL_EV_ALL:
		tell_all();
		break;
	}
}

static void *notifier(void *arg)
{
	struct model_event batch[64];
	unsigned n;
	uint64_t upto;
	int all;

	(void)arg;
	pthread_mutex_lock(&q.lock);
	for (;;) {
		while (!q.n && !q.overflow && !q.stop)
			pthread_cond_wait(&q.wake, &q.lock);
		if (!q.n && !q.overflow && q.stop)
			break;
		all = q.overflow;
		n = 0;
		if (all) {
			q.n = 0;
			q.overflow = 0;
		}
		while (q.n && n < sizeof(batch) / sizeof(batch[0])) {
			batch[n++] = q.ring[q.head];
			q.head = (q.head + 1) % QUEUE_MAX;
			q.n--;
		}
		upto = q.queued - q.n;
		pthread_mutex_unlock(&q.lock);
		if (all) {
			tell_all();
		} else {
			for (unsigned i = 0; i < n; i++)
				tell(&batch[i]);
		}
		pthread_mutex_lock(&q.lock);
		q.sent = upto;
		pthread_cond_broadcast(&q.done);
	}
	q.sent = q.queued;
	pthread_cond_broadcast(&q.done);
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

/* The model's watcher, on the thread that made the change: what the
 * request read is stale now, listings are to be given again, and the
 * rest is the notifier's. */
static void on_change(void *ctx, const struct model_event *ev)
{
	(void)ctx;
	if (!session || timeout <= 0)
		return;
	if (ev->kind != MODEL_EV_LIVENESS)
		atomic_fetch_add(&generation, 1);
	if (ev->kind == MODEL_EV_CHANGED)
		return;
	pthread_mutex_lock(&q.lock);
	if (ev->kind == MODEL_EV_ALL || q.n == QUEUE_MAX) {
		q.overflow = 1;
	} else {
		q.ring[(q.head + q.n) % QUEUE_MAX] = *ev;
		q.n++;
	}
	q.queued++;
	pthread_cond_signal(&q.wake);
	pthread_mutex_unlock(&q.lock);
}

void cache_barrier(void)
{
	struct timespec at;
	int64_t until = clock_ns(CLOCK_MONOTONIC) + BARRIER_WAIT_NS;
	uint64_t want;

	pthread_mutex_lock(&q.lock);
	want = q.queued;
	at.tv_sec = until / 1000000000LL;
	at.tv_nsec = until % 1000000000LL;
	while (q.running && q.sent < want &&
	       pthread_cond_timedwait(&q.done, &q.lock, &at) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&q.lock);
}

int cache_start(struct fuse_session *se, struct model *m, double t)
{
	pthread_condattr_t ca;
	int err;

	session = se;
	model = m;
	timeout = t;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&q.done);
	pthread_cond_init(&q.done, &ca);
	pthread_condattr_destroy(&ca);
	q.stop = 0;
	err = pthread_create(&q.thread, NULL, notifier, NULL);
	if (err)
		return -err;
	q.running = 1;
	model_watch(m, on_change, NULL);
	return 0;
}

void cache_stop(void)
{
	if (model)
		model_watch(model, NULL, NULL);
	if (q.running) {
		pthread_mutex_lock(&q.lock);
		q.stop = 1;
		pthread_cond_signal(&q.wake);
		pthread_mutex_unlock(&q.lock);
		pthread_join(q.thread, NULL);
		q.running = 0;
	}
	session = NULL;
	model = NULL;
}
