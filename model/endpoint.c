/*
 * endpoint.c - the endpoints of an agent runtime: DEFAULT, which each
 * deploy moves to the new version, and pinned ones (canary, staging) that
 * stay where they are put.
 */
#include "model_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static void endpoint_copy(struct model_endpoint *out,
		const struct store_endpoint *e)
{
	memcpy(out->name, e->name, sizeof(out->name));
	memcpy(out->id, e->uuid, sizeof(out->id));
	out->version = e->version;
	out->created_ns = e->created_ns;
	out->updated_ns = e->updated_ns;
}

static int endpoint_row(struct model *m, const struct store_runtime *rt,
		const char *endpoint, struct store_endpoint *out)
{
	int ret = model_name_check("endpoint", endpoint);

	if (ret || model_rows_endpoint(m, rt->id, endpoint, out))
		return ret;
	ret = store_endpoint_get(m->store, rt->id, endpoint, out);
	if (!ret)
		model_rows_keep_endpoint(m, out);
	if (ret == -ENOENT)
		return model_fail(ret, "runtime '%s' has no endpoint '%s'",
				rt->name, endpoint);
	return ret ? model_fail_store(ret) : 0;
}

int model_version_parse(const char *value, int64_t *out)
{
	const char *p = value;
	int64_t n = 0;

	if (!*p)
		return model_fail(-EINVAL, "a version is a number; got nothing");
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || n > 100000000000LL)
			return model_fail(-EINVAL, "a version is a number of"
					" at most 12 digits; got '%.32s'",
					value);
		n = n * 10 + (*p - '0');
	}
	if (n < 1)
		return model_fail(-EINVAL, "versions start at 1; got '%.32s'",
				value);
	*out = n;
	return 0;
}

int model_endpoint_create(struct model *m, const char *env, const char *name,
		const char *endpoint)
{
	struct store_runtime rt;
	struct store_endpoint e;
	int ret = model_name_check("endpoint", endpoint);

	if (ret || (ret = model_begin(m)))
		return ret;
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret && !rt.latest_version)
		ret = model_fail(-ENOENT, "runtime '%s' has no version yet:"
				" write its spec first", name);
	if (!ret) {
		memset(&e, 0, sizeof(e));
		e.runtime_id = rt.id;
		snprintf(e.name, sizeof(e.name), "%s", endpoint);
		model_uuid(e.uuid);
		e.version = rt.latest_version;
		e.created_ns = e.updated_ns = model_now(m);
		ret = store_endpoint_insert(m->store, &e);
		if (ret == -EEXIST)
			ret = model_fail(ret, "runtime '%s' already has an"
					" endpoint '%s'", name, endpoint);
		else if (ret)
			ret = model_fail_store(ret);
	}
	if (!ret) {
		model_note_runtime(m, &rt, MODEL_RT_ENDPOINT_NAMES, endpoint);
		ret = model_event(m, "endpoint.created",
				AT_ENDPOINT(&rt, endpoint), 0, NULL,
				"\"version\":%lld", (long long)e.version);
	}
	return model_end(m, ret);
}

int model_endpoint_delete(struct model *m, const char *env, const char *name,
		const char *endpoint)
{
	struct store_runtime rt;
	struct store_endpoint e;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret)
		ret = endpoint_row(m, &rt, endpoint, &e);
	if (!ret && !strcmp(e.name, MODEL_DEFAULT_ENDPOINT))
		ret = model_fail(-EPERM, "the DEFAULT endpoint cannot be"
				" deleted; it goes with runtime '%s'", name);
	if (!ret && (ret = store_endpoint_delete(m->store, e.id)))
		ret = model_fail_store(ret);
	if (!ret) {
		model_note_runtime(m, &rt, MODEL_RT_ENDPOINT_NAMES |
				MODEL_RT_DROPPED, endpoint);
		ret = model_event(m, "endpoint.deleted",
				AT_ENDPOINT(&rt, endpoint), 0, NULL, NULL);
	}
	return model_end(m, ret);
}

int model_endpoint_get(struct model *m, const char *env, const char *name,
		const char *endpoint, struct model_endpoint *out)
{
	struct store_runtime rt;
	struct store_endpoint e;
	int ret;

	model_lock(m);
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret)
		ret = endpoint_row(m, &rt, endpoint, &e);
	if (!ret)
		endpoint_copy(out, &e);
	model_unlock(m);
	return ret;
}

struct endpoint_walk {
	model_endpoint_cb cb;
	void *ctx;
};

static int endpoint_each(void *ctx, const struct store_endpoint *e)
{
	struct endpoint_walk *w = ctx;
	struct model_endpoint out;

	endpoint_copy(&out, e);
	return w->cb(w->ctx, &out);
}

int model_endpoint_list(struct model *m, const char *env, const char *name,
		model_endpoint_cb cb, void *ctx)
{
	struct endpoint_walk w = { cb, ctx };
	struct store_runtime rt;
	int ret;

	model_lock(m);
	ret = model_runtime_row(m, env, name, &rt);
	if (!ret)
		ret = store_endpoint_list(m->store, rt.id, endpoint_each, &w);
	model_unlock(m);
	return ret;
}

int model_endpoint_pin(struct model *m, const char *env, const char *name,
		const char *endpoint, const char *value)
{
	struct store_runtime rt;
	struct store_endpoint e;
	int64_t n = 0, now;
	int ret = model_version_parse(value, &n), has_version = 0;

	if (ret || (ret = model_begin(m)))
		return ret;
	now = model_now(m);
	ret = model_runtime_row_first(m, env, name, &rt);
	/* the endpoint and the version in one read (one round trip on
	 * PostgreSQL, with BEGIN and the lock) */
	if (!ret)
		ret = model_name_check("endpoint", endpoint);
	if (!ret && (ret = store_endpoint_get_pin(m->store, rt.id, endpoint,
			n, &e, &has_version)))
		ret = ret == -ENOENT ? model_fail(ret, "runtime '%s' has no"
				" endpoint '%s'", rt.name, endpoint) :
			model_fail_store(ret);
	if (!ret && !has_version)
		ret = model_fail(-ENOENT, "runtime '%s' has no version %lld",
				name, (long long)n);
	/* nothing reads the endpoint after it: it may go with the COMMIT */
	if (!ret && e.version != n &&
	    (ret = store_endpoint_set_version_late(m->store, e.id, n, now)))
		ret = model_fail_store(ret);
	else if (!ret && e.version != n) {
		model_note_runtime(m, &rt, MODEL_RT_ENDPOINTS, endpoint);
		ret = model_event(m, "endpoint.pinned",
				AT_ENDPOINT(&rt, endpoint), now, NULL,
				"\"from\":%lld,\"to\":%lld",
				(long long)e.version, (long long)n);
		e.version = n;
		e.updated_ns = now;
		m->moved = e;
		m->moved_set = 1;
	}
	return model_end(m, ret);
}

struct others {
	int count;
	char first[MODEL_NAME_MAX];
};

static int others_each(void *ctx, const struct store_endpoint *e)
{
	struct others *o = ctx;

	if (!strcmp(e->name, MODEL_DEFAULT_ENDPOINT))
		return 0;
	if (!o->count++)
		memcpy(o->first, e->name, sizeof(o->first));
	return 0;
}

int model_endpoint_others(struct model *m, const struct store_runtime *rt)
{
	struct others o = { 0, "" };
	int ret = store_endpoint_list(m->store, rt->id, others_each, &o);

	if (ret)
		return model_fail_store(ret);
	if (o.count)
		return model_fail(-ENOTEMPTY, "runtime '%s' still has %d"
				" endpoint%s besides DEFAULT ('%s'); rmdir"
				" them first", rt->name, o.count,
				o.count > 1 ? "s" : "", o.first);
	return 0;
}
