/*
 * events.c - MOUNT/events: the model's event log (model/events.c) as a
 * file that grows, for tail -f, cat and scripts.
 *
 * Offsets are those of the whole stream since the database was made:
 * st_size is its length, which only grows, so that tail -f (which polls
 * the size on FUSE, once a second) reads exactly what came.  The oldest
 * lines are dropped (-o events_keep): see placed() for what a reader
 * below them reads.  st_blksize is 1, so that tail -c and tail -n seek
 * from st_size instead of reading to the end (coreutils reads a file no
 * larger than its st_blksize to the end, as it does /proc's).
 *
 * A read at the end waits for the next line, as a pipe does, unless the
 * file is open with O_NONBLOCK (tail -f sets it while following, dd
 * iflag=nonblock), which reads 0 there.  A waiting read holds no thread:
 * it is parked here and answered by the notifier when the log grows
 * (fs_events_wake()), or with EINTR when its reader takes a signal
 * (FUSE_INTERRUPT).  The file is not listed in the root, so that tar,
 * cp -a, rsync -a, grep -r and find of the mount never wait on it; it is
 * there by name, as /proc's thread directories are.
 */
#include "events.h"
#include "nodes.h"
#include "tree.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parked {
	fuse_req_t req;
	struct fs_stream *st;
	struct model *m;
	size_t size;
	off_t off;
	struct parked *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct parked *waiting;
static _Atomic int nwaiting;       /* how many are in `waiting` */
static int closing;

int fs_events_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_events_stat st;
	int ret = model_events_stat(p->live ? p->live : p->m, &st);

	if (ret)
		return ret;
	v->mtime_ns = st.mtime_ns;
	v->size = st.end;
	return 0;
}

int fs_audit_show(const struct fs_path *p, struct fs_value *v)
{
	struct model_events_stat st;
	int ret = model_audit_stat(p->m, &st);

	if (ret)
		return ret;
	v->mtime_ns = st.mtime_ns;
	v->size = st.end;
	return 0;
}

void fs_events_sized(struct fs_stream *st)
{
	pthread_mutex_lock(&lock);
	st->sized = 1;
	st->delta = 0;
	st->placed = 1;
	pthread_mutex_unlock(&lock);
}

/* The stream offset that the reader's offset `off` stands for: a reader
 * whose first read is at 0 and that never asked for st_size (cat, less)
 * reads from the oldest line kept on (its offsets moved by `delta`), and
 * goes on at the oldest kept if it falls behind; a reader that goes by
 * st_size (tail -n, tail -c: fs_events_sized()) and reads below the
 * oldest line kept reads the bytes no longer kept as *gap newlines,
 * empty lines in place of the lines gone, so that the offsets it worked
 * out hold. */
static int64_t placed(struct fs_stream *st, const struct model_events_stat *s,
		off_t off, int64_t *gap)
{
	int64_t at;

	*gap = 0;
	pthread_mutex_lock(&lock);
	if (!st->placed) {
		st->delta = off == 0 && !st->sized ? s->start : 0;
		st->placed = 1;
	}
	at = off + st->delta;
	if (at < s->start && st->delta) {
		st->delta += s->start - at;
		at = s->start;
	} else if (at < s->start) {
		*gap = s->start - at;
	}
	pthread_mutex_unlock(&lock);
	return at;
}

/* What a read of `size` bytes at `off` gets now: bytes, 0 at the end,
 * or -errno; `out` is the caller's. */
static int try_read(struct model *m, struct fs_stream *st, char *out,
		size_t size, off_t off)
{
	struct model_events_stat s;
	int64_t at, gap;
	int ret = model_events_stat(m, &s), n;

	if (ret)
		return ret;
	at = placed(st, &s, off, &gap);
	if (gap) {
		n = gap < (int64_t)size ? (int)gap : (int)size;
		memset(out, '\n', (size_t)n);
		if ((size_t)n == size)
			return n;
		ret = model_events_read(m, s.start, out + n, size - (size_t)n);
		return ret < 0 ? ret : n + ret;
	}
	return model_events_read(m, at, out, size);
}

/* A parked read whose reader took a signal. */
static void interrupted(fuse_req_t req, void *data)
{
	struct parked **pp, *p = NULL;

	(void)data;
	pthread_mutex_lock(&lock);
	for (pp = &waiting; *pp; pp = &(*pp)->next)
		if ((*pp)->req == req) {
			p = *pp;
			*pp = p->next;
			nwaiting--;
			break;
		}
	pthread_mutex_unlock(&lock);
	if (p) {
		fuse_reply_err(req, EINTR);
		free(p);
	}
}

void fs_events_read(fuse_req_t req, struct model *m, struct fs_stream *st,
		size_t size, off_t off, int flags)
{
	char *out = malloc(size ? size : 1);
	struct parked *p;
	int ret;

	if (!out) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ret = try_read(m, st, out, size, off);
	if (ret > 0 || ret < 0 || (flags & O_NONBLOCK) || !size) {
		if (ret < 0)
			fuse_reply_err(req, -ret);
		else
			fuse_reply_buf(req, out, (size_t)ret);
		free(out);
		return;
	}
	free(out);
	/* at the end: wait for the next line */
	if (!(p = calloc(1, sizeof(*p)))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p->req = req;
	p->st = st;
	p->m = m;
	p->size = size;
	p->off = off;
	/* told before it is parked, so that it is never told of a request
	 * answered already; one interrupted before it is parked is seen
	 * here, one after finds it parked */
	fuse_req_interrupt_func(req, interrupted, NULL);
	pthread_mutex_lock(&lock);
	if (closing || fuse_req_interrupted(req)) {
		int intr = !closing;

		pthread_mutex_unlock(&lock);
		free(p);
		if (intr)
			fuse_reply_err(req, EINTR);
		else
			fuse_reply_buf(req, NULL, 0);
		return;
	}
	p->next = waiting;
	waiting = p;
	nwaiting++;
	pthread_mutex_unlock(&lock);
	/* a line that came between the look and the parking */
	fs_events_wake();
}

void fs_events_wake(void)
{
	struct parked *all, *p, *keep = NULL;

	pthread_mutex_lock(&lock);
	all = waiting;
	waiting = NULL;
	nwaiting = 0;
	pthread_mutex_unlock(&lock);
	while ((p = all)) {
		char *out = malloc(p->size);
		int ret = out ? try_read(p->m, p->st, out, p->size, p->off) :
			-ENOMEM;

		all = p->next;
		if (ret == 0 && !closing) {
			p->next = keep;
			keep = p;
			free(out);
			continue;
		}
		if (ret < 0)
			fuse_reply_err(p->req, -ret);
		else
			fuse_reply_buf(p->req, out, (size_t)ret);
		free(out);
		free(p);
	}
	if (!keep)
		return;
	/* those still waiting, back with any parked meanwhile */
	pthread_mutex_lock(&lock);
	for (p = keep; p->next; p = p->next)
		nwaiting++;
	nwaiting++;
	p->next = waiting;
	waiting = keep;
	pthread_mutex_unlock(&lock);
}

int fs_events_waiting(void)
{
	return nwaiting > 0;
}

void fs_events_close(void)
{
	pthread_mutex_lock(&lock);
	closing = 1;
	pthread_mutex_unlock(&lock);
	fs_events_wake();
}

int fs_event_path(void *ctx, const struct model_at *at, char *buf,
		size_t size)
{
	const char *envs = fs_nodes[FS_ENVS].name;
	const char *rts = fs_nodes[FS_ENV_RUNTIMES].name;
	const char *projects = fs_nodes[FS_PROJECTS].name;
	const char *ints = fs_nodes[FS_INTEGRATIONS].name;
	const char *secrets = fs_nodes[FS_ENV_SECRETS].name;

	(void)ctx;
	switch (at->where) {
	case MODEL_AT_ENV:
		snprintf(buf, size, "%s/%s", envs, at->env);
		break;
	case MODEL_AT_PROJECT:
		snprintf(buf, size, "%s/%s", projects, at->project);
		break;
	case MODEL_AT_INTEGRATION:
		snprintf(buf, size, "%s/%s/%s/%s", projects, at->project, ints,
				at->integration);
		break;
	case MODEL_AT_RUNTIME:
		snprintf(buf, size, "%s/%s/%s/%s", envs, at->env, rts,
				at->runtime);
		break;
	case MODEL_AT_VERSION:
		snprintf(buf, size, "%s/%s/%s/%s/%s/%lld", envs, at->env, rts,
				at->runtime, fs_nodes[FS_VERSIONS].name,
				(long long)at->version);
		break;
	case MODEL_AT_ENDPOINT:
		snprintf(buf, size, "%s/%s/%s/%s/%s/%s", envs, at->env, rts,
				at->runtime, fs_nodes[FS_ENDPOINTS].name,
				at->name);
		break;
	case MODEL_AT_SECRET:
		if (at->integration && *at->integration)
			snprintf(buf, size, "%s/%s/%s/%s/%s/%s/%s", projects,
					at->project, ints, at->integration,
					fs_nodes[FS_INTEGRATION_SECRETS].name,
					at->env, at->name);
		else
			snprintf(buf, size, "%s/%s/%s/%s", envs, at->env,
					secrets, at->name);
		break;
	case MODEL_AT_RUNTIME_SECRET:
		snprintf(buf, size, "%s/%s/%s/%s/secret", envs, at->env, rts,
				at->runtime);
		break;
	case MODEL_AT_SNAPSHOT:
		snprintf(buf, size, "%s/%s", fs_nodes[FS_SNAPSHOTS].name,
				at->name);
		break;
	}
	return 0;
}
