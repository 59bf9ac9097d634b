/*
 * audit.c - the audit log: who changed what, and what was refused.
 *
 * A change made for someone (the filesystem's model_config.actor says
 * who: user, group, process, its command name, the operation and the
 * path) writes one line in its own transaction, with what it changed:
 * the kinds, paths and fields of its event lines (events.c), which hold
 * the values before and after and never key material.  A change a
 * runtime's heartbeat makes is written as the runtime's ("uid":null).
 * A refusal is queued with the errno's name and the reason in words, as
 * .last_error has it, and written by the flusher within its interval,
 * the refusals of that interval in one transaction:
 *
 *   {"seq":N,"time":T,"uid":1000,"gid":1000,"pid":4242,"comm":"bash",
 *    "op":"write","path":"/environments/prod/critical","result":"ok",
 *    "changes":[{"kind":"environment.critical","path":...,"from":"0",
 *    "to":"1"}]}
 *   {...,"result":"EACCES","error":"only the owner and the admins may
 *    change this"}
 *
 * Lines older than audit_keep_ns go as the flusher ticks, once a minute
 * (store_log_prune() walks from the oldest line, with no index).  The
 * file shows the lines kept, from the oldest: its size is theirs.
 */
#define _GNU_SOURCE             /* strerrorname_np() */
#include "model_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_KEEP_DEFAULT (90LL * 24 * 3600 * 1000000000LL)
#define AUDIT_CHANGES_MAX 16384        /* then "changes_cut":true */
#define AUDIT_LINE_MAX (AUDIT_CHANGES_MAX + 4096)
#define AUDIT_TICK_NS (60LL * 1000000000LL)

void model_audit_note(struct model *m, const char *fields)
{
	size_t n;

	if (!fields || m->parent || !m->cfg.actor)
		return;
	/* `fields` is "\"kind\":...}\n": one object of the changes */
	n = strlen(fields);
	while (n && (fields[n - 1] == '\n' || fields[n - 1] == '}'))
		n--;
	if (m->audit_len + n + 4 > AUDIT_CHANGES_MAX) {
		m->audit_cut = 1;
		return;
	}
	if (m->audit_len + n + 4 > m->audit_cap) {
		size_t cap = m->audit_cap ? m->audit_cap * 2 : 1024;
		char *p;

		while (cap < m->audit_len + n + 4)
			cap *= 2;
		if (!(p = realloc(m->audit_changes, cap))) {
			m->audit_cut = 1;
			return;
		}
		m->audit_changes = p;
		m->audit_cap = cap;
	}
	m->audit_len += (size_t)snprintf(m->audit_changes + m->audit_len,
			m->audit_cap - m->audit_len, "%s{%.*s}",
			m->audit_len ? "," : "", (int)n, fields);
}

void model_audit_forget(struct model *m)
{
	m->audit_len = 0;
	m->audit_cut = 0;
	m->audit_written = 0;
}

static const char *id_or_null(int64_t id, char *buf, size_t size)
{
	if (id < 0)
		return "null";
	snprintf(buf, size, "%lld", (long long)id);
	return buf;
}

/* `why` with every quoted part that is not a name (1 to 63 characters
 * of [A-Za-z0-9._-]) or that has 16 characters after a '.' (a
 * credential's shape: KEYID.MATERIAL, CLIENTID.SECRET) as '...': what a
 * refused write quotes back may be a secret pasted into the wrong file,
 * and the audit log holds none. */
static void redacted(const char *why, char *out, size_t size)
{
	size_t n = 0;

	while (*why && n + 6 < size) {
		const char *q = why[0] == '\'' ? strchr(why + 1, '\'') : NULL;
		size_t len = q ? (size_t)(q - why - 1) : 0;
		int name = q && len >= 1 && len <= 63, dot = -1;

		for (size_t i = 0; name && i < len; i++) {
			char c = why[1 + i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			      c == '-'))
				name = 0;
			if (c == '.' && dot < 0)
				dot = (int)i;
		}
		if (name && dot >= 0 && len - (size_t)dot - 1 >= 16)
			name = 0;
		if (!q || name) {
			size_t k = q ? len + 2 : 1;

			if (n + k >= size)
				break;
			memcpy(out + n, why, k);
			n += k;
			why += k;
			continue;
		}
		memcpy(out + n, "'...'", 5);
		n += 5;
		why = q + 1;
	}
	out[n] = '\0';
}

/* Who, as JSON members: the actor's, or nulls and the `op` and `path`
 * given when the thread serves no one. */
static void who(struct model *m, char *out, size_t size, const char *op,
		const char *path, const struct model_actor *given)
{
	struct model_actor a;
	char comm[80], jop[64], jpath[1200], uid[24], gid[24], pid[24];

	memset(&a, 0, sizeof(a));
	if (given)
		a = *given;
	else if (!m->cfg.actor || m->cfg.actor(m->cfg.actor_ctx, &a)) {
		a.uid = a.gid = a.pid = -1;
		snprintf(a.op, sizeof(a.op), "%s", op ? op : "");
		snprintf(a.path, sizeof(a.path), "%s", path ? path : "");
	}
	model_json_text(jop, sizeof(jop), a.op);
	model_json_text(jpath, sizeof(jpath), a.path);
	/* what is not known is null: a runtime over ICP's API has no ids,
	 * a file's release comes from the kernel, not from its opener */
	if (a.comm[0] && a.uid >= 0) {
		comm[0] = '"';
		model_json_text(comm + 1, sizeof(comm) - 2, a.comm);
		strcat(comm, "\"");
	} else {
		strcpy(comm, "null");
	}
	snprintf(out, size, "\"uid\":%s,\"gid\":%s,\"pid\":%s,\"comm\":%s,"
			"\"op\":\"%s\",\"path\":\"%s\"",
			id_or_null(a.uid, uid, sizeof(uid)),
			id_or_null(a.uid < 0 ? -1 : a.gid, gid, sizeof(gid)),
			id_or_null(a.uid < 0 ? -1 : a.pid, pid, sizeof(pid)),
			comm, jop, jpath);
}

/* Appends one line, `rest` after who; in a transaction. */
static int audit_append(struct model *m, const char *whom, const char *rest)
{
	char *tail = malloc(AUDIT_LINE_MAX);
	char when[40];
	int ret;

	if (!tail)
		return model_fail(-ENOMEM, "out of memory");
	model_time_micro(model_now(m), when, sizeof(when));
	snprintf(tail, AUDIT_LINE_MAX, ",\"time\":\"%s\",%s,%s}\n", when, whom,
			rest);
	/* no one waits for its place: it may go with the commit */
	ret = store_log_append(m->store, STORE_LOG_AUDIT, "{\"seq\":", tail,
			model_now(m), NULL, NULL);
	free(tail);
	return ret < 0 ? model_fail_store(ret) : 0;
}

int model_audit_change(struct model *m, const char *op,
		const struct model_at *at)
{
	char whom[1600], path[1024] = "", *rest;
	int ret;

	if (m->parent || !m->cfg.actor || m->audit_written) {
		model_audit_forget(m);
		return 0;
	}
	/* a change of no one's (the flusher's statuses by time) is none */
	if (!op) {
		struct model_actor a;

		if (m->cfg.actor(m->cfg.actor_ctx, &a)) {
			model_audit_forget(m);
			return 0;
		}
	}
	if (!(rest = malloc(AUDIT_CHANGES_MAX + 64)))
		return model_fail(-ENOMEM, "out of memory");
	if (at)
		model_path_of(m, at, path, sizeof(path));
	who(m, whom, sizeof(whom), op, path, NULL);
	snprintf(rest, AUDIT_CHANGES_MAX + 64, "\"result\":\"ok\","
			"\"changes\":[%.*s]%s", (int)m->audit_len,
			m->audit_changes ? m->audit_changes : "",
			m->audit_cut ? ",\"changes_cut\":true" : "");
	ret = audit_append(m, whom, rest);
	free(rest);
	model_audit_forget(m);
	return ret;
}

/* The moment of a line's "time", RFC 3339 with microseconds: 0 when it
 * has none, or one that nanoseconds since 1970 in 64 bits cannot hold
 * (before 1970, after 2262). */
static int64_t line_time(const char *line, size_t len)
{
	const char *t = memmem(line, len, ",\"time\":\"", 9);
	struct tm tm;
	int us = 0;
	time_t s;

	memset(&tm, 0, sizeof(tm));
	if (!t || sscanf(t + 9, "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &tm.tm_year,
			&tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
			&tm.tm_sec, &us) != 7 || us < 0)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	s = timegm(&tm);
	if (s < 0 || s >= INT64_MAX / 1000000000LL)
		return 0;
	return (int64_t)s * 1000000000LL + (int64_t)us * 1000;
}

int model_audit_restore(struct model *m, const char *text, size_t len,
		const char *src)
{
	const char *p = text, *end = text;
	char whom[1600], rest[128];
	struct store_event ev;
	long n = 0;
	int ret = 0;

	if (m->parent || !m->cfg.actor)
		return 0;
	if (text)
		end = text + len;
	/* each line {"seq":N,...}: what follows the number is kept */
	while (!ret && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		const char *after = p + 7;
		char *tail;

		n++;
		if (l < 9 || memcmp(p, "{\"seq\":", 7) || !nl)
			return model_fail(-EINVAL, "%s: line %ld is not a line"
					" of an audit log", src ? src : "audit",
					n);
		while (after < p + l && *after >= '0' && *after <= '9')
			after++;
		if (after == p + 7 || *after != ',' ||
		    !(tail = strndup(after, (size_t)(p + l - after))))
			return after == p + 7 || *after != ',' ?
				model_fail(-EINVAL, "%s: line %ld has no"
					" number", src ? src : "audit", n) :
				model_fail(-ENOMEM, "out of memory");
		ret = store_log_append(m->store, STORE_LOG_AUDIT, "{\"seq\":",
				tail, line_time(p, l), NULL, &ev);
		ret = ret < 0 ? model_fail_store(ret) : 0;
		free(tail);
		p += l;
	}
	if (ret)
		return ret;
	who(m, whom, sizeof(whom), "restore", "", NULL);
	snprintf(rest, sizeof(rest), "\"result\":\"ok\",\"restore\":true,"
			"\"lines_restored\":%ld", n);
	if (!(ret = audit_append(m, whom, rest)))
		m->audit_written = 1;
	return ret;
}

/* A refusal's line waits here for the flusher, which writes all that
 * wait in one transaction: a flood of refusals (anyone may try) costs
 * no fsync each and cannot stall the daemon. */
struct refusal {
	char *tail;
	int64_t at_ns;
};

struct model_audit_queue {
	struct refusal *v;
	size_t n, cap;
	int64_t dropped;
};

#define AUDIT_QUEUE_MAX 8192

int model_audit_refused(struct model *m, const struct model_actor *actor,
		int err, const char *why)
{
	char whom[1600], jwhy[2100], when[40], saved[1024], *tail;
	const char *name = strerrorname_np(-err);
	struct model_audit_queue *q;
	int64_t now;

	if (!m || m->parent || !m->cfg.actor)
		return 0;
	redacted(why ? why : "", saved, sizeof(saved));
	model_json_text(jwhy, sizeof(jwhy), saved);
	who(m, whom, sizeof(whom), NULL, NULL, actor);
	now = model_now(m);
	model_time_micro(now, when, sizeof(when));
	if (asprintf(&tail, ",\"time\":\"%s\",%s,\"result\":\"%s\","
			"\"error\":\"%s\"}\n", when, whom, name ? name : "EIO",
			jwhy) < 0)
		return model_fail(-ENOMEM, "out of memory");
	pthread_mutex_lock(&m->audit_qlock);
	if (!(q = m->audit_q) && (q = m->audit_q = calloc(1, sizeof(*q))))
		q->cap = 0;
	if (q && q->n == q->cap && q->cap < AUDIT_QUEUE_MAX) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct refusal *v = realloc(q->v, cap * sizeof(*v));

		if (v) {
			q->v = v;
			q->cap = cap;
		}
	}
	if (q && q->n < q->cap) {
		q->v[q->n].tail = tail;
		q->v[q->n++].at_ns = now;
		tail = NULL;
	} else if (q) {
		q->dropped++;
	}
	pthread_mutex_unlock(&m->audit_qlock);
	free(tail);
	return 0;
}

/* Puts the refusals of `out`, which could not be written, back in
 * front of those that came since, as many as the queue holds. */
static void refusals_put_back(struct model *m, struct model_audit_queue *out)
{
	struct model_audit_queue *q;
	size_t keep;

	pthread_mutex_lock(&m->audit_qlock);
	q = m->audit_q;
	keep = q ? q->n : 0;
	if (q && keep + out->n <= AUDIT_QUEUE_MAX) {
		struct refusal *v = realloc(q->v,
				(keep + out->n + 1) * sizeof(*v));

		if (v) {
			memmove(v + out->n, v, keep * sizeof(*v));
			memcpy(v, out->v, out->n * sizeof(*v));
			q->v = v;
			q->n += out->n;
			q->cap = q->n + 1;
			q->dropped += out->dropped;
			out->n = 0;
			out->dropped = 0;
		}
	}
	if (q)          /* what did not fit: counted, not kept */
		q->dropped += (int64_t)out->n + out->dropped;
	pthread_mutex_unlock(&m->audit_qlock);
	for (size_t i = 0; i < out->n; i++)
		free(out->v[i].tail);
	free(out->v);
}

/* Writes the refusals that wait, under the model's lock.  They are
 * taken from the queue first, so that a refusal made meanwhile waits
 * for no store. */
static int refusals_write(struct model *m)
{
	struct model_audit_queue *q, out = { 0 };
	struct store_event ev;
	int ret;

	pthread_mutex_lock(&m->audit_qlock);
	if ((q = m->audit_q)) {
		out = *q;
		q->v = NULL;
		q->n = q->cap = 0;
		q->dropped = 0;
	}
	pthread_mutex_unlock(&m->audit_qlock);
	if (!out.n && !out.dropped) {
		free(out.v);
		return 0;
	}
	if ((ret = store_begin(m->store))) {
		refusals_put_back(m, &out);
		return model_fail_store(ret);
	}
	for (size_t i = 0; !ret && i < out.n; i++)
		ret = store_log_append(m->store, STORE_LOG_AUDIT, "{\"seq\":",
				out.v[i].tail, out.v[i].at_ns, NULL, &ev);
	if (!ret && out.dropped) {
		char tail[256], when[40];
		int64_t now = model_now(m);

		model_time_micro(now, when, sizeof(when));
		snprintf(tail, sizeof(tail), ",\"time\":\"%s\",\"uid\":null,"
				"\"gid\":null,\"pid\":null,\"comm\":null,"
				"\"op\":\"audit\",\"path\":\"\",\"result\":"
				"\"ENOBUFS\",\"error\":\"%lld refusals came"
				" faster than they could be written and are not"
				" recorded\"}\n", when, (long long)out.dropped);
		ret = store_log_append(m->store, STORE_LOG_AUDIT, "{\"seq\":",
				tail, now, NULL, &ev);
	}
	if (ret < 0 || (ret = store_commit(m->store))) {
		store_rollback(m->store);
		refusals_put_back(m, &out);
		return model_fail_store(ret);
	}
	for (size_t i = 0; i < out.n; i++)
		free(out.v[i].tail);
	free(out.v);
	return 0;
}

void model_audit_close(struct model *m)
{
	struct model_audit_queue *q;

	if (!m->audit_q)
		return;
	model_lock(m);
	if (refusals_write(m))
		fprintf(stderr, "runtimefs: %zu refusals are not in the audit"
				" log: %s\n", m->audit_q->n, model_errmsg());
	model_unlock(m);
	q = m->audit_q;
	for (size_t i = 0; i < q->n; i++)
		free(q->v[i].tail);
	free(q->v);
	free(q);
	m->audit_q = NULL;
}

int model_audit_tick(struct model *m)
{
	int64_t now = model_now(m), keep = m->cfg.audit_keep_ns > 0 ?
		m->cfg.audit_keep_ns : AUDIT_KEEP_DEFAULT;
	struct store_event first, last;
	int ret;

	if (m->parent || !m->cfg.actor)
		return 0;
	if ((ret = refusals_write(m)))
		return ret;
	if (now - m->audit_pruned_ns < AUDIT_TICK_NS)
		return 0;
	m->audit_pruned_ns = now;
	/* a write only when a line is old enough to go */
	if ((ret = store_log_bounds(m->store, STORE_LOG_AUDIT, &first, &last)))
		return model_fail_store(ret);
	if (!first.seq || first.seq == last.seq || first.at_ns >= now - keep)
		return 0;
	if ((ret = store_begin(m->store)))
		return model_fail_store(ret);
	ret = store_log_prune(m->store, STORE_LOG_AUDIT, 0, now - keep);
	if (ret)
		store_rollback(m->store);
	else
		ret = store_commit(m->store);
	return ret ? model_fail_store(ret) : 0;
}

/* -- reading ---------------------------------------------------------- */

int model_audit_stat(struct model *m, struct model_events_stat *out)
{
	struct store_event first, last;
	int ret;

	memset(out, 0, sizeof(*out));
	model_lock(m);
	ret = store_log_bounds(m->store, STORE_LOG_AUDIT, &first, &last);
	model_unlock(m);
	if (ret)
		return model_fail_store(ret);
	out->end = first.seq ? last.off + last.len - first.off : 0;
	out->mtime_ns = last.at_ns;
	return 0;
}

int model_audit_read(struct model *m, int64_t off, char *out, size_t size)
{
	struct store_event first, last;
	struct model_log_copy c = { out, size, 0, 0 };
	int ret;

	model_lock(m);
	ret = store_log_bounds(m->store, STORE_LOG_AUDIT, &first, &last);
	if (ret)
		ret = model_fail_store(ret);
	c.off = first.off + off;
	if (!ret && first.seq)
		ret = model_log_copy(m, STORE_LOG_AUDIT, &c);
	model_unlock(m);
	return ret ? ret : (int)c.n;
}
