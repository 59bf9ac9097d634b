/*
 * events.c - the event log: one line of JSON for each thing that changed,
 * written in the transaction of the change (store_log_append()), so
 * that what the log says happened did, and nothing committed goes
 * untold.  The filesystem shows the log as a file that grows
 * (fs/events.c); this file keeps its newest bytes in memory for the
 * readers that follow it, so that a hundred `tail -f`s cost the store
 * nothing.
 *
 * A line is
 *
 *   {"seq":N,"time":"2026-12-02T02:45:46.123456Z","kind":K,"path":P,...}
 *
 * with the kind's own fields after the path.  Its number and its byte
 * offset in the stream come from the store, which keeps them going after
 * the lines it drops (the newest `events_keep` are kept), across
 * restarts and across the hosts that share it.
 *
 * Statuses that change by time (a runtime turning OFFLINE when its
 * heartbeats stop, STOPPING turning STOPPED) have no change to ride on:
 * the flusher looks for them each interval (model_events_tick()), and
 * writes each with the moment it happened.  Two hosts that both see one
 * write one line: such a line carries a key of that moment
 * (runtime, status, time), and the store keeps the first.
 */
#include "model_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS_KEEP_DEFAULT 10000
#define EVENTS_RING 1048576          /* newest bytes kept in memory */
#define EVENTS_LINE_MAX 2048
#define EVENTS_PENDING_MAX 64         /* lines of one change kept to copy */
#define EVENTS_LOOK_BACK_NS (600LL * 1000000000LL) /* at start */

/* A line of the change under way: its place (which PostgreSQL fills in
 * only at the commit, store_log_append_late()) and what follows its
 * number. */
struct pending {
	struct store_event ev;
	char *tail;
};

struct model_events {
	pthread_mutex_t lock;         /* the fields below; under m->lock too
					 when the store is used */
	int loaded;                   /* bounds read from the store */
	int stale;                    /* another host appended */
	struct store_event first, last;
	int64_t mtime_ns;
	/* the stream's bytes [ring_off, ring_off + ring_len) */
	char *ring;
	int64_t ring_off;
	size_t ring_len;
	/* lines of the change under way, for the ring once committed */
	struct pending pending[EVENTS_PENDING_MAX];
	int npending;
	int pending_lost;             /* more than fit: read them back */
	int appended;                 /* committed since the last unlock */
	int64_t scanned_ns;           /* statuses by time looked at up to */
};

static int64_t keep_of(const struct model *m)
{
	return m->cfg.events_keep > 0 ? m->cfg.events_keep :
		EVENTS_KEEP_DEFAULT;
}

int model_events_start(struct model *m)
{
	struct model_events *e = calloc(1, sizeof(*e));

	if (!e || !(e->ring = malloc(EVENTS_RING))) {
		free(e);
		return model_fail(-ENOMEM, "out of memory");
	}
	pthread_mutex_init(&e->lock, NULL);
	e->scanned_ns = model_now(m) - EVENTS_LOOK_BACK_NS;
	m->ev = e;
	return 0;
}

static void pending_drop(struct model_events *e)
{
	for (int i = 0; i < e->npending; i++)
		free(e->pending[i].tail);
	e->npending = 0;
	e->pending_lost = 0;
}

void model_events_free(struct model *m)
{
	if (!m->ev)
		return;
	pending_drop(m->ev);
	pthread_mutex_destroy(&m->ev->lock);
	free(m->ev->ring);
	free(m->ev);
	m->ev = NULL;
}

/* Adds the bytes at `off` to the ring, which holds only a contiguous
 * run: bytes that do not follow it start it again. */
static void ring_add(struct model_events *e, int64_t off, const char *b,
		size_t n)
{
	if (n > EVENTS_RING)
		return;
	if (off != e->ring_off + (int64_t)e->ring_len) {
		e->ring_off = off;
		e->ring_len = 0;
	}
	if (e->ring_len + n > EVENTS_RING) {
		/* drop the older half, at least what makes room */
		size_t drop = e->ring_len / 2;

		if (e->ring_len - drop + n > EVENTS_RING)
			drop = e->ring_len + n - EVENTS_RING;
		memmove(e->ring, e->ring + drop, e->ring_len - drop);
		e->ring_len -= drop;
		e->ring_off += (int64_t)drop;
	}
	memcpy(e->ring + e->ring_len, b, n);
	e->ring_len += n;
}

struct fill {
	struct model_events *e;
	int64_t upto;
};

static int fill_one(void *ctx, const struct store_event *ev, const char *line)
{
	struct fill *f = ctx;

	if (ev->off + ev->len > f->upto)
		return 1;
	ring_add(f->e, ev->off, line, (size_t)ev->len);
	return 0;
}

/* Reads the bounds from the store and the newest bytes into the ring,
 * going on from what it holds when it can; under both locks. */
static int events_load(struct model *m)
{
	struct model_events *e = m->ev;
	struct store_event first, last;
	struct fill f = { e, 0 };
	int64_t from, end = e->ring_off + (int64_t)e->ring_len;
	int ret;

	if ((ret = store_log_bounds(m->store, STORE_LOG_EVENTS, &first,
			&last)))
		return model_fail_store(ret);
	f.upto = last.off + last.len;
	if (!e->ring_len || end < first.off || end > f.upto ||
	    f.upto - end > EVENTS_RING / 2) {
		e->ring_off = 0;
		e->ring_len = 0;
		from = f.upto - EVENTS_RING / 2;
		if (from < first.off)
			from = first.off;
	} else {
		from = end;
	}
	while (from < f.upto) {
		ret = store_log_read(m->store, STORE_LOG_EVENTS, from, 256,
				fill_one, &f);
		if (ret < 0)
			return model_fail_store(ret);
		end = e->ring_off + (int64_t)e->ring_len;
		if (!e->ring_len || end <= from)
			break;          /* nothing more to read */
		from = end;
	}
	e->first = first;
	e->last = last;
	if (last.at_ns > e->mtime_ns)
		e->mtime_ns = last.at_ns;
	e->loaded = 1;
	e->stale = 0;
	return 0;
}

/* Up to date with the store, when it may not be; under m->lock. */
static int events_fresh(struct model *m)
{
	struct model_events *e = m->ev;
	int ret = 0;

	pthread_mutex_lock(&e->lock);
	if (!e->loaded || e->stale)
		ret = events_load(m);
	pthread_mutex_unlock(&e->lock);
	return ret;
}

int model_events_stat(struct model *m, struct model_events_stat *out)
{
	struct model_events *e;
	int ret = 0;

	if (m->parent)
		m = m->parent;
	e = m->ev;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&e->lock);
	if (!e->loaded || e->stale) {
		pthread_mutex_unlock(&e->lock);
		model_lock(m);
		ret = events_fresh(m);
		model_unlock(m);
		pthread_mutex_lock(&e->lock);
	}
	out->start = e->first.seq ? e->first.off : e->last.off + e->last.len;
	out->end = e->last.off + e->last.len;
	out->mtime_ns = e->mtime_ns;
	pthread_mutex_unlock(&e->lock);
	return ret;
}

int model_log_copy_one(void *ctx, const struct store_event *ev,
		const char *line)
{
	struct model_log_copy *c = ctx;
	int64_t skip = c->off + (int64_t)c->n - ev->off;
	size_t len;

	if (skip < 0 || skip >= ev->len)
		return 1;            /* not the next line: stop */
	len = (size_t)(ev->len - skip);
	if (len > c->size - c->n)
		len = c->size - c->n;
	memcpy(c->out + c->n, line + skip, len);
	c->n += len;
	return c->n == c->size;
}

int model_log_copy(struct model *m, enum store_log log,
		struct model_log_copy *c)
{
	int ret = 0;

	while (!ret && c->n < c->size) {
		size_t before = c->n;

		ret = store_log_read(m->store, log, c->off + (int64_t)c->n, 64,
				model_log_copy_one, c);
		ret = ret < 0 ? model_fail_store(ret) : 0;
		if (c->n == before)
			break;
	}
	return ret;
}

int model_events_read(struct model *m, int64_t off, char *out, size_t size)
{
	struct model_events *e;
	struct model_log_copy c = { out, size, 0, off };
	int64_t end;
	int ret;

	if (m->parent)
		m = m->parent;
	e = m->ev;
	pthread_mutex_lock(&e->lock);
	if (e->loaded && !e->stale && off >= e->ring_off &&
	    off <= e->ring_off + (int64_t)e->ring_len) {
		end = e->ring_off + (int64_t)e->ring_len;
		c.n = (size_t)(end - off) < size ? (size_t)(end - off) : size;
		memcpy(out, e->ring + (off - e->ring_off), c.n);
		pthread_mutex_unlock(&e->lock);
		return (int)c.n;
	}
	pthread_mutex_unlock(&e->lock);
	/* older than the ring: from the store */
	model_lock(m);
	ret = events_fresh(m);
	if (!ret)
		ret = model_log_copy(m, STORE_LOG_EVENTS, &c);
	model_unlock(m);
	return ret ? ret : (int)c.n;
}

/* -- writing ---------------------------------------------------------- */

static int path_default(void *ctx, const struct model_at *at, char *buf,
		size_t size)
{
	const char *parts[] = { at->env, at->project, at->integration,
		at->runtime, at->name };
	size_t n = 0;

	(void)ctx;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (parts[i] && *parts[i] && n < size)
			n += (size_t)snprintf(buf + n, size - n, "%s%s",
					n ? "/" : "", parts[i]);
	if (at->version && n < size)
		snprintf(buf + n, size - n, "%s%lld", n ? "/" : "",
				(long long)at->version);
	return 0;
}

/* Puts `v` in `n` decimal digits at `p`. */
static char *digits(char *p, int64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

void model_time_micro(int64_t ns, char *buf, size_t size)
{
	int64_t s = ns / 1000000000LL, days = s / 86400, sec = s % 86400;
	int64_t era, doe, yoe, doy, mp, y, m, d;
	char out[32], *p = out;

	if (ns < 0) {                       /* none of ours: the epoch */
		snprintf(buf, size, "1970-01-01T00:00:00.000000Z");
		return;
	}
	/* the civil date of a day count (H. Hinnant, "chrono-Compatible
	 * Low-Level Date Algorithms"): no gmtime_r(), no strftime(), which
	 * cost each event line more than its write */
	days += 719468;
	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	p = digits(p, y, 4);
	*p++ = '-';
	p = digits(p, m, 2);
	*p++ = '-';
	p = digits(p, d, 2);
	*p++ = 'T';
	p = digits(p, sec / 3600, 2);
	*p++ = ':';
	p = digits(p, sec / 60 % 60, 2);
	*p++ = ':';
	p = digits(p, sec % 60, 2);
	*p++ = '.';
	p = digits(p, ns % 1000000000LL / 1000, 6);
	*p++ = 'Z';
	*p = '\0';
	snprintf(buf, size, "%s", out);
}

void model_json_text(char *out, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s && n + 7 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			n += (size_t)snprintf(out + n, size - n, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			n += (size_t)snprintf(out + n, size - n, "\\u%04x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

int model_event(struct model *m, const char *kind, const struct model_at *at,
		int64_t at_ns, const char *dedup, const char *fmt, ...)
{
	struct model_events *e = m->ev;
	char path[512], jpath[600], fields[EVENTS_LINE_MAX / 2];
	char tail[EVENTS_LINE_MAX], when[40], *copy = NULL;
	struct pending *p = NULL;
	struct store_event ev;
	va_list ap;
	int ret;

	if (!e || m->parent)
		return 0;
	if (!at_ns)
		at_ns = model_now(m);
	model_path_of(m, at, path, sizeof(path));
	model_json_text(jpath, sizeof(jpath), path);
	fields[0] = '\0';
	if (fmt) {
		fields[0] = ',';
		va_start(ap, fmt);
		vsnprintf(fields + 1, sizeof(fields) - 1, fmt, ap);
		va_end(ap);
	}
	model_time_micro(at_ns, when, sizeof(when));
	snprintf(tail, sizeof(tail), ",\"time\":\"%s\",\"kind\":\"%s\","
			"\"path\":\"%s\"%s}\n", when, kind, jpath, fields);
	/* a slot for the line, whose place may come only with the commit;
	 * without one, the place comes now and the ring is read back */
	pthread_mutex_lock(&e->lock);
	if (e->npending < EVENTS_PENDING_MAX && (copy = strdup(tail)))
		p = &e->pending[e->npending];
	pthread_mutex_unlock(&e->lock);
	if (dedup || !p)
		ret = store_log_append(m->store, STORE_LOG_EVENTS,
				"{\"seq\":", tail, at_ns, dedup,
				p ? &p->ev : &ev);
	else
		ret = store_log_append_late(m->store, STORE_LOG_EVENTS,
				"{\"seq\":", tail, at_ns, &p->ev);
	if (ret) {
		free(copy);
		/* 1: another host told of it */
		return ret < 0 ? model_fail_store(ret) : 0;
	}
	model_audit_note(m, strstr(tail, "\"kind\""));
	pthread_mutex_lock(&e->lock);
	if (p) {
		p->tail = copy;
		e->npending++;
	} else {
		e->pending_lost = 1;
	}
	pthread_mutex_unlock(&e->lock);
	model_feed_events(m);
	return 0;
}

void model_path_of(struct model *m, const struct model_at *at, char *buf,
		size_t size)
{
	(m->cfg.path_of ? m->cfg.path_of : path_default)(m->cfg.path_ctx, at,
			buf, size);
}

int model_event_status(struct model *m, const struct store_runtime *before,
		const struct store_runtime *after)
{
	int64_t now = model_now(m), off = m->cfg.offline_after_ns, since;
	const char *from = model_runtime_status(before, now, off, &since);
	const char *to = model_runtime_status(after, now, off, &since);

	if (!strcmp(from, to))
		return 0;
	return model_event(m, "runtime.status", AT_RUNTIME(after), now, NULL,
			"\"from\":\"%s\",\"to\":\"%s\"", from, to);
}

int model_event_alone(struct model *m, const char *kind,
		const struct model_at *at)
{
	int ret = store_begin(m->store);

	if (ret)
		return model_fail_store(ret);
	ret = model_event(m, kind, at, 0, NULL, NULL);
	if (!ret)
		ret = model_audit_change(m, NULL, NULL);
	model_audit_forget(m);
	if (ret)
		store_rollback(m->store);
	else if ((ret = store_commit(m->store)))
		ret = model_fail_store(ret);
	model_events_settle(m, !ret);
	return ret;
}

void model_events_settle(struct model *m, int committed)
{
	struct model_events *e = m->ev;

	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	if (committed && (e->npending || e->pending_lost)) {
		for (int i = 0; i < e->npending && !e->pending_lost; i++) {
			struct pending *p = &e->pending[i];
			size_t n = (size_t)p->ev.len;
			char *line;

			if (!e->loaded || !p->ev.seq || p->ev.off !=
					e->last.off + e->last.len ||
			    !(line = malloc(n + 1))) {
				e->stale = 1;
				continue;
			}
			snprintf(line, n + 1, "{\"seq\":%lld%s",
					(long long)p->ev.seq, p->tail);
			ring_add(e, p->ev.off, line, n);
			free(line);
			if (!e->first.seq)
				e->first = p->ev;
			e->last = p->ev;
			if (p->ev.at_ns > e->mtime_ns)
				e->mtime_ns = p->ev.at_ns;
		}
		if (e->pending_lost)
			e->stale = 1;
		e->appended = 1;
	}
	pending_drop(e);
	pthread_mutex_unlock(&e->lock);
}

void model_events_foreign(struct model *m)
{
	struct model_events *e = m->ev;

	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stale = 1;
	pthread_mutex_unlock(&e->lock);
}

int model_events_take_appended(struct model *m)
{
	struct model_events *e = m->ev;
	int n;

	if (!e)
		return 0;
	pthread_mutex_lock(&e->lock);
	n = e->appended;
	e->appended = 0;
	pthread_mutex_unlock(&e->lock);
	return n;
}

/* -- statuses that change by time, and what is kept ------------------- */

struct turned {
	struct model *m;
	struct store_runtime *rows;
	size_t n, cap;
};

/* Keeps a runtime whose status changed at the moment its last heartbeat
 * went out of date. */
static int status_turned(void *ctx, const struct store_runtime *row)
{
	struct turned *t = ctx;
	int64_t off = t->m->cfg.offline_after_ns;
	int64_t gone = row->heartbeat_ns + off, since;

	if (!strcmp(model_runtime_status(row, gone, off, &since),
		    model_runtime_status(row, gone + 1, off, &since)))
		return 0;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct store_runtime *p = realloc(t->rows, cap * sizeof(*p));

		if (!p)
			return model_fail(-ENOMEM, "out of memory");
		t->rows = p;
		t->cap = cap;
	}
	t->rows[t->n++] = *row;
	return 0;
}

int model_event_expired(struct model *m, const struct store_runtime *row)
{
	int64_t off = m->cfg.offline_after_ns, since;
	int64_t at = row->heartbeat_ns + off + 1;
	const char *from, *to;
	char dedup[128];
	size_t keep;
	int cut, ret;

	if (row->heartbeat_ns <= 0 || at > model_now(m))
		return 0;
	from = model_runtime_status(row, at - 1, off, &since);
	to = model_runtime_status(row, at, off, &since);
	if (!strcmp(from, to))
		return 0;
	snprintf(dedup, sizeof(dedup), "status/%s/%s/%lld", row->uuid, to,
			(long long)at);
	/* time's change, not the caller's: no part of its audit line */
	keep = m->audit_len;
	cut = m->audit_cut;
	ret = model_event(m, "runtime.status", AT_RUNTIME(row), at, dedup,
			"\"from\":\"%s\",\"to\":\"%s\"", from, to);
	m->audit_len = keep;
	m->audit_cut = cut;
	return ret;
}

/* Writes what status_turned() kept; under the lock, which it gives back
 * taken. */
static int status_write(struct model *m, const struct turned *t)
{
	int ret;

	if ((ret = store_begin(m->store)))
		return model_fail_store(ret);
	m->changing = 1;
	for (size_t i = 0; !ret && i < t->n; i++)
		ret = model_event_expired(m, &t->rows[i]);
	ret = model_end(m, ret);
	model_lock(m);
	return ret;
}

int model_events_tick(struct model *m)
{
	struct model_events *e = m->ev;
	int64_t now = model_now(m), off = m->cfg.offline_after_ns;
	struct store_runtime_filter f = { 0 };
	struct turned t = { m, NULL, 0, 0 };
	int64_t kept;
	int ret = 0;

	if (!e || m->parent)
		return 0;
	/* runtimes whose last heartbeat went out of date since the last
	 * look: their status changed at that moment */
	if (now - 1 > e->scanned_ns && now - 1 - off > 0) {
		f.heard_after_ns = e->scanned_ns - off > 0 ?
			e->scanned_ns - off : 0;
		f.heard_upto_ns = now - 1 - off;
		ret = store_runtime_list(m->store, &f, status_turned, &t);
		if (ret)
			ret = ret == -ENOMEM ? ret : model_fail_store(ret);
		else if (t.n)
			ret = status_write(m, &t);
		free(t.rows);
		if (ret)
			return ret;
		e->scanned_ns = now - 1;
	}
	/* the newest kept, a little more between prunes */
	if ((ret = events_fresh(m)))
		return ret;
	kept = e->last.seq - e->first.seq + 1;
	if (e->first.seq && kept > keep_of(m) + keep_of(m) / 100) {
		if ((ret = store_begin(m->store)))
			return model_fail_store(ret);
		ret = store_log_prune(m->store, STORE_LOG_EVENTS, keep_of(m),
				0);
		if (ret)
			store_rollback(m->store);
		else
			ret = store_commit(m->store);
		if (ret)
			return model_fail_store(ret);
		model_events_foreign(m);
		if ((ret = events_fresh(m)))
			return ret;
	}
	return 0;
}
