/*
 * env.c - environments: created, deleted when empty, flagged critical.
 */
#include "model_int.h"

#include <errno.h>
#include <string.h>

static void env_copy(struct model_env *out, const struct store_env *e)
{
	memcpy(out->name, e->name, sizeof(out->name));
	out->critical = e->critical;
	out->created_ns = e->created_ns;
	out->mtime_ns = e->mtime_ns;
}

int model_env_row(struct model *m, const char *name, struct store_env *out)
{
	int ret = model_name_check("environment", name);

	if (ret || model_rows_env(m, name, out))
		return ret;
	ret = store_env_get(m->store, name, out);
	if (ret == -ENOENT)
		return model_fail(ret, "no environment '%s'", name);
	if (!ret)
		model_rows_keep_env(m, out);
	return ret ? model_fail_store(ret) : 0;
}

int model_env_create(struct model *m, const char *name)
{
	int ret = model_name_check("environment", name);

	if (ret)
		return ret;
	if ((ret = model_begin(m)))
		return ret;
	ret = store_env_insert(m->store, name, model_now(m));
	if (ret == -EEXIST)
		ret = model_fail(ret, "environment '%s' already exists", name);
	else if (ret)
		ret = model_fail_store(ret);
	else
		model_note(m, MODEL_EV_ENV, MODEL_OBJ_MADE, name, NULL, NULL,
				NULL);
	if (!ret)
		ret = model_event(m, "environment.created", AT_ENV(name), 0,
				NULL, NULL);
	return model_end(m, ret);
}

int model_env_delete(struct model *m, const char *name)
{
	struct store_env e;
	int64_t n = 0;
	int ret;

	if ((ret = model_begin(m)))
		return ret;
	ret = model_env_row(m, name, &e);
	if (!ret && (ret = store_env_children(m->store, e.id, &n)))
		ret = model_fail_store(ret);
	if (!ret && n > 0)
		ret = model_fail(-ENOTEMPTY, "environment '%s' is not empty:"
				" it holds %lld runtime(s) or secret(s)", name,
				(long long)n);
	if (!ret && (ret = store_env_delete(m->store, e.id)))
		ret = model_fail_store(ret);
	if (!ret)
		model_note(m, MODEL_EV_ENV, MODEL_OBJ_GONE, name, NULL, NULL,
				NULL);
	if (!ret)
		ret = model_event(m, "environment.deleted", AT_ENV(name), 0,
				NULL, NULL);
	return model_end(m, ret);
}

int model_env_get(struct model *m, const char *name, struct model_env *out)
{
	struct store_env e;
	int ret;

	model_lock(m);
	ret = model_env_row(m, name, &e);
	model_unlock(m);
	if (!ret)
		env_copy(out, &e);
	return ret;
}

struct env_walk {
	model_env_cb cb;
	void *ctx;
};

static int env_each(void *ctx, const struct store_env *e)
{
	struct env_walk *w = ctx;
	struct model_env out;

	env_copy(&out, e);
	return w->cb(w->ctx, &out);
}

int model_env_list(struct model *m, model_env_cb cb, void *ctx)
{
	struct env_walk w = { cb, ctx };
	int ret;

	model_lock(m);
	ret = store_env_list(m->store, env_each, &w);
	model_unlock(m);
	return ret;
}

int model_env_set_critical(struct model *m, const char *name,
		const char *value)
{
	struct store_env e;
	int critical, ret;

	if (!strcmp(value, "0"))
		critical = 0;
	else if (!strcmp(value, "1"))
		critical = 1;
	else
		return model_fail(-EINVAL, "critical takes 0 or 1, not '%.40s'",
				value);
	if ((ret = model_begin(m)))
		return ret;
	ret = model_env_row(m, name, &e);
	/* Writing the value it already has is no change: mtime stays. */
	if (!ret && e.critical != critical &&
	    (ret = store_env_set_critical(m->store, e.id, critical,
			model_now(m))))
		ret = model_fail_store(ret);
	else if (!ret && e.critical != critical) {
		model_note(m, MODEL_EV_ENV, MODEL_OBJ_VALUES, name, NULL, NULL,
				NULL);
		ret = model_event(m, "environment.critical", AT_ENV(name), 0,
				NULL, "\"from\":\"%d\",\"to\":\"%d\"",
				e.critical, critical);
	}
	return model_end(m, ret);
}
