/*
 * restore.c - building an empty model from a backup, as the filesystem
 * read it (struct model_backup, model.h): typed parts, in any order.
 *
 * What the server assigned (runtime ids, registration times, version
 * numbers and their createdAt, endpoint ids and times, service accounts,
 * secrets' key material) is taken as given, so that the restored tree
 * shows the same bytes; everything else is checked as the live model
 * checks it, and what refers to what must be there.  The whole backup
 * goes in in one transaction or not at all, a bulk load of the store
 * (store_load_begin()) that finds it empty.  Messages start with the
 * `src` of the part they are about, which the model never looks into.
 */
#include "model_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <cjson/cJSON.h>

#define SA_SECRET_BYTES 32
#define VALUE_MAX 256            /* a one-line value at the most */

static const char *const statuses[] = { "CREATING", "STARTING", "RUNNING",
	"STOPPING", "STOPPED", "OFFLINE", NULL };
static const char *const runtime_types[] = { "default", "MI", "agent",
	NULL };
static const char *const integration_types[] = { "default", "MI", NULL };

/* Fails with `fmt` prefixed by `src`, where the part came from. */
static int fail_at(const char *src, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_at(const char *src, int err, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return model_fail(err, "%s: %s", src ? src : "the backup", why);
}

/* Fails with the last message prefixed by `src` (copied first: the
 * message is written over by model_fail()). */
static int prefixed(int err, const char *src)
{
	char why[512];

	snprintf(why, sizeof(why), "%s", model_errmsg());
	return fail_at(src, err, "%s", why);
}

static int among(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

/* -- values on their own ----------------------------------------------- */

static int uuid_check(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
			n = 0;
	}
	return n == 36 ? 0 : model_fail(-EINVAL, "'%.64s' is not a UUID (36"
			" characters, lower-case hex)", s);
}

static int key_id_check(const char *s)
{
	if (strlen(s) != MODEL_KEY_ID_LEN - 1 ||
	    strspn(s, "0123456789abcdef") != strlen(s))
		return model_fail(-EINVAL, "'%.64s' is not a key id: a key id"
				" is 8 hex digits", s);
	return 0;
}

/* A service account: CLIENTID.SECRET, into its client id and raw bytes. */
static int service_account_parse(const char *s,
		char client_id[MODEL_UUID_LEN],
		unsigned char raw[SA_SECRET_BYTES])
{
	const char *dot = strchr(s, '.');
	size_t n = 0;
	int ret;

	if (!dot || dot - s != MODEL_UUID_LEN - 1)
		return model_fail(-EINVAL, "a service account is"
				" CLIENTID.SECRET");
	memcpy(client_id, s, MODEL_UUID_LEN - 1);
	client_id[MODEL_UUID_LEN - 1] = '\0';
	if ((ret = uuid_check(client_id)))
		return ret;
	if (sodium_base642bin(raw, SA_SECRET_BYTES, dot + 1, strlen(dot + 1),
			NULL, &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
			|| n != SA_SECRET_BYTES) {
		sodium_memzero(raw, SA_SECRET_BYTES);
		return model_fail(-EINVAL, "a service account's secret is"
				" 32 bytes in URL-safe base64");
	}
	return 0;
}

static int one_of(const char *s, const char *const *list, const char *what)
{
	if (among(list, s))
		return 0;
	return model_fail(-EINVAL, "'%.64s' is not %s", s, what);
}

/* The checks of the values of a string, without its length. */
static int string_check(enum model_value what, const char *s)
{
	unsigned char raw[MODEL_SECRET_BYTES];
	char key_id[MODEL_KEY_ID_LEN], client_id[MODEL_UUID_LEN];
	int ret;

	switch (what) {
	case MODEL_VALUE_UUID:
		return uuid_check(s);
	case MODEL_VALUE_RUNTIME_TYPE:
		return one_of(s, runtime_types, "a runtime's type (default, MI"
				" or agent)");
	case MODEL_VALUE_INTEGRATION_TYPE:
		return one_of(s, integration_types, "an integration's type"
				" (default or MI)");
	case MODEL_VALUE_STATUS:
		return one_of(s, statuses, "a status (CREATING, STARTING,"
				" RUNNING, STOPPING, STOPPED or OFFLINE)");
	case MODEL_VALUE_KEY_ID:
		return key_id_check(s);
	case MODEL_VALUE_SECRET:
		ret = model_secret_parse(s, key_id, raw);
		sodium_memzero(raw, sizeof(raw));
		return ret;
	case MODEL_VALUE_SERVICE_ACCOUNT:
		ret = service_account_parse(s, client_id, raw);
		sodium_memzero(raw, sizeof(raw));
		return ret;
	case MODEL_VALUE_SPEC:
		break;
	}
	return model_fail(-EINVAL, "not a value of the model");
}

int model_value_check(enum model_value what, const char *text, size_t len)
{
	char value[VALUE_MAX];
	char *canon = NULL;
	int ret;

	if (what == MODEL_VALUE_SPEC) {
		ret = model_spec_canonical(text, len, &canon);
		cJSON_free(canon);
		return ret;
	}
	if (len >= sizeof(value) || memchr(text, '\0', len))
		return model_fail(-EINVAL, "a value of at most %zu bytes"
				" without NUL is expected", sizeof(value) - 1);
	memcpy(value, text, len);
	value[len] = '\0';
	ret = string_check(what, value);
	sodium_memzero(value, sizeof(value));
	return ret;
}

/* -- the model must be empty ------------------------------------------ */

/* The model's words for what the store said of its emptiness. */
static int empty_or_why(int ret, const struct store_holdings *h)
{
	if (ret == -ENOTEMPTY)
		return model_fail(-ENOTEMPTY, "a restore goes into an empty"
				" database only; this one holds %lld"
				" environment(s), %lld project(s) and %lld"
				" snapshot(s)", (long long)h->envs,
				(long long)h->projects,
				(long long)h->snapshots);
	return ret ? model_fail_store(ret) : 0;
}

int model_restore_empty(struct model *m)
{
	struct store_holdings h = { 0, 0, 0 };
	int ret;

	model_lock(m);
	ret = store_is_empty(m->store, &h);
	model_unlock(m);
	return empty_or_why(ret, &h);
}

/* -- building ---------------------------------------------------------- */

struct restore {
	struct model *m;
	const struct model_backup *b;
	int64_t now;
	/* the runtimes by environment and name, and which views link each */
	const struct model_backup_runtime **by_name;
	unsigned char *linked;              /* bit 1: project, 2: integration */
};

static int64_t when(const struct restore *r, int64_t ns)
{
	return ns > 0 ? ns : r->now;
}

static int store_failed(const char *src, int err)
{
	if (err == -EEXIST)
		return fail_at(src, -EEXIST, "its name, id or key is taken by"
				" another part of the backup");
	return fail_at(src, err, "%s", store_errmsg());
}

/* A name of the backup, checked as the live model checks it. */
static int name_ok(const char *src, const char *what, const char *name)
{
	return model_name_check(what, name) ? prefixed(-EINVAL, src) : 0;
}

/* A value of the backup, checked as model_value_check() does. */
static int value_ok(const char *src, enum model_value what, const char *s)
{
	int ret = string_check(what, s);

	return ret ? prefixed(ret, src) : 0;
}

static int restore_env(struct restore *r, const struct model_backup_env *e)
{
	struct store_env env;
	int ret = name_ok(e->src, "environment", e->name);

	if (ret)
		return ret;
	if (e->critical != 0 && e->critical != 1)
		return fail_at(e->src, -EINVAL, "critical is 0 or 1, not %d",
				e->critical);
	if ((ret = store_env_insert(r->m->store, e->name,
			when(r, e->created_ns))) ||
	    (ret = store_env_get(r->m->store, e->name, &env)) ||
	    (ret = store_env_set_critical(r->m->store, env.id, e->critical,
			when(r, e->critical_ns))))
		return store_failed(e->src, ret);
	return 0;
}

static int restore_project(struct restore *r,
		const struct model_backup_project *p)
{
	struct store_project row;
	int ret = name_ok(p->src, "project", p->name);

	if (!ret && (ret = store_project_insert(r->m->store, p->name,
			when(r, p->created_ns))))
		ret = store_failed(p->src, ret);
	if (!ret && *p->display) {
		if ((ret = model_project_row(r->m, p->name, &row)))
			return prefixed(ret, p->src);
		if ((ret = store_project_set_display(r->m->store, row.id,
				p->display)))
			ret = store_failed(p->src, ret);
	}
	return ret;
}

static int restore_integration(struct restore *r,
		const struct model_backup_integration *i)
{
	struct store_project p;
	struct store_integration in;
	int ret;

	if ((ret = name_ok(i->src, "project", i->project)) ||
	    (ret = name_ok(i->src, "integration", i->name)) ||
	    (ret = value_ok(i->src, MODEL_VALUE_INTEGRATION_TYPE, i->type)))
		return ret;
	if ((ret = model_project_row(r->m, i->project, &p)))
		return prefixed(ret, i->src);
	if ((ret = store_integration_insert(r->m->store, p.id, i->name,
			i->type, when(r, i->created_ns))) ||
	    (ret = store_integration_get(r->m->store, p.id, i->name, &in)) ||
	    (ret = store_integration_set_type(r->m->store, in.id, i->type,
			when(r, i->type_ns))) ||
	    (*i->display && (ret = store_integration_set_display(
			r->m->store, in.id, i->display))))
		return store_failed(i->src, ret);
	return 0;
}

/* The runtime's service account, or a new one when the backup has none
 * (a runtime from before service accounts). */
static int restore_service_account(struct restore *r,
		const struct model_backup_runtime *b, int64_t runtime_id)
{
	const char *src = b->service_account_src ? b->service_account_src :
		b->src;
	struct store_service_account sa;
	unsigned char raw[SA_SECRET_BYTES];
	int ret;

	if (!*b->service_account)
		return model_service_account_create(r->m, runtime_id);
	memset(&sa, 0, sizeof(sa));
	sa.runtime_id = runtime_id;
	sa.created_ns = when(r, b->service_account_ns);
	ret = service_account_parse(b->service_account, sa.client_id, raw);
	if (ret)
		return prefixed(ret, src);
	ret = model_seal(r->m, raw, sizeof(raw), sa.secret, sizeof(sa.secret),
			&sa.secret_len);
	sodium_memzero(raw, sizeof(raw));
	if (!ret && (ret = store_service_account_put(r->m->store, &sa)))
		ret = store_failed(src, ret);
	return ret;
}

/* A secret into environment `env_id` under `name`, sealed with this
 * model's key: *id its row. */
static int restore_secret_row(struct restore *r,
		const struct model_backup_secret *s, const char *name,
		int64_t env_id, int64_t *id)
{
	unsigned char plain[8 + MODEL_SECRET_BYTES], raw[MODEL_SECRET_BYTES];
	struct store_integration in = { 0 };
	struct store_secret row;
	int ret;

	memset(&row, 0, sizeof(row));
	if ((ret = model_secret_parse(s->credential, row.key_id, raw)))
		return prefixed(ret, s->src);
	if (*s->project || *s->integration) {
		if ((ret = name_ok(s->src, "project", s->project)) ||
		    (ret = name_ok(s->src, "integration", s->integration)))
			goto out;
		if ((ret = model_integration_row(r->m, s->project,
				s->integration, &in))) {
			ret = prefixed(ret, s->src);
			goto out;
		}
	}
	row.env_id = env_id;
	row.integration_id = in.id;
	snprintf(row.name, sizeof(row.name), "%s", name);
	row.created_ns = when(r, s->created_ns);
	memcpy(plain, row.key_id, 8);
	memcpy(plain + 8, raw, MODEL_SECRET_BYTES);
	ret = model_seal(r->m, plain, sizeof(plain), row.sealed,
			sizeof(row.sealed), &row.sealed_len);
	sodium_memzero(plain, sizeof(plain));
	if (!ret && (ret = store_secret_insert(r->m->store, &row)))
		ret = store_failed(s->src, ret);
	*id = row.id;
out:
	sodium_memzero(raw, sizeof(raw));
	return ret;
}

/* The secret bound to the runtime: its key material must be in the
 * backup, under the key id the runtime names. */
static int restore_bound_secret(struct restore *r,
		const struct model_backup_runtime *b,
		const struct store_runtime *rt)
{
	const struct model_backup_secret *s = &b->bound;
	char key_id[MODEL_KEY_ID_LEN];
	struct store_secret row;
	int64_t id = 0;
	int ret;

	if (!*b->secret_key_id && !s->src)
		return 0;
	if (!s->src)
		return fail_at(b->src, -EINVAL, "its bound secret %s has no key"
				" material in the backup", b->secret_key_id);
	if (strncmp(s->credential, b->secret_key_id, MODEL_KEY_ID_LEN - 1) ||
	    !*b->secret_key_id) {
		snprintf(key_id, sizeof(key_id), "%.8s", s->credential);
		return fail_at(s->src, -EINVAL, "key id %s, but the runtime's"
				" secret is '%s'", key_id, b->secret_key_id);
	}
	/* replicas share their integration's secret: the first of them
	 * brings it, the others must show the same */
	ret = store_secret_get_key(r->m->store, b->secret_key_id, &row);
	if (!ret) {
		unsigned char raw[MODEL_SECRET_BYTES], want[MODEL_SECRET_BYTES];
		char kid[MODEL_KEY_ID_LEN];

		ret = model_secret_parse(s->credential, kid, raw);
		if (!ret)
			ret = model_secret_open(r->m, &row, want);
		if (!ret && (row.integration_id != rt->integration_id ||
				strcmp(row.runtime_type, rt->type) ||
				sodium_memcmp(raw, want, sizeof(raw))))
			ret = fail_at(s->src, -EINVAL, "secret %s is another"
					" runtime's, of another integration or"
					" with other key material", kid);
		sodium_memzero(raw, sizeof(raw));
		sodium_memzero(want, sizeof(want));
		sodium_memzero(&row, sizeof(row));
		return ret ? prefixed(ret, s->src) : 0;
	}
	if (ret != -ENOENT)
		return store_failed(s->src, ret);
	ret = restore_secret_row(r, s, b->name, rt->env_id, &id);
	if (!ret && (ret = store_secret_bind(r->m->store, id,
			rt->integration_id, rt->type, rt->registered_ns)))
		ret = store_failed(s->src, ret);
	return ret;
}

/* The versions of a runtime; *latest the highest number and *latest_spec
 * its canonical spec (cJSON_free()). */
static int restore_versions(struct restore *r,
		const struct model_backup_runtime *b,
		const struct store_runtime *rt, int64_t *latest,
		char **latest_spec)
{
	int ret = 0;

	*latest = 0;
	for (size_t i = 0; !ret && i < b->nversions; i++) {
		const struct model_backup_version *bv = &b->versions[i];
		struct store_version v = { 0 };

		if (strcmp(rt->type, "agent"))
			return fail_at(bv->src, -EINVAL, "runtime of type %s"
					" has no versions", rt->type);
		if (bv->number < 1)
			return fail_at(bv->src, -EINVAL, "versions start at 1,"
					" not %lld", (long long)bv->number);
		if (strcmp(bv->runtime_id, rt->uuid))
			return fail_at(bv->src, -EINVAL, "agentRuntimeId %s is"
					" not the runtime's id %s",
					bv->runtime_id, rt->uuid);
		if ((ret = model_spec_canonical(bv->spec, bv->spec_len,
				&v.spec)))
			return prefixed(ret, bv->src);
		v.runtime_id = rt->id;
		v.number = bv->number;
		v.created_ns = when(r, bv->created_ns);
		if ((ret = store_version_insert(r->m->store, &v)))
			ret = store_failed(bv->src, ret);
		if (!ret && bv->number > *latest) {
			*latest = bv->number;
			cJSON_free(*latest_spec);
			*latest_spec = v.spec;
			v.spec = NULL;
		}
		cJSON_free(v.spec);
	}
	return ret;
}

/* The endpoints of a runtime, each serving a version it has. */
static int restore_endpoints(struct restore *r,
		const struct model_backup_runtime *b,
		const struct store_runtime *rt, int64_t latest)
{
	int has_default = 0, ret = 0;

	for (size_t i = 0; !ret && i < b->nendpoints; i++) {
		const struct model_backup_endpoint *be = &b->endpoints[i];
		const char *vsrc = be->version_src ? be->version_src : be->src;
		struct store_version v = { 0 };
		struct store_endpoint ep;

		if (!latest)
			return fail_at(be->src, -EINVAL, "a runtime without"
					" versions has no endpoints");
		if ((ret = name_ok(be->src, "endpoint", be->name)) ||
		    (ret = value_ok(be->src, MODEL_VALUE_UUID, be->id)))
			return ret;
		has_default |= !strcmp(be->name, "DEFAULT");
		ret = store_version_get(r->m->store, rt->id, be->version, &v);
		store_version_release(&v);
		if (ret == -ENOENT)
			return fail_at(vsrc, -ENOENT, "the runtime has no"
					" version %lld", (long long)be->version);
		if (ret)
			return store_failed(vsrc, ret);
		memset(&ep, 0, sizeof(ep));
		ep.runtime_id = rt->id;
		snprintf(ep.name, sizeof(ep.name), "%s", be->name);
		snprintf(ep.uuid, sizeof(ep.uuid), "%s", be->id);
		ep.version = be->version;
		ep.created_ns = when(r, be->created_ns);
		ep.updated_ns = when(r, be->updated_ns);
		if ((ret = store_endpoint_insert(r->m->store, &ep)))
			ret = store_failed(be->src, ret);
	}
	if (!ret && latest && !has_default)
		ret = fail_at(b->src, -EINVAL, "endpoint DEFAULT is missing:"
				" every runtime with a version has one");
	return ret;
}

/* The spec the backup shows must be the latest version's. */
static int check_spec(const struct model_backup_runtime *b, int64_t latest,
		const char *latest_spec)
{
	char *canon = NULL;
	int ret;

	if (!b->spec_src || (!b->spec_len && !latest))
		return 0;
	ret = b->spec_len ? model_spec_canonical(b->spec, b->spec_len,
			&canon) : -EINVAL;
	if (ret || !latest_spec || strcmp(canon, latest_spec))
		ret = fail_at(b->spec_src, -EINVAL, "not the spec of the"
				" latest version (%lld)", (long long)latest);
	cJSON_free(canon);
	return ret;
}

/* The row of a runtime from what the backup says of it. */
static int runtime_row(struct restore *r, const struct model_backup_runtime *b,
		struct store_runtime *rt)
{
	struct store_env env;
	struct store_integration in;
	int ret;

	memset(rt, 0, sizeof(*rt));
	if ((ret = name_ok(b->src, "runtime", b->name)) ||
	    (ret = value_ok(b->src, MODEL_VALUE_UUID, b->id)) ||
	    (ret = value_ok(b->src, MODEL_VALUE_RUNTIME_TYPE, b->type)) ||
	    (*b->status && (ret = value_ok(b->src, MODEL_VALUE_STATUS,
			b->status))) ||
	    (*b->secret_key_id && (ret = value_ok(b->src, MODEL_VALUE_KEY_ID,
			b->secret_key_id))))
		return ret;
	if ((ret = model_env_row(r->m, b->env, &env)))
		return prefixed(ret, b->src);
	if (b->registered_ns <= 0)
		return fail_at(b->src, -EINVAL, "its registration time is"
				" missing");
	snprintf(rt->name, sizeof(rt->name), "%s", b->name);
	snprintf(rt->uuid, sizeof(rt->uuid), "%s", b->id);
	snprintf(rt->type, sizeof(rt->type), "%s", b->type);
	rt->env_id = env.id;
	rt->registered_ns = b->registered_ns;
	rt->heartbeat_ns = b->heartbeat_ns > 0 ? b->heartbeat_ns : 0;
	snprintf(rt->desired, sizeof(rt->desired), "%s",
			!strncmp(b->status, "STOP", 4) ? "stop" : "run");
	rt->desired_ns = rt->registered_ns;
	/* STARTING waits for a heartbeat; anything else has had one */
	rt->running_ns = strcmp(b->status, "STARTING") ? rt->heartbeat_ns : 0;
	snprintf(rt->runtime_version, sizeof(rt->runtime_version), "%s",
			b->runtime_version);
	snprintf(rt->platform, sizeof(rt->platform), "%s", b->platform);
	snprintf(rt->os, sizeof(rt->os), "%s", b->os);
	rt->info_ns = b->info_ns > 0 ? b->info_ns : rt->registered_ns;
	rt->assigned_ns = b->assigned_ns > 0 ? b->assigned_ns :
		rt->registered_ns;
	snprintf(rt->key_id, sizeof(rt->key_id), "%s", b->secret_key_id);
	if (!*b->project != !*b->integration)
		return fail_at(b->src, -EINVAL, "a runtime has a project and an"
				" integration, or neither");
	if (*b->project) {
		if ((ret = name_ok(b->src, "project", b->project)) ||
		    (ret = name_ok(b->src, "integration", b->integration)))
			return ret;
		if ((ret = model_integration_row(r->m, b->project,
				b->integration, &in)))
			return prefixed(ret, b->src);
		rt->integration_id = in.id;
	}
	return 0;
}

static int restore_runtime(struct restore *r,
		const struct model_backup_runtime *b)
{
	struct store_runtime rt;
	char *latest_spec = NULL;
	int64_t latest = 0;
	int ret = runtime_row(r, b, &rt);

	if (ret)
		return ret;
	if ((ret = store_runtime_insert(r->m->store, &rt)))
		return store_failed(b->src, ret);
	if ((ret = restore_service_account(r, b, rt.id)) ||
	    (ret = restore_versions(r, b, &rt, &latest, &latest_spec)) ||
	    (ret = restore_endpoints(r, b, &rt, latest)) ||
	    (ret = restore_bound_secret(r, b, &rt)))
		goto out;
	if (latest && (ret = store_runtime_set_latest(r->m->store, rt.id,
			latest))) {
		ret = store_failed(b->src, ret);
		goto out;
	}
	ret = check_spec(b, latest, latest_spec);
out:
	cJSON_free(latest_spec);
	return ret;
}

/* An unbound secret of an environment. */
static int restore_secret(struct restore *r,
		const struct model_backup_secret *s)
{
	struct store_env env;
	int64_t id;
	int ret = name_ok(s->src, "secret", s->name);

	if (ret || (ret = name_ok(s->src, "environment", s->env)))
		return ret;
	if ((ret = model_env_row(r->m, s->env, &env)))
		return prefixed(ret, s->src);
	return restore_secret_row(r, s, s->name, env.id, &id);
}

static int by_env_name(const void *a, const void *b)
{
	const struct model_backup_runtime *x =
		*(const struct model_backup_runtime *const *)a;
	const struct model_backup_runtime *y =
		*(const struct model_backup_runtime *const *)b;
	int c = strcmp(x->env, y->env);

	return c ? c : strcmp(x->name, y->name);
}

/* The runtime of the backup named `env`/`name`, by its index; -1. */
static long runtime_index(struct restore *r, const char *env,
		const char *name)
{
	struct model_backup_runtime key;
	const struct model_backup_runtime *kp = &key, *const *hit;

	snprintf(key.env, sizeof(key.env), "%s", env);
	snprintf(key.name, sizeof(key.name), "%s", name);
	hit = bsearch(&kp, r->by_name, r->b->nruntimes, sizeof(*r->by_name),
			by_env_name);
	return hit ? (long)(hit - r->by_name) : -1;
}

/* A link of a view: to a runtime assigned to that project (and
 * integration), once per view. */
static int check_link(struct restore *r, const struct model_backup_link *l)
{
	const struct model_backup_runtime *b;
	int bit = *l->integration ? 2 : 1;
	long i = runtime_index(r, l->env, l->runtime);

	if (i < 0)
		return fail_at(l->src, -ENOENT, "environment '%s' has no"
				" runtime '%s' in the backup", l->env,
				l->runtime);
	b = r->by_name[i];
	if (strcmp(b->project, l->project) || (*l->integration &&
			strcmp(b->integration, l->integration)))
		return fail_at(l->src, -EINVAL, "runtime '%s' is not in this"
				" %s", l->runtime, *l->integration ?
				"integration" : "project");
	if (r->linked[i] & bit)
		return fail_at(l->src, -EEXIST, "runtime '%s' is linked twice"
				" in this view", l->runtime);
	r->linked[i] |= (unsigned char)bit;
	return 0;
}

/* Every view link, and every assigned runtime linked in both views. */
static int check_links(struct restore *r)
{
	const struct model_backup *b = r->b;
	int ret = 0;

	r->by_name = malloc((b->nruntimes ? b->nruntimes : 1) *
			sizeof(*r->by_name));
	r->linked = calloc(b->nruntimes ? b->nruntimes : 1, 1);
	if (!r->by_name || !r->linked)
		return model_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < b->nruntimes; i++)
		r->by_name[i] = &b->runtimes[i];
	qsort(r->by_name, b->nruntimes, sizeof(*r->by_name), by_env_name);
	for (size_t i = 0; !ret && i < b->nlinks; i++)
		ret = check_link(r, &b->links[i]);
	for (size_t i = 0; !ret && i < b->nruntimes; i++)
		if (*r->by_name[i]->project && r->linked[i] != 3)
			ret = fail_at(r->by_name[i]->src, -EINVAL, "it is in"
					" integration '%s' of project '%s',"
					" but the %s view does not link it",
					r->by_name[i]->integration,
					r->by_name[i]->project,
					r->linked[i] & 1 ? "integration's" :
					"project's");
	return ret;
}

static int apply(struct restore *r)
{
	const struct model_backup *b = r->b;
	int ret = 0;

	for (size_t i = 0; !ret && i < b->nenvs; i++)
		ret = restore_env(r, &b->envs[i]);
	for (size_t i = 0; !ret && i < b->nprojects; i++)
		ret = restore_project(r, &b->projects[i]);
	for (size_t i = 0; !ret && i < b->nintegrations; i++)
		ret = restore_integration(r, &b->integrations[i]);
	for (size_t i = 0; !ret && i < b->nruntimes; i++)
		ret = restore_runtime(r, &b->runtimes[i]);
	for (size_t i = 0; !ret && i < b->nsecrets; i++)
		ret = restore_secret(r, &b->secrets[i]);
	if (!ret)
		ret = check_links(r);
	return ret;
}

int model_restore_apply(struct model *m, const struct model_backup *b)
{
	struct restore r = { m, b, model_now(m), NULL, NULL };
	struct store_holdings h = { 0, 0, 0 };
	int ret;

	if (m->parent)
		return model_fail(-EROFS, "snapshot '%s' is read-only",
				m->snap_name);
	/* one transaction into a store found empty inside it */
	model_lock(m);
	if ((ret = store_load_begin(m->store, &h))) {
		model_unlock(m);
		return empty_or_why(ret, &h);
	}
	m->changing = 1;
	ret = apply(&r);
	/* the history it held, then a line of the restore itself */
	if (!ret)
		ret = model_audit_restore(m, b->audit, b->audit_len,
				b->audit_src);
	free(r.by_name);
	free(r.linked);
	return model_end(m, ret);
}
