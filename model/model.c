/*
 * model.c - opening the model, its lock, its clock and its error messages.
 */
#include "model_int.h"
#include "../store/errmsg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#define DEFAULT_OFFLINE_AFTER_NS (30LL * 1000000000LL)

const char *model_errmsg(void)
{
	return errmsg();
}

void model_errclear(void)
{
	errmsg_clear();
}

int model_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errmsg_vset(err, fmt, ap);
	va_end(ap);
	return err;
}

/* The store said why already (errmsg.h); a failure it gave no words. */
int model_fail_store(int err)
{
	if (!*errmsg())
		errmsg_set(err, "the store failed: %s", strerror(-err));
	return err;
}

/* The key file the configuration names; a key in memory only for a
 * store that keeps no key file either, since it dies with the process:
 * any other would hold secrets that no key opens after a restart. */
static int open_key(struct model *m, const char *locator)
{
	char path[4096], shown[4096];

	if (m->cfg.key_path)
		return model_seal_init(m, m->cfg.key_path);
	if (store_default_key_path(locator, path, sizeof(path)) != -ENOENT) {
		store_locator_shown(locator, shown, sizeof(shown));
		return model_fail(-EINVAL, "no key file given for %s, whose"
				" secrets must outlive this process", shown);
	}
	return model_seal_init(m, NULL);
}

void model_forget(struct model *m)
{
	model_rows_forget(m);
	model_keys_forget(m);
	model_known_forget(m);
}

void model_forget_committed(struct model *m)
{
	model_rows_forget_committed(m);
	model_keys_forget(m);
	model_known_forget(m);
}

/* The store's change feed: another writer committed, so anything may
 * have changed: the rows kept are stale, and it is said at the next
 * unlock (this runs inside a store call, under the lock). */
static void model_foreign_change(void *ctx, const char *news)
{
	model_feed_heard_from(ctx, news);
}

int model_open(struct model **out, const char *db,
		const struct model_config *cfg)
{
	struct model *m;
	int ret;

	*out = NULL;
	if (sodium_init() < 0)
		return model_fail(-EIO, "libsodium failed to initialize");
	m = calloc(1, sizeof(*m));
	if (!m)
		return model_fail(-ENOMEM, "out of memory");
	if (cfg)
		m->cfg = *cfg;
	m->db = strdup(db);
	if (!m->db) {
		free(m);
		return model_fail(-ENOMEM, "out of memory");
	}
	if (m->cfg.offline_after_ns <= 0)
		m->cfg.offline_after_ns = DEFAULT_OFFLINE_AFTER_NS;
	/* the database first: a start that fails leaves no key file, and
	 * the key is checked against what the database holds sealed */
	if ((ret = store_open(&m->store, db)))
		ret = model_fail_store(ret);
	else if ((ret = open_key(m, db)))
		store_close(m->store);
	if (ret) {
		sodium_memzero(m->key, sizeof(m->key));
		free(m->db);
		free(m);
		return ret;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->audit_qlock, NULL);
	/* what a snapshot cut short by a crash left */
	store_snapshot_tidy(m->store);
	ret = model_feed_start(m);
	if (!ret)
		ret = model_events_start(m);
	if (!ret) {
		store_watch(m->store, model_foreign_change, m);
		ret = model_liveness_start(m);
	}
	if (!ret)
		ret = model_feed_listen(m);
	if (ret) {
		model_close(m);
		return ret;
	}
	*out = m;
	return 0;
}

void model_close(struct model *m)
{
	if (!m)
		return;
	/* the last heartbeat times written are announced too */
	model_liveness_stop(m);
	model_audit_close(m);
	model_feed_stop(m);
	model_snapshot_close_all(m);
	model_rows_free(m);
	model_keys_free(m);
	model_known_free(m);
	model_events_free(m);
	free(m->audit_changes);
	store_close(m->store);
	free(m->db);
	sodium_memzero(m->key, sizeof(m->key));
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->audit_qlock);
	free(m);
}

uint64_t model_reads(void)
{
	return store_reads();
}

int64_t model_now(struct model *m)
{
	struct timespec ts;

	if (m->cfg.now)
		return m->cfg.now(m->cfg.now_ctx);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void model_lock(struct model *m)
{
	pthread_mutex_lock(&m->lock);
}

void model_watch(struct model *m, model_watch_fn fn, void *ctx)
{
	m->watch = fn;
	m->watch_ctx = ctx;
}

void model_note(struct model *m, enum model_event_kind kind, unsigned what,
		const char *a, const char *b, const char *c, const char *d)
{
	struct model_event *ev;

	/* noted for the watcher and for the other hosts (feed.c) */
	if (!m->watch && !m->feed)
		return;
	if (m->nevents == MODEL_EVENTS_MAX || kind == MODEL_EV_ALL) {
		m->events_overflow = 1;
		return;
	}
	ev = &m->events[m->nevents++];
	ev->kind = kind;
	ev->what = what;
	ev->id = 0;
	snprintf(ev->a, sizeof(ev->a), "%s", a ? a : "");
	snprintf(ev->b, sizeof(ev->b), "%s", b ? b : "");
	snprintf(ev->c, sizeof(ev->c), "%s", c ? c : "");
	snprintf(ev->d, sizeof(ev->d), "%s", d ? d : "");
}

void model_note_runtime(struct model *m, const struct store_runtime *rt,
		unsigned what, const char *c)
{
	int n = m->nevents;

	model_note(m, MODEL_EV_RUNTIME, what, rt->env, rt->name, c, NULL);
	if (m->nevents > n)
		m->events[n].id = rt->id;
}

void model_note_secrets(struct model *m, const char *env,
		const char *project, const char *integration, const char *gone)
{
	model_note(m, MODEL_EV_ENV, MODEL_OBJ_SECRETS, env, NULL, gone, NULL);
	if (project && *project && integration && *integration)
		model_note(m, MODEL_EV_INTEGRATION, MODEL_OBJ_SECRETS, project,
				integration, env, gone);
}

void model_note_views(struct model *m, const struct store_runtime *rt,
		const char *leaving)
{
	if (rt->integration_id)
		model_note(m, MODEL_EV_VIEW, 0, rt->project, rt->integration,
				rt->env, leaving);
}

void model_discard(struct model *m)
{
	m->nevents = 0;
	m->events_overflow = 0;
}

void model_unlock(struct model *m)
{
	struct model_event events[MODEL_EVENTS_MAX + 1], *theirs = NULL;
	int n = m->nevents, foreign, logged;
	size_t nt;

	/* what this model committed outside a change (model_end() sent a
	 * change's with it), to the other hosts; what they committed, as
	 * events of its own */
	for (int i = 0; !m->fed && i < n; i++)
		model_feed_note(m, &m->events[i]);
	if (m->events_overflow && !m->fed)
		model_feed_note(m, &(struct model_event){ .kind =
				MODEL_EV_ALL });
	m->fed = 0;
	model_feed_announce(m);
	nt = model_feed_take(m, &theirs);
	foreign = m->foreign && m->watch;
	if (m->foreign)
		model_events_foreign(m);
	m->foreign = 0;
	logged = model_events_take_appended(m);
	if (!n && !foreign && !nt && !logged) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	memcpy(events, m->events, (size_t)n * sizeof(events[0]));
	if (m->events_overflow || foreign) {
		memset(&events[0], 0, sizeof(events[0]));
		events[0].kind = MODEL_EV_ALL;
		n = 1;
		nt = 0;
	} else if (logged) {
		memset(&events[n], 0, sizeof(events[0]));
		events[n++].kind = MODEL_EV_EVENTS;
	}
	model_discard(m);
	pthread_mutex_unlock(&m->lock);
	for (int i = 0; m->watch && i < n; i++)
		m->watch(m->watch_ctx, &events[i]);
	for (size_t i = 0; m->watch && i < nt; i++)
		m->watch(m->watch_ctx, &theirs[i]);
	free(theirs);
}

int model_begin(struct model *m)
{
	int ret;

	if (m->parent)
		return model_fail(-EROFS, "snapshot '%s' is read-only",
				m->snap_name);
	model_lock(m);
	ret = store_begin(m->store);
	if (ret) {
		model_unlock(m);
		return model_fail_store(ret);
	}
	m->changing = 1;
	return 0;
}

/* Whether the change about to commit only moved endpoints (a pin, which
 * touches no environment, runtime, key or known runtime the model
 * keeps), by what it noted. */
static int only_endpoints_moved(const struct model *m)
{
	if (m->events_overflow || !m->nevents)
		return 0;
	for (int i = 0; i < m->nevents; i++)
		if (m->events[i].kind != MODEL_EV_RUNTIME ||
		    m->events[i].what != MODEL_RT_ENDPOINTS)
			return 0;
	return 1;
}

int model_end(struct model *m, int ret)
{
	if (!ret)
		ret = model_audit_change(m, NULL, NULL);
	else
		model_audit_forget(m);
	if (!ret)
		ret = model_feed_change(m);
	if (ret)
		store_rollback(m->store);
	else if ((ret = store_commit(m->store)))
		ret = model_fail_store(ret);
	model_events_settle(m, !ret);
	if (!ret && only_endpoints_moved(m))
		model_rows_forget_endpoints(m);
	else if (!ret)
		model_forget_committed(m);
	m->changing = 0;
	/* what a pin committed is what the next read would find */
	if (!ret && m->moved_set)
		model_rows_keep_endpoint(m, &m->moved);
	if (!ret && m->made_set)
		model_rows_keep_secret(m, &m->made);
	m->moved_set = 0;
	m->made_set = 0;
	if (ret)
		model_discard(m);
	model_unlock(m);
	return ret;
}

void model_uuid(char out[MODEL_UUID_LEN])
{
	unsigned char b[16];

	randombytes_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;    /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;    /* RFC 4122 variant */
	snprintf(out, MODEL_UUID_LEN,
		"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		"%02x%02x%02x%02x%02x%02x",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
		b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

void model_time_format(int64_t ns, char *buf)
{
	time_t t = (time_t)(ns / 1000000000LL);
	struct tm tm;

	if (ns <= 0) {
		snprintf(buf, MODEL_TIME_MAX, "never");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, MODEL_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int model_name_check(const char *what, const char *name)
{
	size_t len = strnlen(name, 256);

	if (len > 255)
		return model_fail(-ENAMETOOLONG, "%s name is longer than 255"
				" bytes", what);
	if (len == 0)
		return model_fail(-EINVAL, "%s name is empty", what);
	if (len > MODEL_NAME_LEN_MAX)
		return model_fail(-EINVAL, "%s name '%.20s...' is %zu"
				" characters long; at most %d are allowed",
				what, name, len, MODEL_NAME_LEN_MAX);
	if (name[0] == '.' || name[0] == '-')
		return model_fail(-EINVAL, "%s name '%s' starts with '%c';"
				" names start with a letter, digit or '_'",
				what, name, name[0]);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return model_fail(-EINVAL, "%s name '%s' has a"
					" character other than A-Z a-z 0-9 ."
					" _ - at position %zu", what, name,
					i + 1);
	}
	return 0;
}
