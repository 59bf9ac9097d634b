/*
 * store.c - the functions of store.h: each picks the backend a locator
 * or a handle names and passes the call on (backend.h), counting it for
 * the fault hook of a test build on the way; and what every backend
 * shares: the message of a failure, the count of reads, the check of a
 * snapshot's name, the lines of a dump.
 *
 * A locator `postgresql://...`, `postgres://...` or a libpq `key=value`
 * string names a PostgreSQL database (store_pg.c); anything else is the
 * path of a SQLite file (store_sqlite.c), the embedded default.
 */
#ifdef STORE_FAULTS
#define _GNU_SOURCE             /* strerrorname_np() */
#endif
#include "backend.h"
#include "errmsg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef STORE_FAULTS
#include <pthread.h>
#endif

const char *store_errmsg(void)
{
	return errmsg();
}

int store_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errmsg_vset(err, fmt, ap);
	va_end(ap);
	return err;
}

static _Atomic uint64_t reads;       /* statements run that only read */

uint64_t store_reads(void)
{
	return atomic_load(&reads);
}

void store_count_read(void)
{
	atomic_fetch_add(&reads, 1);
}

int store_snapshot_name_check(const char *name)
{
	size_t n = strnlen(name, STORE_NAME_MAX);

	if (!n || n >= STORE_NAME_MAX || name[0] == '.' || strchr(name, '/'))
		return store_fail(-EINVAL, "'%.*s' cannot name a snapshot",
				STORE_NAME_MAX, name);
	return 0;
}

int store_line_add(struct store_line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(l->s ? l->s + l->len : NULL, l->s ?
				l->cap - l->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return store_fail(-EIO, "dump: cannot format");
		if (l->s && l->len + (size_t)n < l->cap)
			break;
		l->cap = (l->cap + (size_t)n + 1) * 2;
		if (!(l->s = realloc(l->s, l->cap)))
			return store_fail(-ENOMEM, "out of memory");
	}
	l->len += (size_t)n;
	return 0;
}

int store_line_give(struct store_line *l, store_dump_cb cb, void *ctx)
{
	int ret = cb(ctx, l->s ? l->s : "");

	l->len = 0;
	if (l->s)
		l->s[0] = '\0';
	return ret;
}

/* -- the fault hook ------------------------------------------------------- */

#ifdef STORE_FAULTS
/* The fault hook of a test build (store.h): one count for every handle and
 * thread, as SQLite's test_malloc.c keeps one for every connection. */
static struct {
	pthread_mutex_t lock;
	int countdown;              /* calls until the fault; 0: none armed */
	int at_begin;               /* the count waits for a store_begin() */
	int err;
	int fired;
} fault = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };

static __thread int fault_exempt;    /* store_fault_exempt_thread() */

void store_fault_exempt_thread(void)
{
	fault_exempt = 1;
}

static void fault_set(int n, int err, int at_begin)
{
	pthread_mutex_lock(&fault.lock);
	fault.countdown = n > 0 ? n : 0;
	fault.at_begin = n > 0 && at_begin;
	fault.err = n > 0 ? err : 0;
	fault.fired = 0;
	pthread_mutex_unlock(&fault.lock);
}

void store_fault_install(int n, int err)
{
	fault_set(n, err, 0);
}

void store_fault_install_at_begin(int n, int err)
{
	fault_set(n, err, 1);
}

int store_fault_fired(void)
{
	int fired;

	pthread_mutex_lock(&fault.lock);
	fired = fault.fired;
	pthread_mutex_unlock(&fault.lock);
	return fired;
}

/* Counts one call of `fn` (`begin`: it starts a change, store_begin() or
 * a snapshot's create or drop); the injected error, with its message, when
 * this is the call to fail, else 0. */
static int fault_check(const char *fn, int begin)
{
	const char *name;
	int err = 0;

	if (fault_exempt)
		return 0;
	pthread_mutex_lock(&fault.lock);
	if (begin)
		fault.at_begin = 0;
	if (fault.countdown > 0 && !fault.at_begin && --fault.countdown == 0) {
		err = fault.err;
		fault.fired = 1;
	}
	pthread_mutex_unlock(&fault.lock);
	if (!err)
		return 0;
	name = strerrorname_np(-err);
	return name ? store_fail(err, "injected fault (%s in %s)", name, fn) :
		store_fail(err, "injected fault (errno %d in %s)", -err, fn);
}

#define FAULT(begin) fault_check(__func__, (begin))
#define FAULT_POINT() do { \
		int fault_ = FAULT(0); \
		if (fault_) \
			return fault_; \
	} while (0)
#else
#define FAULT(begin) 0
#define FAULT_POINT() do { } while (0)

void store_fault_exempt_thread(void)
{
}
#endif

/* -- where a store is ---------------------------------------------------- */

/* The backend that takes `locator`: PostgreSQL for a connection string,
 * the embedded SQLite for anything else. */
static const struct store_backend *store_backend_of(const char *locator)
{
	if (store_pg_backend.takes(locator))
		return &store_pg_backend;
	return &store_sqlite_backend;
}

const char *store_default_locator(void)
{
	return store_sqlite_backend.default_locator();
}

int store_locator_resolve(const char *locator, char *buf, size_t size)
{
	return store_backend_of(locator)->locator_resolve(locator, buf, size);
}

void store_locator_shown(const char *locator, char *buf, size_t size)
{
	if (size)
		store_backend_of(locator)->locator_shown(locator, buf, size);
}

int store_default_key_path(const char *locator, char *buf, size_t size)
{
	return store_backend_of(locator)->default_key_path(locator, buf,
			size);
}

int store_default_tls_paths(const char *locator, char *cert, char *key,
		size_t size)
{
	return store_backend_of(locator)->default_tls_paths(locator, cert, key,
			size);
}

int store_claim(struct store_claim **out, const char *locator, int flags)
{
	return store_backend_of(locator)->claim(out, locator, flags);
}

void store_claim_refresh(struct store_claim *c)
{
	if (c)
		c->be->claim_refresh(c);
}

const char *store_claim_warning(const struct store_claim *c)
{
	return c ? c->be->claim_warning(c) : NULL;
}

int store_claim_interrupted(const struct store_claim *c)
{
	return c ? c->be->claim_interrupted(c) : 0;
}

void store_claim_restore_done(struct store_claim *c)
{
	if (c)
		c->be->claim_restore_done(c);
}

void store_claim_release(struct store_claim *c)
{
	if (c)
		c->be->claim_release(c);
}

int store_restore_scratch(const char *locator, char *scratch, size_t cap)
{
	return store_backend_of(locator)->restore_scratch(locator, scratch,
			cap);
}

int store_restore_commit(const char *locator)
{
	return store_backend_of(locator)->restore_commit(locator);
}

void store_restore_discard(const char *locator)
{
	store_backend_of(locator)->restore_discard(locator);
}

/* -- a handle ------------------------------------------------------------- */

int store_open(struct store **out, const char *locator)
{
	int ret = FAULT(0);

	*out = NULL;
	return ret ? ret : store_backend_of(locator)->open(out, locator);
}

int store_open_another(struct store *s, struct store **out)
{
	*out = NULL;
	return s->be->open_another ? s->be->open_another(s, out) : -ENOTSUP;
}

int store_commit(struct store *s)
{
	int ret = FAULT(0);

	/* a fault is a COMMIT that failed: the transaction goes, too */
	if (!ret)
		return s->be->commit(s);
	s->be->rollback(s);
	return ret;
}

int store_snapshot_open(struct store *s, const char *name,
		struct store **snap)
{
	int ret = FAULT(0);

	*snap = NULL;
	return ret ? ret : s->be->snapshot_open(s, name, snap);
}

int store_version_get(struct store *s, int64_t runtime_id, int64_t number,
		struct store_version *out)
{
	memset(out, 0, sizeof(*out));
	FAULT_POINT();
	return s->be->version_get(s, runtime_id, number, out);
}

void store_version_release(struct store_version *v)
{
	free(v->spec);
	free(v->password);
	v->spec = NULL;
	v->password = NULL;
	v->password_len = 0;
}

void store_close(struct store *s)
{
	if (s)
		s->be->close(s);
}

int store_schema_version(struct store *s)
{
	FAULT_POINT();
	return s->be->schema_version(s);
}

int store_dump(struct store *s, store_dump_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->dump(s, cb, ctx);
}

int store_snapshot_create(struct store *s, const char *name,
		int64_t *taken_ns)
{
	int ret = FAULT(1);

	return ret ? ret : s->be->snapshot_create(s, name, taken_ns);
}

int store_snapshot_list(struct store *s, store_snapshot_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->snapshot_list(s, cb, ctx);
}

int64_t store_taken_at(const struct store *s)
{
	return s->be->taken_at(s);
}

int store_snapshot_drop(struct store *s, const char *name)
{
	int ret = FAULT(1);

	return ret ? ret : s->be->snapshot_drop(s, name);
}

void store_snapshot_tidy(struct store *s)
{
	s->be->snapshot_tidy(s);
}

int store_begin(struct store *s)
{
	int ret = FAULT(1);

	s->wrote_envs = 0;
	return ret ? ret : s->be->begin(s);
}

int store_wrote_envs(const struct store *s)
{
	return s->wrote_envs;
}

void store_rollback(struct store *s)
{
	s->be->rollback(s);
}

void store_busy_timeout(struct store *s, int ms)
{
	s->be->busy_timeout(s, ms);
}

int store_is_empty(struct store *s, struct store_holdings *held)
{
	FAULT_POINT();
	return s->be->is_empty(s, held);
}

int store_load_begin(struct store *s, struct store_holdings *held)
{
	int ret = FAULT(1);

	return ret ? ret : s->be->load_begin(s, held);
}

void store_watch(struct store *s, store_watch_fn fn, void *ctx)
{
	s->be->watch(s, fn, ctx);
}

int store_announce(struct store *s, const char *news)
{
	return s->be->announce(s, news);
}

int store_watch_fd(struct store *s)
{
	return s->be->watch_fd(s);
}

int store_watch_read(struct store *s)
{
	return s->be->watch_read(s);
}

int store_poll(struct store *s)
{
	return s->be->poll(s);
}

int store_env_insert(struct store *s, const char *name, int64_t now)
{
	FAULT_POINT();
	s->wrote_envs = 1;
	return s->be->env_insert(s, name, now);
}

int store_env_get(struct store *s, const char *name, struct store_env *out)
{
	FAULT_POINT();
	return s->be->env_get(s, name, out);
}

int store_env_delete(struct store *s, int64_t id)
{
	FAULT_POINT();
	s->wrote_envs = 1;
	return s->be->env_delete(s, id);
}

int store_log_append(struct store *s, enum store_log log, const char *head,
		const char *tail, int64_t at_ns, const char *dedup,
		struct store_event *out)
{
	FAULT_POINT();
	return s->be->log_append(s, log, head, tail, at_ns, dedup, out);
}

int store_log_append_late(struct store *s, enum store_log log,
		const char *head, const char *tail, int64_t at_ns,
		struct store_event *out)
{
	FAULT_POINT();
	if (!s->be->log_append_late)
		return s->be->log_append(s, log, head, tail, at_ns, NULL, out);
	return s->be->log_append_late(s, log, head, tail, at_ns, out);
}

int store_log_bounds(struct store *s, enum store_log log,
		struct store_event *first, struct store_event *last)
{
	FAULT_POINT();
	return s->be->log_bounds(s, log, first, last);
}

int store_log_read(struct store *s, enum store_log log, int64_t off,
		int limit, store_event_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->log_read(s, log, off, limit, cb, ctx);
}

int store_log_prune(struct store *s, enum store_log log, int64_t keep,
		int64_t before_ns)
{
	FAULT_POINT();
	return s->be->log_prune(s, log, keep, before_ns);
}

int store_env_set_critical(struct store *s, int64_t id, int critical,
		int64_t now)
{
	FAULT_POINT();
	s->wrote_envs = 1;
	return s->be->env_set_critical(s, id, critical, now);
}

int store_env_list(struct store *s, store_env_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->env_list(s, cb, ctx);
}

int store_env_children(struct store *s, int64_t id, int64_t *count)
{
	FAULT_POINT();
	return s->be->env_children(s, id, count);
}

int store_project_insert(struct store *s, const char *name, int64_t now)
{
	FAULT_POINT();
	return s->be->project_insert(s, name, now);
}

int store_project_get(struct store *s, const char *name,
		struct store_project *out)
{
	FAULT_POINT();
	return s->be->project_get(s, name, out);
}

int store_project_delete(struct store *s, int64_t id)
{
	FAULT_POINT();
	return s->be->project_delete(s, id);
}

int store_project_list(struct store *s, store_project_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->project_list(s, cb, ctx);
}

int store_project_children(struct store *s, int64_t id, int64_t *count)
{
	FAULT_POINT();
	return s->be->project_children(s, id, count);
}

int store_project_set_display(struct store *s, int64_t id,
		const char *display)
{
	FAULT_POINT();
	return s->be->project_set_display(s, id, display);
}

int store_integration_insert(struct store *s, int64_t project_id,
		const char *name, const char *type, int64_t now)
{
	FAULT_POINT();
	return s->be->integration_insert(s, project_id, name, type, now);
}

int store_integration_get(struct store *s, int64_t project_id,
		const char *name, struct store_integration *out)
{
	FAULT_POINT();
	return s->be->integration_get(s, project_id, name, out);
}

int store_integration_delete(struct store *s, int64_t id)
{
	FAULT_POINT();
	return s->be->integration_delete(s, id);
}

int store_integration_set_type(struct store *s, int64_t id, const char *type,
		int64_t now)
{
	FAULT_POINT();
	return s->be->integration_set_type(s, id, type, now);
}

int store_integration_list(struct store *s, int64_t project_id,
		store_integration_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->integration_list(s, project_id, cb, ctx);
}

int store_integration_children(struct store *s, int64_t id, int64_t *count)
{
	FAULT_POINT();
	return s->be->integration_children(s, id, count);
}

int store_integration_set_display(struct store *s, int64_t id,
		const char *display)
{
	FAULT_POINT();
	return s->be->integration_set_display(s, id, display);
}

int store_runtime_insert(struct store *s, struct store_runtime *rt)
{
	FAULT_POINT();
	return s->be->runtime_insert(s, rt);
}

int store_runtime_get(struct store *s, int64_t env_id, const char *name,
		struct store_runtime *out)
{
	FAULT_POINT();
	return s->be->runtime_get(s, env_id, name, out);
}

int store_runtime_get_uuid(struct store *s, const char *uuid,
		struct store_runtime *out)
{
	FAULT_POINT();
	return s->be->runtime_get_uuid(s, uuid, out);
}

int store_runtime_delete(struct store *s, int64_t id)
{
	FAULT_POINT();
	return s->be->runtime_delete(s, id);
}

int store_runtime_set_integration(struct store *s, int64_t id,
		int64_t integration_id, int64_t now)
{
	FAULT_POINT();
	return s->be->runtime_set_integration(s, id, integration_id, now);
}

int store_runtime_list(struct store *s, const struct store_runtime_filter *f,
		store_runtime_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->runtime_list(s, f, cb, ctx);
}

int store_runtime_report(struct store *s, const struct store_runtime *rt)
{
	FAULT_POINT();
	return s->be->runtime_report(s, rt);
}

int store_runtime_set_hash(struct store *s, int64_t id, const char *hash)
{
	FAULT_POINT();
	return s->be->runtime_set_hash(s, id, hash);
}

int store_runtime_set_reported(struct store *s, int64_t id,
		const char *json, int64_t now)
{
	FAULT_POINT();
	return s->be->runtime_set_reported(s, id, json, now);
}

int store_runtime_get_reported(struct store *s, int64_t id, char **out)
{
	*out = NULL;
	FAULT_POINT();
	return s->be->runtime_get_reported(s, id, out);
}

int store_runtime_revoke_key(struct store *s, const char *key_id,
		int64_t now)
{
	FAULT_POINT();
	return s->be->runtime_revoke_key(s, key_id, now);
}

int store_runtime_heartbeat(struct store *s, int64_t id, const char *uuid,
		int64_t ns)
{
	FAULT_POINT();
	return s->be->runtime_heartbeat(s, id, uuid, ns);
}

int store_runtime_heartbeats(struct store *s, const struct store_beat *beats,
		size_t n)
{
	FAULT_POINT();
	return s->be->runtime_heartbeats(s, beats, n);
}

int store_runtime_set_revoked(struct store *s, int64_t id, int64_t now)
{
	FAULT_POINT();
	return s->be->runtime_set_revoked(s, id, now);
}

int store_runtime_set_desired(struct store *s, int64_t id,
		const char *desired, int clear_running, int64_t now)
{
	FAULT_POINT();
	return s->be->runtime_set_desired(s, id, desired, clear_running, now);
}

int store_runtime_set_latest(struct store *s, int64_t id, int64_t version)
{
	FAULT_POINT();
	return s->be->runtime_set_latest(s, id, version);
}

int store_secret_insert(struct store *s, struct store_secret *sec)
{
	FAULT_POINT();
	return s->be->secret_insert(s, sec);
}

int store_secret_get(struct store *s, int64_t env_id, const char *name,
		struct store_secret *out)
{
	FAULT_POINT();
	return s->be->secret_get(s, env_id, name, out);
}

int store_secret_get_key(struct store *s, const char *key_id,
		struct store_secret *out)
{
	FAULT_POINT();
	return s->be->secret_get_key(s, key_id, out);
}

int store_secret_delete(struct store *s, int64_t id)
{
	FAULT_POINT();
	return s->be->secret_delete(s, id);
}

int store_secret_bind(struct store *s, int64_t id, int64_t integration_id,
		const char *runtime_type, int64_t now)
{
	FAULT_POINT();
	return s->be->secret_bind(s, id, integration_id, runtime_type, now);
}

int store_secret_list(struct store *s, const struct store_secret_filter *f,
		store_secret_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->secret_list(s, f, cb, ctx);
}

int store_version_insert(struct store *s, const struct store_version *v)
{
	FAULT_POINT();
	return s->be->version_insert(s, v);
}

int store_version_delete(struct store *s, int64_t runtime_id, int64_t number)
{
	FAULT_POINT();
	return s->be->version_delete(s, runtime_id, number);
}

int store_version_list(struct store *s, int64_t runtime_id,
		store_version_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->version_list(s, runtime_id, cb, ctx);
}

int store_endpoint_insert(struct store *s, struct store_endpoint *e)
{
	FAULT_POINT();
	return s->be->endpoint_insert(s, e);
}

int store_endpoint_get(struct store *s, int64_t runtime_id, const char *name,
		struct store_endpoint *out)
{
	FAULT_POINT();
	return s->be->endpoint_get(s, runtime_id, name, out);
}

int store_endpoint_delete(struct store *s, int64_t id)
{
	FAULT_POINT();
	return s->be->endpoint_delete(s, id);
}

int store_endpoint_set_version(struct store *s, int64_t id, int64_t version,
		int64_t now)
{
	FAULT_POINT();
	return s->be->endpoint_set_version(s, id, version, now);
}

int store_endpoint_get_pin(struct store *s, int64_t runtime_id,
		const char *name, int64_t number, struct store_endpoint *out,
		int *has_version)
{
	struct store_version v;
	int ret;

	FAULT_POINT();
	if (s->be->endpoint_get_pin)
		return s->be->endpoint_get_pin(s, runtime_id, name, number,
				out, has_version);
	if ((ret = s->be->endpoint_get(s, runtime_id, name, out)))
		return ret;
	ret = s->be->version_get(s, runtime_id, number, &v);
	if (!ret)
		store_version_release(&v);
	*has_version = !ret;
	return ret == -ENOENT ? 0 : ret;
}

int store_endpoint_set_version_late(struct store *s, int64_t id,
		int64_t version, int64_t now)
{
	FAULT_POINT();
	if (!s->be->endpoint_set_version_late)
		return s->be->endpoint_set_version(s, id, version, now);
	return s->be->endpoint_set_version_late(s, id, version, now);
}

int store_endpoint_list(struct store *s, int64_t runtime_id,
		store_endpoint_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->endpoint_list(s, runtime_id, cb, ctx);
}

int store_endpoint_serving(struct store *s, int64_t runtime_id,
		int64_t version, int64_t *count)
{
	FAULT_POINT();
	return s->be->endpoint_serving(s, runtime_id, version, count);
}

int store_command_insert(struct store *s, struct store_command *c)
{
	FAULT_POINT();
	return s->be->command_insert(s, c);
}

int store_command_list(struct store *s, int64_t runtime_id,
		const char *status, size_t max, store_command_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->command_list(s, runtime_id, status, max, cb, ctx);
}

int store_command_set_status(struct store *s, int64_t id,
		const char *status, int64_t sent)
{
	FAULT_POINT();
	return s->be->command_set_status(s, id, status, sent);
}

int store_command_result(struct store *s, const char *uuid,
		const char *key_id, const char *status, const char *result,
		int64_t now, int *found)
{
	*found = 0;
	FAULT_POINT();
	return s->be->command_result(s, uuid, key_id, status, result, now,
			found);
}

int store_artifact_replace(struct store *s, int64_t runtime_id,
		const struct store_artifact *items, size_t n, const char *sum,
		int64_t now)
{
	FAULT_POINT();
	return s->be->artifact_replace(s, runtime_id, items, n, sum, now);
}

int store_artifact_list(struct store *s, int64_t runtime_id,
		const char *kind, store_artifact_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->artifact_list(s, runtime_id, kind, cb, ctx);
}

int store_artifact_get(struct store *s, int64_t runtime_id,
		const char *kind, const char *name, struct store_artifact *out,
		char **doc)
{
	if (doc)
		*doc = NULL;
	FAULT_POINT();
	return s->be->artifact_get(s, runtime_id, kind, name, out, doc);
}

int store_artifact_kinds(struct store *s, int64_t runtime_id,
		store_kind_cb cb, void *ctx)
{
	FAULT_POINT();
	return s->be->artifact_kinds(s, runtime_id, cb, ctx);
}

int store_key_check_put(struct store *s, const unsigned char *sealed,
		size_t len)
{
	return s->be->key_check_put(s, sealed, len);
}

int store_sealed_sample(struct store *s, unsigned char *out, size_t cap,
		size_t *len)
{
	return s->be->sealed_sample(s, out, cap, len);
}

int store_service_account_put(struct store *s,
		const struct store_service_account *sa)
{
	FAULT_POINT();
	return s->be->service_account_put(s, sa);
}

int store_service_account_get(struct store *s, int64_t runtime_id,
		struct store_service_account *out)
{
	FAULT_POINT();
	return s->be->service_account_get(s, runtime_id, out);
}
