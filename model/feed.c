/*
 * feed.c - the changes of several hosts on one store, told exactly: what
 * this model committed goes out as its events (store_announce()), what
 * another host announced comes back as the same events, so that a
 * change through any mount reaches the kernel caches of every other
 * mount as an exact invalidation instead of "anything changed".
 *
 * An announcement is text, one event a line, its fields separated by
 * '/' (which no name holds): "e/KIND/WHAT/ID/A/B/C/D" for an event, and
 * "h/UUID" for a heartbeat time written by a flush, which the receiver
 * turns into the runtime's MODEL_RT_HEARD, and "v" for lines written to
 * the event log (MODEL_EV_EVENTS).  "*" is "anything changed":
 * an announcement that would not fit, or a change with too many events.
 * A heartbeat only noted in memory is not announced: the flush that
 * writes it is.  A change announces its events inside its transaction
 * (model_feed_change()), so that they go out with its commit and only
 * with it: a host killed between the two cannot commit unheard, and a
 * change rolled back is never heard of.
 */
#include "model_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEED_LISTEN_MS 250       /* the listener looks at its stop flag */
#define FEED_FOREIGN_MAX 4096    /* events of others held for one unlock */

struct feed {
	char out[MODEL_ANNOUNCE_MAX];    /* this model's, to announce */
	size_t len;
	int all;                         /* too much: announce "*" */
	int logged;                      /* "v" is in `out` */
	char **in;                       /* others' announcements, held */
	size_t nin, capin;
	pthread_t thread;
	int running, stop;
};

/* Adds one line to what this model will announce. */
static void feed_add(struct feed *f, const char *line)
{
	size_t n = strlen(line);

	if (f->all)
		return;
	if (f->len + n + 1 >= sizeof(f->out)) {
		f->all = 1;
		return;
	}
	memcpy(f->out + f->len, line, n);
	f->len += n;
	f->out[f->len++] = '\n';
	f->out[f->len] = '\0';
}

int model_feed_start(struct model *m)
{
	if (!(m->feed = calloc(1, sizeof(*m->feed))))
		return model_fail(-ENOMEM, "out of memory");
	return 0;
}

void model_feed_note(struct model *m, const struct model_event *ev)
{
	char line[16 + 4 * MODEL_NAME_MAX + 64];

	if (!m->feed || m->parent)
		return;
	if (ev->kind == MODEL_EV_ALL) {
		m->feed->all = 1;
		return;
	}
	/* in memory only: the flush that writes it says so */
	if (ev->kind == MODEL_EV_RUNTIME && ev->what == MODEL_RT_HEARD)
		return;
	snprintf(line, sizeof(line), "e/%d/%u/%lld/%s/%s/%s/%s",
			(int)ev->kind, ev->what, (long long)ev->id, ev->a,
			ev->b, ev->c, ev->d);
	feed_add(m->feed, line);
}

void model_feed_events(struct model *m)
{
	if (!m->feed || m->parent || m->feed->logged)
		return;
	m->feed->logged = 1;
	feed_add(m->feed, "v");
}

void model_feed_heard(struct model *m, const char *uuid)
{
	char line[8 + STORE_UUID_LEN];

	if (!m->feed || m->parent)
		return;
	snprintf(line, sizeof(line), "h/%s", uuid);
	feed_add(m->feed, line);
}

/* Sends what waits (store_announce()) and forgets it. */
static int feed_send(struct model *m)
{
	struct feed *f = m->feed;
	int ret;

	if (!f || (!f->len && !f->all))
		return 0;
	ret = store_announce(m->store, f->all ? "*" : f->out);
	f->len = 0;
	f->all = 0;
	f->logged = 0;
	f->out[0] = '\0';
	return ret;
}

void model_feed_announce(struct model *m)
{
	/* a peer that misses it (a lost connection) hears of the next */
	(void)feed_send(m);
}

int model_feed_change(struct model *m)
{
	int ret;

	if (!m->feed || m->parent)
		return 0;
	for (int i = 0; i < m->nevents; i++)
		model_feed_note(m, &m->events[i]);
	if (m->events_overflow)
		m->feed->all = 1;
	m->fed = 1;
	ret = feed_send(m);
	return ret ? model_fail_store(ret) : 0;
}

void model_feed_heard_from(struct model *m, const char *news)
{
	struct feed *f = m->feed;
	char **in;

	model_forget(m);
	if (!news || !f || !strcmp(news, "*")) {
		m->foreign = 1;
		return;
	}
	if (f->nin == f->capin) {
		size_t cap = f->capin ? f->capin * 2 : 16;

		if (cap > FEED_FOREIGN_MAX ||
		    !(in = realloc(f->in, cap * sizeof(*in)))) {
			m->foreign = 1;
			return;
		}
		f->in = in;
		f->capin = cap;
	}
	if (!(f->in[f->nin] = strdup(news))) {
		m->foreign = 1;
		return;
	}
	f->nin++;
}

/* The next '/'-separated field of *p into `out` (cap `n`). */
static void field(char **p, char *out, size_t n)
{
	size_t len = strcspn(*p, "/");

	snprintf(out, n, "%.*s", (int)len, *p);
	*p += len;
	if (**p == '/')
		(*p)++;
}

/* One announced line into `ev`: 0, or -EINVAL for a line this model
 * does not read (a newer runtimefs's). */
static int parse_line(struct model *m, char *line, struct model_event *ev)
{
	struct store_runtime rt;
	char num[24];
	char *p = line + 2;

	memset(ev, 0, sizeof(*ev));
	if (!strcmp(line, "v")) {
		/* the event log grew: read anew */
		model_events_foreign(m);
		ev->kind = MODEL_EV_EVENTS;
		return 0;
	}
	if (!strncmp(line, "h/", 2)) {
		if (store_runtime_get_uuid(m->store, p, &rt))
			return -ENOENT;     /* gone since: its removal says so */
		ev->kind = MODEL_EV_RUNTIME;
		ev->what = MODEL_RT_HEARD;
		ev->id = rt.id;
		snprintf(ev->a, sizeof(ev->a), "%s", rt.env);
		snprintf(ev->b, sizeof(ev->b), "%s", rt.name);
		return 0;
	}
	if (strncmp(line, "e/", 2))
		return -EINVAL;
	field(&p, num, sizeof(num));
	ev->kind = (enum model_event_kind)atoi(num);
	field(&p, num, sizeof(num));
	ev->what = (unsigned)strtoul(num, NULL, 10);
	field(&p, num, sizeof(num));
	ev->id = strtoll(num, NULL, 10);
	field(&p, ev->a, sizeof(ev->a));
	field(&p, ev->b, sizeof(ev->b));
	field(&p, ev->c, sizeof(ev->c));
	field(&p, ev->d, sizeof(ev->d));
	return ev->kind >= MODEL_EV_ALL ? -EINVAL : 0;
}

size_t model_feed_take(struct model *m, struct model_event **out)
{
	struct feed *f = m->feed;
	struct model_event *evs = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!f || !f->nin)
		return 0;
	for (size_t i = 0; i < f->nin; i++) {
		char *line = f->in[i], *next;

		for (; line && *line && !m->foreign; line = next) {
			struct model_event ev;
			int ret;

			if ((next = strchr(line, '\n')))
				*next++ = '\0';
			ret = parse_line(m, line, &ev);
			if (ret == -ENOENT)
				continue;
			if (ret || n == FEED_FOREIGN_MAX) {
				m->foreign = 1;
				break;
			}
			if (n == cap) {
				struct model_event *p;

				cap = cap ? cap * 2 : 16;
				if (!(p = realloc(evs, cap * sizeof(*p)))) {
					m->foreign = 1;
					break;
				}
				evs = p;
			}
			evs[n++] = ev;
		}
		free(f->in[i]);
	}
	f->nin = 0;
	if (m->foreign) {
		free(evs);
		return 0;
	}
	*out = evs;
	return n;
}

/* Waits on the store's connection for news from other hosts (the
 * listener: no request needed for a change elsewhere to reach the kernel
 * caches here), then takes them under the lock, which tells the watcher
 * at its release. */
static void *feed_listen(void *arg)
{
	struct model *m = arg;
	struct feed *f = m->feed;

	for (;;) {
		struct pollfd p = { -1, POLLIN, 0 };
		int ready = 1;

		model_lock(m);
		if (f->stop) {
			model_unlock(m);
			break;
		}
		p.fd = store_watch_fd(m->store);
		model_unlock(m);
		/* no connection: a nap, then a poll that reconnects */
		if (p.fd < 0)
			poll(NULL, 0, FEED_LISTEN_MS);
		else
			ready = poll(&p, 1, FEED_LISTEN_MS) > 0;
		if (!ready)
			continue;
		model_lock(m);
		if (p.fd < 0)
			store_poll(m->store);
		else
			store_watch_read(m->store);
		model_unlock(m);
	}
	return NULL;
}

int model_feed_listen(struct model *m)
{
	struct feed *f = m->feed;
	int err;

	if (!f || m->parent || store_watch_fd(m->store) < 0)
		return 0;
	err = pthread_create(&f->thread, NULL, feed_listen, m);
	if (err)
		return model_fail(-err, "cannot start the change listener: %s",
				strerror(err));
	f->running = 1;
	return 0;
}

void model_feed_stop(struct model *m)
{
	struct feed *f = m->feed;

	if (!f)
		return;
	if (f->running) {
		model_lock(m);
		f->stop = 1;
		model_unlock(m);
		pthread_join(f->thread, NULL);
	}
	for (size_t i = 0; i < f->nin; i++)
		free(f->in[i]);
	free(f->in);
	free(f);
	m->feed = NULL;
}
